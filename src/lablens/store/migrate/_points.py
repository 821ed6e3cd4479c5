"""Copying metric points: the data dir's ``points`` rows into PostgreSQL's ``point_chunks``.

The points are read in one pass in series order (run, key, step; points of one step in the
order they were stored) through Arrow, a bounded batch at a time, and written with the
PostgreSQL engine's own binary ``COPY`` (``postgres._copy.point_chunks_copy``), so the chunks
are the ones that engine writes. A run's points go in one transaction: a run with any chunk in
PostgreSQL has all of them, so a migration run again skips those runs and copies the others.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import numpy as np
import psycopg
import pyarrow as pa

from lablens.store.migrate._checksums import PointSum
from lablens.store.migrate._ends import MigrationRefused
from lablens.store.migrate._tables import Hook
from lablens.store.postgres._copy import (
    CHUNK_COLUMNS,
    COPY_SQL,
    decode_chunks,
    point_chunks_copy,
)

_ORDERED = (
    "SELECT p.run_pk, p.key_id, p.step, p.ts, p.value FROM points p"
    " WHERE NOT list_contains($done::BIGINT[], p.run_pk)"
    " ORDER BY p.run_pk, p.key_id, p.step, p.rowid"
)


def count_source(source: duckdb.DuckDBPyConnection) -> int:
    """The data dir's metric points."""
    return source.execute("SELECT count(*) FROM points").fetchall()[0][0]


def count_target(conn: psycopg.Connection[Any]) -> int:
    """PostgreSQL's metric points (the sum of its chunks' lengths)."""
    with conn.transaction():
        return int(conn.execute("SELECT coalesce(sum(n), 0) FROM point_chunks").fetchone()[0])


def pieces_by_run(reader: pa.RecordBatchReader) -> Iterator[tuple[int, pa.RecordBatch]]:
    """Each batch cut where the run changes: ``(run_pk, its slice)``."""
    for batch in reader:
        runs = batch.column(0).to_numpy()
        cuts = np.flatnonzero(runs[1:] != runs[:-1]) + 1
        for a, b in itertools.pairwise([0, *cuts.tolist(), len(runs)]):
            yield int(runs[a]), batch.slice(a, b - a)


def copy_by_run(
    source: duckdb.DuckDBPyConnection,
    conn: psycopg.Connection[Any],
    *,
    table: str,
    target: str,
    select: str,
    write: Callable[[psycopg.Connection[Any], int, pa.RecordBatch], int],
    what: str,
    batch_rows: int,
    progress: Callable[[int], None],
    hook: Hook | None,
) -> int:
    """Copy the data dir's rows of ``table`` for every run with none in PostgreSQL's
    ``target`` yet, a run per transaction; answers how many were new.

    ``select`` reads them in run order (``run_pk`` first) from the runs not in ``$done``;
    ``write(conn, run_pk, piece)`` writes a bounded piece of one run and answers its rows. A
    run with any row in ``target`` has all of them, so a migration run again skips it.
    """
    with conn.transaction():
        done = [r[0] for r in conn.execute(f"SELECT DISTINCT run_pk FROM {target}")]
    if done:
        skipped = source.execute(
            f"SELECT count(*) FROM {table} WHERE list_contains(?::BIGINT[], run_pk)", [done]
        ).fetchall()[0][0]
        progress(skipped)
    new = 0
    run_pk = None
    try:
        # A cursor of its own: DuckDB runs nothing else on a connection while a result streams.
        with source.cursor() as cur:
            reader = cur.sql(select, params={"done": done}).to_arrow_reader(batch_rows)
            for run_pk, pieces in itertools.groupby(pieces_by_run(reader), key=lambda p: p[0]):
                with conn.transaction():
                    for _, piece in pieces:
                        rows = write(conn, run_pk, piece)
                        new += rows
                        progress(rows)
                if hook:
                    hook(table, new)
    except psycopg.Error as exc:
        raise MigrationRefused(
            f"copying the {what} of run pk {run_pk} into PostgreSQL failed (the runs"
            f" committed before stay; run the migration again to go on):"
            f" {' '.join(str(exc).split())}"
        ) from exc
    return new


def _write_points(conn: psycopg.Connection[Any], run_pk: int, piece: pa.RecordBatch) -> int:
    points = pa.table(
        {"step": piece.column(2), "timestamp": piece.column(3), "value": piece.column(4)}
    )
    payload, stats = point_chunks_copy(points, piece.column(1), run_pk)
    with conn.cursor() as cur, cur.copy(COPY_SQL) as copy:
        copy.write(payload)
    return stats.points


def copy_points(
    source: duckdb.DuckDBPyConnection,
    conn: psycopg.Connection[Any],
    *,
    batch_rows: int,
    progress: Callable[[int], None],
    hook: Hook | None = None,
) -> int:
    """Copy the points of every run not in PostgreSQL yet; answers how many were new."""
    return copy_by_run(
        source,
        conn,
        table="points",
        target="point_chunks",
        select=_ORDERED,
        write=_write_points,
        what="metric points",
        batch_rows=batch_rows,
        progress=progress,
        hook=hook,
    )


def checksum_source(source: duckdb.DuckDBPyConnection, batch_rows: int) -> PointSum:
    """The checksum of the data dir's points."""
    total = PointSum()
    with source.cursor() as cur:
        reader = cur.sql("SELECT run_pk, key_id, step, ts, value FROM points").to_arrow_reader(
            batch_rows
        )
        _sum_batches(reader, total)
    return total


def _sum_batches(reader: pa.RecordBatchReader, total: PointSum) -> None:
    for batch in reader:
        value = batch.column(4)
        null = value.is_null().to_numpy(zero_copy_only=False) if value.null_count else None
        total.add(
            batch.column(0).to_numpy(),
            batch.column(1).to_numpy(),
            batch.column(2).to_numpy(),
            batch.column(3).to_numpy(),
            value.fill_null(0.0).to_numpy(),
            null,
        )


def checksum_target(conn: psycopg.Connection[Any], batch_chunks: int = 256) -> PointSum:
    """The checksum of PostgreSQL's points, chunk by chunk, point by point (the chunks decoded
    as the PostgreSQL engine decodes them: no Python object per point)."""
    total = PointSum()
    with (
        conn.transaction(),
        conn.cursor(name="lablens_migrate_points", binary=True) as cur,
    ):
        cur.itersize = batch_chunks
        cur.execute(f"SELECT run_pk, key_id, {CHUNK_COLUMNS} FROM point_chunks")
        while rows := cur.fetchmany(batch_chunks):
            step, ts, value, null = decode_chunks(r[2:] for r in rows)
            sizes = [r[2] for r in rows]
            total.add(
                np.repeat(np.array([r[0] for r in rows], np.int64), sizes),
                np.repeat(np.array([r[1] for r in rows], np.int64), sizes),
                step,
                ts,
                value,
                null if null.any() else None,
            )
    return total
