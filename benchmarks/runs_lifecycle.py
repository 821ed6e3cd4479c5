"""runs_lifecycle_100: 100 short runs in a row, each ``init()`` + 10 ``log()`` + ``finish()``.

Sweeps, cross-validation and evaluation jobs make thousands of short runs, so the fixed cost of a
run (its creation, its last batch, its end) is what they wait for. Starts its own ``lablens
server`` (free loopback port, temporary LABLENS_HOME and data dir), makes ``--runs`` runs through
the public SDK (``lablens.init`` / ``run.log`` / ``run.finish``), checks that the server holds every
run FINISHED with its points, and prints:

- runs_lifecycle_100: seconds for the runs, scaled to 100 runs; target 1 s (10 ms a run).
  ``baseline``: the same runs made with three plain HTTP requests each (create, one batch of
  points, mark finished) on one keep-alive session, measured in the same run: the floor of a
  protocol that waits for the server at each step.

Run: ``.venv/bin/python -m benchmarks.runs_lifecycle [--runs 100]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import lablens.sdk
from benchmarks._common import emit, server
from lablens.contract.routes import project_route, run_route
from lablens.transport import Transport

TARGET = 1.0
SETTINGS = {"system_interval": 0, "console": False, "silent": True}


def sdk_runs(srv, project: str, runs: int, root: Path) -> tuple[float, list[str]]:
    """Seconds for ``runs`` runs made through the SDK, and their ids."""
    ids = []
    start = time.perf_counter()
    for r in range(runs):
        run = lablens.sdk.init(
            project=project,
            config={"fold": r},
            host=srv.url,
            api_key=srv.api_key,
            settings=SETTINGS,
            dir=root,
        )
        for step in range(10):
            run.log({"loss": 1.0 / (step + 1)})
        run.finish()
        ids.append(run.id)
    return time.perf_counter() - start, ids


def http_runs(srv, project: str, runs: int) -> float:
    """Seconds for ``runs`` runs made with three plain requests each (the baseline)."""
    t = Transport(srv.url, srv.api_key)
    entity = srv.username
    start = time.perf_counter()
    for r in range(runs):
        run_id = f"base{r:04d}"
        t.post_json(f"{project_route(entity, project)}/runs", {"id": run_id, "config": {"fold": r}})
        path = run_route(entity, project, run_id)
        rows = [
            {"step": s, "timestamp": time.time(), "data": {"loss": 1.0 / (s + 1)}}
            for s in range(10)
        ]
        t.post_json(f"{path}/points", {"rows": rows})
        t.patch_json(path, {"state": "FINISHED", "exit_code": 0})
    return time.perf_counter() - start


def check(srv, project: str, ids: list[str]) -> None:
    """Exit unless every run is FINISHED with its 10 points, as finish() promised."""
    t = Transport(srv.url, srv.api_key)
    for run_id in ids:
        data = t.get_json(run_route(srv.username, project, run_id))
        count = sum(k["count"] for k in (data.get("history_keys") or {}).values())
        if data["state"] != "FINISHED" or count != 10:
            sys.exit(f"run {run_id}: state {data['state']}, {count} points stored (10 logged)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    runs = max(1, min(args.runs, 1000))
    with server() as srv, tempfile.TemporaryDirectory(prefix="lablens-bench-runs-") as tmp:
        # Warm-up (imports, the server's first requests), not timed.
        sdk_runs(srv, "bench-warmup", 3, Path(tmp))
        http_runs(srv, "bench-warmup-http", 3)
        base = http_runs(srv, "bench-lifecycle-http", runs)
        took, ids = sdk_runs(srv, "bench-lifecycle", runs, Path(tmp))
        check(srv, "bench-lifecycle", ids)
    scale = 100 / runs
    print(
        f"{runs} runs: SDK {took * 1000 / runs:.1f} ms a run, three plain requests "
        f"{base * 1000 / runs:.1f} ms a run",
        file=sys.stderr,
    )
    emit("runs_lifecycle_100", took * scale, "s", baseline=base * scale, target=TARGET)


if __name__ == "__main__":
    main()
