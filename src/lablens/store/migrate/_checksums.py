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


def row_text(row: Sequence[Any], json_at: Sequence[int], time_at: Sequence[int]) -> str:
    """One row's canonical form: JSON values (at ``json_at``) in one spelling, times (at
    ``time_at``) in UTC ISO form, then the ``repr`` of the whole row, which tells every other
    value's type and content apart (a NaN is ``nan`` on both ends)."""
    values = list(row)
    for i in json_at:
        if values[i] is not None:
            values[i] = ("json", canonical_json(values[i]))
    for i in time_at:
        if values[i] is not None:
            values[i] = values[i].astimezone(dt.UTC).isoformat()
    return repr(values)


class RowSum:
    """The order-free checksum of a stream of rows: their count and the sum of their hashes.

    ``json_columns`` and ``time_columns`` flag, column by column, the JSON values and the times.
    """

    def __init__(self, json_columns: Sequence[bool], time_columns: Sequence[bool]) -> None:
        self.json_at = [i for i, flag in enumerate(json_columns) if flag]
        self.time_at = [i for i, flag in enumerate(time_columns) if flag]
        self.rows = 0
        self.total = 0

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        """Count and hash ``rows``."""
        blake2b, json_at, time_at = hashlib.blake2b, self.json_at, self.time_at
        total = self.total
        for row in rows:
            text = row_text(row, json_at, time_at).encode("utf-8", "surrogatepass")
            total += int.from_bytes(blake2b(text, digest_size=16).digest(), "big")
            self.rows += 1
        self.total = total % _MOD128

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
