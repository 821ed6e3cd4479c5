"""Real lablens servers for tests: start one on a free loopback port, stop it, log points to it.

A module of its own (not ``conftest.py``) so that test modules can import it by name: pytest
loads several ``conftest`` modules, and ``import conftest`` finds whichever came last.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lablens._settings import (
    free_port,
    normalize_host,
    server_argv,
    stop_process,
    wait_until_alive,
)

#: SDK settings for test runs: no system metrics, no console copy.
QUIET = {"system_interval": 0, "console": False}


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


def spawn_server(
    port: int,
    data_dir: Path,
    home: Path,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen:
    """Start ``lablens server`` on a port chosen in advance and wait until it answers.

    ``extra_args`` follow the server's own (``--blobs s3://...``); ``env`` is added to this
    process's environment. Its output goes to ``server-<port>.log`` beside the data dir.
    """
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(data_dir.parent / f"server-{port}.log", "ab") as log:
        proc = subprocess.Popen(
            [*server_argv(port, data_dir), *extra_args],
            env={**os.environ, **(env or {}), "LABLENS_HOME": str(home)},
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
    wait_until_alive(f"http://127.0.0.1:{port}", timeout=60, proc=proc)
    return proc


def start_server(
    data_dir: Path,
    home: Path,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> RunningServer:
    """Start ``lablens server`` on a free loopback port and wait until it answers
    (``extra_args`` and ``env`` as ``spawn_server`` takes them)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = spawn_server(port, data_dir, home, extra_args, env)
    chosen = (env or {}).get("LABLENS_ADMIN_API_KEY") or os.environ.get("LABLENS_ADMIN_API_KEY")
    stored = home / "credentials"
    hosts = json.loads(stored.read_text())["hosts"] if stored.exists() else {}
    if normalize_host(url) in hosts:
        creds = hosts[normalize_host(url)]
        return RunningServer(url, creds["api_key"], creds["username"], data_dir, home, proc)
    if chosen:
        # A server on a database that another server set up keeps no key of its own: the admin's
        # key is the one chosen for the database, and its name the one the server answers.
        return RunningServer(url, chosen, viewer_name(url, chosen), data_dir, home, proc)
    stop_process(proc)
    raise RuntimeError(f"the server at {url} stored no admin key in {stored}")


def viewer_name(url: str, api_key: str) -> str:
    """The username of the user ``api_key`` belongs to, as the server at ``url`` says."""
    from lablens.contract.routes import VIEWER
    from lablens.transport import Transport

    return Transport(url, api_key).get_json(VIEWER)["username"]


def stop_server(srv: RunningServer) -> None:
    """Stop a server made by ``start_server``."""
    stop_process(srv.proc)


def sync(*args: str) -> subprocess.CompletedProcess:
    """``lablens sync ARGS`` in a child process, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "lablens", "sync", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


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


def sdk_init(srv: RunningServer, root: Path, **kwargs: Any) -> Any:
    """``lablens.sdk.init`` of a run on ``srv`` (its admin's key), its run dir in ``root``, with
    the test settings (``QUIET``) unless ``settings`` is given."""
    import lablens.sdk

    kwargs.setdefault("settings", QUIET)
    return lablens.sdk.init(host=srv.url, api_key=srv.api_key, dir=root, **kwargs)
