"""The ``lablens`` command in child processes against real servers: help texts, the local
server's start, status and stop, ``runs ls`` and ``sync`` of an offline run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lablens import _settings
from lablens.cli import build_parser

SRC = str(Path(__file__).resolve().parents[2] / "src")


def lablens(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """``lablens ARGS`` in a child process; its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "lablens", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        cwd=cwd,
    )


def child_env(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "LABLENS_HOME": str(home), **extra}
    env["PYTHONPATH"] = os.pathsep.join([SRC, *filter(None, [env.get("PYTHONPATH")])])
    for name in ("LABLENS_HOST", "LABLENS_API_KEY"):
        if name not in extra:
            env.pop(name, None)
    return env


# -- help -------------------------------------------------------------------------------------


def _commands(parser, prefix=()):
    """Every command line that has a help page: ``()``, ``("server",)``, ``("runs", "ls")``..."""
    yield prefix
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield from _commands(sub, (*prefix, name))


def test_every_help_page_is_plain_text():
    commands = list(_commands(build_parser()))
    assert ("server", "stop") in commands and ("runs", "ls") in commands and ("sync",) in commands
    for command in commands:
        done = lablens(*command, "--help")
        assert done.returncode == 0, (command, done.stderr)
        assert "`" not in done.stdout, (command, done.stdout)
        assert done.stdout.startswith(f"usage: lablens {' '.join(command)}".rstrip()), command
    top = lablens("--help").stdout
    for name in ("server", "login", "user", "key", "runs", "demo", "import", "sync", "migrate"):
        assert f"\n    {name} " in top, name


# -- the local server ---------------------------------------------------------------------------


