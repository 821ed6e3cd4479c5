"""A parsed run filter (:mod:`lablens.store.filter_tree`) as a PostgreSQL condition over ``runs``.

:func:`compile_filters` parses and compiles in one call: SQL text with psycopg's ``%s``
placeholders and the parameters that go with them; user values (keys included) only ever travel
as parameters, and the SQL text holds no other ``%``. The semantics are the embedded engine's
(``lablens.store.filters`` describes them), so both engines pick the same runs:

- every condition is two-valued (never SQL NULL), so ``NOT`` negates it: a missing value is "not
  equal" to anything;
- a JSON value that is an array matches when any element does (a missing key is one null
  element), and tags match when any tag does (``@>`` and ``&&``, which the GIN index serves);
- JSON numbers compare as doubles (``lablens_json_num``, which reads the ``"NaN"`` and
  ``"Infinity"`` strings as numbers) and never match NaN in a range; JSON strings compare as text;
- text compares by bytes (``COLLATE "C"``), as DuckDB does, whatever the database's locale;
  ``$regex`` is rewritten from RE2 by :mod:`lablens.store.postgres._regex`.
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
from lablens.store.postgres._regex import pg_regex

__all__ = ["column_of", "compile_filters", "compile_tree"]

# Where each field of the catalogue (``lablens.contract.fields``) lives in the ``runs`` table.
_COLUMN_OF: dict[str, str] = {"group": "group_name"}
_JSON_COLUMN_OF: dict[str, str] = {"config": "config_flat", "summary": "summary"}


def column_of(field: Field) -> str:
    """The ``runs`` column holding ``field`` (for a JSON field, the flat object to look up)."""
    if field.kind == "json":
        return _JSON_COLUMN_OF[field.base]
    return _COLUMN_OF.get(field.base, field.base)


def compile_filters(
    filters: Mapping[str, Any] | None, *, alias: str = "r"
) -> tuple[str, list[Any]]:
    """Compile a MongoDB-style filter to a condition over ``runs AS alias`` and its parameters.

    ``None`` or ``{}`` give ``("TRUE", [])``. Raises ``InvalidFilter`` (with ``field`` the path
    of the bad part) for anything malformed, or a ``$regex`` PostgreSQL cannot match.
    """
    if not alias.isidentifier():
        raise ValueError(f"alias must be an SQL identifier, got {alias!r}")
    return compile_tree(parse_filters(filters), alias=alias)


def compile_tree(tree: Node, *, alias: str = "r") -> tuple[str, list[Any]]:
    """The condition of a parsed filter over ``runs AS alias``, and its parameters."""
    frag = _Compiler(alias).node(tree)
    return frag.sql, list(frag.params)


# --- SQL fragments -------------------------------------------------------------------------------


class _Frag(NamedTuple):
    """SQL text and the parameters of its ``%s`` placeholders, in textual order."""

    sql: str
    params: tuple[Any, ...] = ()


# A condition on one JSON element, given the SQL expression of that element.
_Pred = Callable[[str], _Frag]

_TRUE = _Frag("TRUE")
_FALSE = _Frag("FALSE")


def _p(value: Any, cast: str) -> _Frag:
    return _Frag(f"%s::{cast}", (value,))


def _cat(*parts: _Frag | str) -> _Frag:
    """Concatenate text and fragments; parameters follow the text order, as ``%s`` do."""
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
    # Safe because every leaf is two-valued: NOT never meets a NULL.
    return _cat("NOT (", part, ")")


def _two_valued(part: _Frag) -> _Frag:
    """NULL (a missing value) becomes FALSE, so that ``$not``, ``$ne`` and ``$nor`` can negate."""
    return _cat("COALESCE((", part, "), FALSE)")


# --- JSON values ---------------------------------------------------------------------------------

_SQL_OPS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def _num(x: str) -> str:
    return f"lablens_json_num({x})"


def _text(x: str) -> str:
    return f"lablens_json_text({x})"


def _null(x: str) -> str:
    return f"({x} IS NULL OR jsonb_typeof({x}) = 'null')"


def _json_eq_pred(value: JsonValue) -> _Pred:
    """A function from a JSON element's SQL to the condition "it equals ``value``"."""
    if value is None:
        return lambda x: _Frag(_null(x))
    if isinstance(value, bool):
        return lambda x: _cat(
            f"(CASE WHEN jsonb_typeof({x}) = 'boolean' THEN {x}::boolean END) = ",
            _p(value, "boolean"),
        )
    if isinstance(value, float):
        return lambda x: _cat(f"{_num(x)} = ", _p(value, "float8"))
    if isinstance(value, NumericText):
        return lambda x: _or(
            [
                _cat(f"{_text(x)} = ", _p(value.text, "text")),
                _cat(f"{_num(x)} = ", _p(value.number, "float8")),
            ]
        )
    return lambda x: _cat(f"{_text(x)} = ", _p(value, "text"))


