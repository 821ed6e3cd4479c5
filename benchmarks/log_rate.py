"""How fast ``run.log()`` takes points, and how fast they reach the server and are stored.

Starts its own ``lablens server`` (free port, temporary LABLENS_HOME and data dir), logs
``--calls`` calls of ``--keys`` keys each (200k x 10 = 2M points by default), and prints two JSON
lines:

- ``log_rate_caller``: points per second seen by the training loop (the ``log()`` calls only);
- ``log_rate_durable``: points per second from the first ``log()`` to ``finish()`` returning,
  with the server having acknowledged every batch.

``ratio`` is the value over the target (1M and 300k points/s). The stored point count is checked
against what was logged. Run: ``.venv/bin/python benchmarks/log_rate.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"log_rate_caller": 1_000_000, "log_rate_durable": 300_000}


def start_server(root: Path) -> tuple[subprocess.Popen, str, str]:
    from lablens._settings import free_port, normalize_host, wait_until_alive

    home = root / "home"
    home.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(root / "server.log", "ab")  # noqa: SIM115 - handed to the child
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
            str(root / "data"),
        ],
        env={**os.environ, "LABLENS_HOME": str(home)},
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
    )
    wait_until_alive(url, timeout=60, proc=proc)
    creds = json.loads((home / "credentials").read_text())["hosts"][normalize_host(url)]
    return proc, url, creds["api_key"]


def report(name: str, value: float) -> None:
    target = TARGETS[name]
    line = {
        "name": name,
        "value": round(value),
        "unit": "points/s",
        "baseline": target,
        "ratio": round(value / target, 3),
    }
    print(json.dumps(line), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--keys", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lablens-bench-") as tmp:
        root = Path(tmp)
        os.environ["LABLENS_HOME"] = str(root / "home")  # never the user's own ~/.lablens
        proc, url, key = start_server(root)
        try:
            import lablens.sdk
            from lablens.transport import Transport

            settings = {"system_interval": 0, "console": False}
            run = lablens.sdk.init(
                project="bench", host=url, api_key=key, settings=settings, dir=root / "runs"
            )
            names = [f"train/metric_{i}" for i in range(args.keys)]
            rows = [{n: float(i * j) for j, n in enumerate(names)} for i in range(1000)]
            log = run.log
            start = time.perf_counter()
            for i in range(args.calls):
                log(rows[i % 1000])
            logged = time.perf_counter() - start
            run.finish()
            durable = time.perf_counter() - start

            total = args.calls * args.keys
            http = Transport(url, key)
            stored = http.get_json(f"/api/v1/projects/{run.entity}/bench/runs/{run.id}")
            counted = sum(k["count"] for k in stored["history_keys"].values())
            print(
                f"{total:,} points: log() {logged:.2f}s, finish() returned after {durable:.2f}s, "
                f"stored {counted:,}",
                file=sys.stderr,
            )
            if counted != total:
                sys.exit(f"the server stored {counted:,} points of {total:,}")
            report("log_rate_caller", total / logged)
            report("log_rate_durable", total / durable)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
