"""history_1m_big_store, sampled_201_big_store and ingest_20_writers: reads of a store that
holds many other runs, and the concurrent logging that filled it.

One embedded ``lablens server`` (temp data dir, free loopback port):

1. One run of ``HISTORY`` points of ``loss`` (1M) is logged as in ``benchmarks.history``, and
   read back whole (``run.history(samples=None)``) while it is the only run: history_1m on a
   small store, the baseline.
2. ``WRITERS`` processes (20) log ``RUNS`` other runs (200) of ``POINTS`` steps of ``loss``
   each (100k: 20M points) into the same project at once, through the SDK (``lablens.init``,
   one ``run.log()`` a step, ``run.finish()``). ingest_20_writers: every point over the time
   from the first ``log()`` to the last ``finish()`` returning (every batch acknowledged:
   durable), in points/s; baseline and target 300k points/s. Every run's stored count is
   checked against what it logged.
3. history_1m_big_store: the read of step 1 again, now beside those 20M points; baseline: the
   small store's figure, target 1.3 times it.
4. sampled_201_big_store: every run of the project (the 200 and the 1M one), sampled to 1,000
   points of ``loss`` each, in one ``runs.histories`` request; baseline and target 1 s.

Sizes come from the environment, the issue's by default: ``LABLENS_BENCH_BIG_HISTORY``
(1000000), ``LABLENS_BENCH_BIG_RUNS`` (200), ``LABLENS_BENCH_BIG_POINTS`` (100000),
``LABLENS_BENCH_BIG_WRITERS`` (20), and ``LABLENS_BENCH_BIG_BUDGET`` (1800: the seconds the
writers may take, after which they are stopped and the benchmark fails). The figure names
keep the defaults' numbers whatever the sizes. Run: ``.venv/bin/python -m
benchmarks.history_big_store``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import lablens
from benchmarks._common import Server, best_of, emit, server
from benchmarks.history import _log, _points
from lablens.transport import Transport

PROJECT = "bench-history"  # benchmarks.history's, whose _log writes there
BIG_RUN = "big00001"
INGEST_TARGET = 300_000
SAMPLED_TARGET_MS = 1000
BIG_STORE_FACTOR = 1.3
SIZES = {"history": 1_000_000, "runs": 200, "points": 100_000, "writers": 20, "budget": 1800}


def sizes_from_env() -> dict[str, int]:
    return {
        name: int(os.environ.get(f"LABLENS_BENCH_BIG_{name.upper()}", default))
        for name, default in SIZES.items()
    }


def writer(host: str, key: str, runs: int, points: int, go: str) -> None:
    """One writer process: ``runs`` runs of ``points`` steps of ``loss``, one after the other,
    logging from when the file ``go`` exists; prints ``{"paths", "points", "start", "end"}``."""
    values = np.cumsum(np.random.default_rng(os.getpid()).normal(size=points)).tolist()
    paths = []
    with tempfile.TemporaryDirectory(prefix="lablens-bench-writer-") as runs_dir:
        while not Path(go).exists():
            time.sleep(0.005)
        start = time.time()
        for _ in range(runs):
            run = lablens.init(
                project=PROJECT,
                host=host,
                api_key=key,
                settings={"system_interval": 0, "console": False},
                dir=Path(runs_dir),
            )
            log = run.log
            for value in values:
                log({"loss": value})
            run.finish()
            paths.append(run.path)
        end = time.time()
    print(json.dumps({"paths": paths, "points": runs * points, "start": start, "end": end}))


def fill(srv: Server, sizes: dict[str, int], tmp: Path) -> float:
    """``sizes["runs"]`` runs logged by ``sizes["writers"]`` processes at once: points/s,
    durable. Exits if a writer fails, the time runs out, or a run's stored count differs."""
    n_writers = min(sizes["writers"], sizes["runs"])
    go = tmp / "go"
    procs = []
    for w in range(n_writers):
        runs = len(range(w, sizes["runs"], n_writers))
        argv = [srv.url, srv.api_key, str(runs), str(sizes["points"]), str(go)]
        err = open(tmp / f"writer{w}.err", "w")  # noqa: SIM115 - the SDK's lines; shown on failure
        procs.append(
            (
                subprocess.Popen(
                    [sys.executable, "-m", "benchmarks.history_big_store", "--writer", *argv],
                    stdout=subprocess.PIPE,
                    stderr=err,
                    stdin=subprocess.DEVNULL,
                    text=True,
                ),
                err,
            )
        )
    go.touch()
    deadline = time.monotonic() + sizes["budget"]
    results = []
    try:
        for proc, err in procs:
            try:
                out, _ = proc.communicate(timeout=max(deadline - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                sys.exit(f"the writers took over {sizes['budget']} s; stopped")
            err.close()
            if proc.returncode != 0:
                sys.exit(f"a writer failed with {proc.returncode}:\n{Path(err.name).read_text()}")
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc, err in procs:  # only on failure is one still running
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            err.close()
    http = Transport(srv.url, srv.api_key)
    for result in results:
        for path in result["paths"]:
            entity, project, run_id = path.split("/")
            stored = http.get_json(f"/api/v1/projects/{entity}/{project}/runs/{run_id}")
            counted = sum(k["count"] for k in stored["history_keys"].values())
            if counted != sizes["points"]:
                sys.exit(f"run {path}: the server holds {counted:,} of {sizes['points']:,}")
    total = sum(r["points"] for r in results)
    seconds = max(r["end"] for r in results) - min(r["start"] for r in results)
    print(f"{n_writers} writers, {total:,} points in {seconds:.2f}s", file=sys.stderr)
    return total / seconds


def main() -> None:
    if sys.argv[1:2] == ["--writer"]:
        host, key, runs, points, go = sys.argv[2:]
        writer(host, key, int(runs), int(points), go)
        return
    sizes = sizes_from_env()
    print(f"sizes: {json.dumps(sizes)}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="lablens-bench-big-") as tmp, server() as srv:
        t = Transport(srv.url, srv.api_key, timeout=600)
        api = lablens.Api(host=srv.url, api_key=srv.api_key)
        table = _points(sizes["history"], 0)
        _log(t, srv.username, BIG_RUN, table)
        run = api.run(f"{srv.username}/{PROJECT}/{BIG_RUN}")
        run.finish()  # made without the SDK, it sends no heartbeat: ended, it is not "crashed"

        def read() -> None:
            df = run.history(keys=["loss"], samples=None)
            assert len(df) == sizes["history"], len(df)

        small = best_of(read)
        ingest = fill(srv, sizes, Path(tmp))
        big = best_of(read)
        runs = api.runs(f"{srv.username}/{PROJECT}")

        def sampled() -> None:
            frame = runs.histories(samples=1000, keys=["loss"], format="pandas")
            assert frame["run_id"].nunique() == sizes["runs"] + 1, frame["run_id"].nunique()

        sampled_s = best_of(sampled, repeat=3)
    emit("ingest_20_writers", round(ingest), "points/s", INGEST_TARGET, INGEST_TARGET)
    emit(
        "history_1m_big_store",
        big * 1000,
        "ms",
        small * 1000,
        round(small * 1000 * BIG_STORE_FACTOR, 4),
    )
    emit("sampled_201_big_store", sampled_s * 1000, "ms", SAMPLED_TARGET_MS, SAMPLED_TARGET_MS)


if __name__ == "__main__":
    main()
