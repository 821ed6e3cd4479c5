"""A parsed run filter (:mod:`lablens.store.filter_tree`) as a DuckDB condition over ``runs``.

:func:`compile_filters` parses and compiles in one call: SQL text with ``?`` placeholders and the
parameters that go with them; user values only ever travel as parameters. Every condition is
two-valued (never SQL NULL), so ``NOT`` can negate it: a missing value is "not equal" to anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from lablens.store.filter_parse import parse_filters
from lablens.store.filter_tree import (
    All,
    AnyOf,
    Compare,
    Eq,
    Exists,
    Field,
    In,
    JsonValue,
    Node,
    Not,
    NumericText,
)

__all__ = ["column_of", "compile_filters", "compile_tree", "json_path"]

# Where each field of the catalogue (``lablens.contract.fields``) lives in the ``runs`` table.
_COLUMN_OF: dict[str, str] = {"group": "group_name"}
_JSON_COLUMN_OF: dict[str, str] = {"config": "config_flat", "summary": "summary"}


def column_of(field: Field) -> str:
    """The ``runs`` column holding ``field`` (for a JSON field, the flat object to look up)."""
    if field.kind == "json":
        return _JSON_COLUMN_OF[field.base]
    return _COLUMN_OF.get(field.base, field.base)


def json_path(key: str) -> str:
    """The DuckDB JSON path of one key of a flat object, quoted so dots stay part of the key."""
    # Inside $."..." DuckDB unescapes \\ and \" only; escaping the backslash first keeps a key
    # like 'a\"b' from closing the quote early.
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def compile_filters(
    filters: Mapping[str, Any] | None, *, alias: str = "r"
) -> tuple[str, list[Any]]:
    """Compile a MongoDB-style filter to a SQL condition over ``runs AS alias`` and its parameters.

    ``None`` or ``{}`` give ``("TRUE", [])``. User values only ever travel as ``?`` parameters.
    Raises ``InvalidFilter`` (with ``field`` the path of the bad part) for anything malformed.
    """
    if not alias.isidentifier():
        raise ValueError(f"alias must be an SQL identifier, got {alias!r}")
    return compile_tree(parse_filters(filters), alias=alias)


def compile_tree(tree: Node, *, alias: str = "r") -> tuple[str, list[Any]]:
    """The SQL condition of a parsed filter over ``runs AS alias``, and its parameters."""
    frag = _Compiler(alias).node(tree)
    return frag.sql, list(frag.params)


# --- SQL fragments -------------------------------------------------------------------------------


class _Frag(NamedTuple):
    """SQL text and the parameters of its ``?`` placeholders, in textual order."""

    sql: str
    params: tuple[Any, ...] = ()


# A condition on one JSON element, given the SQL expression of that element.
_Pred = Callable[[str], _Frag]


_TRUE = _Frag("TRUE")
_FALSE = _Frag("FALSE")


def _p(value: Any) -> _Frag:
    return _Frag("?", (value,))


def _cat(*parts: _Frag | str) -> _Frag:
    """Concatenate text and fragments; parameters follow the text order, as ``?`` do."""
    sql: list[str] = []
    params: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            sql.append(part)
        else:
            sql.append(part.sql)
            params.extend(part.params)
    return _Frag("".join(sql), tuple(params))


def _join(sep: str, parts: list[_Frag]) -> _Frag:
    out: list[_Frag | str] = []
    for i, part in enumerate(parts):
        if i:
            out.append(sep)
        out.append(_cat("(", part, ")"))
    return _cat(*out)


def _and(parts: list[_Frag]) -> _Frag:
    if not parts:
        return _TRUE
    return parts[0] if len(parts) == 1 else _join(" AND ", parts)


def _or(parts: list[_Frag]) -> _Frag:
    if not parts:
        return _FALSE
    return parts[0] if len(parts) == 1 else _join(" OR ", parts)


def _not(part: _Frag) -> _Frag:
    # Safe because every leaf is COALESCEd to a bool: NOT never meets a NULL.
    return _cat("NOT (", part, ")")


def _two_valued(part: _Frag) -> _Frag:
    """NULL (a missing value) becomes FALSE, so that ``$not``, ``$ne`` and ``$nor`` can negate."""
    return _cat("COALESCE((", part, "), FALSE)")


# --- JSON values ---------------------------------------------------------------------------------

_SQL_OPS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
# JSON numbers, plus the strings the store writes for non-finite floats.
_NONFINITE = "('NaN', 'Infinity', '-Infinity')"
_NUMBER_TYPES = "('UBIGINT', 'BIGINT', 'HUGEINT', 'DOUBLE')"


def _json_num(x: str) -> str:
    """The number a JSON value ``x`` holds (non-finite ones are stored as strings), else NULL."""
    return (
        f"TRY_CAST(CASE WHEN json_type({x}) IN {_NUMBER_TYPES} "
        f"OR json_extract_string({x}, '$') IN {_NONFINITE} "
        f"THEN json_extract_string({x}, '$') END AS DOUBLE)"
    )


def _json_text(x: str) -> str:
    """The text of a JSON string ``x`` (not one that stands for a non-finite float), else NULL."""
    return (
        f"CASE WHEN json_type({x}) = 'VARCHAR' AND json_extract_string({x}, '$') NOT IN "
        f"{_NONFINITE} THEN json_extract_string({x}, '$') END"
    )


def _json_bool(x: str) -> str:
    return f"CASE WHEN json_type({x}) = 'BOOLEAN' THEN json_extract_string({x}, '$') = 'true' END"


def _json_null(x: str) -> str:
    return f"({x} IS NULL OR json_type({x}) = 'NULL')"


def _json_eq_pred(value: JsonValue) -> _Pred:
    """A function from a JSON element's SQL to the condition "it equals ``value``"."""
    if value is None:
        return lambda x: _Frag(_json_null(x))
    if isinstance(value, bool):
        return lambda x: _cat(_json_bool(x), " = ", _p(value))
    if isinstance(value, float):
        return lambda x: _cat(_json_num(x), " = ", _p(value))
    if isinstance(value, NumericText):
        return lambda x: _or(
            [
                _cat(_json_text(x), " = ", _p(value.text)),
                _cat(_json_num(x), " = ", _p(value.number)),
            ]
        )
    return lambda x: _cat(_json_text(x), " = ", _p(value))


