"""Runs without a server: init() waiting for a late one, offline mode, and ``lablens sync``."""

from __future__ import annotations

import json
import math
import threading
import time

import pytest

import lablens.sdk
from lablens import errors as E
from lablens._settings import free_port
from lablens.sdk.wal import FILE_NAME, read_log
from lablens.transport import Transport
from servers import spawn_server, stop_process, sync

QUIET = {"system_interval": 0, "console": False}
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing ever answers there


def stored(http: Transport, path: str) -> dict:
    entity, project, run_id = path.split("/")
    return http.get_json(f"/api/v1/projects/{entity}/{project}/runs/{run_id}")


def rows(http: Transport, path: str) -> list[tuple]:
    """Every stored point ``(key, step, value)``, NaN as the string "nan", sorted."""
    entity, project, run_id = path.split("/")
    table = http.post_arrow(
        f"/api/v1/projects/{entity}/{project}/history", {"runs": [run_id], "stream": "default"}
    )
    cols = (table.column(n).to_pylist() for n in ("key", "step", "value"))
    return sorted(
        (k, s, "nan" if isinstance(v, float) and math.isnan(v) else v)
        for k, s, v in zip(*cols, strict=True)
    )


def train(run) -> None:
    """The same logging, online or offline."""
    for step in range(300):
        run.log({"loss": 1 / (step + 1), "val": {"acc": step / 300}})
        if step % 100 == 0:
            print(f"epoch {step // 100}")
    run.log({"odd": math.nan, "big": math.inf})
    run.config.update({"epochs": 3})
    run.summary["best_acc"] = 0.99
    run.log({"loss": 0.001}, step=1000)


CONSOLE = {"system_interval": 0, "console": True}


def console(http: Transport, path: str) -> list[str]:
    entity, project, run_id = path.split("/")
    route = f"/api/v1/projects/{entity}/{project}/runs/{run_id}/console"
    return [item["line"] for item in http.get_json(route)["items"]]


CONFIG = {"lr": 0.01, "optim": {"name": "adam", "betas": [0.9, 0.999]}}


def test_an_offline_run_synced_is_the_same_as_the_same_run_online(server, unique, tmp_path):
    http = Transport(server.url, server.api_key)
    online = lablens.sdk.init(
        project=unique, host=server.url, api_key=server.api_key, config=CONFIG,
        tags=["t1"], settings=CONSOLE, dir=tmp_path / "online",
    )  # fmt: skip
    train(online)
    online.finish()

    offline = lablens.sdk.init(
        project=unique, host=NOWHERE, config=CONFIG, tags=["t1"], settings=CONSOLE,
        dir=tmp_path / "offline", mode="offline",
    )  # fmt: skip
    train(offline)
    offline.finish()
    assert offline.offline and (offline.dir / FILE_NAME).exists()

    # The host it was given is only a default: sync to the real one.
    done = sync(str(tmp_path / "offline"), "--host", server.url, "--api-key", server.api_key)
    assert done.returncode == 0, done.stderr
    assert "created" in done.stdout and "state FINISHED" in done.stdout
    path = f"{server.username}/{unique}/{offline.id}"
    a, b = stored(http, online.path), stored(http, path)
    assert rows(http, path) == rows(http, online.path)
    assert len(rows(http, path)) == 300 * 2 + 3
    for field in ("config", "summary", "state", "tags", "exit_code", "last_history_step"):
        assert b[field] == a[field], field
    assert b["state"] == "FINISHED" and b["config"]["epochs"] == 3
    assert b["summary"]["best_acc"] == 0.99 and b["summary"]["loss"] == 0.001
    assert b["finished_at"] is not None
    assert console(http, path) == console(http, online.path) == ["epoch 0", "epoch 1", "epoch 2"]

    again = sync(str(tmp_path / "offline"), "--host", server.url, "--api-key", server.api_key)
    assert again.returncode == 0, again.stderr
    assert "0 points sent" in again.stdout  # everything was acknowledged by the first sync
    assert rows(http, path) == rows(http, online.path)
    assert stored(http, path)["summary"] == a["summary"]


