"""One training process of ``benchmarks.team_ingest``: ``run.log()`` into one server.

``python -m benchmarks._writer HOST KEY PROJECT CALLS KEYS GO``: starts a run, waits until the
file ``GO`` exists (so that every writer starts logging together), logs ``CALLS`` calls of
``KEYS`` keys, finishes the run (every batch acknowledged: durable), and prints one JSON line:
``{"path", "points", "start", "end"}`` with wall-clock times (``time.time()``).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import lablens.sdk


def main() -> None:
    host, key, project, calls, keys, go = sys.argv[1:]
    n_calls, n_keys = int(calls), int(keys)
    with tempfile.TemporaryDirectory(prefix="lablens-bench-writer-") as runs:
        run = lablens.sdk.init(
            project=project,
            host=host,
            api_key=key,
            settings={"system_interval": 0, "console": False},
            dir=Path(runs),
        )
        names = [f"train/metric_{i}" for i in range(n_keys)]
        rows = [{n: float(i * j) for j, n in enumerate(names)} for i in range(1000)]
        while not Path(go).exists():
            time.sleep(0.005)
        start = time.time()
        log = run.log
        for i in range(n_calls):
            log(rows[i % 1000])
        run.finish()
        end = time.time()
    print(json.dumps({"path": run.path, "points": n_calls * n_keys, "start": start, "end": end}))


if __name__ == "__main__":
    main()
