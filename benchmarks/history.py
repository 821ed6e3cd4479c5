"""history_1m and sampled_100x100k: metric points out of a real server into pandas.

- history_1m: 1M points of one run and one key, every point, through ``run.history``;
  baseline: pyarrow reading the same points from a local Parquet file into pandas.
- sampled_100x100k: 100 runs x 100k steps of one key, sampled to 1,000 points per run, in one
  ``runs.histories`` request; baseline: pyarrow reading those 10M points from Parquet.
- ingest_10m_points: those 10M points sent to the server as Arrow batches of 250k, each stored
  durably before the answer; baseline: pyarrow writing them to one local Parquet file.

Then the same three on the PostgreSQL store (``*_pg``), each against the embedded figure of
the same run.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import lablens
from benchmarks._common import best_of, emit, emit_pg, postgres, server
from lablens.transport import ARROW, Transport, table_to_ipc

PROJECT = "bench-history"


def _points(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    steps = np.arange(n, dtype=np.int64)
    return pa.table(
        {
            "key": pa.array(["loss"] * n, pa.string()),
            "step": steps,
            "timestamp": 1.7e9 + steps * 0.01,
            "value": np.cumsum(rng.normal(size=n)),
        }
    )


def _log(t: Transport, entity: str, run_id: str, table: pa.Table, chunk: int = 250_000) -> None:
    t.post_json(f"/api/v1/projects/{entity}/{PROJECT}/runs", {"id": run_id})
    for start in range(0, table.num_rows, chunk):
        t.request(
            "POST",
            f"/api/v1/projects/{entity}/{PROJECT}/runs/{run_id}/points",
            data=table_to_ipc(table.slice(start, chunk)),
            headers={"Content-Type": ARROW},
        )


def measure(srv, tmp: Path) -> dict[str, tuple[float, float]]:
    """``{name: (figure, baseline)}`` on one empty server: seconds for the reads, points/s
    for the ingest; the baselines are pyarrow on local Parquet files in ``tmp``."""
    t = Transport(srv.url, srv.api_key, timeout=600)
    api = lablens.Api(host=srv.url, api_key=srv.api_key)
    entity = srv.username
    figures = {}

    # history_1m
    table = _points(1_000_000, 0)
    _log(t, entity, "big00001", table)
    parquet = tmp / "points.parquet"
    pq.write_table(table.drop(["key"]), parquet)
    run = api.run(f"{entity}/{PROJECT}/big00001")
    df = run.history(keys=["loss"], samples=None)
    assert len(df) == 1_000_000, len(df)
    assert df["loss"].to_numpy().tobytes() == table.column("value").to_numpy().tobytes()
    figures["history_1m"] = (
        best_of(lambda: run.history(keys=["loss"], samples=None)),
        best_of(lambda: pq.read_table(parquet).to_pandas()),
    )

    # sampled_100x100k
    t0 = time.perf_counter()
    ids = [f"s{i:07d}" for i in range(100)]
    tables = []
    for i, run_id in enumerate(ids):
        pts = _points(100_000, i + 1)
        tables.append(pts)
        _log(t, entity, run_id, pts)
    ingest = time.perf_counter() - t0
    everything = tmp / "all.parquet"
    t0 = time.perf_counter()
    pq.write_table(pa.concat_tables(tables), everything)
    parquet_rate = 10_000_000 / (time.perf_counter() - t0)
    runs = api.runs(f"{entity}/{PROJECT}", filters={"id": {"$in": ids}})
    frame = runs.histories(samples=1000, keys=["loss"], format="pandas")
    assert len(frame) <= 100 * 1000 and frame["run_id"].nunique() == 100, len(frame)
    figures["sampled_100x100k"] = (
        best_of(lambda: runs.histories(samples=1000, keys=["loss"], format="pandas")),
        best_of(lambda: pq.read_table(everything).to_pandas(), repeat=3),
    )
    # baseline: writing the same points to one local Parquet file
    figures["ingest_10m_points"] = (10_000_000 / ingest, parquet_rate)
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with server() as srv:
            embedded = measure(srv, Path(tmp))
        for name, target in (("history_1m", 150), ("sampled_100x100k", 200)):
            value, baseline = embedded[name]
            emit(name, value * 1000, "ms", baseline * 1000, target)
        rate, parquet_rate = embedded["ingest_10m_points"]
        emit("ingest_10m_points", rate, "points/s", parquet_rate, 300_000)
        with postgres() as new_database, server(store=new_database()) as srv:
            on_pg = measure(srv, Path(tmp))
        for name in ("history_1m", "sampled_100x100k"):
            emit_pg(name, on_pg[name][0] * 1000, "ms", embedded[name][0] * 1000)
        emit_pg("ingest_10m_points", on_pg["ingest_10m_points"][0], "points/s",
                embedded["ingest_10m_points"][0])  # fmt: skip


if __name__ == "__main__":
    main()