def test_lablens_mode_offline_needs_no_server(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("LABLENS_MODE", "offline")
    monkeypatch.delenv("LABLENS_HOST", raising=False)
    run = lablens.sdk.init(project="p", settings=QUIET, dir=tmp_path)
    run.log({"a": 1.0})
    with pytest.raises(E.UsageError, match="offline"):
        run.use_artifact("model:latest")  # artifacts need a server
    run.finish()
    assert run.host is None and run.url is None and run.path == f"-/p/{run.id}"
    err = capsys.readouterr().err
    assert f"lablens sync {run.dir}" in err
    log = read_log(run.dir)
    assert log.points == 1 and log.finish.header["state"] == "FINISHED" and not log.acked


@pytest.mark.parametrize(
    ("mode", "env"), [("online-ish", None), (None, "sometimes")], ids=["argument", "env"]
)
def test_an_unknown_mode_is_refused(monkeypatch, tmp_path, mode, env):
    if env:
        monkeypatch.setenv("LABLENS_MODE", env)
    with pytest.raises(E.UsageError) as info:
        lablens.sdk.init(project="p", host=NOWHERE, settings=QUIET, dir=tmp_path, mode=mode)
    assert info.value.field == "mode"


def _has_run(http: Transport, path: str) -> bool:
    try:
        return bool(stored(http, path))
    except E.NotFound:
        return False


def test_points_left_unsent_at_finish_are_uploaded_by_sync(tmp_path):
    port, data, home = free_port(), tmp_path / "data", tmp_path / "home"
    url = f"http://127.0.0.1:{port}"
    proc = spawn_server(port, data, home)
    try:
        key = json.loads((home / "credentials").read_text())["hosts"][url]["api_key"]
        run = lablens.sdk.init(project="away", host=url, api_key=key, settings=QUIET, dir=tmp_path)
        run.log({"a": 0.0})
        http = Transport(url, key)
        # The server goes away once it has the run (init() does not wait for its creation).
        deadline = time.monotonic() + 60
        while not _has_run(http, run.path):
            assert time.monotonic() < deadline, "the run was never created"
            time.sleep(0.05)
        stop_process(proc)
        for step in range(1, 50):
            run.log({"a": float(step)})
        run.summary["note"] = "kept"
        with pytest.warns(RuntimeWarning, match=f"lablens sync {run.dir}"):
            run.finish(timeout=1)
        proc = spawn_server(port, data, home)
        assert stored(http, run.path)["state"] == "RUNNING"
        done = sync(str(run.dir), "--api-key", key)
        assert done.returncode == 0, done.stderr
        assert rows(http, run.path) == [("a", s, float(s)) for s in range(50)]
        after = stored(http, run.path)
        assert after["state"] == "FINISHED" and after["summary"]["note"] == "kept"
    finally:
        stop_process(proc)


def test_init_waits_for_a_server_that_starts_late(tmp_path):
    port, data, home = free_port(), tmp_path / "data", tmp_path / "home"
    url = f"http://127.0.0.1:{port}"
    stop_process(spawn_server(port, data, home))  # once, to make the admin and its key
    key = json.loads((home / "credentials").read_text())["hosts"][url]["api_key"]
    result: dict = {}

    def start_run() -> None:
        try:
            result["run"] = lablens.sdk.init(
                project="late", host=url, api_key=key, dir=tmp_path,
                settings={**QUIET, "init_timeout": 120},
            )  # fmt: skip
        except Exception as exc:  # handed to the test's thread
            result["error"] = exc

    thread = threading.Thread(target=start_run)
    thread.start()
    time.sleep(8)  # longer than init() used to wait
    proc = spawn_server(port, data, home)
    try:
        thread.join(timeout=150)
        assert "error" not in result, result.get("error")
        run = result["run"]
        run.log({"a": 1.0})
        run.finish()
        http = Transport(url, key)
        assert stored(http, run.path)["state"] == "FINISHED"
        assert rows(http, run.path) == [("a", 0, 1.0)]
    finally:
        stop_process(proc)


def test_init_gives_up_after_init_timeout_naming_the_host(monkeypatch, tmp_path):
    monkeypatch.setenv("LABLENS_INIT_TIMEOUT", "2")
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(E.ConnectionFailed) as info:
        lablens.sdk.init(project="p", host=url, api_key="k", settings=QUIET, dir=tmp_path)
    message = str(info.value)
    assert url in message and "within 2s" in message and "mode='offline'" in message


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d, "no run log"),  # an empty folder
        (lambda d: d / "missing", "neither a run directory"),
        (lambda d: (d / FILE_NAME).write_bytes(b"garbage") and d, "not a lablens run log"),
    ],
    ids=["empty folder", "missing path", "not a log"],
)
def test_sync_refuses_what_is_not_a_run_log(tmp_path, make, expected):
    done = sync(str(make(tmp_path)), "--host", NOWHERE, "--api-key", "k")
    assert done.returncode in (1, 2) and expected in done.stderr
