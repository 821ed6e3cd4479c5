"""The lablens side of ``benchmarks.peers``: the workloads through lablens's public API only.

The SDK (``lablens.init``, ``run.log``, ``run.finish``) writes, ``lablens.Api`` reads, so a
faster SDK or request path shows here as it is merged. The figures are milliseconds, named as
in ``benchmarks.peers.mlflow_side``, which runs the same workloads through MLflow's client.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import lablens
from benchmarks._common import Server, best_of

#: No system metrics thread, no console capture: the runs log only what the workload logs.
SETTINGS = {"system_interval": 0, "console": False}


class Deadline:
    def __init__(self, what: str, seconds: float) -> None:
        self.what, self.seconds, self.start = what, seconds, time.perf_counter()

    def check(self) -> None:
        if time.perf_counter() - self.start > self.seconds:
            sys.exit(f"lablens: {self.what} took over {self.seconds:.0f} s; stopped")


def _best_of(fn: Any, repeat: int) -> float:
    """The fastest of ``repeat`` timed calls in ms, after one warm-up call."""
    return best_of(fn, repeat) * 1000


def _percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


def measure(srv: Server, sizes: dict[str, int]) -> dict[str, float]:
    """The figures in ms of every workload of ``sizes`` (see ``benchmarks.peers``)."""
    budget = sizes["budget"]
    entity = srv.username
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="lablens-bench-peers-") as tmp:

        def init(project: str) -> Any:
            return lablens.init(
                project=project,
                host=srv.url,
                api_key=srv.api_key,
                settings=SETTINGS,
                dir=Path(tmp),
            )

        # (a) run lifecycle: init, STEPS log() calls of KEYS metrics, finish.
        keys = [f"m{k}" for k in range(sizes["keys"])]
        deadline = Deadline("the run lifecycle", budget)
        t0 = time.perf_counter()
        for _ in range(sizes["runs"]):
            run = init("peers-lifecycle")
            for step in range(sizes["steps"]):
                run.log({k: random.random() for k in keys}, step=step)
            run.finish()
            deadline.check()
        figures["run_lifecycle"] = (time.perf_counter() - t0) * 1000 / sizes["runs"]

        # (b) a small request: one project.
        api = lablens.Api(host=srv.url, api_key=srv.api_key)
        path = f"{entity}/peers-lifecycle"
        for _ in range(20):  # warm-up
            api.project(path)
        deadline = Deadline("the small requests", budget)
        times = []
        for _ in range(sizes["requests"]):
            t = time.perf_counter()
            api.project(path)
            times.append((time.perf_counter() - t) * 1000)
            deadline.check()
        times.sort()
        figures["request_p50"] = _percentile(times, 0.50)
        figures["request_p99"] = _percentile(times, 0.99)

        # (e) POINTS points of one metric in one run, one log() a point, durable at finish().
        n = sizes["points"]
        values = [random.random() for _ in range(n)]
        deadline = Deadline("logging the points", budget)
        t0 = time.perf_counter()
        run = init("peers-history")
        log = run.log
        for i in range(n):
            log({"loss": values[i]}, step=i)
            if i % 1000 == 0:
                deadline.check()
        run.finish()
        figures["log_points"] = (time.perf_counter() - t0) * 1000

        # (c) every point of that metric back.
        stored = api.run(run.path)
        df = stored.history(keys=["loss"], samples=None)
        if len(df) != n:
            sys.exit(f"lablens: run.history gave {len(df)} points of {n}")
        figures["history_read"] = _best_of(lambda: stored.history(keys=["loss"], samples=None), 3)

        # (d) SEARCH_RUNS finished runs with a metric; the runs whose metric passes, as a
        # DataFrame.
        m = sizes["search_runs"]
        deadline = Deadline("making the runs to search", budget)

        def make(i: int) -> None:
            deadline.check()
            run = api.create_run(project="peers-search")
            run.log_points({"key": ["acc"], "step": [0], "timestamp": [time.time()],
                            "value": [i / m]})  # fmt: skip
            run.finish()

        # Not measured: as MLflow's side makes them (create, one batch, finish; 4 at a time).
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(make, range(m)))

        def search() -> Any:
            runs = api.runs(f"{entity}/peers-search", filters={"summary_metrics.acc": {"$gt": 0.5}})
            return runs.to_pandas()

        found = search()
        if len(found) != sizes["search_expected"]:
            sys.exit(f"lablens: api.runs gave {len(found)} runs of {sizes['search_expected']}")
        figures["search_runs"] = _best_of(search, 3)
    return figures
