"""W&B history and system-metric rows as lablens points, and the media references among them.

A row is one JSON line of ``wandb-history.jsonl`` (or ``wandb-events.jsonl``):
``{"loss": 0.5, "acc": {"top1": 0.9}, "img": {"_type": "image-file", ...}, "_step": 3,
"_timestamp": 1.7e9, "_runtime": 2.1}``. Numbers (and booleans) become points under their
dotted key (``acc.top1``), as ``lablens.contract.flatten`` names them; a dict with ``_type`` is a
media reference, kept whole; text, lists and nulls are not points and are left out. ``_step`` is
the point's step and ``_timestamp`` its time; ``_runtime`` is not stored, since lablens derives
it from the time and the run's start.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from lablens.store.points import MAX_STEP

#: Keys of a row that are the client's bookkeeping, not logged values.
ROW_KEYS = frozenset({"_step", "_timestamp", "_runtime", "_wandb"})
#: Non-finite numbers as JSON text carries them.
_NONFINITE = {"NaN": math.nan, "nan": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class BadRow(ValueError):
    """A line that is not a history row; the message names the file and the line."""


@dataclass
class Points:
    """Columns of a point batch, filled row by row, plus the media references met."""

    keys: list[str] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)

    def table(self) -> pa.Table:
        """The points as a ``key step timestamp value`` table."""
        return pa.table(
            {
                "key": pa.array(self.keys, pa.string()),
                "step": pa.array(self.steps, pa.int64()),
                "timestamp": pa.array(self.times, pa.float64()),
                "value": pa.array(self.values, pa.float64()),
            }
        )


def _number(value: Any) -> float | None:
    """A logged value as a double, or ``None`` when it is not a number."""
    if isinstance(value, str):
        return _NONFINITE.get(value)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            return None
    return None


def is_media(value: Any) -> bool:
    """Whether a logged value is a media reference (``{"_type": "image-file", ...}``)."""
    return isinstance(value, Mapping) and isinstance(value.get("_type"), str)


def _leaves(row: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    """Every value of a row under its dotted key; media references are leaves."""
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and not is_media(value):
            yield from _leaves(value, name + ".")
        else:
            yield name, value


def parse_line(line: str, where: str) -> dict[str, Any]:
    """One JSON line as a dict, or ``BadRow`` naming ``where``."""
    try:
        row = json.loads(line)
    except ValueError as exc:
        raise BadRow(f"{where} is not JSON: {exc}") from exc
    if not isinstance(row, dict):
        raise BadRow(f"{where} is not a JSON object")
    return row


def row_step(row: Mapping[str, Any], default: int, where: str) -> int:
    """A row's ``_step`` (``default`` without one), checked to be a step lablens keeps."""
    step = row.get("_step", default)
    if isinstance(step, float) and step.is_integer():
        step = int(step)
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= MAX_STEP:
        raise BadRow(f"{where}: _step must be an integer from 0 to {MAX_STEP:,}, not {step!r}")
    return step


def row_time(row: Mapping[str, Any], default: float) -> float:
    """A row's ``_timestamp`` in seconds since the epoch (``default`` without a usable one)."""
    ts = _number(row.get("_timestamp"))
    return ts if ts is not None and math.isfinite(ts) else default


def add_row(points: Points, row: Mapping[str, Any], step: int, ts: float) -> None:
    """Add a row's numbers as points at ``step``; collect its media references."""
    for key, value in _leaves({k: v for k, v in row.items() if k not in ROW_KEYS}):
        if is_media(value):
            points.media.append({"step": step, "key": key, "value": value})
            continue
        number = _number(value)
        if number is None:
            continue
        points.keys.append(key)
        points.steps.append(step)
        points.times.append(ts)
        points.values.append(number)
