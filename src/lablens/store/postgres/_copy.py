"""Metric points as PostgreSQL's binary ``COPY`` of ``point_chunks`` rows, built with numpy.

A batch of points (``lablens.store.points.conform_points``' table, plus each point's interned
key id) becomes the rows of ``point_chunks`` (``schema.py``): per key, its points in step order
(points of equal steps keep their order in the batch) cut into chunks of at most
``POINTS_PER_CHUNK``, each a row of three arrays. The whole batch is one binary ``COPY`` payload
(:func:`point_chunks_copy`), written with :data:`COPY_SQL` through psycopg's ``cursor.copy()``:
one round trip, and no per-point Python. :data:`SERIES_SQL` reads points back in that order.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lablens.store.postgres.schema import POINTS_PER_CHUNK

__all__ = ["COPY_SQL", "SERIES_SQL", "ChunkStats", "point_chunks_copy"]

#: The statement that takes :func:`point_chunks_copy`'s payload.
COPY_SQL = (
    "COPY point_chunks (run_pk, key_id, first_step, last_step, n, steps, ts, vals)"
    " FROM STDIN (FORMAT BINARY)"
)

#: Every point of the series ``(run_pk = %s, key_id = %s)`` in step order (stored order within
#: a step): the chunks overlapping a step range, unnested. Bind run_pk, key_id, then the step
#: range's low and high ends (``-2**63`` and ``2**63 - 1`` for all of it) twice.
SERIES_SQL = """
SELECT p.step, p.ts, p.value
FROM point_chunks c
CROSS JOIN LATERAL unnest(c.steps, c.ts, c.vals) WITH ORDINALITY AS p(step, ts, value, i)
WHERE c.run_pk = %s AND c.key_id = %s AND c.last_step >= %s AND c.first_step <= %s
  AND p.step BETWEEN %s AND %s
ORDER BY p.step, c.id, p.i
"""

# PostgreSQL's binary COPY: a signature, flags and header extension length; each row a field
# count then (length, bytes) per field; -1 as the last field count ends the data.
_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_TRAILER = struct.pack(">h", -1)
_INT8_OID, _FLOAT8_OID = 20, 701
_ROW_HEAD = struct.Struct(">h" + "iq" + "ii" + "iq" + "iq" + "ii")  # 8 fields, the scalars first


class ChunkStats(NamedTuple):
    """What a payload holds: its rows (chunks) and points."""

    chunks: int
    points: int


def _elements(be: str, values: np.ndarray) -> memoryview:
    """Every value as an array element, ``(length 8, big-endian bytes)``, 12 bytes each: the
    whole batch at once, so a chunk's elements are a slice."""
    body = np.empty(len(values), np.dtype([("len", ">i4"), ("x", be)]))
    body["len"] = 8
    body["x"] = values
    return memoryview(body.view(np.uint8))


def _array(oid: int, elements: memoryview, a: int, b: int) -> list[bytes | memoryview]:
    """The array field of elements ``a:b``: its length, PostgreSQL's binary array header (one
    dimension, no NULLs, lower bound 1), then the elements."""
    n = b - a
    return [struct.pack(">iiiiii", 20 + 12 * n, 1, 0, oid, n, 1), elements[12 * a : 12 * b]]


def _array_with_nulls(values: np.ndarray, nulls: np.ndarray) -> bytes:
    """A float8 array field holding NULLs (-1 and no bytes for each)."""
    item, null = struct.Struct(">id"), struct.pack(">i", -1)
    parts = [struct.pack(">iiiii", 1, 1, _FLOAT8_OID, len(values), 1)]
    parts += [
        null if gap else item.pack(8, x) for x, gap in zip(values.tolist(), nulls, strict=True)
    ]
    data = b"".join(parts)
    return struct.pack(">i", len(data)) + data


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
    # Chunk starts: each key's first point, then every POINTS_PER_CHUNK points within a key.
    key_start = np.flatnonzero(np.r_[True, kid[1:] != kid[:-1]])
    key_end = np.r_[key_start[1:], n]
    starts = np.concatenate(
        [np.arange(a, b, POINTS_PER_CHUNK) for a, b in zip(key_start, key_end, strict=True)]
    )
    ends = np.r_[starts[1:], n]
    steps, times, values = _elements(">i8", step), _elements(">f8", ts), _elements(">f8", value)
    parts: list[bytes | memoryview] = [_HEADER]
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        parts.append(
            _ROW_HEAD.pack(
                8, 8, run_pk, 4, int(kid[a]), 8, int(step[a]), 8, int(step[b - 1]), 4, b - a
            )
        )
        parts += _array(_INT8_OID, steps, a, b)
        parts += _array(_FLOAT8_OID, times, a, b)
        if nulls is not None and nulls[a:b].any():
            parts.append(_array_with_nulls(value[a:b], nulls[a:b]))
        else:
            parts += _array(_FLOAT8_OID, values, a, b)
    parts.append(_TRAILER)
    return b"".join(parts), ChunkStats(len(starts), n)
