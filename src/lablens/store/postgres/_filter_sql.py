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

The walk over the tree is the engines' common one (``lablens.store.filter_sql``); this module
writes each operator on each field in PostgreSQL's SQL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from lablens.store.filter_sql import (
    FALSE,
    TRUE,
    FilterCompiler,
    Frag,
    Pred,
    and_,
    cat,
    column_of,
    compile_with,
    or_,
    two_valued,
)
from lablens.store.filter_tree import (
    Field,
    JsonValue,
    NumericText,
)
from lablens.store.postgres._regex import pg_regex

__all__ = ["column_of", "compile_filters"]


def _p(value: Any, cast: str) -> Frag:
    return Frag(f"%s::{cast}", (value,))


def compile_filters(
    filters: Mapping[str, Any] | None, *, alias: str = "r"
) -> tuple[str, list[Any]]:
    """Compile a MongoDB-style filter to a condition over ``runs AS alias`` and its parameters.

    ``None`` or ``{}`` give ``("TRUE", [])``. Raises ``InvalidFilter`` (with ``field`` the path
    of the bad part) for anything malformed, or a ``$regex`` PostgreSQL cannot match.
    """
    return compile_with(_Compiler, filters, alias)


# --- JSON values ---------------------------------------------------------------------------------

_SQL_OPS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def _num(x: str) -> str:
    return f"lablens_json_num({x})"


def _text(x: str) -> str:
    return f"lablens_json_text({x})"


def _null(x: str) -> str:
    return f"({x} IS NULL OR jsonb_typeof({x}) = 'null')"


def _json_eq_pred(value: JsonValue) -> Pred:
    """A function from a JSON element's SQL to the condition "it equals ``value``"."""
    if value is None:
        return lambda x: Frag(_null(x))
    if isinstance(value, bool):
        return lambda x: cat(
            f"(CASE WHEN jsonb_typeof({x}) = 'boolean' THEN {x}::boolean END) = ",
            _p(value, "boolean"),
        )
    if isinstance(value, float):
        return lambda x: cat(f"{_num(x)} = ", _p(value, "float8"))
    if isinstance(value, NumericText):
        return lambda x: or_(
            [
                cat(f"{_text(x)} = ", _p(value.text, "text")),
                cat(f"{_num(x)} = ", _p(value.number, "float8")),
            ]
        )
    return lambda x: cat(f"{_text(x)} = ", _p(value, "text"))


def _json_compare_pred(op: str, value: float | str) -> Pred:
    sql_op = _SQL_OPS[op]
    if isinstance(value, str):
        return lambda x: cat(f'{_text(x)} COLLATE "C" {sql_op} ', _p(value, "text"))
    if math.isnan(value):
        # NaN is only "equal" to NaN; nothing is strictly above or below it.
        if op in ("$gte", "$lte"):
            return lambda x: Frag(f"{_num(x)} = 'NaN'::float8")
        return lambda x: FALSE
    # PostgreSQL orders NaN above +inf; IEEE (and MongoDB) say NaN is in no range.
    return lambda x: cat(
        f"{_num(x)} {sql_op} ", _p(value, "float8"), f" AND {_num(x)} <> 'NaN'::float8"
    )


# --- the compiler --------------------------------------------------------------------------------


