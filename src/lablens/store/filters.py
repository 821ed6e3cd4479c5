"""MongoDB-style run filters, compiled to a DuckDB condition over the ``runs`` table.

``compile_filters({"state": "finished", "config.lr": {"$lt": 0.1}})`` returns SQL text with ``?``
placeholders and the parameters that go with it. The language is MongoDB's query language on a
flat document:

- top level: ``$and``, ``$or``, ``$nor`` (non-empty lists of filters), ``$not`` (a filter); several
  keys in one object are ANDed;
- per field: ``$eq $ne $gt $gte $lt $lte $in $nin $exists $regex`` (``$options`` with ``i``, ``m``,
  ``s`` may go along with ``$regex``) and ``$not`` (an object of operators); a plain value means
  ``$eq``; several operators on one field are ANDed.

Fields are the run's columns under the names W&B and SwanLab use, ``config.<key>`` (the flattened
config, so ``config.data.bs`` is the key ``"data.bs"``) and ``summary_metrics.<key>`` /
``summary.<key>`` (``FIELD_HELP`` lists them all); :func:`resolve_field` maps a name to its column,
and ``lablens.store.ordering`` sorts on the same fields.

Semantics worth knowing, all as in MongoDB unless said otherwise:

- Every condition is two-valued (never SQL NULL), so ``$not``, ``$ne``, ``$nin`` and ``$nor`` match
  runs where the field is missing: a missing value is "not equal" to anything.
- Arrays match when any element matches (``tags``, and JSON values that are arrays such as
  ``config.layers = [64, 32]``); ``$ne``/``$nin`` match when no element does. A list given to
  ``$eq`` matches the whole array instead.
- ``state`` compares case-insensitively (W&B says ``"finished"``, SwanLab ``"FINISHED"``).
- Times (``created_at`` ...) take ISO 8601 strings or datetimes; a time without an offset is UTC.
- JSON values: a number compares numerically with stored numbers (a stored string ``"64"`` is
  text, so ``64`` does not match it), and the strings ``"NaN"``, ``"Infinity"`` and
  ``"-Infinity"`` stored for non-finite floats count as those numbers, not as text. A string
  compares as text, except that for ``$eq``/``$ne``/``$in``/``$nin`` a string that reads as a number
  also matches that number, so SwanLab's ``{"config.batch_size": "64"}`` finds a stored ``64``. A
  bool matches JSON ``true``/``false`` only (``True`` is not ``1``). ``None`` matches a missing key
  or a JSON null. Range operators never match NaN unless the bound is NaN itself (``$gte``/``$lte``
  NaN then match NaN), as with IEEE comparisons.
- ``$exists: true`` means "present and not null" (a deviation from MongoDB, which counts a stored
  null as present): W&B and SwanLab write ``None`` for unset config values, and this way
  ``{"$exists": False}`` is exactly ``{"$eq": None}``. On ``tags`` it means "at least one tag".
- ``$regex`` is a search (a match anywhere, as in MongoDB) with RE2 syntax, which is Python's
  ``re`` without lookaround and backreferences; it applies to text only.
- A W&B key ending in ``.value`` (``config.lr.value``) looks up ``lr.value`` and, when that holds
  nothing, ``lr``; ``config.data.value.bs`` falls back to ``data.bs`` the same way.

Every mistake raises :class:`~lablens.store.errors.InvalidFilter` with ``field`` naming the bad part
from the root ``filters`` (``filters.$and[1].config.lr.$gt``) and a message saying what is allowed.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal, NamedTuple

import duckdb

from lablens.contract.fields import FIELD_HELP, JSON_PREFIXES, canonical_field
from lablens.store.errors import InvalidFilter

__all__ = ["FIELD_HELP", "Field", "FieldKind", "compile_filters", "json_path", "resolve_field"]

FieldKind = Literal["text", "state", "time", "tags", "json"]  # the catalogue's kinds and json


@dataclass(frozen=True)
class Field:
    """Where a filter or sort field lives in the ``runs`` table and how it compares.

    ``kind`` is ``text`` (a VARCHAR column), ``state``, ``time`` (TIMESTAMPTZ), ``tags``
    (VARCHAR[]) or ``json``; for ``json``, ``keys`` are the keys to look up in ``column``, the one
    as written first and then the W&B fallback without ``.value``.
    """

    name: str
    kind: FieldKind
    column: str
    keys: tuple[str, ...] = ()


# Where each field of the catalogue (``lablens.contract.fields``) lives in the ``runs`` table.
_COLUMN_OF: dict[str, str] = {"group": "group_name"}
_JSON_COLUMN_OF: dict[str, str] = {"config": "config_flat", "summary": "summary"}


def resolve_field(name: str) -> Field | None:
    """Return where the field ``name`` lives, or ``None`` when there is no such field."""
    plain = canonical_field(name)
    if plain is not None:
        return Field(name, plain.kind, _COLUMN_OF.get(plain.name, plain.name))
    for prefix, document in JSON_PREFIXES.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            column = _JSON_COLUMN_OF[document]
            return Field(name, "json", column, _key_variants(name[len(prefix) :]))
    return None


def _key_variants(key: str) -> tuple[str, ...]:
    """The key as written, then W&B's spelling without ``.value`` (``lr.value`` -> ``lr``)."""
    if key.endswith(".value") and len(key) > len(".value"):
        return key, key[: -len(".value")]
    if ".value." in key:
        return key, key.replace(".value.", ".", 1)
    return (key,)


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
    if filters is None:
        return "TRUE", []
    if not isinstance(filters, Mapping):
        raise InvalidFilter(
            f'filters must be an object like {{"state": "finished"}}, got {_describe(filters)}',
            field="filters",
        )
    frag = _Compiler(alias).document(filters, "filters")
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


