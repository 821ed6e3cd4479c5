"""Parse a MongoDB-style run filter into its tree (:mod:`lablens.store.filter_tree`).

:func:`parse_filters` checks the whole filter, in the order it is written, and raises
:class:`~lablens.store.errors.InvalidFilter` at the first mistake, with ``field`` naming the bad
part from the root ``filters`` (``filters.$and[1].config.lr.$gt``) and a message saying what is
allowed. The language is described in :mod:`lablens.store.filters`; nothing here knows SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lablens.contract.fields import FIELD_HELP
from lablens.store.errors import InvalidFilter
from lablens.store.filter_tree import (
    All,
    AnyOf,
    Compare,
    CompareOp,
    Eq,
    Exists,
    Field,
    In,
    Node,
    Not,
    Regex,
    resolve_field,
)
from lablens.store.filter_values import (
    WIRE_NONFINITE,
    describe,
    float_value,
    json_value,
    text_value,
    time_value,
)
from lablens.store.re2 import regex_error

__all__ = ["parse_filters"]


def parse_filters(filters: Mapping[str, Any] | None) -> Node:
    """Parse a MongoDB-style filter into its tree; ``None`` and ``{}`` give ``All(())``.

    Raises ``InvalidFilter`` (with ``field`` the path of the bad part) for anything malformed.
    """
    if filters is None:
        return All(())
    if not isinstance(filters, Mapping):
        raise InvalidFilter(
            f'filters must be an object like {{"state": "finished"}}, got {describe(filters)}',
            field="filters",
        )
    return _document(filters, "filters")


# --- the parser ----------------------------------------------------------------------------------

_LOGICAL = ("$and", "$or", "$nor", "$not")
_COMPARISONS = ("$gt", "$gte", "$lt", "$lte")
# fmt: off
_FIELD_OPERATORS = (
    "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$regex", "$options",
    "$not",
)
# fmt: on
_REGEX_OPTIONS = "ims"


def _and(parts: list[Node]) -> Node:
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def _document(doc: Any, path: str) -> Node:
    if not isinstance(doc, Mapping):
        raise InvalidFilter(f"expected an object of conditions, got {describe(doc)}", field=path)
    parts: list[Node] = []
    for key, value in doc.items():
        if not isinstance(key, str):
            raise InvalidFilter(f"keys must be strings, got {key!r}", field=path)
        sub = f"{path}.{key}"
        if key.startswith("$"):
            parts.append(_logical(key, value, sub))
        else:
            parts.append(_field(key, value, sub))
    return _and(parts)


def _logical(op: str, value: Any, path: str) -> Node:
    if op == "$not":
        if not isinstance(value, Mapping) or not value:
            raise InvalidFilter(
                f"$not at the top level takes a non-empty filter object, got {describe(value)}",
                field=path,
            )
        return Not(_document(value, path))
    if op not in _LOGICAL:
        raise InvalidFilter(
            f"unknown top-level operator {op!r}; allowed: {', '.join(_LOGICAL)} "
            f'(comparison operators go under a field: {{"config.lr": {{"$gt": 0.1}}}})',
            field=path,
        )
    if not isinstance(value, list | tuple) or not value:
        raise InvalidFilter(
            f"{op} takes a non-empty list of filter objects, got {describe(value)}",
            field=path,
        )
    parts = [_document(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if op == "$and":
        return _and(parts)
    either = parts[0] if len(parts) == 1 else AnyOf(tuple(parts))
    return either if op == "$or" else Not(either)  # $nor


def _field(name: str, value: Any, path: str) -> Node:
    field = resolve_field(name)
    if field is None:
        raise InvalidFilter(f"unknown field {name!r}; filter on {FIELD_HELP}", field=path)
    if isinstance(value, Mapping):
        if not value:
            raise InvalidFilter(
                'an empty object is not a condition; give a value or operators like {"$gt": 1}',
                field=path,
            )
        plain = [k for k in value if not (isinstance(k, str) and k.startswith("$"))]
        if plain and len(plain) < len(value):
            raise InvalidFilter(
                f"unknown operator {plain[0]!r}; allowed: {', '.join(_FIELD_OPERATORS)}",
                field=f"{path}.{plain[0]}",
            )
        if plain:
            raise InvalidFilter(
                'objects are not values; use operators like {"$gt": 1}, and dotted keys '
                "for nested config values (config.data.bs)",
                field=path,
            )
        return _operators(field, value, path)
    return _eq(field, value, path)


def _operators(field: Field, ops: Mapping[str, Any], path: str) -> Node:
    if "$options" in ops and "$regex" not in ops:
        raise InvalidFilter("$options only goes with $regex", field=f"{path}.$options")
    parts: list[Node] = []
    for op, arg in ops.items():
        sub = f"{path}.{op}"
        if op == "$options":
            continue  # read along with $regex
        if op == "$not":
            if not isinstance(arg, Mapping) or not arg:
                raise InvalidFilter(
                    '$not on a field takes an object of operators like {"$gt": 3}, '
                    f"got {describe(arg)}",
                    field=sub,
                )
            bad = [k for k in arg if not (isinstance(k, str) and k.startswith("$"))]
            if bad:
                raise InvalidFilter(
                    f"unknown operator {bad[0]!r}; allowed: {', '.join(_FIELD_OPERATORS)}",
                    field=f"{sub}.{bad[0]}",
                )
            parts.append(Not(_operators(field, arg, sub)))
        elif op == "$eq":
            parts.append(_eq(field, arg, sub))
        elif op == "$ne":
            parts.append(Not(_eq(field, arg, sub)))
        elif op in _COMPARISONS:
            parts.append(_compare(field, op, arg, sub))
        elif op in ("$in", "$nin"):
            part = _in(field, op, arg, sub)
            parts.append(part if op == "$in" else Not(part))
        elif op == "$exists":
            if not isinstance(arg, bool):
                raise InvalidFilter(f"$exists takes true or false, got {describe(arg)}", field=sub)
            parts.append(Exists(field) if arg else Not(Exists(field)))
        elif op == "$regex":
            parts.append(_regex(field, arg, ops.get("$options"), sub, path))
        else:
            raise InvalidFilter(
                f"unknown operator {op!r}; allowed: {', '.join(_FIELD_OPERATORS)}",
                field=sub,
            )
    return _and(parts)


# One operator on one field.


def _eq(field: Field, value: Any, path: str) -> Eq:
    if field.kind == "json":
        if isinstance(value, list | tuple):
            return Eq(field, tuple(json_value(v, f"{path}[{i}]") for i, v in enumerate(value)))
        return Eq(field, json_value(value, path))
    if field.kind == "tags":
        if isinstance(value, list | tuple):
            return Eq(
                field, tuple(text_value(v, f"{path}[{i}]", field) for i, v in enumerate(value))
            )
        return Eq(field, None if value is None else text_value(value, path, field))
    if value is None:
        return Eq(field, None)
    if field.kind == "time":
        return Eq(field, time_value(value, path))
    return Eq(field, text_value(value, path, field))


def _compare(field: Field, op: CompareOp, value: Any, path: str) -> Compare:
    if isinstance(value, Mapping | list | tuple) or value is None or isinstance(value, bool):
        allowed = "a time" if field.kind == "time" else "a number or a string"
        raise InvalidFilter(f"{op} takes {allowed}, got {describe(value)}", field=path)
    if field.kind == "json":
        if isinstance(value, int | float):
            return Compare(field, op, float_value(value, path))
        if isinstance(value, str):
            # JSON has no non-finite numbers: the client sends float('inf') as "Infinity", and
            # the store keeps such floats as these strings too, so here they are numbers.
            return Compare(field, op, WIRE_NONFINITE.get(value, value))
        raise InvalidFilter(f"{op} takes a number or a string, got {describe(value)}", field=path)
    if field.kind == "time":
        return Compare(field, op, time_value(value, path))
    return Compare(field, op, text_value(value, path, field, what=f"{op} on {field.name}"))


def _in(field: Field, op: str, values: Any, path: str) -> In:
    if not isinstance(values, list | tuple):
        raise InvalidFilter(f"{op} takes a list of values, got {describe(values)}", field=path)
    for i, v in enumerate(values):
        if isinstance(v, Mapping | list | tuple):
            raise InvalidFilter(
                f"{op} takes a list of plain values, got {describe(v)} in it",
                field=f"{path}[{i}]",
            )
    if field.kind == "json":
        return In(field, tuple(json_value(v, f"{path}[{i}]") for i, v in enumerate(values)))
    if field.kind == "tags":
        return In(
            field,
            tuple(
                text_value(v, f"{path}[{i}]", field)
                for i, v in enumerate(values)
                if v is not None  # no tag is null
            ),
        )
    kept: list[Any] = []
    for i, v in enumerate(values):
        if v is None:
            kept.append(None)
        elif field.kind == "time":
            kept.append(time_value(v, f"{path}[{i}]"))
        else:
            kept.append(text_value(v, f"{path}[{i}]", field))
    return In(field, tuple(kept))


def _regex(field: Field, pattern: Any, options: Any, path: str, field_path: str) -> Regex:
    if not isinstance(pattern, str):
        raise InvalidFilter(
            f"$regex takes a regular expression string, got {describe(pattern)}", field=path
        )
    if field.kind == "time":
        raise InvalidFilter(
            f"$regex applies to text; {field.name} is a time, compare it with $gt/$lt",
            field=path,
        )
    if options is not None:
        if not isinstance(options, str) or any(c not in _REGEX_OPTIONS for c in options):
            raise InvalidFilter(
                f"$options takes letters from {_REGEX_OPTIONS!r} (ignore case, multi-line, "
                f"dot matches newline), got {options!r}",
                field=f"{field_path}.$options",
            )
        if options:
            pattern = f"(?{''.join(sorted(set(options)))}){pattern}"
    error = regex_error(pattern)
    if error is not None:
        raise InvalidFilter(
            f"not a valid regular expression ({error}); the syntax is RE2: Python's re "
            "without lookaround or backreferences",
            field=path,
        )
    return Regex(field, pattern)
