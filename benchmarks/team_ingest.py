"""ingest_8_writers_pg: 8 training processes logging at once through 2 servers on one PostgreSQL.

A throwaway PostgreSQL (``benchmarks._common.postgres``), two ``lablens server --store
postgresql://...`` processes on one database, and ``--writers`` processes (``benchmarks._writer``),
half of them logging through each server: ``--calls`` calls of ``--keys`` keys each (25k x 10 =
250k points a writer, 2M in all). They start logging together; the figure is every point over
the time from the first ``log()`` to the last ``finish()`` returning (every batch acknowledged:
durable), in points/s. Every run's stored count is checked against what it logged.

``baseline``: the same writers through one embedded server in the same run (one process over
one DuckDB file); ``target``: 300k points/s. Run: ``.venv/bin/python -m benchmarks.team_ingest``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._common import Server, emit, postgres, server
from lablens.transport import Transport

TARGET = 300_000
PROJECT = "bench-team-ingest"


def measure(servers: list[Server], writers: int, calls: int, keys: int) -> float:
    """Points per second of ``writers`` processes spread over ``servers``, durable."""
    with tempfile.TemporaryDirectory(prefix="lablens-bench-team-") as tmp:
        go = Path(tmp) / "go"
        procs = []
        for i in range(writers):
            srv = servers[i % len(servers)]
            argv = [srv.url, srv.api_key, PROJECT, str(calls), str(keys), str(go)]
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "benchmarks._writer", *argv],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,  # the SDK's line per run; shown if a writer fails
                    stdin=subprocess.DEVNULL,
                    text=True,
                )
            )
        go.touch()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=1800)
            if proc.returncode != 0:
                sys.exit(f"a writer failed with {proc.returncode}:\n{err}")
            results.append(json.loads(out.strip().splitlines()[-1]))
    http = Transport(servers[-1].url, servers[-1].api_key)
    for result in results:
        entity, project, run_id = result["path"].split("/")
        stored = http.get_json(f"/api/v1/projects/{entity}/{project}/runs/{run_id}")
        counted = sum(k["count"] for k in stored["history_keys"].values())
        if counted != result["points"]:
            sys.exit(f"run {result['path']}: the server holds {counted:,} of {result['points']:,}")
    total = sum(r["points"] for r in results)
    seconds = max(r["end"] for r in results) - min(r["start"] for r in results)
    print(f"{writers} writers, {total:,} points in {seconds:.2f}s", file=sys.stderr)
    return total / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--calls", type=int, default=25_000)
    parser.add_argument("--keys", type=int, default=10)
    args = parser.parse_args()

    with server() as srv:
        embedded = measure([srv], args.writers, args.calls, args.keys)
    with (
        postgres() as new_database,
        tempfile.TemporaryDirectory(prefix="lablens-bench-blobs-") as blobs,
        contextlib.ExitStack() as stack,
    ):
        database = new_database()
        shared = f"file://{blobs}"  # one blob store for both, as one bucket would be
        servers = [stack.enter_context(server(store=database, blobs=shared)) for _ in range(2)]
        on_pg = measure(servers, args.writers, args.calls, args.keys)
    emit(f"ingest_{args.writers}_writers_pg", round(on_pg), "points/s", round(embedded), TARGET)


if __name__ == "__main__":
    main()
