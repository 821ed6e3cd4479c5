"""SwanLab's run filters and sorts (``POST .../runs/shows``) in our store's filter language.

A filter item is ``{key, type, op, value}``: ``type`` ``STABLE`` names a run field, ``CONFIG`` a
config key and ``SCALAR`` a metric's latest value (our summary); ``value`` is a list of strings.
As SwanLab compares, a value that reads as a number matches the number too, so the string ``"64"``
finds ``batch_size: 64``. A part we cannot answer is a 400 naming it (``filters[1].key``).
"""

from __future__ import annotations

import math
import re
from typing import Any

from lablens.server.swanlab.wire import bad_request

#: SwanLab's STABLE keys -> our run fields; the others (pin, baseline, colors, ...) have none.
STABLE_FIELDS = {
    "state": "state",
    "name": "name",
    "description": "notes",
    "cluster": "group",
    "job": "job_type",
    "createdAt": "created_at",
    "updatedAt": "heartbeat_at",
    "finishedAt": "finished_at",
    "labels": "tags",
}
OPS = ("EQ", "NEQ", "GTE", "LTE", "IN", "NOT IN", "CONTAIN")
_JSON_TYPES = {"CONFIG": "config.", "SCALAR": "summary_metrics."}


def _field(item: dict[str, Any], where: str) -> tuple[str, bool]:
    """Our field name for an item, and whether it is a JSON (config/summary) field."""
    key, kind = item.get("key"), item.get("type")
    if not isinstance(key, str) or not key:
        raise bad_request(f"{where}.key must be a non-empty string")
    if kind == "STABLE":
        if key not in STABLE_FIELDS:
            raise bad_request(
                f"{where}.key: {key!r} cannot be filtered or sorted here; STABLE keys:"
                f" {', '.join(STABLE_FIELDS)}"
            )
        return STABLE_FIELDS[key], False
    if kind in _JSON_TYPES:
        return _JSON_TYPES[kind] + key, True
    raise bad_request(f"{where}.type must be STABLE, CONFIG or SCALAR, got {kind!r}")


def _number(text: str) -> int | float | None:
    try:
        value = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            return None
    return value if not isinstance(value, float) or math.isfinite(value) else None


def _candidates(values: list[Any], as_json: bool) -> list[Any]:
    """Each value, and for a JSON field its number and boolean readings too."""
    out: list[Any] = []
    for v in values:
        out.append(v)
        if as_json and isinstance(v, str):
            number = _number(v)
            if number is not None:
                out.append(number)
            if v.lower() in ("true", "false"):
                out.append(v.lower() == "true")
    return out


def _bound(value: Any, as_json: bool) -> Any:
    if as_json and isinstance(value, str):
        number = _number(value)
        if number is not None:
            return number
    return value


def filter_item(item: Any, where: str) -> dict[str, Any]:
    """One SwanLab filter item as one of our filters."""
    if not isinstance(item, dict):
        raise bad_request(f"{where} must be an object {{key, type, op, value}}")
    name, as_json = _field(item, where)
    op, values = item.get("op"), item.get("value")
    if op not in OPS:
        raise bad_request(f"{where}.op must be one of {', '.join(OPS)}, got {op!r}")
    if not isinstance(values, list) or any(isinstance(v, dict | list) for v in values):
        raise bad_request(f"{where}.value must be a list of plain values")
    if name == "state":
        values = [v.upper() if isinstance(v, str) else v for v in values]
    if op in ("EQ", "IN"):
        if not values:
            raise bad_request(f"{where}.value must hold at least one value for {op}")
        return {name: {"$in": _candidates(values, as_json)}}
    if op in ("NEQ", "NOT IN"):
        return {name: {"$nin": _candidates(values, as_json)}}
    if len(values) != 1:
        raise bad_request(f"{where}.value must hold exactly one value for {op}")
    if op == "CONTAIN":
        return {name: {"$regex": re.escape(str(values[0]))}}
    return {name: {"$gte" if op == "GTE" else "$lte": _bound(values[0], as_json)}}


def to_store_filters(filters: Any) -> dict[str, Any] | None:
    """The active SwanLab filter items, AND-ed, as one of our filters (``None``: every run)."""
    if filters is None:
        return None
    if not isinstance(filters, list):
        raise bad_request("filters must be a list of {key, type, op, value} items")
    parts = [
        filter_item(item, f"filters[{i}]")
        for i, item in enumerate(filters)
        if not (isinstance(item, dict) and item.get("active") is False)
    ]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


def to_store_order(sorts: Any) -> str:
    """The first active sort as our order; SwanLab's own default is newest first."""
    if sorts is None:
        return "-created_at"
    if not isinstance(sorts, list):
        raise bad_request("sorts must be a list of {key, type, order} items")
    active = [
        (i, s)
        for i, s in enumerate(sorts)
        if not (isinstance(s, dict) and s.get("active") is False)
    ]
    if not active:
        return "-created_at"
    if len(active) > 1:
        raise bad_request("sorts: only one sort is supported, got " + str(len(active)))
    i, item = active[0]
    if not isinstance(item, dict):
        raise bad_request(f"sorts[{i}] must be an object {{key, type, order}}")
    name, _ = _field(item, f"sorts[{i}]")
    direction = item.get("order")
    if direction not in ("ASC", "DESC"):
        raise bad_request(f"sorts[{i}].order must be ASC or DESC, got {direction!r}")
    return ("+" if direction == "ASC" else "-") + name


def check_groups(groups: Any) -> None:
    """Groups only nest the answer, which the client flattens again: checked, then ignored."""
    if groups is None:
        return
    if not isinstance(groups, list):
        raise bad_request("groups must be a list of {key, type} items")
    for i, item in enumerate(groups):
        if not isinstance(item, dict):
            raise bad_request(f"groups[{i}] must be an object {{key, type}}")
        _field(item, f"groups[{i}]")
