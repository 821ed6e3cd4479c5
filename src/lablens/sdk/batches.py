"""Logged points as they travel: column lists filled by ``run.log()``, built into Arrow batches.

A batch is an Arrow table ``key: string, step: int64, timestamp: float64, value: float64``
(``SCHEMA``), sent as a compressed Arrow IPC stream; the same bytes go into the run's log, so
``lablens sync`` sends exactly what the sender would have. ``Item`` is one request waiting to
be sent (a batch, an update or console lines) with the id that makes sending it again safe.
"""

from __future__ import annotations

# pyarrow imports pandas on its first conversion, and pandas imports concurrent.futures.thread,
# which cannot be imported once the interpreter is shutting down, when an atexit finish() may
# build the first batch. Imported here, it is already there then.
import concurrent.futures.thread  # noqa: F401
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.ipc

__all__ = ["SCHEMA", "Columns", "Item", "build_table", "encode_batch"]

SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("step", pa.int64()),
        ("timestamp", pa.float64()),
        ("value", pa.float64()),
    ]
)


class Columns:
    """Points of one stream waiting to be built into batches: one entry per ``log()`` call for
    ``steps``/``times``/``counts``, one per point for ``keys``/``values``."""

    __slots__ = ("keys", "values", "steps", "times", "counts", "points")

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.values: list[Any] = []
        self.steps: list[int] = []
        self.times: list[float] = []
        self.counts: list[int] = []
        self.points = 0

    def add(self, data: dict[str, Any], step: int, ts: float) -> int:
        """Queue the points of one ``log()`` call (the caller holds the sender's lock);
        return how many there were."""
        n = len(data)
        self.keys.extend(data)
        self.values.extend(data.values())
        self.steps.append(step)
        self.times.append(ts)
        self.counts.append(n)
        self.points += n
        return n


@dataclass
class Item:
    """One request waiting to be sent, with the id that makes sending it again safe.

    ``kind`` is ``"points"`` (``body`` the Arrow IPC stream of ``points`` points of ``stream``),
    ``"patch"`` (``json`` the update), ``"console"`` (``json`` the lines) or ``"media"``
    (``json`` the items and the table of contents of ``body``, their blobs; ``media_upload.py``).
    """

    kind: str
    id: str
    stream: str = "default"
    body: bytes = b""
    points: int = 0
    json: Any = None
    #: bytes the media of a ``"media"`` record held (they count against the buffer like points).
    media: int = 0


def _safe_float(value: Any) -> float:
    try:
        return float(value)
    except OverflowError:  # an int beyond float64: keep its sign
        return math.inf if value > 0 else -math.inf


def build_table(cols: Columns) -> pa.Table:
    """The Arrow table of the points in ``cols``."""
    counts = np.array(cols.counts, dtype=np.int64)
    steps = np.repeat(np.array(cols.steps, dtype=np.int64), counts)
    times = np.repeat(np.array(cols.times, dtype=np.float64), counts)
    try:
        values = np.array(cols.values, dtype=np.float64)
    except (OverflowError, TypeError, ValueError):
        values = np.array([_safe_float(v) for v in cols.values], dtype=np.float64)
    keys = pa.array(cols.keys, type=pa.string())
    return pa.Table.from_arrays(
        [keys, pa.array(steps), pa.array(times), pa.array(values)], schema=SCHEMA
    )


# zstd shrinks a batch about 9-fold (to ~4.5 bytes a point) for ~15 ms per 200,000 points: less
# to write to the run's log, and to send. Any Arrow reader reads it as it is.
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd" if pa.Codec.is_available("zstd") else None)


def encode_batch(table: pa.Table) -> bytes:
    """A batch's request body: the Arrow IPC stream of ``table``, compressed."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=_IPC_OPTIONS) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()
