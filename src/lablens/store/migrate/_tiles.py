"""Copying the sampling pyramid: the data dir's ``point_tiles`` rows packed into PostgreSQL's
``tile_chunks`` (``postgres/_tiles.py``).

The tiles are the data dir's own, not rebuilt from the points: the same tiles answer the same
sampled reads on both ends. They are read in one pass in (run, key, level, bucket) order, a
bounded batch at a time, and each run's tiles go in one transaction, appended chunk by chunk: a
run with any tile in PostgreSQL has all of them, so a migration run again skips it. The check
hashes each tile in the embedded store's row form (a role a tile lacks is NULL) on both ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np
import psycopg
import pyarrow as pa

from lablens.store.migrate._checksums import RowSum
from lablens.store.migrate._points import copy_by_run
from lablens.store.migrate._tables import Hook
from lablens.store.postgres import _tiles

COLUMNS = ("run_pk", "key_id", "level", *_tiles.FIELDS)
_NO_ROLE = {"step": -1, "ts": float("nan"), "value": float("nan")}


def _select(where: str) -> str:
    return f"SELECT {', '.join(COLUMNS)} FROM point_tiles{where}"


def count_source(source: duckdb.DuckDBPyConnection) -> int:
    """The data dir's tiles."""
    return source.execute("SELECT count(*) FROM point_tiles").fetchall()[0][0]


def count_target(conn: psycopg.Connection[Any]) -> int:
    """PostgreSQL's tiles (the sum of its chunks' lengths)."""
    with conn.transaction():
        return int(conn.execute("SELECT coalesce(sum(n), 0) FROM tile_chunks").fetchone()[0])


def _arrays(piece: pa.RecordBatch) -> dict[str, np.ndarray]:
    """A batch of ``point_tiles`` rows as the packed layout's arrays (NULL roles as -1/NaN)."""
    out = {}
    for name, column in zip(COLUMNS, piece.columns, strict=True):
        role, _, part = name.partition("_")
        fill = _NO_ROLE[part] if part in _NO_ROLE and role in ("mn", "mx", "nn") else None
        out[name] = (column.fill_null(fill) if fill is not None else column).to_numpy()
    return out


def _write_tiles(conn: psycopg.Connection[Any], run_pk: int, piece: pa.RecordBatch) -> int:
    _tiles.append(conn, run_pk, _arrays(piece))
    return piece.num_rows


def copy_tiles(
    source: duckdb.DuckDBPyConnection,
    conn: psycopg.Connection[Any],
    *,
    batch_rows: int,
    progress: Callable[[int], None],
    hook: Hook | None = None,
) -> int:
    """Copy the tiles of every run that has none in PostgreSQL yet; answers how many were new."""
    return copy_by_run(
        source,
        conn,
        table="point_tiles",
        target="tile_chunks",
        select=_select(" WHERE NOT list_contains($done::BIGINT[], run_pk)")
        + " ORDER BY run_pk, key_id, level, bucket",
        write=_write_tiles,
        what="tiles",
        batch_rows=batch_rows,
        progress=progress,
        hook=hook,
    )


def _row_sum() -> RowSum:
    return RowSum([False] * len(COLUMNS), [False] * len(COLUMNS))


def checksum_source(source: duckdb.DuckDBPyConnection, batch_rows: int) -> RowSum:
    """The checksum of the data dir's tiles."""
    total = _row_sum()
    with source.cursor() as cur:
        for batch in cur.sql(_select("")).to_arrow_reader(batch_rows):
            total.add(zip(*(c.to_pylist() for c in batch.columns), strict=True))
    return total


def checksum_target(conn: psycopg.Connection[Any]) -> RowSum:
    """The checksum of PostgreSQL's tiles, unpacked to the data dir's row form, run by run."""
    total = _row_sum()
    with conn.transaction():
        runs = [r[0] for r in conn.execute("SELECT DISTINCT run_pk FROM tile_chunks")]
        for run_pk in runs:
            rows = _tiles.as_rows(_tiles.stored(conn, [run_pk]))
            total.add(tuple(r[c] for c in COLUMNS) for r in rows)
    return total
