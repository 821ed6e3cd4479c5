"""Metric points as every engine takes them: the batch schema, its checks, the step range."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyarrow as pa
import pyarrow.compute as pc

from lablens.contract.names import POINT_STREAMS
from lablens.store import _json
from lablens.store.errors import InvalidInput, LimitExceeded
from lablens.store.limits import LIMITS

__all__ = [
    "MAX_SAMPLES",
    "MAX_STEP",
    "POINT_SCHEMA",
    "check_keys_per_run",
    "check_stream",
    "conform_points",
    "widened_summary_types",
]

# The largest step: every client reads steps as doubles (JSON, the widgets' charts), and past
# 2**53 a double cannot tell a step from its neighbour.
MAX_STEP = 2**53 - 1
# The most points per series a history query may ask to sample to; more is every point (leave
# ``samples`` out), and the tile plan's integer arithmetic stays far from int64.
MAX_SAMPLES = 1_000_000
POINT_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("step", pa.int64()),
        ("timestamp", pa.float64()),
        ("value", pa.float64()),
    ]
)


def check_stream(stream: str) -> None:
    """Refuse a point stream other than ``default`` and ``system``."""
    if stream not in POINT_STREAMS:
        raise InvalidInput(f"stream must be one of {POINT_STREAMS}", field="stream")


def _cast(col: pa.ChunkedArray, name: str, type_: pa.DataType, *, safe: bool) -> pa.ChunkedArray:
    try:
        return col.cast(type_, safe=safe)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInput(
            f"column {name!r} cannot be read as {type_}: {exc}", field=f"body.{name}"
        ) from exc


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def conform_points(points: pa.Table) -> pa.Table:
    """Check and cast a batch to ``key step timestamp value``, naming a bad column.

    A batch is refused whole (``InvalidInput`` naming ``body.<column>``, or ``LimitExceeded``
    naming ``key``) when a column is missing or of a type that is not what it says (a key that
    is not text, a step that is not an integer), a key or step or timestamp is null, a key is
    empty, not UTF-8 or longer than ``LIMITS.max_key_length``, a step is outside
    ``0..MAX_STEP``, a timestamp is not finite, or the batch brings more distinct keys than
    ``LIMITS.max_keys_per_request``.
    """
    for field in POINT_SCHEMA:
        if field.name not in points.column_names:
            raise InvalidInput(f"points need a column {field.name!r}", field=f"body.{field.name}")
        col = points.column(field.name)
        if field.name == "key":
            ok = _is_text(col.type) or (
                pa.types.is_dictionary(col.type) and _is_text(col.type.value_type)
            )
        elif field.name == "step":
            ok = pa.types.is_integer(col.type)
        else:
            ok = pa.types.is_floating(col.type) or pa.types.is_integer(col.type)
        if not ok:
            raise InvalidInput(
                f"column {field.name!r} has type {col.type}; expected {field.type}",
                field=f"body.{field.name}",
            )
        if field.name in ("key", "step", "timestamp") and col.null_count:
            raise InvalidInput(f"column {field.name!r} has nulls", field=f"body.{field.name}")
    try:
        # An IPC body's strings are not checked on read; DuckDB must not get broken UTF-8.
        points.column("key").validate(full=True)
    except pa.ArrowInvalid as exc:
        raise InvalidInput(
            f"column 'key' is not valid UTF-8 text: {exc}", field="body.key"
        ) from exc
    # A step past int64 is refused, not wrapped; values and times are doubles, so a large
    # integer becomes the nearest double, as it would in JSON.
    step = _cast(points.column("step"), "step", pa.int64(), safe=True)
    table = pa.table(
        {
            "key": _cast(points.column("key"), "key", pa.string(), safe=True),
            "step": step,
            "timestamp": _cast(points.column("timestamp"), "timestamp", pa.float64(), safe=False),
            "value": _cast(points.column("value"), "value", pa.float64(), safe=False),
        },
        schema=POINT_SCHEMA,
    )
    if not table.num_rows:
        return table
    bounds = pc.min_max(table["step"]).as_py()
    if bounds["min"] < 0 or bounds["max"] > MAX_STEP:
        bad = bounds["min"] if bounds["min"] < 0 else bounds["max"]
        raise InvalidInput(
            f"step {bad} is out of range: steps are integers from 0 to {MAX_STEP:,}",
            field="body.step",
        )
    if not pc.all(pc.is_finite(table["timestamp"])).as_py():
        raise InvalidInput(
            "a timestamp is not finite: timestamps are seconds since the epoch",
            field="body.timestamp",
        )
    lengths = pc.min_max(pc.utf8_length(table["key"])).as_py()
    if lengths["min"] == 0:
        raise InvalidInput("a metric key is empty", field="body.key")
    if lengths["max"] > LIMITS.max_key_length:
        raise LimitExceeded(
            f"a metric key has {lengths['max']:,} characters; at most"
            f" {LIMITS.max_key_length:,} are allowed",
            field="key",
            limit=LIMITS.max_key_length,
        )
    distinct = pc.count_distinct(table["key"]).as_py()
    if distinct > LIMITS.max_keys_per_request:
        raise LimitExceeded(
            f"the batch brings {distinct:,} distinct metric keys; at most"
            f" {LIMITS.max_keys_per_request:,} are allowed in one request",
            field="key",
            limit=LIMITS.max_keys_per_request,
        )
    return table


#: The columns ``first_batch_lasts`` gives, as the engines' per-key query of a batch does.
LASTS_SCHEMA = pa.schema(
    [
        ("key_id", pa.int32()),
        ("n", pa.int64()),
        ("first_step", pa.int64()),
        ("last_step", pa.int64()),
        ("last_value", pa.float64()),
        ("nans", pa.int64()),
        ("prior", pa.int64()),
        ("prior_n", pa.int64()),
    ]
)


def first_batch_lasts(key_ids: pa.Array, steps: pa.Array, values: pa.Array) -> pa.Table:
    """Per key of a run's first batch (``key_ids``, ``steps``, ``values`` row by row): its
    count, first and last step, last value (at the largest step of a non-null value; of two at
    that step, the earlier row, as DuckDB's ``arg_max`` keeps) and NaN count, with no prior
    (the run held no key).

    What the engines' per-key SQL over the batch and the run's keys answers, computed in Arrow:
    a short run's one batch then costs no query (two DuckDB statements were ~4 ms of a
    ~20 ms request).
    """
    rows = pa.table(
        {
            "key_id": key_ids,
            "step": steps,
            "value": values,
            "nan": pc.cast(pc.is_nan(values), pa.int64()),
            "row": pa.array(range(len(key_ids)), pa.int64()),
        }
    )
    counts = rows.group_by("key_id", use_threads=False).aggregate(
        [
            ("step", "count", pc.CountOptions(mode="all")),
            ("step", "min"),
            ("step", "max"),
            ("nan", "sum"),
        ]
    )
    # The last value: the rows with a value by step (and, at one step, the earlier row
    # last), the last one of each key.
    valued = rows.filter(pc.is_valid(rows["value"])).sort_by(
        [("key_id", "ascending"), ("step", "ascending"), ("row", "descending")]
    )
    last = valued.group_by("key_id", use_threads=False).aggregate([("value", "last")])
    found = dict(zip(last["key_id"].to_pylist(), last["value_last"].to_pylist(), strict=True))
    ids = counts["key_id"]
    n = len(ids)
    return pa.table(
        [
            pc.cast(ids, pa.int32()),
            counts["step_count"],
            counts["step_min"],
            counts["step_max"],
            pa.array([found.get(k) for k in ids.to_pylist()], pa.float64()),
            pc.fill_null(counts["nan_sum"], 0),
            pa.nulls(n, pa.int64()),
            pa.array([0] * n, pa.int64()),
        ],
        schema=LASTS_SCHEMA,
    )


def check_keys_per_run(held: int, new: int) -> None:
    """Refuse a batch that would take a run holding ``held`` metric keys past
    ``LIMITS.max_keys_per_run`` with ``new`` more (``LimitExceeded`` naming ``key``)."""
    if held + new > LIMITS.max_keys_per_run:
        raise LimitExceeded(
            f"the run holds {held:,} metric keys and the batch brings {new:,} more; a run"
            f" may hold at most {LIMITS.max_keys_per_run:,}",
            field="key",
            limit=LIMITS.max_keys_per_run,
        )


def widened_summary_types(known: Mapping[str, str], keys: Iterable[str]) -> dict[str, str]:
    """The summary field types that change when ``keys`` get a number as their last value:
    each key whose known type (``known``, by key; missing when new) differs from its type
    widened to hold a number, with that type."""
    changed = {}
    for key in keys:
        merged = _json.merge_type(known.get(key), "number")
        if merged != known.get(key):
            changed[key] = merged
    return changed