def _json_compare_pred(op: str, value: float | str) -> _Pred:
    sql_op = _SQL_OPS[op]
    if isinstance(value, str):
        return lambda x: _cat(f'{_text(x)} COLLATE "C" {sql_op} ', _p(value, "text"))
    if math.isnan(value):
        # NaN is only "equal" to NaN; nothing is strictly above or below it.
        if op in ("$gte", "$lte"):
            return lambda x: _Frag(f"{_num(x)} = 'NaN'::float8")
        return lambda x: _FALSE
    # PostgreSQL orders NaN above +inf; IEEE (and MongoDB) say NaN is in no range.
    return lambda x: _cat(
        f"{_num(x)} {sql_op} ", _p(value, "float8"), f" AND {_num(x)} <> 'NaN'::float8"
    )


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
                    return _Frag(f"(cardinality({col}) = 0)")
                return _two_valued(_cat(f"{col} = ", _p(list(value), "text[]")))
            if value is None:
                return _FALSE  # tags are never null and never hold nulls
            return _two_valued(_cat(f"{col} @> ARRAY[", _p(value, "text"), "]"))
        if value is None:
            return _Frag(f"({col} IS NULL)")
        if field.kind == "state":
            return _two_valued(_cat(f"upper({col}) = ", _p(value.upper(), "text")))
        if field.kind == "time":
            return _two_valued(_cat(f"{col} = ", _p(value, "timestamptz")))
        return _two_valued(_cat(f"{col} = ", _p(value, "text")))

    def compare(self, field: Field, op: str, value: Any) -> _Frag:
        sql_op = _SQL_OPS[op]
        col = self.col(field)
        if field.kind == "json":
            return self.json_any(field, _json_compare_pred(op, value))
        if field.kind == "time":
            return _two_valued(_cat(f"{col} {sql_op} ", _p(value, "timestamptz")))
        if field.kind == "state":
            return _two_valued(
                _cat(f'upper({col}) COLLATE "C" {sql_op} ', _p(value.upper(), "text"))
            )
        if field.kind == "tags":
            # Any tag in range, as MongoDB does for arrays.
            return _cat(
                f"EXISTS (SELECT 1 FROM unnest({col}) AS _t(tag)",
                f' WHERE _t.tag COLLATE "C" {sql_op} ',
                _p(value, "text"),
                ")",
            )
        return _two_valued(_cat(f'{col} COLLATE "C" {sql_op} ', _p(value, "text")))

    def in_(self, field: Field, values: tuple[Any, ...]) -> _Frag:
        col = self.col(field)
        if field.kind == "json":
            preds = [_json_eq_pred(v) for v in values]
            return self.json_any(field, lambda x: _or([pred(x) for pred in preds]))
        if field.kind == "tags":
            if not values:
                return _FALSE
            return _two_valued(_cat(f"{col} && ", _p(list(values), "text[]")))
        parts: list[_Frag] = [_Frag(f"{col} IS NULL") for v in values if v is None][:1]
        keep = [v for v in values if v is not None]
        if keep:
            if field.kind == "state":
                target, cast, keep = f"upper({col})", "text[]", [v.upper() for v in keep]
            elif field.kind == "time":
                target, cast = col, "timestamptz[]"
            else:
                target, cast = col, "text[]"
            parts.insert(0, _cat(f"{target} = ANY(", _p(keep, cast), ")"))
        return _two_valued(_or(parts))

    def exists(self, field: Field) -> _Frag:
        col = self.col(field)
        if field.kind == "tags":
            return _Frag(f"(cardinality({col}) > 0)")
        if field.kind == "json":
            # The value itself, not its elements: an empty array exists.
            value = self.lookup(field)
            return _cat("NOT (", _sub(lambda x: _Frag(_null(x)), value), ")")
        return _Frag(f"({col} IS NOT NULL)")

    def regex(self, field: Field, pattern: str) -> _Frag:
        col = self.col(field)
        pg = pg_regex(pattern, field=field.name, ignore_case=field.kind == "state")
        # The database's own collation, not the columns' "C": case-blind matching then folds
        # beyond ASCII, as RE2 does.
        if field.kind == "json":
            return self.json_any(
                field, lambda x: _cat(f'{_text(x)} COLLATE "default" ~ ', _p(pg, "text"))
            )
        if field.kind == "tags":
            return _cat(
                f'EXISTS (SELECT 1 FROM unnest({col}) AS _t(tag) WHERE _t.tag COLLATE "default" ~ ',
                _p(pg, "text"),
                ")",
            )
        return _two_valued(_cat(f'{col} COLLATE "default" ~ ', _p(pg, "text")))

    # JSON values.

    def lookup(self, field: Field) -> _Frag:
        """The field's JSON value; with a W&B fallback key, the first key holding a non-null."""
        col = self.col(field)
        lookups = [_cat(f"{col} -> ", _p(k, "text")) for k in field.keys]
        if len(lookups) == 1:
            return lookups[0]
        first = _cat("NULLIF(", lookups[0], ", 'null'::jsonb)")
        return _cat("COALESCE(", first, ", ", lookups[1], ")")

    def json_any(self, field: Field, pred: _Pred) -> _Frag:
        """``pred`` holds for the value, or for any element when the value is an array."""
        # Not an array: the value itself, the one element (a missing key is SQL NULL, which the
        # "missing or null" predicates see); an empty array has no element. The elements go
        # through a subquery only for an array: per row, a subquery costs several times the
        # predicate.
        value = self.lookup(field)
        return _cat(
            "(CASE WHEN jsonb_typeof(",
            value,
            ") = 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(",
            value,
            ") AS _e(x) WHERE ",
            pred("_e.x"),
            ") ELSE COALESCE(",
            _sub(pred, value),
            ", FALSE) END)",
        )

    def json_array_eq(self, field: Field, items: tuple[JsonValue, ...]) -> _Frag:
        """A list given to ``$eq`` matches a stored array with equal elements, in order."""
        value = self.lookup(field)
        parts: list[_Frag] = [_cat("jsonb_array_length(", value, f") = {len(items)}")]
        for i, item in enumerate(items):
            parts.append(_sub(_json_eq_pred(item), _cat("(", value, f" -> {i})")))
        return _cat(
            "(CASE WHEN jsonb_typeof(",
            value,
            ") = 'array' THEN COALESCE((",
            _and(parts),
            "), FALSE) ELSE FALSE END)",
        )


_HOLE = "\x00"


def _sub(pred: _Pred, value: _Frag) -> _Frag:
    """``pred`` applied to an SQL expression that has parameters of its own: the predicate is
    built on a placeholder, then the expression (and its parameters) put in its place."""
    frag = pred(_HOLE)
    pieces = frag.sql.split(_HOLE)
    out: list[_Frag | str] = []
    params = list(frag.params)
    # The predicate's own parameters sit between the holes, in text order.
    for i, piece in enumerate(pieces):
        count = piece.count("%s")
        out.append(_Frag(piece, tuple(params[:count])))
        params = params[count:]
        if i < len(pieces) - 1:
            out += ["(", value, ")"]
    return _cat(*out)
