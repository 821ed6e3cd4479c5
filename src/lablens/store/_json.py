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


def loads(text: Any) -> Any:
    """Parse a JSON column (``None`` for SQL NULL). DuckDB hands a JSON column's text; psycopg
    hands ``json`` and ``jsonb`` columns parsed already, and those are returned as they are."""
    if text is None or not isinstance(text, (str, bytes, bytearray)):
        return text
    return json.loads(text)


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


def _bad_text(text: str) -> str | None:
    """Why ``text`` cannot be stored: a NUL byte or a lone surrogate (not UTF-8); else None."""
    if "\x00" in text:
        return "holds a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate, which is not Unicode text"
    return None


def check_text(value: Any, field: str) -> None:
    """Refuse a string the store cannot keep (NUL, lone surrogates) with ``InvalidInput``."""
    from lablens.store.errors import InvalidInput

    if isinstance(value, str) and (why := _bad_text(value)):
        raise InvalidInput(f"{field} {why}", field=field)


def check_fields(value: Mapping[str, Any], field: str) -> int:
    """Check a config, summary or metadata object against the server's limits before storing it.

    Walks without recursion (a hostile object may be 10,000 levels deep): nesting past
    ``LIMITS.max_depth``, a key longer than ``LIMITS.max_key_length``, or more leaf keys than
    ``LIMITS.max_fields_per_run`` is ``LimitExceeded``; a NUL or lone surrogate in a key or a
    string value is ``InvalidInput``. Returns the number of leaf keys (flattened columns).
    """
    from lablens.store.errors import InvalidInput, LimitExceeded
    from lablens.store.limits import LIMITS

    def deep(where: str) -> LimitExceeded:
        return LimitExceeded(
            f"{field} is nested deeper than {LIMITS.max_depth} levels (at {where[:200]})",
            field=field,
            limit=LIMITS.max_depth,
        )

    leaves = 0
    stack: list[tuple[Any, int, str]] = [(value, 1, field)]
    while stack:
        node, depth, where = stack.pop()
        if isinstance(node, Mapping):
            if depth > LIMITS.max_depth:
                raise deep(where)
            for k, v in node.items():
                key = str(k)
                if len(key) > LIMITS.max_key_length:
                    raise LimitExceeded(
                        f"a key of {field} has {len(key)} characters, more than"
                        f" {LIMITS.max_key_length}: {key[:64]!r}...",
                        field=field,
                        limit=LIMITS.max_key_length,
                    )
                if why := _bad_text(key):
                    raise InvalidInput(f"a key of {field} {why}", field=field)
                # Each leaf (a scalar, a list or an empty object) becomes one flat key.
                leaves += not (isinstance(v, Mapping) and v)
                stack.append((v, depth + 1, f"{where}.{key}"))
        elif isinstance(node, (list, tuple)):
            if depth > LIMITS.max_depth:
                raise deep(where)
            stack.extend((v, depth + 1, f"{where}[{i}]") for i, v in enumerate(node))
        elif isinstance(node, str) and (why := _bad_text(node)):
            raise InvalidInput(f"{where[:200]} {why}", field=field)
    return leaves
