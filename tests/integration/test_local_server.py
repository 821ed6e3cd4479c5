"""``Api()`` with no host finds this user's local server, or starts one detached."""

from __future__ import annotations

import contextlib
import json
import os
import signal

import pytest

import lablens
from lablens import _settings


@pytest.fixture
def fresh_home(tmp_path, monkeypatch):
    monkeypatch.setenv("LABLENS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LABLENS_HOST", raising=False)
    monkeypatch.delenv("LABLENS_API_KEY", raising=False)
    yield tmp_path / "home"
    info = tmp_path / "home" / "server.json"
    if info.exists():
        pid = json.loads(info.read_text())["pid"]
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def test_api_without_host_starts_a_local_server_once(fresh_home):
    api = lablens.Api()
    info = json.loads((fresh_home / "server.json").read_text())
    assert info["url"].startswith("http://127.0.0.1:")
    assert info["data"] == str(fresh_home / "data")
    assert api.viewer.username == _settings.stored_credentials(info["url"])["username"]
    # the credentials file is private
    assert (fresh_home / "credentials").stat().st_mode & 0o077 == 0
    # a second client finds the same server instead of starting another
    again = lablens.Api()
    assert json.loads((fresh_home / "server.json").read_text())["pid"] == info["pid"]
    assert again.default_entity == api.default_entity


def test_lablens_host_and_api_key_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("LABLENS_HOST", server.url)
    monkeypatch.setenv("LABLENS_API_KEY", "wrong")
    with pytest.raises(lablens.Unauthorized):
        lablens.Api().viewer  # noqa: B018
    monkeypatch.setenv("LABLENS_API_KEY", server.api_key)
    assert lablens.Api().viewer.username == server.username


def test_server_beyond_loopback_refuses_a_data_dir_without_keys(tmp_path):
    import subprocess
    import sys

    env = {**os.environ, "LABLENS_HOME": str(tmp_path / "home")}
    env.pop("LABLENS_ADMIN_API_KEY", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lablens",
            "server",
            "--host",
            "0.0.0.0",
            "--port",
            str(_settings.free_port()),
            "--data",
            str(tmp_path / "data"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "no API keys configured" in done.stderr
