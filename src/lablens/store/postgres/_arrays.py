"""numpy arrays in and out of PostgreSQL's binary array format, for bulk parameters and reads.

Reading ``bigint[]`` and ``double precision[]`` results through psycopg's default loaders
makes a Python object per element (``point_chunks`` holds ``bytea``, decoded by ``_copy``);
:func:`numpy_cursor` gives a cursor whose loaders turn each array into one numpy array instead,
straight from the binary wire format. :class:`Int8s` and :class:`Float8s` wrap numpy arrays
passed as query parameters (``unnest(%s, %s, ...)``), dumped the same way: a whole column of
thousands of tiles or keys in one parameter, without a Python object per element.

An array holding NULLs (a point's value may be NULL) loads as a ``numpy.ma.MaskedArray``; the
elements are then walked one by one, which only such (rare) arrays pay.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import psycopg
from psycopg.adapt import Buffer, Dumper, Loader
from psycopg.pq import Format

__all__ = ["Float8s", "Int8s", "numpy_cursor", "with_arrays"]

_INT8_OID, _FLOAT8_OID = 20, 701
_INT8_ARRAY_OID, _FLOAT8_ARRAY_OID = 1016, 1022
_HEAD = struct.Struct(">iii")
_DIM = struct.Struct(">ii")


def _decode(data: Buffer, dtype: str) -> np.ndarray:
    """One binary array (one dimension, 8-byte elements) as a native numpy array."""
    ndim, has_null, _oid = _HEAD.unpack_from(data, 0)
    native = np.dtype(dtype).newbyteorder("=")
    if ndim == 0:
        return np.empty(0, native)
    (n, _lower) = _DIM.unpack_from(data, 12)
    if not has_null:
        body = np.frombuffer(data, np.dtype([("len", ">i4"), ("x", dtype)]), count=n, offset=20)
        return body["x"].astype(native)
    values = np.zeros(n, native)
    mask = np.zeros(n, bool)
    view = memoryview(data)
    pos = 20
    for i in range(n):
        (length,) = struct.unpack_from(">i", view, pos)
        pos += 4
        if length < 0:
            mask[i] = True
        else:
            values[i] = np.frombuffer(view[pos : pos + 8], dtype)[0]
            pos += length
    return np.ma.MaskedArray(values, mask)


class _Int8ArrayLoader(Loader):
    format = Format.BINARY

    def load(self, data: Buffer) -> np.ndarray:
        return _decode(data, ">i8")


class _Float8ArrayLoader(Loader):
    format = Format.BINARY

    def load(self, data: Buffer) -> np.ndarray:
        return _decode(data, ">f8")


def numpy_cursor(conn: psycopg.Connection[Any]) -> psycopg.Cursor[Any]:
    """A binary cursor of ``conn`` whose ``bigint[]`` and ``double precision[]`` results load
    as numpy arrays (the connection's other cursors are unchanged)."""
    cur = with_arrays(conn).cursor(binary=True)
    cur.adapters.register_loader(_INT8_ARRAY_OID, _Int8ArrayLoader)
    cur.adapters.register_loader(_FLOAT8_ARRAY_OID, _Float8ArrayLoader)
    return cur


def _encode(values: np.ndarray, dtype: str, oid: int) -> bytes:
    n = len(values)
    body = np.empty(n, np.dtype([("len", ">i4"), ("x", dtype)]))
    body["len"] = 8
    body["x"] = values
    return struct.pack(">iiiii", 1, 0, oid, n, 1) + body.tobytes()


class Int8s:
    """A numpy array passed as a ``bigint[]`` parameter (no NULLs)."""

    __slots__ = ("values",)

    def __init__(self, values: Any) -> None:
        self.values = np.asarray(values, np.int64)


class Float8s:
    """A numpy array passed as a ``double precision[]`` parameter (no NULLs; NaN is a value)."""

    __slots__ = ("values",)

    def __init__(self, values: Any) -> None:
        self.values = np.asarray(values, np.float64)


class _Int8sDumper(Dumper):
    format = Format.BINARY
    oid = _INT8_ARRAY_OID

    def dump(self, obj: Int8s) -> bytes:
        return _encode(obj.values, ">i8", _INT8_OID)


class _Float8sDumper(Dumper):
    format = Format.BINARY
    oid = _FLOAT8_ARRAY_OID

    def dump(self, obj: Float8s) -> bytes:
        return _encode(obj.values, ">f8", _FLOAT8_OID)


def with_arrays(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """``conn``, able to take :class:`Int8s` and :class:`Float8s` parameters.

    Registered on the connection, not only process-wide: a connection copies the global
    adapters when it opens, so one a pool opened before this module was imported would lack
    them. (The wrapper types exist only for this, so no other value is dumped differently.)
    """
    conn.adapters.register_dumper(Int8s, _Int8sDumper)
    conn.adapters.register_dumper(Float8s, _Float8sDumper)
    return conn


psycopg.adapters.register_dumper(Int8s, _Int8sDumper)
psycopg.adapters.register_dumper(Float8s, _Float8sDumper)