def test_server_stop_ends_the_server_that_the_api_started(tmp_path):
    home = tmp_path / "home"
    env = child_env(home)
    status = lablens("server", "status", env=env)
    assert status.returncode == 1 and "No local server runs" in status.stdout

    # As a notebook does: Api() with no host starts the local server in the background.
    started = subprocess.run(
        [sys.executable, "-c", "import lablens; print(lablens.Api().viewer.username)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    info = json.loads((home / "server.json").read_text())
    url, pid = info["url"], info["pid"]
    try:
        assert _settings.is_alive(url)
        status = lablens("server", "status", env=env)
        assert status.returncode == 0, status.stdout
        assert f"The local server runs at {url} (pid {pid}" in status.stdout
        assert f"data dir: {home / 'data'}" in status.stdout
        assert f"signed in as {started.stdout.strip()}" in status.stdout

        stop = lablens("server", "stop", env=env)
        assert stop.returncode == 0, stop.stderr
        assert f"Stopped the local server {url} (pid {pid})" in stop.stdout
        assert not _settings.is_alive(url)
        assert not Path(f"/proc/{pid}").exists() or _state(pid) == "Z"
        assert not (home / "server.json").exists()
        assert (home / "data").is_dir()  # the data stays
        again = lablens("server", "stop", env=env)
        assert again.returncode == 0 and "nothing to stop" in again.stdout
        assert lablens("server", "status", env=env).returncode == 1
    finally:
        if _settings.is_alive(url):
            os.kill(pid, 15)


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_server_start_starts_one_and_then_finds_it(tmp_path):
    home = tmp_path / "home"
    env = child_env(home)
    first = lablens("server", "start", env=env)
    assert first.returncode == 0, first.stderr
    info = json.loads((home / "server.json").read_text())
    try:
        assert f"Started the local server at {info['url']} (pid {info['pid']})" in first.stdout
        second = lablens("server", "start", env=env)
        assert f"already runs at {info['url']} (pid {info['pid']})" in second.stdout
        assert json.loads((home / "server.json").read_text())["pid"] == info["pid"]
    finally:
        assert lablens("server", "stop", env=env).returncode == 0
    assert not _settings.is_alive(info["url"])


def test_server_status_names_lablens_host(tmp_path, server):
    status = lablens("server", "status", env=child_env(tmp_path, LABLENS_HOST=server.url))
    assert f"LABLENS_HOST points clients at {server.url}, which answers." in status.stdout


# -- runs ls ------------------------------------------------------------------------------------


@pytest.fixture
def runs_project(make_project, make_run):
    project = make_project()
    runs = [
        make_run(
            project,
            name=f"model-{i}",
            summary={"val/acc": 0.5 + i / 10, "val/loss": 1.0 / (i + 1), "epoch": i},
            state="FINISHED" if i != 2 else "CRASHED",
        )
        for i in range(4)
    ]
    return project, runs


def rows_of(stdout: str) -> list[list[str]]:
    """The table's lines split into cells (two or more spaces apart), header first."""
    import re

    return [re.split(r"\s{2,}", line.strip()) for line in stdout.strip().splitlines()]


def test_runs_ls_lists_runs_newest_first_with_summary_values(tmp_path, server, runs_project):
    project, runs = runs_project
    env = child_env(tmp_path, LABLENS_HOST=server.url, LABLENS_API_KEY=server.api_key)
    done = lablens("runs", "ls", project.path, env=env)
    assert done.returncode == 0, done.stderr
    lines = rows_of(done.stdout)
    # Validation metrics come first among the summary values.
    assert lines[0] == ["id", "name", "state", "created", "val/acc", "val/loss", "epoch"]
    body = lines[1:-1]
    assert [r[0] for r in body] == [r.id for r in reversed(runs)]
    assert [r[1] for r in body] == ["model-3", "model-2", "model-1", "model-0"]
    assert [r[2] for r in body] == ["FINISHED", "CRASHED", "FINISHED", "FINISHED"]
    assert [r[4] for r in body] == ["0.8", "0.7", "0.6", "0.5"]
    assert [r[5] for r in body] == ["0.25", "0.3333", "0.5", "1"]
    assert all(len(r[3]) == len("2026-01-01 12:00") for r in body)
    assert lines[-1] == [f"4 runs in {project.path}"]


def test_runs_ls_filter_order_limit_and_summary_keys(tmp_path, server, runs_project):
    project, runs = runs_project
    env = child_env(tmp_path, LABLENS_HOST=server.url, LABLENS_API_KEY=server.api_key)
    done = lablens(
        "runs", "ls", project.name, "--filter", '{"state": "FINISHED"}',
        "--order=-summary_metrics.val/acc", "--limit", "2", "--summary", "epoch",
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = rows_of(done.stdout)
    assert lines[0] == ["id", "name", "state", "created", "epoch"]
    assert [(r[1], r[4]) for r in lines[1:-1]] == [("model-3", "3"), ("model-1", "1")]
    assert lines[-1] == [f"2 of 3 runs in {project.path} (--limit shows more)"]
    none = lablens("runs", "ls", project.path, "--filter", '{"name": "nope"}', env=env)
    assert none.stdout.strip() == f"No runs in {project.path} match the filter."


def test_runs_ls_bad_input_names_the_bad_part(tmp_path, server, runs_project):
    project, _ = runs_project
    env = child_env(tmp_path, LABLENS_HOST=server.url, LABLENS_API_KEY=server.api_key)
    bad_json = lablens("runs", "ls", project.path, "--filter", "{state: 1}", env=env)
    assert bad_json.returncode == 2
    assert "--filter is not JSON" in bad_json.stderr
    bad_op = lablens("runs", "ls", project.path, "--filter", '{"state": {"$bogus": 1}}', env=env)
    assert bad_op.returncode == 2 and "filters.state.$bogus" in bad_op.stderr
    bad_key = lablens("runs", "ls", project.path, "--summary", "val/acc,nope", env=env)
    assert bad_key.returncode == 2
    assert "no summary key nope" in bad_key.stderr and "val/loss" in bad_key.stderr
    missing = lablens("runs", "ls", f"{project.entity}/no-such-project", env=env)
    assert missing.returncode == 2 and "no-such-project" in missing.stderr


# -- sync ---------------------------------------------------------------------------------------


def test_sync_uploads_an_offline_run_from_the_default_folder(tmp_path, server, api, unique):
    env = child_env(tmp_path / "home", LABLENS_HOST=server.url, LABLENS_API_KEY=server.api_key)
    script = textwrap.dedent(
        f"""
        import lablens
        run = lablens.init(project={unique!r}, name="offline-1", mode="offline",
                           config={{"lr": 0.1}}, settings={{"system_interval": 0}})
        for step in range(5):
            run.log({{"loss": 1.0 / (step + 1)}}, step=step)
        run.finish()
        print(run.id)
        """
    )
    logged = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    run_id = logged.stdout.strip()
    assert f"lablens sync {tmp_path / 'lablens'}" in logged.stderr
    assert unique not in [p.name for p in api.projects()]  # nothing reached the server yet

    done = lablens("sync", env=env, cwd=tmp_path)  # no PATH: ./lablens, as init() wrote it
    assert done.returncode == 0, done.stderr
    assert f"{unique}/{run_id}: created, 5 points sent" in done.stdout
    assert done.stdout.strip().endswith("Synced 1 of 1 runs.")
    run = api.run(f"{api.default_entity}/{unique}/{run_id}")
    assert run.name == "offline-1" and run.state == "finished" and run.config["lr"] == 0.1
    losses = run.history(keys=["loss"])["loss"].tolist()
    assert losses == pytest.approx([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])

    again = lablens("sync", str(tmp_path / "lablens"), env=env)
    assert again.returncode == 0 and "0 points sent" in again.stdout
    nothing = lablens("sync", str(tmp_path / "empty-dir-that-is-not-there"), env=env)
    assert nothing.returncode == 2 and "neither a run directory" in nothing.stderr
