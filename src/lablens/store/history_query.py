"""A history query as every engine reads it: its arguments checked, and the answer's schema.

An engine answers ``Store.history`` with a table of :data:`HISTORY_SCHEMA` whose metadata
:func:`with_runs` fills; before it reads anything, :func:`check_history_query` checks the
arguments (naming the bad one) and brings the step range into int64.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pyarrow as pa

from lablens.contract.names import WIRE_X_AXES
from lablens.store.errors import InvalidInput, LimitExceeded
from lablens.store.points import MAX_SAMPLES, check_stream
from lablens.store.sampling import check_samples

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# What min_x/max_x measure: the step, the point's time, seconds since its run started, or the
# value of the metric x_key (the steps where it lies in the range are kept, for every key).
HISTORY_SCHEMA = pa.schema(
    [
        ("run_id", pa.dictionary(pa.int32(), pa.string())),
        ("key", pa.dictionary(pa.int32(), pa.string())),
        ("step", pa.int64()),
        ("timestamp", pa.float64()),
        ("value", pa.float64()),
    ]
)


def with_runs(schema: pa.Schema, rows: list[dict[str, Any]]) -> pa.Schema:
    """``schema`` with the runs' start times and names in its metadata.

    When each run started (seconds since the epoch, for W&B's _runtime) and its display name
    (for legends) go in the metadata: as columns they would add bytes to every point.
    """
    started = {r["id"]: float(r["started"]) for r in rows}
    names = {r["id"]: r["name"] for r in rows}
    return schema.with_metadata(
        {b"started": json.dumps(started).encode(), b"names": json.dumps(names).encode()}
    )


def check_x_range(x_axis: str, x_key: str | None, min_x: float | None, max_x: float | None) -> None:
    """Check a history query's x axis and range, naming the bad field."""
    if x_axis not in WIRE_X_AXES:
        raise InvalidInput(
            f"x_axis must be one of {', '.join(WIRE_X_AXES)}, not {x_axis!r}", field="x_axis"
        )
    if x_axis == "metric":
        if not isinstance(x_key, str) or not x_key:
            raise InvalidInput(
                "x_axis 'metric' needs x_key, the metric whose value is the x axis", field="x_key"
            )
    elif x_key is not None:
        raise InvalidInput(f"x_key goes with x_axis 'metric' only, not {x_axis!r}", field="x_key")
    for name, value in (("min_x", min_x), ("max_x", max_x)):
        if value is not None and not math.isfinite(value):
            raise InvalidInput(f"{name} must be a finite number, not {value}", field=name)
    if min_x is not None and max_x is not None and min_x > max_x:
        raise InvalidInput(f"min_x ({min_x}) is above max_x ({max_x})", field="min_x")


def check_history_query(
    *,
    stream: str,
    samples: int | None,
    min_step: int | None,
    max_step: int | None,
    x_axis: str,
    x_key: str | None,
    min_x: float | None,
    max_x: float | None,
) -> tuple[int | None, int | None, bool]:
    """Check a history query's arguments, naming the bad one; returns the step range brought
    into int64 and whether it holds no step at all (a bound past int64 keeps every step or
    none)."""
    check_stream(stream)
    check_x_range(x_axis, x_key, min_x, max_x)
    check_samples(samples)
    if samples is not None and samples > MAX_SAMPLES:
        raise LimitExceeded(
            f"samples is at most {MAX_SAMPLES:,}; leave it out for every point",
            field="samples",
            limit=MAX_SAMPLES,
        )
    for name, value in (("min_step", min_step), ("max_step", max_step)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidInput(f"{name} must be an integer", field=name)
    empty = (min_step is not None and min_step > _INT64_MAX) or (
        max_step is not None and max_step < _INT64_MIN
    )
    if min_step is not None:
        min_step = max(min_step, _INT64_MIN)
    if max_step is not None:
        max_step = min(max_step, _INT64_MAX)
    return min_step, max_step, empty
