"""Metric points in the PostgreSQL store against the embedded one, at the store (no HTTP).

A probe for the PostgreSQL points part (``store/postgres/_points.py``, ``_history.py``) until
the PostgreSQL store is wired into the server; ``make bench``'s ``*_pg`` figures replace it.
Each line is ``benchmarks._common.emit``'s JSON, the baseline being the embedded engine in the
same run, so ``ratio`` is PostgreSQL over embedded:

- ``pg_ingest_points``: points/s of ``append_points``, batches of 250k points of one key, each
  committed durably (fsync on) before the next; target 300k/s.
- ``pg_history_1m``: ms to read 1M points of one run and key, every point (``history`` with
  ``samples=None``) into an Arrow table; target: within 3x of embedded.
- ``pg_sampled_20x100k``: ms to read 20 runs x 100k points sampled to 1,000 per run (from
  tiles); target: within 3x of embedded.

Uses ``LABLENS_TEST_POSTGRES_URL`` when set, else starts a throwaway PostgreSQL cluster with
``tests/pg.py`` (Debian's binaries). ``--runs N`` changes the sampled read's run count.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from benchmarks._common import best_of, emit
from lablens.store.common.accounts import Accounts
from lablens.store.common.projects import Projects
from lablens.store.embedded.store import EmbeddedStore
from lablens.store.errors import NotFound
from lablens.store.postgres._db import Database
from lablens.store.postgres._history import History
from lablens.store.postgres._points import Points
from lablens.store.postgres._sql import PostgresSql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import pg  # noqa: E402  (tests/pg.py: a throwaway PostgreSQL)

WS, PROJECT = "bench", "points"


class _Runs:
    """The run lookup ``Points`` needs (the PostgreSQL runs part stands in here until it is on
    main; the runs' rows are made with SQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def run_pk(self, workspace: str, project: str, run_id: str) -> int:
        row = self.db.one("SELECT pk FROM runs WHERE id = %s", [run_id])
        if row is None:
            raise NotFound("run", f"{workspace}/{project}/{run_id}")
        return row["pk"]


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


def _ingest(append, run_id: str, table: pa.Table, chunk: int = 250_000) -> float:
    t0 = time.perf_counter()
    for start in range(0, table.num_rows, chunk):
        append(WS, PROJECT, run_id, table.slice(start, chunk))
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    cluster = None
    url = pg.os.environ.get("LABLENS_TEST_POSTGRES_URL")
    if not url:
        if reason := pg.missing_reason():
            raise SystemExit(reason)
        cluster = pg.start_cluster()
    try:
        url = pg.create_database(pg.cluster_of(url or cluster.url()))
        with tempfile.TemporaryDirectory() as tmp:
            _run(url, Path(tmp), args.runs)
    finally:
        if cluster is not None:
            pg.stop_cluster(cluster)


def _run(url: str, tmp: Path, nruns: int) -> None:
    emb = EmbeddedStore(tmp / "data")
    emb.create_user(WS)
    emb.create_project(WS, PROJECT)
    db = Database(url)
    accounts = Accounts(PostgresSql(db))
    accounts.create_user(WS)
    projects = Projects(PostgresSql(db), accounts)
    projects.create_project(WS, PROJECT)
    points, history = Points(db, _Runs(db), projects), History(db, projects)
    ids = ["big00001", *(f"s{i:07d}" for i in range(nruns))]
    with db.transaction() as conn:
        for run_id in ids:
            emb.create_run(WS, PROJECT, {"id": run_id}, username=WS)
            conn.execute(
                "INSERT INTO runs (project_id, id, state, created_at)"
                " SELECT id, %s, 'RUNNING', now() FROM projects",
                [run_id],
            )
    try:
        big = _points(1_000_000, 0)
        pg_s = _ingest(points.append_points, "big00001", big)
        emb_s = _ingest(emb.append_points, "big00001", big)
        pg_total, emb_total = pg_s, emb_s
        tables = [_points(100_000, i + 1) for i in range(nruns)]
        for run_id, table in zip(ids[1:], tables, strict=True):
            pg_total += _ingest(points.append_points, run_id, table)
            emb_total += _ingest(emb.append_points, run_id, table)
        n = 1_000_000 + 100_000 * nruns
        emit("pg_ingest_points", n / pg_total, "points/s", n / emb_total, 300_000)

        def pg_1m() -> pa.Table:
            return history.history(WS, PROJECT, ["big00001"], keys=["loss"], samples=None)

        def emb_1m() -> pa.Table:
            return emb.history(WS, PROJECT, ["big00001"], keys=["loss"], samples=None)

        assert pg_1m().num_rows == emb_1m().num_rows == 1_000_000
        emb_ms = best_of(emb_1m) * 1000
        emit("pg_history_1m", best_of(pg_1m) * 1000, "ms", emb_ms, 3 * emb_ms)

        def pg_sampled() -> pa.Table:
            return history.history(WS, PROJECT, ids[1:], keys=["loss"], samples=1000)

        def emb_sampled() -> pa.Table:
            return emb.history(WS, PROJECT, ids[1:], keys=["loss"], samples=1000)

        assert pg_sampled().num_rows == emb_sampled().num_rows
        emb_ms = best_of(emb_sampled) * 1000
        emit(f"pg_sampled_{nruns}x100k", best_of(pg_sampled) * 1000, "ms", emb_ms, 3 * emb_ms)
    finally:
        db.close()
        emb.close()


if __name__ == "__main__":
    main()
