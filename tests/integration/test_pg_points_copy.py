"""Metric points written to a real PostgreSQL as ``point_chunks`` rows with binary COPY, and read
back exactly: every step, time and value (NaN, infinities, -0.0 and nulls included), in order."""

from __future__ import annotations

import math
import struct

import numpy as np
import pyarrow as pa
import pytest

from lablens.store.points import MAX_STEP, conform_points
from lablens.store.postgres._copy import COPY_SQL, point_chunks_copy, read_series
from lablens.store.postgres._db import Database
from lablens.store.postgres.schema import POINTS_PER_CHUNK

ALL_STEPS = (-(2**63), 2**63 - 1)


@pytest.fixture
def db(pg_database):
    database = Database(pg_database)
    yield database
    database.close()


def write(db: Database, points: pa.Table, key_ids: list[int], run_pk: int = 1) -> int:
    payload, stats = point_chunks_copy(
        conform_points(points), pa.array(key_ids, pa.int32()), run_pk
    )
    with db.transaction() as conn, conn.cursor().copy(COPY_SQL) as copy:
        copy.write(payload)
    return stats.chunks


def series(db: Database, key_id: int, lo: int, hi: int, run_pk: int = 1) -> list[tuple]:
    """The series' points as (step, time, value or None) tuples, in step order."""
    with db.transaction() as conn:
        step, ts, value, null = read_series(conn, run_pk, key_id, lo, hi)
    return [
        (s, t, None if gap else v)
        for s, t, v, gap in zip(step.tolist(), ts.tolist(), value.tolist(), null, strict=True)
    ]


def bits(x: float | None) -> bytes | None:
    """A float as its bytes, so NaN equals NaN and -0.0 differs from 0.0."""
    return None if x is None else struct.pack(">d", x)


def same(rows: list[tuple], expected: list[tuple]) -> bool:
    return [(s, bits(t), bits(v)) for s, t, v in rows] == [
        (s, bits(t), bits(v)) for s, t, v in expected
    ]


def batch(rows: list[tuple[str, int, float, float | None]]) -> pa.Table:
    key, step, ts, value = zip(*rows, strict=True)
    return pa.table(
        {
            "key": pa.array(key, pa.string()),
            "step": pa.array(step, pa.int64()),
            "timestamp": pa.array(ts, pa.float64()),
            "value": pa.array(value, pa.float64()),
        }
    )


def test_points_come_back_exactly_in_step_order(db):
    rng = np.random.default_rng(3)
    special = [math.nan, math.inf, -math.inf, -0.0, 0.0, None, 5e-324, 1.7976931348623157e308]
    rows = []
    for i in range(2 * POINTS_PER_CHUNK + 500):
        value = special[i % len(special)] if i % 7 == 0 else float(rng.standard_normal())
        # Steps out of order, repeated, and at both ends of the range.
        step = int(rng.integers(0, 1000)) if i % 3 else i
        rows.append(("loss", step, 1.7e9 + i * 0.25, value))
    rows += [("loss", 0, 1.0, 1.5), ("loss", MAX_STEP, 2.0, 2.5), ("acc", 5, 3.0, None)]
    rng.shuffle(rows)
    ids = {"loss": 7, "acc": 9}
    chunks = write(db, batch(rows), [ids[r[0]] for r in rows])
    assert chunks == 3 + 1  # loss: 2 full chunks and a part, acc: one
    for key, kid in ids.items():
        mine = [(s, t, v) for k, s, t, v in rows if k == key]
        expected = sorted(mine, key=lambda r: r[0])  # stable: equal steps keep batch order
        assert same(series(db, kid, *ALL_STEPS), expected), key


def test_a_step_range_reads_exactly_the_points_in_it(db):
    rows = [("m", s, float(s), float(s) * 2) for s in range(0, 10_000, 3)]
    write(db, batch(rows), [1] * len(rows))
    got = series(db, 1, 1000, 1999)
    assert same(got, [(s, t, v) for _, s, t, v in rows if 1000 <= s <= 1999])
    assert series(db, 1, 20_000, 30_000) == []
    assert series(db, 2, *ALL_STEPS) == []  # another key
    assert series(db, 1, *ALL_STEPS, run_pk=2) == []  # another run


