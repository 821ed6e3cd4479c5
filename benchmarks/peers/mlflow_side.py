"""The MLflow side of ``benchmarks.peers``: the workloads through MLflow's own client.

Run by the MLflow venv's python as a plain script (it imports MLflow, never lablens):
``python mlflow_side.py TRACKING_URI SIZES_JSON``. It prints one JSON object of figures in
milliseconds, the names those of ``benchmarks.peers.lablens_side``. Each loop is bounded in
count (``SIZES_JSON``) and in time (``budget`` seconds a workload: over it, exit non-zero).
"""

from __future__ import annotations

import json
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

#: MLflow's largest ``log_batch``: 1,000 metrics a request.
BATCH = 1000


class Deadline:
    def __init__(self, what: str, seconds: float) -> None:
        self.what, self.seconds, self.start = what, seconds, time.perf_counter()

    def check(self) -> None:
        if time.perf_counter() - self.start > self.seconds:
            sys.exit(f"mlflow: {self.what} took over {self.seconds:.0f} s; stopped")


def best_of(fn, repeat: int) -> float:
    """The fastest of ``repeat`` timed calls in ms, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000


def percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


def main() -> None:
    uri, sizes_json = sys.argv[1:]
    sizes = json.loads(sizes_json)
    budget = sizes["budget"]
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri)
    figures: dict[str, float] = {}
    now_ms = int(time.time() * 1000)

    # (a) run lifecycle: create, STEPS log_batch calls of KEYS metrics, finish.
    exp = client.create_experiment("peers-lifecycle")
    keys = [f"m{k}" for k in range(sizes["keys"])]
    deadline = Deadline("the run lifecycle", budget)
    t0 = time.perf_counter()
    for _ in range(sizes["runs"]):
        run_id = client.create_run(exp).info.run_id
        for step in range(sizes["steps"]):
            metrics = [Metric(k, random.random(), now_ms + step, step) for k in keys]
            client.log_batch(run_id, metrics=metrics)
        client.set_terminated(run_id)
        deadline.check()
    figures["run_lifecycle"] = (time.perf_counter() - t0) * 1000 / sizes["runs"]

    # (b) a small request: one experiment.
    for _ in range(20):  # warm-up
        client.get_experiment(exp)
    deadline = Deadline("the small requests", budget)
    times = []
    for _ in range(sizes["requests"]):
        t = time.perf_counter()
        client.get_experiment(exp)
        times.append((time.perf_counter() - t) * 1000)
        deadline.check()
    times.sort()
    figures["request_p50"] = percentile(times, 0.50)
    figures["request_p99"] = percentile(times, 0.99)

    # (e) POINTS points of one metric in one run, BATCH a request, durable when answered.
    n = sizes["points"]
    values = [random.random() for _ in range(n)]
    run_id = client.create_run(client.create_experiment("peers-history")).info.run_id
    deadline = Deadline("logging the points", budget)
    t0 = time.perf_counter()
    for start in range(0, n, BATCH):
        metrics = [
            Metric("loss", values[i], now_ms + i, i) for i in range(start, min(start + BATCH, n))
        ]
        client.log_batch(run_id, metrics=metrics)
        deadline.check()
    client.set_terminated(run_id)
    figures["log_points"] = (time.perf_counter() - t0) * 1000

    # (c) every point of that metric back.
    got = client.get_metric_history(run_id, "loss")
    if len(got) != n:
        sys.exit(f"mlflow: get_metric_history gave {len(got)} points of {n}")
    figures["history_read"] = best_of(lambda: client.get_metric_history(run_id, "loss"), 3)

    # (d) SEARCH_RUNS finished runs with a metric; the runs whose metric passes, as a DataFrame.
    m = sizes["search_runs"]
    exp = client.create_experiment("peers-search")
    deadline = Deadline("making the runs to search", budget)

    def make(i: int) -> None:
        deadline.check()
        run_id = client.create_run(exp).info.run_id
        client.log_batch(run_id, metrics=[Metric("acc", i / m, now_ms, 0)])
        client.set_terminated(run_id)

    # Not measured: 4 at a time (the server's default workers), as MLflow takes ~3 requests a
    # run; an error in one is raised here.
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(make, range(m)))

    def search():
        return mlflow.search_runs(
            experiment_ids=[exp], filter_string="metrics.acc > 0.5", max_results=m
        )

    df = search()
    if len(df) != sizes["search_expected"]:
        sys.exit(f"mlflow: search_runs gave {len(df)} runs of {sizes['search_expected']}")
    figures["search_runs"] = best_of(search, 3)
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