class _Compiler(FilterCompiler):
    # One operator on one field; each returns a condition that is never NULL.

    def eq(self, field: Field, value: Any) -> Frag:
        col = self.col(field)
        if field.kind == "json":
            if isinstance(value, tuple):
                return self.json_array_eq(field, value)
            return self.json_any(field, _json_eq_pred(value))
        if field.kind == "tags":
            if isinstance(value, tuple):
                if not value:
                    return Frag(f"(cardinality({col}) = 0)")
                return two_valued(cat(f"{col} = ", _p(list(value), "text[]")))
            if value is None:
                return FALSE  # tags are never null and never hold nulls
            return two_valued(cat(f"{col} @> ARRAY[", _p(value, "text"), "]"))
        if value is None:
            return Frag(f"({col} IS NULL)")
        if field.kind == "state":
            return two_valued(cat(f"upper({col}) = ", _p(value.upper(), "text")))
        if field.kind == "time":
            return two_valued(cat(f"{col} = ", _p(value, "timestamptz")))
        return two_valued(cat(f"{col} = ", _p(value, "text")))

    def compare(self, field: Field, op: str, value: Any) -> Frag:
        sql_op = _SQL_OPS[op]
        col = self.col(field)
        if field.kind == "json":
            return self.json_any(field, _json_compare_pred(op, value))
        if field.kind == "time":
            return two_valued(cat(f"{col} {sql_op} ", _p(value, "timestamptz")))
        if field.kind == "state":
            return two_valued(cat(f'upper({col}) COLLATE "C" {sql_op} ', _p(value.upper(), "text")))
        if field.kind == "tags":
            # Any tag in range, as MongoDB does for arrays.
            return cat(
                f"EXISTS (SELECT 1 FROM unnest({col}) AS _t(tag)",
                f' WHERE _t.tag COLLATE "C" {sql_op} ',
                _p(value, "text"),
                ")",
            )
        return two_valued(cat(f'{col} COLLATE "C" {sql_op} ', _p(value, "text")))

    def in_(self, field: Field, values: tuple[Any, ...]) -> Frag:
        col = self.col(field)
        if field.kind == "json":
            preds = [_json_eq_pred(v) for v in values]
            return self.json_any(field, lambda x: or_([pred(x) for pred in preds]))
        if field.kind == "tags":
            if not values:
                return FALSE
            return two_valued(cat(f"{col} && ", _p(list(values), "text[]")))
        parts: list[Frag] = [Frag(f"{col} IS NULL") for v in values if v is None][:1]
        keep = [v for v in values if v is not None]
        if keep:
            if field.kind == "state":
                target, cast, keep = f"upper({col})", "text[]", [v.upper() for v in keep]
            elif field.kind == "time":
                target, cast = col, "timestamptz[]"
            else:
                target, cast = col, "text[]"
            parts.insert(0, cat(f"{target} = ANY(", _p(keep, cast), ")"))
        return two_valued(or_(parts))

    def exists(self, field: Field) -> Frag:
        col = self.col(field)
        if field.kind == "tags":
            # Every run has its tags, a list, empty or not; MongoDB counts an empty array as
            # existing. "At least one tag" is {"tags": {"$ne": []}}.
            return TRUE
        if field.kind == "json":
            # The value itself, not its elements: an empty array exists.
            value = self.lookup(field)
            return cat("NOT (", _sub(lambda x: Frag(_null(x)), value), ")")
        return Frag(f"({col} IS NOT NULL)")

    def regex(self, field: Field, pattern: str) -> Frag:
        col = self.col(field)
        pg = pg_regex(pattern, field=field.name, ignore_case=field.kind == "state")
        # The database's own collation, not the columns' "C": case-blind matching then folds
        # beyond ASCII, as RE2 does.
        if field.kind == "json":
            return self.json_any(
                field, lambda x: cat(f'{_text(x)} COLLATE "default" ~ ', _p(pg, "text"))
            )
        if field.kind == "tags":
            return cat(
                f'EXISTS (SELECT 1 FROM unnest({col}) AS _t(tag) WHERE _t.tag COLLATE "default" ~ ',
                _p(pg, "text"),
                ")",
            )
        return two_valued(cat(f'{col} COLLATE "default" ~ ', _p(pg, "text")))

    # JSON values.

    def lookup(self, field: Field) -> Frag:
        """The field's JSON value; with a W&B fallback key, the first key holding a non-null."""
        col = self.col(field)
        lookups = [cat(f"{col} -> ", _p(k, "text")) for k in field.keys]
        if len(lookups) == 1:
            return lookups[0]
        first = cat("NULLIF(", lookups[0], ", 'null'::jsonb)")
        return cat("COALESCE(", first, ", ", lookups[1], ")")

    def json_any(self, field: Field, pred: Pred) -> Frag:
        """``pred`` holds for the value, or for any element when the value is an array."""
        # Not an array: the value itself, the one element (a missing key is SQL NULL, which the
        # "missing or null" predicates see); an empty array has no element. The elements go
        # through a subquery only for an array: per row, a subquery costs several times the
        # predicate.
        value = self.lookup(field)
        return cat(
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

    def json_array_eq(self, field: Field, items: tuple[JsonValue, ...]) -> Frag:
        """A list given to ``$eq`` matches a stored array with equal elements, in order."""
        value = self.lookup(field)
        parts: list[Frag] = [cat("jsonb_array_length(", value, f") = {len(items)}")]
        for i, item in enumerate(items):
            parts.append(_sub(_json_eq_pred(item), cat("(", value, f" -> {i})")))
        return cat(
            "(CASE WHEN jsonb_typeof(",
            value,
            ") = 'array' THEN COALESCE((",
            and_(parts),
            "), FALSE) ELSE FALSE END)",
        )


_HOLE = "\x00"


def _sub(pred: Pred, value: Frag) -> Frag:
    """``pred`` applied to an SQL expression that has parameters of its own: the predicate is
    built on a placeholder, then the expression (and its parameters) put in its place."""
    frag = pred(_HOLE)
    pieces = frag.sql.split(_HOLE)
    out: list[Frag | str] = []
    params = list(frag.params)
    # The predicate's own parameters sit between the holes, in text order.
    for i, piece in enumerate(pieces):
        count = piece.count("%s")
        out.append(Frag(piece, tuple(params[:count])))
        params = params[count:]
        if i < len(pieces) - 1:
            out += ["(", value, ")"]
    return cat(*out)
