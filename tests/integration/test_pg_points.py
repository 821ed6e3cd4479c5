"""Metric points in the PostgreSQL store against the embedded one: the same batches written
through both engines' ``Points`` give equal ``History`` reads (every point, step ranges, x axes,
sampling from points and from tiles), equal run_keys, tiles and summaries; a batch id is stored
once, also when two servers take it at the same moment."""

from __future__ import annotations

import functools
import json
import math
import threading

import numpy as np
import pyarrow as pa
import pytest

from lablens.store.common.accounts import Accounts
from lablens.store.common.projects import Projects
from lablens.store.embedded.store import EmbeddedStore
from lablens.store.errors import NotFound
from lablens.store.postgres import _tiles
from lablens.store.postgres._db import Database
from lablens.store.postgres._history import History
from lablens.store.postgres._points import Points
from lablens.store.postgres._sql import PostgresSql

WS, PROJECT = "alice", "points"
RUNS = ("run00001", "run00002", "run00003")


class _Runs:
    """Stand-in for the PostgreSQL runs part (``run_pk`` only) until it is on main; the runs'
    rows are made with SQL."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def run_pk(self, workspace: str, project: str, run_id: str) -> int:
        row = self.db.one(
            "SELECT r.pk FROM runs r JOIN projects p ON p.id = r.project_id"
            " JOIN workspaces w ON w.id = p.workspace_id"
            " WHERE w.username = %s AND p.name = %s AND r.id = %s",
            [workspace, project, run_id],
        )
        if row is None:
            raise NotFound("run", f"{workspace}/{project}/{run_id}")
        return row["pk"]


class Engines:
    """The embedded store and the PostgreSQL parts, holding the same runs."""

    def __init__(self, tmp_path, url: str) -> None:
        self.emb = EmbeddedStore(tmp_path / "data")
        self.emb.create_user(WS)
        self.emb.create_project(WS, PROJECT)
        self.db = Database(url)
        accounts = Accounts(PostgresSql(self.db))
        accounts.create_user(WS)
        self.projects = Projects(PostgresSql(self.db), accounts)
        self.projects.create_project(WS, PROJECT)
        for i, run_id in enumerate(RUNS):
            self.emb.create_run(WS, PROJECT, {"id": run_id, "name": f"r{i}"}, username=WS)
            row = self.emb.db.one(
                "SELECT pk, epoch_us(created_at) AS us FROM runs WHERE id = ?", [run_id]
            )
            # The same pk and start (to the microsecond), so runtime x axes agree.
            with self.db.transaction() as conn:
                conn.execute(
                    "INSERT INTO runs (pk, project_id, id, name, state, created_at)"
                    " SELECT %s, id, %s, %s, 'RUNNING',"
                    " to_timestamp(0) + %s * interval '1 microsecond' FROM projects",
                    [row["pk"], run_id, f"r{i}", row["us"]],
                )
        self.points = Points(self.db, _Runs(self.db), self.projects)
        self.history = History(self.db, self.projects)

    def append(self, run_id: str, table: pa.Table, **kw) -> dict:
        a = self.emb.append_points(WS, PROJECT, run_id, table, **kw)
        b = self.points.append_points(WS, PROJECT, run_id, table, **kw)
        assert a == b
        return b

    def read(self, run_ids=RUNS, **kw) -> pa.Table:
        a = self.emb.history(WS, PROJECT, run_ids, **kw)
        b = self.history.history(WS, PROJECT, run_ids, **kw)
        assert_same(a, b, sampled=kw.get("samples") is not None)
        return b

    def close(self) -> None:
        self.emb.close()
        self.db.close()


def bits(col: pa.ChunkedArray, *, signed_zero: bool = True) -> list:
    """Float values as their bytes (NaN equal to NaN, -0.0 apart from 0.0 unless not
    ``signed_zero``), nulls as None."""
    arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    values = arr.fill_null(0.0).to_numpy(zero_copy_only=False)
    if not signed_zero:
        values = values + 0.0  # -0.0 + 0.0 is 0.0
    raw = values.view(np.int64).tolist()
    nulls = arr.is_null().to_pylist()
    return [None if n else r for r, n in zip(raw, nulls, strict=True)]


def assert_same(a: pa.Table, b: pa.Table, *, sampled: bool) -> None:
    # Sampled, the embedded engine answers 0.0 for a -0.0 it stored (DuckDB's DISTINCT groups
    # -0.0 with 0.0); PostgreSQL's answer keeps the sign. Every other bit must be equal.
    assert b.schema == a.schema
    assert b.schema.metadata == a.schema.metadata
    assert b.num_rows == a.num_rows
    for name in ("run_id", "key", "step"):
        assert b[name].to_pylist() == a[name].to_pylist(), name
    for name in ("timestamp", "value"):
        assert bits(b[name], signed_zero=not sampled) == bits(a[name], signed_zero=not sampled)


def batch(key, step, value, ts=None) -> pa.Table:
    step = np.asarray(step, np.int64)
    if isinstance(key, str):
        key = [key] * len(step)
    return pa.table(
        {
            "key": pa.array(key, pa.string()),
            "step": step,
            "timestamp": 1.75e9 + step * 0.5 if ts is None else ts,
            "value": pa.array(value, pa.float64()),
        }
    )


@pytest.fixture
def engines(tmp_path, pg_database):
    e = Engines(tmp_path, pg_database)
    yield e
    e.close()


def _mixed(rng, n: int, step0: int = 0, *, extremes: bool = True) -> tuple[np.ndarray, list]:
    """Steps shuffled, values with NaNs and nulls among normals, and (once each, since the
    engines may keep either of two equal extremes) +inf, -inf and -0.0."""
    steps = rng.permutation(np.arange(step0, step0 + n))
    values: list = rng.standard_normal(n).tolist()
    for i in range(0, n, 17):
        values[i] = [math.nan, None][(i // 17) % 2]
    if extremes:
        values[5], values[6], values[7] = math.inf, -math.inf, -0.0
    return steps, values


def test_short_series_read_alike(engines):
    rng = np.random.default_rng(7)
    for r, run_id in enumerate(RUNS):
        steps, values = _mixed(rng, 3000 + 500 * r, step0=1000)
        keys = rng.choice(["loss", "acc", "lr/β"], len(steps)).tolist()
        # A key per step: each (key, step) once.
        steps = steps * 3 + np.array([["loss", "acc", "lr/β"].index(k) for k in keys])
        assert engines.append(run_id, batch(keys, steps, values), batch_id=f"b{r}") == {
            "stored": len(steps),
            "duplicate": False,
        }
        # A backfill below what the run holds, in a second batch of shuffled steps.
        back, values = _mixed(rng, 900, extremes=False)
        engines.append(run_id, batch("loss", back, values))
        # Two keys logged at the same steps, for the metric x axis.
        shared = rng.permutation(np.arange(400))
        both = pa.concat_tables(
            [
                batch("epoch", shared, rng.permutation(400) / 7),
                batch("val", shared, rng.standard_normal(400)),
            ]
        )
        engines.append(run_id, both)
    # A repeated batch id stores nothing, in both engines.
    again = batch("loss", [10**6], [1.0])
    assert engines.append(RUNS[0], again, batch_id="b0") == {"stored": 0, "duplicate": True}
    out = engines.read(samples=None)
    assert out.num_rows == sum(3000 + 500 * r + 900 + 800 for r in range(3))
    assert set(out["key"].to_pylist()) == {"loss", "acc", "lr/β", "epoch", "val"}
    engines.read(keys=["loss"], samples=None)
    engines.read(run_ids=[RUNS[2], RUNS[0]], keys=["acc", "loss"], samples=None)
    engines.read(samples=None, min_step=2000, max_step=5000)
    engines.read(samples=None, min_step=10**20)
    for samples in (1, 3, 4, 5, 20, 64, 500, 10_000):
        engines.read(samples=samples)
    engines.read(samples=100, min_step=3000)
    engines.read(samples=100, x_axis="timestamp", min_x=1.75e9 + 1500)
    engines.read(samples=None, x_axis="step", min_x=100.5, max_x=4000)
    runtime = engines.read(samples=80, x_axis="runtime")
    assert runtime.num_rows
    engines.read(samples=None, x_axis="metric", x_key="acc")
    engines.read(keys=["loss"], samples=None, x_axis="metric", x_key="acc", min_x=-0.5, max_x=1)
    engines.read(samples=40, x_axis="metric", x_key="acc", min_x=0)
    engines.read(keys=["acc"], samples=40, x_axis="metric", x_key="acc")
    engines.read(keys=["val"], samples=None, x_axis="metric", x_key="epoch", min_x=10, max_x=40)
    by_epoch = engines.read(keys=["val"], samples=30, x_axis="metric", x_key="epoch", min_x=5)
    assert set(by_epoch["key"].to_pylist()) == {"val", "epoch"}
    # The runs a filter picks, in its order.
    engines.read(run_ids=None, keys=["loss"], samples=50)
    engines.read(run_ids=None, filters={"name": {"$in": ["r0", "r2"]}}, order="-name", samples=30)
    engines.read(keys=["nothing"], samples=None)
    # The system stream: its own keys, its own summary column.
    system = batch(["cpu", "gpu.0.mem"] * 50, np.repeat(np.arange(50), 2), rng.random(100))
    engines.append(RUNS[1], system, stream="system")
    assert engines.read(samples=None, stream="system").num_rows == 100
    engines.read(samples=7, stream="system", keys=["cpu"])
    for column in ("summary", "system_metrics"):
        (text,) = engines.emb.db.one(f"SELECT {column} FROM runs WHERE id = ?", [RUNS[1]]).values()
        row = engines.db.one(f"SELECT {column} AS c FROM runs WHERE id = %s", [RUNS[1]])
        assert row["c"] == json.loads(text)
    with pytest.raises(NotFound):
        engines.history.history(WS, PROJECT, ["nope"], samples=None)


def _table(engine_rows: list[dict], columns: list[str]) -> list[tuple]:
    return sorted(
        tuple(
            ("nan" if isinstance(v, float) and math.isnan(v) else v)
            for v in (r[c] for c in columns)
        )
        for r in engine_rows
    )


def test_long_series_tiles_and_summaries_alike(engines):
    rng = np.random.default_rng(11)
    # run 1: a series reaching TILE_FROM over three batches (built, then merged), with NaNs;
    # run 2: one batch of 60k (tiles from the batch); run 3: a short series beside a long one.
    walk = np.cumsum(rng.standard_normal(90_000))
    walk[rng.integers(0, 90_000, 40)] = np.nan
    walk[123] = np.inf
    engines.append(RUNS[0], batch("loss", np.arange(20_000), walk[:20_000]))
    engines.append(RUNS[0], batch("loss", np.arange(20_000, 30_000), walk[20_000:30_000]))
    engines.append(
        RUNS[0], batch("loss", rng.permutation(np.arange(30_000, 90_000)) * 1, walk[30_000:])
    )
    engines.append(RUNS[1], batch("loss", np.arange(0, 120_000, 2), walk[30_000:]))
    engines.append(RUNS[2], batch("loss", np.arange(70_000), walk[:70_000]))
    engines.append(RUNS[2], batch("acc", np.arange(500), rng.standard_normal(500)))
    for samples in (20, 200, 1000, 5000):
        out = engines.read(samples=samples)
        # The long series come from tiles: at most `samples` points each.
        for run_id in RUNS:
            mine = [
                k
                for r, k in zip(out["run_id"].to_pylist(), out["key"].to_pylist(), strict=True)
                if r == run_id and k == "loss"
            ]
            assert 0 < len(mine) <= samples
    engines.read(samples=None, keys=["loss"], run_ids=[RUNS[1]])
    # Bookkeeping: run_keys, tiles and summaries equal row for row.
    emb, pg = engines.emb.db, engines.db
    cols = ["run_pk", "key_id", "n", "first_step", "last_step", "nans"]
    assert _table(pg.all("SELECT * FROM run_keys"), cols) == _table(
        emb.all("SELECT * FROM run_keys"), cols
    )
    tile_cols = ["run_pk", "key_id", "level", *_tiles.FIELDS]
    with pg.transaction() as conn:
        pg_tiles = _table(_tiles.as_rows(_tiles.stored(conn)), tile_cols)
    assert len(pg_tiles) > 1000
    assert pg_tiles == _table(emb.all("SELECT * FROM point_tiles"), tile_cols)
    for run_id in RUNS:
        (text,) = engines.emb.db.one("SELECT summary FROM runs WHERE id = ?", [run_id]).values()
        row = pg.one("SELECT summary FROM runs WHERE id = %s", [run_id])
        assert row["summary"] == json.loads(text)
    fields = ["project_id", "kind", "key", "type"]
    assert _table(pg.all("SELECT * FROM project_fields"), fields) == _table(
        emb.all("SELECT * FROM project_fields"), fields
    )


def at_once(*calls) -> list:
    """Run the calls in threads released together; their answers in order."""
    gate = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(i: int) -> None:
        gate.wait()
        answers[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def test_one_batch_id_through_two_servers_at_once_is_stored_once(engines, pg_database):
    other = Database(pg_database)  # a second server's pool on the same database
    try:
        servers = [
            engines.points,
            Points(other, _Runs(other), Projects(PostgresSql(other), Accounts(PostgresSql(other)))),
        ]
        rng = np.random.default_rng(5)
        for attempt in range(6):
            steps = np.repeat(np.arange(5000), 2) + attempt * 10_000
            points = batch(["loss", "acc"] * 5000, steps, rng.standard_normal(10_000))
            answers = at_once(
                *(
                    functools.partial(
                        s.append_points, WS, PROJECT, RUNS[0], points, batch_id=f"same-{attempt}"
                    )
                    for s in servers
                )
            )
            assert sorted(a["duplicate"] for a in answers) == [False, True]
            assert sorted(a["stored"] for a in answers) == [0, 10_000]
        assert engines.db.one("SELECT sum(n) AS n FROM point_chunks")["n"] == 6 * 10_000
        keys = engines.db.all("SELECT n FROM run_keys ORDER BY key_id")
        assert [k["n"] for k in keys] == [30_000, 30_000]
        assert engines.db.one("SELECT count(*) AS n FROM batches")["n"] == 6
        # Different batches of one run at once are both stored.
        at_once(
            *(
                functools.partial(
                    s.append_points,
                    WS,
                    PROJECT,
                    RUNS[1],
                    batch("loss", np.arange(i, 2000, 2), np.ones(1000)),
                    batch_id=f"x{i}",
                )
                for i, s in enumerate(servers)
            )
        )
        out = engines.history.history(WS, PROJECT, [RUNS[1]], samples=None)
        assert out["step"].to_pylist() == list(range(2000))
    finally:
        other.close()


def test_runs_logging_the_same_new_keys_at_once_through_two_servers(engines, pg_database):
    other = Database(pg_database)
    try:
        servers = [
            engines.points,
            Points(other, _Runs(other), Projects(PostgresSql(other), Accounts(PostgresSql(other)))),
        ]
        names = [f"k{i:03d}" for i in range(200)]
        calls = []
        for i, run_id in enumerate(RUNS):
            # Each run brings the same 200 new keys, in its own order.
            keys = names[i * 67 :] + names[: i * 67]
            table = batch(keys, np.arange(200), np.full(200, float(i)))
            calls.append(
                functools.partial(servers[i % 2].append_points, WS, PROJECT, run_id, table)
            )
        assert [a["stored"] for a in at_once(*calls)] == [200, 200, 200]
        assert engines.db.one("SELECT count(*) AS n FROM metric_keys")["n"] == 200
        out = engines.history.history(WS, PROJECT, list(RUNS), samples=None)
        assert out.num_rows == 600
        assert sorted(set(out["key"].to_pylist())) == names
    finally:
        other.close()


def test_migration_2_packs_the_tiles_of_migration_1_as_they_were(tmp_path, pg_database):
    from lablens.store.postgres.schema import MIGRATIONS

    emb = EmbeddedStore(tmp_path / "data")
    try:
        emb.create_user(WS)
        emb.create_project(WS, PROJECT)
        emb.create_run(WS, PROJECT, {"id": RUNS[0]}, username=WS)
        rng = np.random.default_rng(5)
        walk = np.cumsum(rng.standard_normal(40_000))
        walk[rng.integers(0, 40_000, 30)] = np.nan
        walk[640:704] = np.nan  # one whole level-0 tile
        emb.append_points(WS, PROJECT, RUNS[0], batch("loss", np.arange(40_000), walk))
        emb.append_points(WS, PROJECT, RUNS[0], batch("acc", np.arange(0, 80_000, 2), walk))
        cols = ["run_pk", "key_id", "level", *_tiles.FIELDS]
        rows = emb.db.all(f"SELECT {', '.join(cols)} FROM point_tiles")
    finally:
        emb.close()
    assert len(rows) > 1000 and any(r["nn_step"] is not None for r in rows)
    assert any(r["mn_step"] is None for r in rows)  # an all-NaN tile has no min
    # A database of migration 1 holding those tiles a row each.
    old = Database(pg_database, migrations=MIGRATIONS[:1])
    with old.transaction() as conn, conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO point_tiles ({', '.join(cols)}) VALUES ({', '.join('%s' for _ in cols)})",
            [[r[c] for c in cols] for r in rows],
        )
    old.close()
    db = Database(pg_database)
    try:
        assert db.version == len(MIGRATIONS)
        with db.transaction() as conn:
            packed = _tiles.as_rows(_tiles.stored(conn))
            assert conn.execute("SELECT to_regclass('point_tiles')").fetchone()[0] is None
            sizes = [r[0] for r in conn.execute("SELECT n FROM tile_chunks")]
    finally:
        db.close()
    assert _table(packed, cols) == _table(rows, cols)
    assert max(sizes) == _tiles.TILES_PER_CHUNK and sum(sizes) == len(rows)
