"""runs_100k and runs_100k_filter: a project's run table into pandas, in one request.

100k runs with 20 config keys and 10 summary metrics; ``runs.to_pandas()`` without and with a
20%-selective filter. Baselines: pyarrow reading the same flat table from a local Parquet file
(with the same filter pushed down).
"""

from __future__ import annotations

import datetime as dt
import getpass
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

import lablens
from benchmarks._common import best_of, emit, server
from lablens.store import open_store

PROJECT = "bench-runs"
N = 100_000


def _runs() -> list[dict]:
    rng = np.random.default_rng(0)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    runs = []
    for i in range(N):
        config = {f"c{j}": float(rng.random()) for j in range(2, 16)}
        config.update(
            {
                "c0": int(i % 5),
                "c1": f"opt{i % 3}",
                "c16": bool(i % 2),
                "c17": int(rng.integers(1, 512)),
                "c18": f"model-{i % 7}",
                "c19": float(rng.random()),
            }
        )
        summary = {f"m{j}": float(rng.random()) for j in range(10)}
        runs.append(
            {
                "id": f"r{i:07d}",
                "name": f"run-{i}",
                "config": config,
                "summary": summary,
                "created_at": t0 + dt.timedelta(seconds=i),
            }
        )
    return runs


def main() -> None:
    runs = _runs()

    def seed(data: Path) -> None:
        store = open_store(data)
        from lablens.server.main import ensure_admin

        ensure_admin(store, data, allow_create=True)
        store.insert_runs(getpass.getuser(), PROJECT, runs, username=getpass.getuser())
        store.close()

    with server(seed=seed) as srv, tempfile.TemporaryDirectory() as tmp:
        api = lablens.Api(host=srv.url, api_key=srv.api_key)
        path = f"{srv.username}/{PROJECT}"
        df = api.runs(path).to_pandas()
        assert len(df) == N, len(df)
        parquet = Path(tmp) / "runs.parquet"
        df.to_parquet(parquet)
        value = best_of(lambda: api.runs(path).to_pandas())
        baseline = best_of(lambda: pq.read_table(parquet).to_pandas())
        emit("runs_100k", value * 1000, "ms", baseline * 1000, 1000)

        filters = {"config.c0": 0}
        sel = api.runs(path, filters=filters).to_pandas()
        assert len(sel) == N // 5, len(sel)
        value = best_of(lambda: api.runs(path, filters=filters).to_pandas())
        baseline = best_of(
            lambda: pq.read_table(parquet, filters=[("config.c0", "=", 0)]).to_pandas()
        )
        emit("runs_100k_filter", value * 1000, "ms", baseline * 1000, 300)


if __name__ == "__main__":
    main()
