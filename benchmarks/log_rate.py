"""log_rate_caller and log_rate_durable: how fast ``run.log()`` takes points, and stores them.

Starts its own ``lablens server`` (free port, temporary LABLENS_HOME and data dir), logs
``--calls`` calls of ``--keys`` keys each (200k x 10 = 2M points by default), and prints:

- log_rate_caller: points per second seen by the training loop (the ``log()`` calls only);
  target 1M points/s.
- log_rate_durable: points per second from the first ``log()`` to ``finish()`` returning, with
  the server having acknowledged every batch; target 300k points/s.

``baseline`` is the target and ``ratio`` the value over it. Then log_rate_durable_pg: the same
on the PostgreSQL store, against the embedded figure of the same run. The stored point count is
checked against what was logged. Run: ``.venv/bin/python -m benchmarks.log_rate``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import lablens.sdk
from benchmarks._common import emit, emit_pg, postgres, server
from lablens.transport import Transport

TARGETS = {"log_rate_caller": 1_000_000, "log_rate_durable": 300_000}


def report(name: str, value: float) -> None:
    emit(name, round(value), "points/s", baseline=TARGETS[name], target=TARGETS[name])


def measure(srv, calls: int, keys: int) -> tuple[float, float]:
    """``run.log()`` ``calls`` times with ``keys`` keys into one server: (caller, durable)
    points per second. Exits if the server holds another count than was logged."""
    with tempfile.TemporaryDirectory(prefix="lablens-bench-runs-") as runs:
        settings = {"system_interval": 0, "console": False}
        run = lablens.sdk.init(
            project="bench-log-rate",
            host=srv.url,
            api_key=srv.api_key,
            settings=settings,
            dir=Path(runs),
        )
        names = [f"train/metric_{i}" for i in range(keys)]
        # 1,000 distinct rows, reused: a training loop builds a new dict of floats each step.
        rows = [{n: float(i * j) for j, n in enumerate(names)} for i in range(1000)]
        log = run.log
        start = time.perf_counter()
        for i in range(calls):
            log(rows[i % 1000])
        logged = time.perf_counter() - start
        run.finish()
        durable = time.perf_counter() - start

    total = calls * keys
    stored = Transport(srv.url, srv.api_key).get_json(
        f"/api/v1/projects/{run.entity}/{run.project}/runs/{run.id}"
    )
    counted = sum(k["count"] for k in stored["history_keys"].values())
    print(
        f"{total:,} points: log() took {logged:.2f}s, finish() returned after "
        f"{durable:.2f}s, the server holds {counted:,}",
        file=sys.stderr,
    )
    if counted != total:
        sys.exit(f"the server stored {counted:,} points of {total:,}")
    return total / logged, total / durable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--keys", type=int, default=10)
    args = parser.parse_args()

    with server() as srv:
        caller, durable = measure(srv, args.calls, args.keys)
    report("log_rate_caller", caller)
    report("log_rate_durable", durable)
    with postgres() as new_database, server(store=new_database()) as srv:
        _, durable_pg = measure(srv, args.calls, args.keys)
    emit_pg("log_rate_durable", round(durable_pg), "points/s", round(durable))


if __name__ == "__main__":
    main()