def test_chunks_hold_their_first_and_last_steps_and_counts(db):
    n = 3 * POINTS_PER_CHUNK + 1
    rows = [("k", s, 0.0, 1.0) for s in range(n)]
    assert write(db, batch(rows), [4] * n, run_pk=3) == 4
    got = db.all(
        "SELECT first_step, last_step, n, length(steps) / 8 AS a, length(vals) / 8 AS b,"
        " nulls IS NULL AS no_nulls"
        " FROM point_chunks WHERE run_pk = 3 ORDER BY first_step"
    )
    size = POINTS_PER_CHUNK
    assert [(r["first_step"], r["last_step"], r["n"]) for r in got] == [
        (0, size - 1, size),
        (size, 2 * size - 1, size),
        (2 * size, 3 * size - 1, size),
        (3 * size, 3 * size, 1),
    ]
    assert all(r["a"] == r["b"] == r["n"] and r["no_nulls"] for r in got)


def test_chunks_are_raw_little_endian_bytes_with_a_null_bitmap(db):
    rows = [
        ("k", s, 0.5 * s, None if s in (1, 9) else -0.0 if s == 2 else math.nan) for s in range(10)
    ]
    write(db, batch(rows), [1] * len(rows))
    row = db.one("SELECT steps, ts, vals, nulls FROM point_chunks")
    assert bytes(row["steps"]) == np.arange(10, dtype="<i8").tobytes()
    assert bytes(row["ts"]) == (0.5 * np.arange(10)).astype("<f8").tobytes()
    vals = np.frombuffer(bytes(row["vals"]), "<f8")
    assert [bits(float(x)) for x in vals[[1, 2, 9]]] == [bits(0.0), bits(-0.0), bits(0.0)]
    assert np.isnan(vals[[0, 3, 4, 5, 6, 7, 8]]).all()
    # Bits 1 and 9 set, least significant first: what PostgreSQL's get_bit reads too.
    assert bytes(row["nulls"]) == bytes([0b10, 0b10])
    got = db.all(
        "SELECT i FROM point_chunks, generate_series(0, n - 1) i WHERE get_bit(nulls, i) = 1"
    )
    assert [r["i"] for r in got] == [1, 9]


def test_later_batches_add_chunks_and_reads_merge_them_by_step(db):
    write(db, batch([("k", s, 1.0, 1.0) for s in (10, 20, 30)]), [1] * 3)
    write(db, batch([("k", s, 2.0, 2.0) for s in (5, 20, 40)]), [1] * 3)  # a backfill
    got = series(db, 1, *ALL_STEPS)
    assert got == [(5, 2.0, 2.0), (10, 1.0, 1.0), (20, 1.0, 1.0), (20, 2.0, 2.0),
                   (30, 1.0, 1.0), (40, 2.0, 2.0)]  # fmt: skip


def test_an_empty_batch_writes_nothing(db):
    empty = conform_points(batch([("k", 0, 0.0, 0.0)]).slice(0, 0))
    payload, stats = point_chunks_copy(empty, pa.array([], pa.int32()), 1)
    assert stats == (0, 0)
    with db.transaction() as conn, conn.cursor().copy(COPY_SQL) as copy:
        copy.write(payload)
    assert db.one("SELECT count(*) AS n FROM point_chunks") == {"n": 0}


def test_a_million_points_in_one_copy(db):
    n, keys = 1_000_000, 10
    step = np.tile(np.arange(n // keys, dtype=np.int64), keys)
    points = pa.table(
        {
            "key": pa.array(np.repeat([f"k{i}" for i in range(keys)], n // keys)),
            "step": step,
            "timestamp": 1.7e9 + step * 0.01,
            "value": np.random.default_rng(0).standard_normal(n),
        }
    )
    key_ids = np.repeat(np.arange(keys, dtype=np.int32), n // keys)
    write(db, points, key_ids.tolist())
    row = db.one("SELECT sum(n) AS n, count(*) AS chunks FROM point_chunks")
    assert row["n"] == n
    assert row["chunks"] == keys * math.ceil(n // keys / POINTS_PER_CHUNK)
    got = series(db, 3, 50_000, 50_009)
    base = 3 * (n // keys) + 50_000
    assert [r[0] for r in got] == list(range(50_000, 50_010))
    assert [r[2] for r in got] == points["value"].to_pylist()[base : base + 10]
