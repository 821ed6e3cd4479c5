"""runs_wide_<K>: the server's peak memory while answering ``runs.to_pandas()`` over wide runs.

Each of ``--runs`` runs holds ``K`` distinct keys (half config, half summary; ints, floats,
strings and bools), for K in ``--keys``. One fresh server per K; the figure is the server's peak
resident memory (``VmHWM``) over the request, next to its resident memory just before it (the
baseline), and the time the answer took. A watchdog samples the server's memory and kills it past
``--cap-gb``, so a server that would take the machine down reports ``killed`` instead.

    PYTHONPATH=src python -m benchmarks.runs_table_wide --runs 20 --keys 2000,5000,20000
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path
from typing import Any

import psutil

import lablens
from benchmarks._common import server
from lablens.store import open_store

PROJECT = "bench-wide"


def wide_run(i: int, keys: int) -> dict[str, Any]:
    """Run ``i`` of the benchmark (and of the wide test): ``keys`` keys, half in each part.

    Key ``j`` holds an int when ``j % 4 == 0``, a float when 1, a string when 2 and a bool when 3,
    each a function of ``(i, j)`` so a reader can check any cell.
    """
    half = keys // 2

    def value(j: int) -> Any:
        kind = j % 4
        if kind == 0:
            return i * 100_000 + j
        if kind == 1:
            return i + j / 8
        if kind == 2:
            return f"v{i}-{j}"
        return (i + j) % 3 == 0

    return {
        "id": f"w{i:05d}",
        "name": f"wide-{i}",
        "config": {f"p{j:05d}": value(j) for j in range(half)},
        "summary": {f"m{j:05d}": value(j) for j in range(half, keys)},
    }


def _server_process() -> psutil.Process:
    for child in psutil.Process().children(recursive=True):
        if "server" in child.cmdline():
            return child
    raise RuntimeError("no server process found")


def _hwm_bytes(proc: psutil.Process) -> int:
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return proc.memory_info().rss


def measure(runs: int, keys: int, cap: int) -> dict[str, Any]:
    """One fresh server with ``runs`` runs of ``keys`` keys; its memory over one read."""
    data = [wide_run(i, keys) for i in range(runs)]

    def seed(path: Path, username: str) -> None:
        from lablens.server.main import ensure_admin

        store = open_store(path)
        ensure_admin(store, path, allow_create=True)
        store.insert_runs(username, PROJECT, data, username=username)
        store.close()

    with server(seed=seed) as srv:
        proc = _server_process()
        api = lablens.Api(host=srv.url, api_key=srv.api_key, timeout=3600)
        api.runs(f"{srv.username}/{PROJECT}").to_arrow(["id"])  # warm up: imports, caches
        before = proc.memory_info().rss
        killed = threading.Event()
        done = threading.Event()

        def watchdog() -> None:
            while not done.wait(0.05):
                try:
                    if proc.memory_info().rss > cap:
                        killed.set()
                        proc.kill()
                        return
                except psutil.NoSuchProcess:
                    return

        guard = threading.Thread(target=watchdog, daemon=True)
        guard.start()
        t0 = time.perf_counter()
        shape: tuple[int, int] | None = None
        error = None
        try:
            frame = api.runs(f"{srv.username}/{PROJECT}").to_pandas()
            shape = frame.shape
            del frame
        except Exception as exc:  # a killed server answers nothing; report it
            error = type(exc).__name__
        seconds = time.perf_counter() - t0
        done.set()
        guard.join()
        peak = _hwm_bytes(proc) if not killed.is_set() else cap
    return {
        "name": f"runs_wide_{keys}",
        "runs": runs,
        "keys_per_run": keys,
        "server_rss_before_mb": round(before / 2**20),
        "server_peak_rss_mb": round(peak / 2**20),
        "seconds": round(seconds, 2),
        "shape": shape,
        "outcome": "killed past the cap" if killed.is_set() else (error or "answered"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keys", default="2000,5000,20000")
    parser.add_argument("--cap-gb", type=float, default=6.0)
    args = parser.parse_args()
    for keys in (int(k) for k in args.keys.split(",")):
        print(json.dumps(measure(args.runs, keys, int(args.cap_gb * 2**30))), flush=True)


if __name__ == "__main__":
    main()
