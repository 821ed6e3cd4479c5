"""What every benchmark shares: a real server on loopback, timing, and the output line.

Each benchmark prints one JSON object per line:
``{"name", "value", "unit", "baseline", "ratio", "target"}`` where ``baseline`` is measured in
the same run (e.g. pyarrow reading the same data from a local Parquet file), ``ratio`` is
``value / baseline``, and ``target`` is the figure the project aims for.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from lablens._settings import free_port, normalize_host, server_argv, wait_until_alive


@dataclass
class Server:
    url: str
    api_key: str
    username: str
    data_dir: Path


@contextlib.contextmanager
def server(
    data_dir: Path | None = None, seed: Callable[[Path], None] | None = None
) -> Iterator[Server]:
    """Run ``lablens server`` on a free loopback port with a temporary home and data dir.

    ``seed(data_dir)`` runs before the server starts, while nothing else has the store open.
    """
    with tempfile.TemporaryDirectory(prefix="lablens-bench-") as tmp:
        home = Path(tmp) / "home"
        data = data_dir or Path(tmp) / "data"
        env = {**os.environ, "LABLENS_HOME": str(home)}
        os.environ["LABLENS_HOME"] = str(home)
        if seed is not None:
            seed(data)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(server_argv(port, data), env=env, stdin=subprocess.DEVNULL)
        try:
            wait_until_alive(url, timeout=120, proc=proc)
            creds = json.loads((home / "credentials").read_text())["hosts"][normalize_host(url)]
            yield Server(url, creds["api_key"], creds["username"], data)
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    """The fastest of ``repeat`` timed calls, in seconds (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def emit(name: str, value: float, unit: str, baseline: float, target: float) -> None:
    """Print one result line."""
    print(
        json.dumps(
            {
                "name": name,
                "value": round(value, 4),
                "unit": unit,
                "baseline": round(baseline, 4),
                "ratio": round(value / baseline, 2) if baseline else None,
                "target": target,
            }
        ),
        flush=True,
    )
