"""Fixtures shared by every test: a real lablens server on loopback, and clients bound to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Nothing a test does may touch the user's own ~/.lablens.
os.environ["LABLENS_HOME"] = tempfile.mkdtemp(prefix="lablens-home-")
os.environ.pop("LABLENS_HOST", None)
os.environ.pop("LABLENS_API_KEY", None)

from lablens._settings import free_port, normalize_host, wait_until_alive  # noqa: E402


@dataclass
class RunningServer:
    """A ``lablens server`` subprocess: its address, admin key, data dir and LABLENS_HOME."""

    url: str
    api_key: str
    username: str
    data_dir: Path
    home: Path
    proc: subprocess.Popen

    def __repr__(self) -> str:
        return f"<RunningServer {self.url}>"


def start_server(data_dir: Path, home: Path) -> RunningServer:
    """Start ``lablens server`` on a free loopback port and wait until it answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LABLENS_HOME": str(home)}
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(data_dir.parent / f"server-{port}.log", "ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lablens",
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data",
                str(data_dir),
            ],
            env=env,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
    wait_until_alive(url, timeout=60, proc=proc)
    creds = json.loads((home / "credentials").read_text())["hosts"][normalize_host(url)]
    return RunningServer(url, creds["api_key"], creds["username"], data_dir, home, proc)


def stop_server(srv: RunningServer) -> None:
    srv.proc.terminate()
    try:
        srv.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        srv.proc.kill()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One real server for the whole session, with an empty data dir."""
    home = Path(os.environ["LABLENS_HOME"])
    srv = start_server(tmp_path_factory.mktemp("data") / "lablens", home)
    yield srv
    stop_server(srv)


@pytest.fixture
def unique() -> str:
    """A short unique name, so tests sharing the server never collide."""
    return "t" + uuid.uuid4().hex[:10]


# -- Api fixtures: a client bound to the test server, and factories for projects and runs --------


@pytest.fixture
def api(server: RunningServer):
    """An ``Api`` signed in as the server's admin."""
    from lablens.api import Api

    return Api(host=server.url, api_key=server.api_key)


@pytest.fixture
def make_project(api, unique: str):
    """Make projects with unique names: ``make_project()`` or ``make_project("name", ...)``.

    There is no route to delete a project, so cleanup deletes the runs made in them.
    """
    import itertools

    counter = itertools.count()
    made = []

    def make(name: str | None = None, **kwargs):
        project = api.create_project(name or f"{unique}-{next(counter)}", **kwargs)
        made.append(project)
        return project

    yield make
    for project in made:
        for run in list(api.runs(project.path, per_page=200)):
            _delete_quietly(run)


def _delete_quietly(run) -> None:
    import contextlib

    from lablens.errors import NotFound

    with contextlib.suppress(NotFound):
        run.delete()


def log_points(api, path: str, points, *, stream: str = "default", start: float = 1.7e9) -> None:
    """POST points to a run as Arrow IPC, the way the SDK sends them.

    ``points`` is an Arrow table ``key step timestamp value``, or ``{key: values}`` (steps 0..n-1,
    or ``{key: (steps, values)}``), timestamped one second per step from ``start``.
    """
    import numpy as np
    import pyarrow as pa

    from lablens.transport import ARROW, table_to_ipc

    if not isinstance(points, pa.Table):
        keys, steps, values = [], [], []
        for key, series in points.items():
            if isinstance(series, tuple):
                s, v = np.asarray(series[0], np.int64), np.asarray(series[1], np.float64)
            else:
                v = np.asarray(series, np.float64)
                s = np.arange(len(v), dtype=np.int64)
            keys += [key] * len(v)
            steps.append(s)
            values.append(v)
        step = np.concatenate(steps) if steps else np.empty(0, np.int64)
        points = pa.table(
            {
                "key": pa.array(keys, pa.string()),
                "step": step,
                "timestamp": start + step.astype(np.float64),
                "value": np.concatenate(values) if values else np.empty(0),
            }
        )
    entity, project, run_id = path.split("/")
    api.client.request(
        "POST",
        f"/api/v1/projects/{entity}/{project}/runs/{run_id}/points",
        params={"stream": stream},
        data=table_to_ipc(points),
        headers={"Content-Type": ARROW, "X-Lablens-Batch-Id": uuid.uuid4().hex},
    )


@pytest.fixture
def make_run(api, make_project):
    """Make a run through the HTTP routes: ``make_run(project, config=..., points=...)``.

    ``project`` is a ``Project`` (default: a new one); ``points`` as for ``log_points``;
    ``system`` the same for the system stream; ``summary`` is set after the points, and
    ``state`` last (``None`` leaves it RUNNING). Returns the ``Run`` as ``api.run()`` reads it.
    """
    made = []

    def make(
        project=None,
        *,
        points=None,
        system=None,
        summary=None,
        state: str | None = "FINISHED",
        **fields,
    ):
        project = project or make_project()
        data = api.client.post_json(f"/api/v1/projects/{project.path}/runs", fields)
        path = data["path"]
        if points:
            log_points(api, path, points)
        if system:
            log_points(api, path, system, stream="system")
        changes = {}
        if summary:
            changes["summary"] = summary
        if state:
            changes["state"] = state
        if changes:
            api.client.patch_json(f"/api/v1/projects/{project.path}/runs/{data['id']}", changes)
        run = api.run(path)
        made.append(run)
        return run

    yield make
    for run in made:
        _delete_quietly(run)
