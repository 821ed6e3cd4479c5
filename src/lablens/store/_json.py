"""JSON as the store keeps it: flat dotted keys, and non-finite floats as strings."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode(value: Any) -> Any:
    """Replace non-finite floats by "NaN", "Infinity", "-Infinity", recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def dumps(value: Any) -> str | None:
    """Serialize for a JSON column; ``None`` stays SQL NULL."""
    if value is None:
        return None
    return json.dumps(encode(value), separators=(",", ":"))


def loads(text: str | None) -> Any:
    """Parse a JSON column (``None`` for SQL NULL)."""
    if text is None:
        return None
    return json.loads(text)


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"data": {"bs": 64}}`` -> ``{"data.bs": 64}``; lists and scalars are leaves."""
    out: dict[str, Any] = {}
    for k, v in value.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def type_of(value: Any) -> str:
    """The field type a value gives its key: ``integer``, ``number``, ``string``, ``bool`` or
    ``json``."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "integer" if -(2**63) <= value < 2**63 else "number"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "number" if value in _NONFINITE else "string"
    return "json"


def merge_type(old: str | None, new: str) -> str:
    """The type of a key seen with both types: a mix of kinds becomes ``string`` or ``json``."""
    if old is None or old == new:
        return new
    if {old, new} == {"integer", "number"}:
        return "number"
    if "json" in (old, new):
        return "json"
    return "string"