# --- the compiler --------------------------------------------------------------------------------

_LOGICAL = ("$and", "$or", "$nor", "$not")
_COMPARISONS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
# fmt: off
_FIELD_OPERATORS = (
    "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$regex", "$options",
    "$not",
)
# fmt: on
_REGEX_OPTIONS = "ims"

# JSON numbers, plus the strings the store writes for non-finite floats.
_NONFINITE = "('NaN', 'Infinity', '-Infinity')"
_NUMBER_TYPES = "('UBIGINT', 'BIGINT', 'HUGEINT', 'DOUBLE')"
# A string that reads as a number (SwanLab sends '64' for 64); Python's float() also takes
# '1_000' and ' 64', which are not numbers to a person, so match the plain forms only.
_NUMERIC_STRING = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.IGNORECASE
)


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


class _Compiler:
    def __init__(self, alias: str) -> None:
        self.alias = alias

    # Documents and logical operators.

    def document(self, doc: Any, path: str) -> _Frag:
        if not isinstance(doc, Mapping):
            raise InvalidFilter(
                f"expected an object of conditions, got {_describe(doc)}", field=path
            )
        parts: list[_Frag] = []
        for key, value in doc.items():
            if not isinstance(key, str):
                raise InvalidFilter(f"keys must be strings, got {key!r}", field=path)
            sub = f"{path}.{key}"
            if key.startswith("$"):
                parts.append(self.logical(key, value, sub))
            else:
                parts.append(self.field(key, value, sub))
        return _and(parts)

    def logical(self, op: str, value: Any, path: str) -> _Frag:
        if op == "$not":
            if not isinstance(value, Mapping) or not value:
                raise InvalidFilter(
                    "$not at the top level takes a non-empty filter object, "
                    f"got {_describe(value)}",
                    field=path,
                )
            return _not(self.document(value, path))
        if op not in _LOGICAL:
            raise InvalidFilter(
                f"unknown top-level operator {op!r}; allowed: {', '.join(_LOGICAL)} "
                f'(comparison operators go under a field: {{"config.lr": {{"$gt": 0.1}}}})',
                field=path,
            )
        if not isinstance(value, list | tuple) or not value:
            raise InvalidFilter(
                f"{op} takes a non-empty list of filter objects, got {_describe(value)}",
                field=path,
            )
        parts = [self.document(item, f"{path}[{i}]") for i, item in enumerate(value)]
        if op == "$and":
            return _and(parts)
        if op == "$or":
            return _or(parts)
        return _not(_or(parts))  # $nor

    # Fields.

    def field(self, name: str, value: Any, path: str) -> _Frag:
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
            return self.operators(field, value, path)
        return self.eq(field, value, path)

    def operators(self, field: Field, ops: Mapping[str, Any], path: str) -> _Frag:
        if "$options" in ops and "$regex" not in ops:
            raise InvalidFilter("$options only goes with $regex", field=f"{path}.$options")
        parts: list[_Frag] = []
        for op, arg in ops.items():
            sub = f"{path}.{op}"
            if op == "$options":
                continue  # read along with $regex
            if op == "$not":
                if not isinstance(arg, Mapping) or not arg:
                    raise InvalidFilter(
                        '$not on a field takes an object of operators like {"$gt": 3}, '
                        f"got {_describe(arg)}",
                        field=sub,
                    )
                bad = [k for k in arg if not (isinstance(k, str) and k.startswith("$"))]
                if bad:
                    raise InvalidFilter(
                        f"unknown operator {bad[0]!r}; allowed: {', '.join(_FIELD_OPERATORS)}",
                        field=f"{sub}.{bad[0]}",
                    )
                parts.append(_not(self.operators(field, arg, sub)))
            elif op == "$eq":
                parts.append(self.eq(field, arg, sub))
            elif op == "$ne":
                parts.append(_not(self.eq(field, arg, sub)))
            elif op in _COMPARISONS:
                parts.append(self.compare(field, op, arg, sub))
            elif op in ("$in", "$nin"):
                part = self.in_(field, arg, sub)
                parts.append(part if op == "$in" else _not(part))
            elif op == "$exists":
                if not isinstance(arg, bool):
                    raise InvalidFilter(
                        f"$exists takes true or false, got {_describe(arg)}", field=sub
                    )
                part = self.exists(field)
                parts.append(part if arg else _not(part))
            elif op == "$regex":
                parts.append(self.regex(field, arg, ops.get("$options"), sub, path))
            else:
                raise InvalidFilter(
                    f"unknown operator {op!r}; allowed: {', '.join(_FIELD_OPERATORS)}",
                    field=sub,
                )
        return _and(parts)

    # One operator on one field; each returns a condition that is never NULL.

    def col(self, field: Field) -> str:
        return f"{self.alias}.{field.column}"

    def eq(self, field: Field, value: Any, path: str) -> _Frag:
        col = self.col(field)
        if field.kind == "json":
            if isinstance(value, list | tuple):
                return self.json_array_eq(field, list(value), path)
            return self.json_any(field, self.json_eq_pred(value, path))
        if field.kind == "tags":
            if isinstance(value, list | tuple):
                items = [_text_value(v, f"{path}[{i}]", field) for i, v in enumerate(value)]
                if not items:
                    return _Frag(f"(len({col}) = 0)")
                return _two_valued(_cat(f"{col} = ", _p(items), "::VARCHAR[]"))
            if value is None:
                return _FALSE  # tags are never null and never hold nulls
            return _two_valued(
                _cat(f"list_contains({col}, ", _p(_text_value(value, path, field)), ")")
            )
        if value is None:
            return _Frag(f"({col} IS NULL)")
        if field.kind == "time":
            return _two_valued(_cat(f"{col} = ", _p(_time_value(value, path))))
        text = _text_value(value, path, field)
        if field.kind == "state":
            return _two_valued(_cat(f"upper({col}) = ", _p(text.upper())))
        return _two_valued(_cat(f"{col} = ", _p(text)))

    def compare(self, field: Field, op: str, value: Any, path: str) -> _Frag:
        sql_op = _COMPARISONS[op]
        col = self.col(field)
        if isinstance(value, Mapping | list | tuple) or value is None or isinstance(value, bool):
            allowed = "a time" if field.kind == "time" else "a number or a string"
            raise InvalidFilter(f"{op} takes {allowed}, got {_describe(value)}", field=path)
        if field.kind == "json":
            return self.json_any(field, _json_compare_pred(op, value, path))
        if field.kind == "time":
            return _two_valued(_cat(f"{col} {sql_op} ", _p(_time_value(value, path))))
        text = _text_value(value, path, field, what=f"{op} on {field.name}")
        if field.kind == "state":
            return _two_valued(_cat(f"upper({col}) {sql_op} ", _p(text.upper())))
        if field.kind == "tags":
            # Any tag in range, as MongoDB does for arrays.
            return _two_valued(
                _cat(f"list_bool_or(list_transform({col}, lambda _t: _t {sql_op} ", _p(text), "))")
            )
        return _two_valued(_cat(f"{col} {sql_op} ", _p(text)))

    def in_(self, field: Field, values: Any, path: str) -> _Frag:
        op = path.rsplit(".", 1)[-1]
        if not isinstance(values, list | tuple):
            raise InvalidFilter(f"{op} takes a list of values, got {_describe(values)}", field=path)
        for i, v in enumerate(values):
            if isinstance(v, Mapping | list | tuple):
                raise InvalidFilter(
                    f"{op} takes a list of plain values, got {_describe(v)} in it",
                    field=f"{path}[{i}]",
                )
        col = self.col(field)
        if field.kind == "json":
            preds = [self.json_eq_pred(v, f"{path}[{i}]") for i, v in enumerate(values)]
            return self.json_any(field, lambda x: _or([pred(x) for pred in preds]))
        if field.kind == "tags":
            items = [
                _text_value(v, f"{path}[{i}]", field)
                for i, v in enumerate(values)
                if v is not None  # no tag is null
            ]
            if not items:
                return _FALSE
            return _two_valued(_cat(f"list_has_any({col}, ", _p(items), "::VARCHAR[])"))
        parts: list[_Frag] = []
        keep: list[Any] = []
        for i, v in enumerate(values):
            if v is None:
                parts.append(_Frag(f"{col} IS NULL"))
            elif field.kind == "time":
                keep.append(_time_value(v, f"{path}[{i}]"))
            elif field.kind == "state":
                keep.append(_text_value(v, f"{path}[{i}]", field).upper())
            else:
                keep.append(_text_value(v, f"{path}[{i}]", field))
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

    def regex(self, field: Field, pattern: Any, options: Any, path: str, field_path: str) -> _Frag:
        if not isinstance(pattern, str):
            raise InvalidFilter(
                f"$regex takes a regular expression string, got {_describe(pattern)}", field=path
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
        error = _regex_error(pattern)
        if error is not None:
            raise InvalidFilter(
                f"not a valid regular expression ({error}); the syntax is RE2: Python's re "
                "without lookaround or backreferences",
                field=path,
            )
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

    def json_array_eq(self, field: Field, items: list[Any], path: str) -> _Frag:
        """A list given to ``$eq`` matches a stored array with equal elements, in order."""
        parts: list[_Frag] = [_Frag(f"json_array_length(_v) = {len(items)}")]
        for i, item in enumerate(items):
            pred = self.json_eq_pred(item, f"{path}[{i}]")
            parts.append(pred(f"json_extract(_v, '$[{i}]')"))
        body = _and([_Frag("json_type(_v) = 'ARRAY'"), *parts])
        return _two_valued(
            _cat("list_transform([", self.json_value(field), "], lambda _v: ", body, ")[1]")
        )

    def json_eq_pred(self, value: Any, path: str) -> _Pred:
        """A function from a JSON element's SQL to the condition "it equals ``value``"."""
        if value is None:
            return lambda x: _Frag(_json_null(x))
        if isinstance(value, bool):
            return lambda x: _cat(_json_bool(x), " = ", _p(value))
        if isinstance(value, int | float):
            number = _float(value, path)
            return lambda x: _cat(_json_num(x), " = ", _p(number))
        if isinstance(value, str):
            number = _parse_number(value)
            if number is None:
                return lambda x: _cat(_json_text(x), " = ", _p(value))
            return lambda x: _or(
                [_cat(_json_text(x), " = ", _p(value)), _cat(_json_num(x), " = ", _p(number))]
            )
        if isinstance(value, Mapping):
            raise InvalidFilter(
                "objects are not values; config keys are flattened, so compare "
                "config.data.bs rather than config.data",
                field=path,
            )
        raise InvalidFilter(
            f"expected a number, string, bool or null, got {_describe(value)}", field=path
        )


def _json_compare_pred(op: str, value: Any, path: str) -> _Pred:
    sql_op = _COMPARISONS[op]
    if isinstance(value, int | float):
        number = _float(value, path)
        if math.isnan(number):
            # NaN is only "equal" to NaN; nothing is strictly above or below it.
            if op in ("$gte", "$lte"):
                return lambda x: _Frag(f"isnan({_json_num(x)})")
            return lambda x: _FALSE
        # DuckDB orders NaN above +inf; IEEE (and MongoDB) say NaN is in no range.
        return lambda x: _cat(
            _json_num(x), f" {sql_op} ", _p(number), f" AND NOT isnan({_json_num(x)})"
        )
    if isinstance(value, str):
        return lambda x: _cat(_json_text(x), f" {sql_op} ", _p(value))
    raise InvalidFilter(f"{op} takes a number or a string, got {_describe(value)}", field=path)


# --- values --------------------------------------------------------------------------------------


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the bool {value!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _text_value(value: Any, path: str, field: Field, what: str | None = None) -> str:
    if isinstance(value, str):
        return value
    raise InvalidFilter(
        f"{what or field.name} compares with a string, got {_describe(value)}", field=path
    )


def _float(value: int | float, path: str) -> float:
    try:
        return float(value)
    except OverflowError:
        raise InvalidFilter(f"the number {value} is too large", field=path) from None


def _parse_number(text: str) -> float | None:
    if not _NUMERIC_STRING.fullmatch(text):
        return None
    return float(text)


def _time_value(value: Any, path: str) -> datetime:
    """An aware datetime from an ISO 8601 string, a datetime or a date; naive means UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidFilter(
                f"expected an ISO 8601 time like '2025-12-09T17:57:38Z', got {value!r}",
                field=path,
            ) from None
    else:
        raise InvalidFilter(
            f"expected an ISO 8601 time like '2025-12-09T17:57:38Z', got {_describe(value)}",
            field=path,
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


# --- regular expressions -------------------------------------------------------------------------

# DuckDB's RE2 is the judge of what runs, and it rejects some of what Python's re accepts
# (lookaround, backreferences), so compile each pattern once in a private in-memory connection.
_regex_lock = threading.Lock()
_regex_conn: list[duckdb.DuckDBPyConnection] = []


@lru_cache(maxsize=512)
def _regex_error(pattern: str) -> str | None:
    """DuckDB's complaint about ``pattern``, or ``None`` when it compiles."""
    with _regex_lock:
        if not _regex_conn:
            _regex_conn.append(duckdb.connect())
        try:
            _regex_conn[0].execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
        except duckdb.Error as e:
            return str(e).split(": ", 1)[-1]
    return None
