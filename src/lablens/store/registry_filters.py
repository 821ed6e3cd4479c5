"""The MongoDB-style filters of registries, their collections and their versions (W&B's
``Api.registries(filter=...)``), checked and applied, the same for every engine.

The language is the run filters' (``store/filters.py``): ``$and $or $nor $not $eq $ne $gt $gte
$lt $lte $in $nin $exists $regex``, a plain value meaning ``$eq``; a field holding a list (``tag``,
``alias``) matches when any element does, as in MongoDB. Each kind of object has its fields:

- a registry: ``name``, ``description``, ``visibility``, ``created_at``, ``updated_at``;
- a collection: ``name``, ``tag``, ``type``, ``description``, ``created_at``, ``updated_at``;
- a version: ``tag``, ``alias``, ``version``, ``created_at``, ``updated_at``, ``metadata.<dotted>``.

A registry holds few objects next to a project's runs, so a filter is applied to the rows read
(one query per page of registries), not compiled to SQL. A bad filter is ``InvalidFilter``
naming its part (``filter.$or[1].name.$regex``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from lablens.store.errors import InvalidFilter
from lablens.store.re2 import regex_error

__all__ = ["COLLECTION_FIELDS", "REGISTRY_FIELDS", "VERSION_FIELDS", "compile_filter"]

#: A field's name -> how to read its value from the object's JSON.
Fields = Mapping[str, Callable[[Mapping[str, Any]], Any]]

REGISTRY_FIELDS: Fields = {
    "name": lambda o: o.get("name"),
    "description": lambda o: o.get("description"),
    "visibility": lambda o: o.get("visibility"),
    "created_at": lambda o: o.get("created_at"),
    "updated_at": lambda o: o.get("updated_at"),
}
COLLECTION_FIELDS: Fields = {
    "name": lambda o: o.get("name"),
    "tag": lambda o: list(o.get("tags") or []),
    "type": lambda o: o.get("type"),
    "description": lambda o: o.get("description"),
    "created_at": lambda o: o.get("created_at"),
    "updated_at": lambda o: o.get("updated_at"),
}
VERSION_FIELDS: Fields = {
    "tag": lambda o: list(o.get("tags") or []),
    "alias": lambda o: list(o.get("aliases") or []),
    "version": lambda o: o.get("version"),
    "created_at": lambda o: o.get("created_at"),
    "updated_at": lambda o: o.get("updated_at"),
}
# The W&B seeds' plurals, accepted as the same fields.
_SYNONYMS = {"tags": "tag", "aliases": "alias"}

_COMPARE = {
    "$eq": lambda a, b: a == b,
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}
_LOGICAL = ("$and", "$or", "$nor")

Predicate = Callable[[Mapping[str, Any]], bool]


def compile_filter(spec: Any, fields: Fields, where: str = "filter") -> Predicate:
    """``spec`` (``None``: everything) as a predicate over objects' JSON; ``InvalidFilter``
    naming the bad part."""
    if spec is None:
        return lambda _: True
    return _document(spec, fields, where)


def _document(spec: Any, fields: Fields, where: str) -> Predicate:
    if not isinstance(spec, Mapping):
        raise InvalidFilter(f"{where} must be an object", field=where)
    parts = [_term(str(k), v, fields, f"{where}.{k}") for k, v in spec.items()]
    return lambda o: all(p(o) for p in parts)


def _term(key: str, value: Any, fields: Fields, where: str) -> Predicate:
    if key in _LOGICAL:
        if not isinstance(value, list) or not value:
            raise InvalidFilter(f"{key} takes a non-empty list of filters", field=where)
        subs = [_document(v, fields, f"{where}[{i}]") for i, v in enumerate(value)]
        if key == "$and":
            return lambda o: all(s(o) for s in subs)
        if key == "$or":
            return lambda o: any(s(o) for s in subs)
        return lambda o: not any(s(o) for s in subs)
    if key == "$not":
        sub = _document(value, fields, where)
        return lambda o: not sub(o)
    if key.startswith("$"):
        raise InvalidFilter(f"unknown operator {key}", field=where)
    read = _field(key, fields, where)
    test = _condition(value, where)
    return lambda o: test(read(o))


def _field(key: str, fields: Fields, where: str) -> Callable[[Mapping[str, Any]], Any]:
    key = _SYNONYMS.get(key, key)
    if key in fields:
        return fields[key]
    if key.startswith("metadata.") and "version" in fields and len(key) > len("metadata."):
        path = key.split(".")[1:]
        return lambda o: _dig(o.get("metadata"), path)
    known = sorted(fields) + (["metadata.<key>"] if "version" in fields else [])
    raise InvalidFilter(f"unknown field {key!r}; one of {', '.join(known)}", field=where)


_MISSING = object()


def _dig(value: Any, path: list[str]) -> Any:
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _condition(value: Any, where: str) -> Callable[[Any], bool]:
    """A field's condition: ``{"$op": operand, ...}`` or a plain value (``$eq``)."""
    if isinstance(value, Mapping) and any(str(k).startswith("$") for k in value):
        tests = [_operator(str(op), arg, f"{where}.{op}") for op, arg in value.items()]
        return lambda v: all(t(v) for t in tests)
    return _operator("$eq", value, where)


def _operator(op: str, arg: Any, where: str) -> Callable[[Any], bool]:
    if op == "$ne":
        # MongoDB's $ne on a list: no element is equal.
        return _any_element(lambda v: _comparable(v, arg) and v == arg, negated=True)
    if op in _COMPARE:
        compare = _COMPARE[op]
        return _any_element(lambda v: _comparable(v, arg) and compare(v, arg))
    if op in ("$in", "$nin"):
        if not isinstance(arg, list):
            raise InvalidFilter(f"{op} takes a list", field=where)
        return _any_element(lambda v: any(_comparable(v, a) and v == a for a in arg), op == "$nin")
    if op == "$exists":
        if not isinstance(arg, bool):
            raise InvalidFilter("$exists takes true or false", field=where)
        return lambda v: (v is not _MISSING and v is not None) == arg
    if op == "$regex":
        if not isinstance(arg, str):
            raise InvalidFilter("$regex takes a string", field=where)
        if (error := regex_error(arg)) is not None:
            raise InvalidFilter(f"bad regular expression: {error}", field=where)
        pattern = re.compile(arg)
        return _any_element(lambda v: isinstance(v, str) and pattern.search(v) is not None)
    if op == "$not":
        inner = _condition(arg, where)
        return lambda v: not inner(v)
    raise InvalidFilter(f"unknown operator {op}", field=where)


def _any_element(test: Callable[[Any], bool], negated: bool = False) -> Callable[[Any], bool]:
    """A test of a value that, on a list, asks any element (and, negated, none: MongoDB's
    ``$ne`` and ``$nin`` on arrays)."""

    def run(value: Any) -> bool:
        values = value if isinstance(value, list) else [value]
        found = any(v is not _MISSING and test(v) for v in values)
        return not found if negated else found

    return run


def _comparable(a: Any, b: Any) -> bool:
    """Whether two values compare as MongoDB compares them: numbers with numbers, strings with
    strings, else only equal-typed values (never ``True`` with ``1``)."""
    if a is None or b is None:
        return a is None and b is None
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, numbers) and isinstance(b, numbers):
        return True
    return type(a) is type(b)
