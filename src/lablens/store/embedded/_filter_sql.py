"""A parsed run filter (:mod:`lablens.store.filter_tree`) as a DuckDB condition over ``runs``.

:func:`compile_filters` parses and compiles in one call: SQL text with ``?`` placeholders and the
parameters that go with them; user values only ever travel as parameters. Every condition is
two-valued (never SQL NULL), so ``NOT`` can negate it: a missing value is "not equal" to anything.
The walk over the tree is the engines' common one (``lablens.store.filter_sql``); this module
writes each operator on each field in DuckDB's SQL.
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

__all__ = ["column_of", "compile_filters", "json_keys", "json_path"]


def json_path(key: str) -> str:
    """The DuckDB JSON path of one key of a flat object, quoted so dots stay part of the key."""
    # Inside $."..." DuckDB unescapes \\ and \" only; escaping the backslash first keeps a key
    # like 'a\"b' from closing the quote early.
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _p(value: Any) -> Frag:
    return Frag("?", (value,))


def compile_filters(
    filters: Mapping[str, Any] | None,
    *,
    alias: str = "r",
    looked_up: Mapping[tuple[str, str], str] | None = None,
) -> tuple[str, list[Any]]:
    """Compile a MongoDB-style filter to a SQL condition over ``runs AS alias`` and its parameters.

    ``None`` or ``{}`` give ``("TRUE", [])``. User values only ever travel as ``?`` parameters.
    Raises ``InvalidFilter`` (with ``field`` the path of the bad part) for anything malformed.

    ``looked_up`` maps ``(base, key)`` (``("config", "lr")``) to SQL that holds that key's JSON
    value as ``json_extract`` gives it, read beforehand; those keys are not looked up in each
    run's JSON object again (the run table keeps them, ``store/run_table_values.py``).
    """
    if looked_up:
        compiler = type("_LookedUp", (_Compiler,), {"looked_up": dict(looked_up)})
        return compile_with(compiler, filters, alias)
    return compile_with(_Compiler, filters, alias)


def json_keys(filters: Mapping[str, Any] | None) -> tuple[list[tuple[str, str]], bool]:
    """The ``(base, key)`` of every JSON key ``filters`` look up (``("config", "lr")``), in
    the order first met, and whether they look at nothing else (then the condition is a
    function of those keys' values alone). Raises ``InvalidFilter`` as ``compile_filters``."""
    seen: dict[tuple[str, str], None] = {}
    kinds: set[str] = set()
    compiler = type("_Seen", (_Compiler,), {"seen": seen, "kinds": kinds})
    compile_with(compiler, filters, "r")
    return list(seen), kinds <= {"json"}


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


def _json_eq_pred(value: JsonValue) -> Pred:
    """A function from a JSON element's SQL to the condition "it equals ``value``"."""
    if value is None:
        return lambda x: Frag(_json_null(x))
    if isinstance(value, bool):
        return lambda x: cat(_json_bool(x), " = ", _p(value))
    if isinstance(value, float):
        return lambda x: cat(_json_num(x), " = ", _p(value))
    if isinstance(value, NumericText):
        return lambda x: or_(
            [
                cat(_json_text(x), " = ", _p(value.text)),
                cat(_json_num(x), " = ", _p(value.number)),
            ]
        )
    return lambda x: cat(_json_text(x), " = ", _p(value))


def _json_compare_pred(op: str, value: float | str) -> Pred:
    sql_op = _SQL_OPS[op]
    if isinstance(value, str):
        return lambda x: cat(_json_text(x), f" {sql_op} ", _p(value))
    if math.isnan(value):
        # NaN is only "equal" to NaN; nothing is strictly above or below it.
        if op in ("$gte", "$lte"):
            return lambda x: Frag(f"isnan({_json_num(x)})")
        return lambda x: FALSE
    # DuckDB orders NaN above +inf; IEEE (and MongoDB) say NaN is in no range.
    return lambda x: cat(_json_num(x), f" {sql_op} ", _p(value), f" AND NOT isnan({_json_num(x)})")


# --- the compiler --------------------------------------------------------------------------------


class _Compiler(FilterCompiler):
    #: JSON values read beforehand, by ``(base, key)`` (see ``compile_filters``).
    looked_up: Mapping[tuple[str, str], str] = {}
    #: When set, every ``(base, key)`` looked up is noted in it (``json_keys``)...
    seen: dict[tuple[str, str], None] | None = None
    #: ... and the kind of every field compiled in this.
    kinds: set[str] | None = None

    def col(self, field: Field) -> str:
        if self.kinds is not None:
            self.kinds.add(field.kind)
        return super().col(field)

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
                    return Frag(f"(len({col}) = 0)")
                return two_valued(cat(f"{col} = ", _p(list(value)), "::VARCHAR[]"))
            if value is None:
                return FALSE  # tags are never null and never hold nulls
            return two_valued(cat(f"list_contains({col}, ", _p(value), ")"))
        if value is None:
            return Frag(f"({col} IS NULL)")
        if field.kind == "state":
            return two_valued(cat(f"upper({col}) = ", _p(value.upper())))
        return two_valued(cat(f"{col} = ", _p(value)))

    def compare(self, field: Field, op: str, value: Any) -> Frag:
        sql_op = _SQL_OPS[op]
        col = self.col(field)
        if field.kind == "json":
            return self.json_any(field, _json_compare_pred(op, value))
        if field.kind == "state":
            return two_valued(cat(f"upper({col}) {sql_op} ", _p(value.upper())))
        if field.kind == "tags":
            # Any tag in range, as MongoDB does for arrays.
            return two_valued(
                cat(f"list_bool_or(list_transform({col}, lambda _t: _t {sql_op} ", _p(value), "))")
            )
        return two_valued(cat(f"{col} {sql_op} ", _p(value)))

    def in_(self, field: Field, values: tuple[Any, ...]) -> Frag:
        col = self.col(field)
        if field.kind == "json":
            preds = [_json_eq_pred(v) for v in values]
            return self.json_any(field, lambda x: or_([pred(x) for pred in preds]))
        if field.kind == "tags":
            if not values:
                return FALSE
            return two_valued(cat(f"list_has_any({col}, ", _p(list(values)), "::VARCHAR[])"))
        parts: list[Frag] = [Frag(f"{col} IS NULL") for v in values if v is None]
        keep = [v for v in values if v is not None]
        if field.kind == "state":
            keep = [v.upper() for v in keep]
        if keep:
            target = f"upper({col})" if field.kind == "state" else col
            holders = ", ".join("?" for _ in keep)
            parts.insert(0, Frag(f"{target} IN ({holders})", tuple(keep)))
        return two_valued(or_(parts))

    def exists(self, field: Field) -> Frag:
        col = self.col(field)
        if field.kind == "tags":
            # Every run has its tags, a list, empty or not; MongoDB counts an empty array as
            # existing. "At least one tag" is {"tags": {"$ne": []}}.
            return TRUE
        if field.kind == "json":
            return two_valued(
                cat(
                    "list_transform([",
                    self.json_value(field),
                    "], lambda _v: NOT ",
                    _json_null("_v"),
                    ")[1]",
                )
            )
        return Frag(f"({col} IS NOT NULL)")

    def regex(self, field: Field, pattern: str) -> Frag:
        col = self.col(field)
        if field.kind == "json":
            return self.json_any(
                field, lambda x: cat("regexp_matches(", _json_text(x), ", ", _p(pattern), ")")
            )
        if field.kind == "tags":
            return two_valued(
                cat(
                    f"list_bool_or(list_transform({col}, lambda _t: regexp_matches(_t, ",
                    _p(pattern),
                    ")))",
                )
            )
        # States are stored upper case but written in any case.
        flags = ", 'i'" if field.kind == "state" else ""
        return two_valued(cat(f"regexp_matches({col}, ", _p(pattern), f"{flags})"))

    # JSON values.

    def json_lookup(self, field: Field, key: str) -> Frag:
        """The JSON value of one key of the field's object (NULL when missing)."""
        if self.seen is not None:
            self.seen[(field.base, key)] = None
        if (field.base, key) in self.looked_up:
            return Frag(self.looked_up[(field.base, key)])
        return cat(f"json_extract({self.col(field)}, ", _p(json_path(key)), ")")

    def json_value(self, field: Field) -> Frag:
        """The field's JSON value; with a W&B fallback key, the first key holding a non-null."""
        lookups = [self.json_lookup(field, k) for k in field.keys]
        if len(lookups) == 1:
            return lookups[0]
        first = cat("NULLIF(", lookups[0], ", 'null'::JSON)")
        return cat("COALESCE(", first, ", ", lookups[1], ")")

    def json_any(self, field: Field, pred: Pred) -> Frag:
        """``pred`` holds for the value, or for any element when the value is an array."""
        # The outer lambda binds the looked-up value once (DuckDB has no LET); the inner one
        # visits the elements, or the value itself when it is not an array. A missing key is
        # [NULL], so "missing or null" predicates see it.
        elements = "CASE WHEN json_type(_v) = 'ARRAY' THEN json_extract(_v, '$[*]') ELSE [_v] END"
        return two_valued(
            cat(
                "list_transform([",
                self.json_value(field),
                f"], lambda _v: list_bool_or(list_transform({elements}, lambda _x: ",
                pred("_x"),
                ")))[1]",
            )
        )

    def json_array_eq(self, field: Field, items: tuple[JsonValue, ...]) -> Frag:
        """A list given to ``$eq`` matches a stored array with equal elements, in order."""
        parts: list[Frag] = [Frag(f"json_array_length(_v) = {len(items)}")]
        for i, item in enumerate(items):
            parts.append(_json_eq_pred(item)(f"json_extract(_v, '$[{i}]')"))
        body = and_([Frag("json_type(_v) = 'ARRAY'"), *parts])
        return two_valued(
            cat("list_transform([", self.json_value(field), "], lambda _v: ", body, ")[1]")
        )
