"""runs_100k and runs_100k_filter: a project's run table into pandas, in one request.

100k runs with 20 config keys and 10 summary metrics; ``runs.to_pandas()`` without and with a
20%-selective filter. Baselines: pyarrow reading the same flat table from a local Parquet file
(with the same filter pushed down). The same on the PostgreSQL store: ``runs_100k_pg`` and
``runs_100k_filter_pg``, each against the embedded figure of the same run.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

import lablens
from benchmarks._common import best_of, emit, emit_pg, postgres, server
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


def _seed(runs: list[dict]):
    def seed(target: str | Path, username: str) -> None:
        # A PostgreSQL store wants a blob store; inserting runs writes no blob.
        blobs = None if isinstance(target, Path) else f"file://{tempfile.mkdtemp()}"
        store = open_store(target, blobs=blobs)
        try:
            if isinstance(target, Path):  # a new data dir: the admin is made here
                from lablens.server.main import ensure_admin

                ensure_admin(store, target, allow_create=True)
            store.insert_runs(username, PROJECT, runs, username=username)
        finally:
            store.close()

    return seed


def measure(srv, tmp: Path) -> dict[str, tuple[float, float]]:
    """``{name: (seconds, parquet baseline seconds)}`` on one server holding the runs."""
    api = lablens.Api(host=srv.url, api_key=srv.api_key)
    path = f"{srv.username}/{PROJECT}"
    df = api.runs(path).to_pandas()
    assert len(df) == N, len(df)
    parquet = tmp / "runs.parquet"
    df.to_parquet(parquet)
    figures = {
        "runs_100k": (
            best_of(lambda: api.runs(path).to_pandas()),
            best_of(lambda: pq.read_table(parquet).to_pandas()),
        )
    }
    filters = {"config.c0": 0}
    sel = api.runs(path, filters=filters).to_pandas()
    assert len(sel) == N // 5, len(sel)
    figures["runs_100k_filter"] = (
        best_of(lambda: api.runs(path, filters=filters).to_pandas()),
        best_of(lambda: pq.read_table(parquet, filters=[("config.c0", "=", 0)]).to_pandas()),
    )
    return figures


TARGETS = {"runs_100k": 1000, "runs_100k_filter": 300}


def main() -> None:
    runs = _runs()
    with tempfile.TemporaryDirectory() as tmp:
        with server(seed=_seed(runs)) as srv:
            embedded = measure(srv, Path(tmp))
        for name, (value, baseline) in embedded.items():
            emit(name, value * 1000, "ms", baseline * 1000, TARGETS[name])
        with postgres() as new_database, server(store=new_database(), seed=_seed(runs)) as srv:
            on_pg = measure(srv, Path(tmp))
        for name, (value, _) in on_pg.items():
            emit_pg(name, value * 1000, "ms", embedded[name][0] * 1000)


if __name__ == "__main__":
    main()