def _json_compare_pred(op: str, value: float | str) -> _Pred:
    sql_op = _SQL_OPS[op]
    if isinstance(value, str):
        return lambda x: _cat(_json_text(x), f" {sql_op} ", _p(value))
    if math.isnan(value):
        # NaN is only "equal" to NaN; nothing is strictly above or below it.
        if op in ("$gte", "$lte"):
            return lambda x: _Frag(f"isnan({_json_num(x)})")
        return lambda x: _FALSE
    # DuckDB orders NaN above +inf; IEEE (and MongoDB) say NaN is in no range.
    return lambda x: _cat(_json_num(x), f" {sql_op} ", _p(value), f" AND NOT isnan({_json_num(x)})")


# --- the compiler --------------------------------------------------------------------------------


class _Compiler:
    def __init__(self, alias: str) -> None:
        self.alias = alias

    def node(self, node: Node) -> _Frag:
        if isinstance(node, All):
            return _and([self.node(part) for part in node.parts])
        if isinstance(node, AnyOf):
            return _or([self.node(part) for part in node.parts])
        if isinstance(node, Not):
            return _not(self.node(node.part))
        if isinstance(node, Eq):
            return self.eq(node.field, node.value)
        if isinstance(node, Compare):
            return self.compare(node.field, node.op, node.value)
        if isinstance(node, In):
            return self.in_(node.field, node.values)
        if isinstance(node, Exists):
            return self.exists(node.field)
        return self.regex(node.field, node.pattern)

    # One operator on one field; each returns a condition that is never NULL.

    def col(self, field: Field) -> str:
        return f"{self.alias}.{column_of(field)}"

    def eq(self, field: Field, value: Any) -> _Frag:
        col = self.col(field)
        if field.kind == "json":
            if isinstance(value, tuple):
                return self.json_array_eq(field, value)
            return self.json_any(field, _json_eq_pred(value))
        if field.kind == "tags":
            if isinstance(value, tuple):
                if not value:
                    return _Frag(f"(len({col}) = 0)")
                return _two_valued(_cat(f"{col} = ", _p(list(value)), "::VARCHAR[]"))
            if value is None:
                return _FALSE  # tags are never null and never hold nulls
            return _two_valued(_cat(f"list_contains({col}, ", _p(value), ")"))
        if value is None:
            return _Frag(f"({col} IS NULL)")
        if field.kind == "state":
            return _two_valued(_cat(f"upper({col}) = ", _p(value.upper())))
        return _two_valued(_cat(f"{col} = ", _p(value)))

    def compare(self, field: Field, op: str, value: Any) -> _Frag:
        sql_op = _SQL_OPS[op]
        col = self.col(field)
        if field.kind == "json":
            return self.json_any(field, _json_compare_pred(op, value))
        if field.kind == "state":
            return _two_valued(_cat(f"upper({col}) {sql_op} ", _p(value.upper())))
        if field.kind == "tags":
            # Any tag in range, as MongoDB does for arrays.
            return _two_valued(
                _cat(f"list_bool_or(list_transform({col}, lambda _t: _t {sql_op} ", _p(value), "))")
            )
        return _two_valued(_cat(f"{col} {sql_op} ", _p(value)))

    def in_(self, field: Field, values: tuple[Any, ...]) -> _Frag:
        col = self.col(field)
        if field.kind == "json":
            preds = [_json_eq_pred(v) for v in values]
            return self.json_any(field, lambda x: _or([pred(x) for pred in preds]))
        if field.kind == "tags":
            if not values:
                return _FALSE
            return _two_valued(_cat(f"list_has_any({col}, ", _p(list(values)), "::VARCHAR[])"))
        parts: list[_Frag] = [_Frag(f"{col} IS NULL") for v in values if v is None]
        keep = [v for v in values if v is not None]
        if field.kind == "state":
            keep = [v.upper() for v in keep]
        if keep:
            target = f"upper({col})" if field.kind == "state" else col
            holders = ", ".join("?" for _ in keep)
            parts.insert(0, _Frag(f"{target} IN ({holders})", tuple(keep)))
        return _two_valued(_or(parts))

    def exists(self, field: Field) -> _Frag:
        col = self.col(field)
        if field.kind == "tags":
            return _Frag(f"(len({col}) > 0)")
        if field.kind == "json":
            return _two_valued(
                _cat(
                    "list_transform([",
                    self.json_value(field),
                    "], lambda _v: NOT ",
                    _json_null("_v"),
                    ")[1]",
                )
            )
        return _Frag(f"({col} IS NOT NULL)")

    def regex(self, field: Field, pattern: str) -> _Frag:
        col = self.col(field)
        if field.kind == "json":
            return self.json_any(
                field, lambda x: _cat("regexp_matches(", _json_text(x), ", ", _p(pattern), ")")
            )
        if field.kind == "tags":
            return _two_valued(
                _cat(
                    f"list_bool_or(list_transform({col}, lambda _t: regexp_matches(_t, ",
                    _p(pattern),
                    ")))",
                )
            )
        # States are stored upper case but written in any case.
        flags = ", 'i'" if field.kind == "state" else ""
        return _two_valued(_cat(f"regexp_matches({col}, ", _p(pattern), f"{flags})"))

    # JSON values.

    def json_value(self, field: Field) -> _Frag:
        """The field's JSON value; with a W&B fallback key, the first key holding a non-null."""
        col = self.col(field)
        lookups = [_cat(f"json_extract({col}, ", _p(json_path(k)), ")") for k in field.keys]
        if len(lookups) == 1:
            return lookups[0]
        first = _cat("NULLIF(", lookups[0], ", 'null'::JSON)")
        return _cat("COALESCE(", first, ", ", lookups[1], ")")

    def json_any(self, field: Field, pred: _Pred) -> _Frag:
        """``pred`` holds for the value, or for any element when the value is an array."""
        # The outer lambda binds the looked-up value once (DuckDB has no LET); the inner one
        # visits the elements, or the value itself when it is not an array. A missing key is
        # [NULL], so "missing or null" predicates see it.
        elements = "CASE WHEN json_type(_v) = 'ARRAY' THEN json_extract(_v, '$[*]') ELSE [_v] END"
        return _two_valued(
            _cat(
                "list_transform([",
                self.json_value(field),
                f"], lambda _v: list_bool_or(list_transform({elements}, lambda _x: ",
                pred("_x"),
                ")))[1]",
            )
        )

    def json_array_eq(self, field: Field, items: tuple[JsonValue, ...]) -> _Frag:
        """A list given to ``$eq`` matches a stored array with equal elements, in order."""
        parts: list[_Frag] = [_Frag(f"json_array_length(_v) = {len(items)}")]
        for i, item in enumerate(items):
            parts.append(_json_eq_pred(item)(f"json_extract(_v, '$[{i}]')"))
        body = _and([_Frag("json_type(_v) = 'ARRAY'"), *parts])
        return _two_valued(
            _cat("list_transform([", self.json_value(field), "], lambda _v: ", body, ")[1]")
        )
