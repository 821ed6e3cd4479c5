"""Checksums that are equal when two engines hold the same rows, however each stores them.

A table's checksum is the sum (mod 2**128) of a hash of each row's canonical form, so it does
not depend on the order rows come back in (DuckDB and PostgreSQL scan, and compare text,
differently) and counts a row twice when it is there twice. The canonical form makes equal
what the engines hold equally in different forms: a JSON value whatever its spacing, key order
and number spelling (``jsonb`` rewrites all three), a time whatever its zone object, any NaN.

Metric points are hashed point by point, ``(run, key, step, time, value)``, with numpy, so the
embedded engine's one row per point and PostgreSQL's chunks of arrays are compared exactly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import numpy as np

_MOD128 = 1 << 128
_MOD64 = 1 << 64


def _number(x: Decimal) -> str:
    """A JSON number's canonical spelling: ``1``, ``1.0`` and ``1e0`` are one number."""
    if not x.is_finite():
        return str(x)
    x = x.normalize()
    return "0" if x.is_zero() else format(x, "f") if -30 < x.adjusted() < 30 else str(x)


def _json(value: Any) -> str:
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(json.dumps(k) + ":" + _json(v) for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return _number(value)
    return json.dumps(value)


def canonical_json(text: str | bytes) -> str:
    """JSON text in one spelling: keys sorted, no spaces, numbers normalized."""
    return _json(json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=Decimal))


def _value(value: Any, is_json: bool) -> str:
    """One value's canonical form, tagged with its kind; strings carry their length, so no
    separator inside one can make two rows alike."""
    if value is None:
        return "-"
    if is_json:
        text = canonical_json(value)
        return f"j{len(text)}:{text}"
    if isinstance(value, bool):
        return "b1" if value else "b0"
    if isinstance(value, int):
        return f"i{value}"
    if isinstance(value, float):
        return "fnan" if value != value else f"f{value!r}"
    if isinstance(value, str):
        return f"s{len(value)}:{value}"
    if isinstance(value, dt.datetime):
        return "t" + value.astimezone(dt.UTC).isoformat()
    if isinstance(value, list | tuple):
        return f"l{len(value)}[" + ",".join(_value(v, False) for v in value) + "]"
    if isinstance(value, Decimal):
        return "n" + _number(value)
    return f"r{value!r}"


def row_hash(row: Sequence[Any], json_columns: Sequence[bool]) -> int:
    """A 128-bit hash of one row's canonical form."""
    text = "|".join(_value(v, j) for v, j in zip(row, json_columns, strict=True))
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    return int.from_bytes(digest, "big")


class RowSum:
    """The order-free checksum of a stream of rows: their count and the sum of their hashes."""

    def __init__(self, json_columns: Sequence[bool]) -> None:
        self.json_columns = list(json_columns)
        self.rows = 0
        self.total = 0

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        """Count and hash ``rows``."""
        for row in rows:
            self.total = (self.total + row_hash(row, self.json_columns)) % _MOD128
            self.rows += 1

    @property
    def hex(self) -> str:
        """The checksum as 32 hex digits."""
        return f"{self.total:032x}"


# -- metric points ----------------------------------------------------------------------------

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
#: The bits every NaN is hashed as, whatever its payload; and those of a null value.
_NAN_BITS = np.float64("nan").view(np.uint64)
_NULL_BITS = np.uint64(0xFFF0_0000_D0D0_0001)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, element-wise (uint64 arithmetic wraps)."""
    x = x + _GOLDEN
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


class PointSum:
    """The order-free checksum of metric points ``(run, key, step, time, value)``: their count
    and the sum (mod 2**64) of a 64-bit hash of each."""

    def __init__(self) -> None:
        self.points = 0
        self.total = 0

    def add(
        self,
        run_pk: np.ndarray,
        key_id: np.ndarray,
        step: np.ndarray,
        ts: np.ndarray,
        value: np.ndarray,
        null: np.ndarray | None = None,
    ) -> None:
        """Hash points given as equal-length arrays; ``null`` marks values that are null."""
        if not len(step):
            return
        with np.errstate(over="ignore"):
            bits = np.ascontiguousarray(value, np.float64).view(np.uint64).copy()
            bits[np.isnan(value)] = _NAN_BITS
            if null is not None:
                bits[null] = _NULL_BITS
            h = _mix(np.asarray(run_pk, np.int64).view(np.uint64))
            h = _mix(h ^ np.asarray(key_id, np.int64).view(np.uint64))
            h = _mix(h ^ np.ascontiguousarray(step, np.int64).view(np.uint64))
            h = _mix(h ^ np.ascontiguousarray(ts, np.float64).view(np.uint64))
            h = _mix(h ^ bits)
            self.total = (self.total + int(h.sum(dtype=np.uint64))) % _MOD64
        self.points += len(step)

    @property
    def hex(self) -> str:
        """The checksum as 16 hex digits."""
        return f"{self.total:016x}"
