"""Metric points as PostgreSQL's binary ``COPY`` of ``point_chunks`` rows, built with numpy.

A batch of points (``lablens.store.points.conform_points``' table, plus each point's interned
key id) becomes the rows of ``point_chunks`` (``schema.py``): per key, its points in step order
(points of equal steps keep their order in the batch) cut into chunks of at most
``POINTS_PER_CHUNK``, each a row of raw little-endian ``bytea`` columns (steps, times, values)
and, when some of its values are null, a null bitmap. The whole batch is one binary ``COPY``
payload (:func:`point_chunks_copy`), written with :data:`COPY_SQL` through psycopg's
``cursor.copy()``: one round trip, and no per-point Python. Reading is the reverse, with
``np.frombuffer``: :data:`CHUNK_COLUMNS` selected and fed to :func:`decode_chunks`, or
:func:`read_series` for one series in step order.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lablens.store.postgres.schema import POINTS_PER_CHUNK

__all__ = [
    "CHUNK_COLUMNS",
    "COPY_SQL",
    "SERIES_SQL",
    "ChunkStats",
    "decode_chunks",
    "point_chunks_copy",
    "read_series",
]

#: The statement that takes :func:`point_chunks_copy`'s payload.
COPY_SQL = (
    "COPY point_chunks (run_pk, key_id, first_step, last_step, n, steps, ts, vals, nulls)"
    " FROM STDIN (FORMAT BINARY)"
)

#: The columns :func:`decode_chunks` takes, in its order.
CHUNK_COLUMNS = "n, steps, ts, vals, nulls"

#: The chunks of the series ``(run_pk = %s, key_id = %s)`` that overlap a step range, in the
#: order they were written (:data:`CHUNK_COLUMNS`). Bind run_pk, key_id, then the step range's
#: low and high ends; :func:`read_series` runs it and cuts the points to the range.
SERIES_SQL = (
    f"SELECT {CHUNK_COLUMNS} FROM point_chunks"
    " WHERE run_pk = %s AND key_id = %s AND last_step >= %s AND first_step <= %s ORDER BY id"
)

# PostgreSQL's binary COPY: a signature, flags and header extension length; each row a field
# count then (length, bytes) per field (-1 and no bytes for NULL); -1 as the last field count
# ends the data.
_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_TRAILER = struct.pack(">h", -1)
_ROW_HEAD = struct.Struct(">h" + "iq" + "ii" + "iq" + "iq" + "ii")  # 9 fields, the scalars first
_LENGTH = struct.Struct(">i")
_NULL = _LENGTH.pack(-1)


class ChunkStats(NamedTuple):
    """What a payload holds: its rows (chunks) and points."""

    chunks: int
    points: int


def point_chunks_copy(
    points: pa.Table, key_ids: pa.Array | pa.ChunkedArray, run_pk: int
) -> tuple[bytes, ChunkStats]:
    """The binary ``COPY`` payload of a batch's ``point_chunks`` rows, and what it holds.

    ``points`` has the columns ``step timestamp value`` (as ``conform_points`` leaves them; a
    value may be null), ``key_ids`` each point's key id, ``run_pk`` the run. Points of one key
    go in step order, stable, cut into chunks of at most ``POINTS_PER_CHUNK``.
    """
    n = points.num_rows
    if not n:
        return _HEADER + _TRAILER, ChunkStats(0, 0)
    keys = pa.chunked_array([key_ids]) if isinstance(key_ids, pa.Array) else key_ids
    order = pc.sort_indices(
        pa.table({"k": keys, "s": points["step"]}),
        sort_keys=[("k", "ascending"), ("s", "ascending")],
    )
    kid = pc.take(keys, order).to_numpy().astype(np.int64)
    step = pc.take(points["step"], order).to_numpy()
    ts = pc.take(points["timestamp"], order).to_numpy()
    value_col = pc.take(points["value"], order)
    nulls = value_col.is_null().to_numpy(zero_copy_only=False) if value_col.null_count else None
    value = value_col.fill_null(0.0).to_numpy()
    return chunks_payload(run_pk, kid, step, ts, value, nulls)


def chunks_payload(
    run_pk: int,
    kid: np.ndarray,
    step: np.ndarray,
    ts: np.ndarray,
    value: np.ndarray,
    nulls: np.ndarray | None,
) -> tuple[bytes, ChunkStats]:
    """The binary ``COPY`` payload of points already ordered by key, then step (stable):
    equal-length arrays of key ids, steps, times and values (any value where ``nulls`` is set:
    0.0 is stored there), ``nulls`` ``None`` when no value is null."""
    n = len(step)
    if not n:
        return _HEADER + _TRAILER, ChunkStats(0, 0)
    step = np.ascontiguousarray(step, "<i8")
    ts = np.ascontiguousarray(ts, "<f8")
    value = np.ascontiguousarray(value, "<f8")
    if nulls is not None:
        value = np.where(nulls, 0.0, value).astype("<f8")
    # Chunk starts: each key's first point, then every POINTS_PER_CHUNK points within a key.
    key_start = np.flatnonzero(np.r_[True, kid[1:] != kid[:-1]])
    key_end = np.r_[key_start[1:], n]
    starts = np.concatenate(
        [np.arange(a, b, POINTS_PER_CHUNK) for a, b in zip(key_start, key_end, strict=True)]
    )
    ends = np.r_[starts[1:], n]
    steps, times, values = (memoryview(a.view(np.uint8)) for a in (step, ts, value))
    parts: list[bytes | memoryview] = [_HEADER]
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        size = _LENGTH.pack(8 * (b - a))
        parts += [
            _ROW_HEAD.pack(
                9, 8, run_pk, 4, int(kid[a]), 8, int(step[a]), 8, int(step[b - 1]), 4, b - a
            ),
            size,
            steps[8 * a : 8 * b],
            size,
            times[8 * a : 8 * b],
            size,
            values[8 * a : 8 * b],
        ]
        if nulls is not None and nulls[a:b].any():
            # Bit i of the bitmap (least significant first, as get_bit numbers them) is point i.
            bitmap = np.packbits(nulls[a:b], bitorder="little").tobytes()
            parts += [_LENGTH.pack(len(bitmap)), bitmap]
        else:
            parts.append(_NULL)
    parts.append(_TRAILER)
    return b"".join(parts), ChunkStats(len(starts), n)


def decode_chunks(
    rows: Iterable[tuple[int, Any, Any, Any, Any]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The points of ``point_chunks`` rows (:data:`CHUNK_COLUMNS`: n, steps, ts, vals, nulls,
    the ``bytea`` columns as bytes), concatenated in the rows' order: steps (int64), times and
    values (float64; 0.0 where null), and whether each value is null."""
    sizes: list[int] = []
    steps: list[Any] = []
    times: list[Any] = []
    values: list[Any] = []
    bitmaps: list[tuple[int, Any]] = []  # (the chunk's index, its bitmap), chunks with nulls
    for i, (n, s, t, v, nb) in enumerate(rows):
        sizes.append(n)
        steps.append(s)
        times.append(t)
        values.append(v)
        if nb is not None:
            bitmaps.append((i, nb))
    null = np.zeros(sum(sizes), bool)
    if bitmaps:
        offsets = np.r_[0, np.cumsum(sizes)]
        for i, nb in bitmaps:
            bits = np.unpackbits(np.frombuffer(nb, np.uint8), count=sizes[i], bitorder="little")
            null[offsets[i] : offsets[i + 1]] = bits.view(bool)
    return (
        np.frombuffer(b"".join(steps), "<i8").astype(np.int64),
        np.frombuffer(b"".join(times), "<f8").astype(np.float64),
        np.frombuffer(b"".join(values), "<f8").astype(np.float64),
        null,
    )


def read_series(
    conn: Any, run_pk: int, key_id: int, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every point of one series with a step in ``[lo, hi]``, in step order (stored order
    within a step): steps, times, values and null flags as :func:`decode_chunks` gives them.
    ``conn`` is a psycopg connection."""
    with conn.cursor(binary=True) as cur:
        cur.execute(SERIES_SQL, [run_pk, key_id, lo, hi])
        step, ts, value, null = decode_chunks(cur)
    # Chunks are each in step order and come in the order written: a stable sort by step
    # merges them as the points were logged.
    keep = np.flatnonzero((step >= lo) & (step <= hi))
    keep = keep[np.argsort(step[keep], kind="stable")]
    return step[keep], ts[keep], value[keep], null[keep]
