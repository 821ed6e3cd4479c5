"""The run filter language parsed into a tree, the same for every engine.

:func:`~lablens.store.filter_parse.parse_filters` checks a MongoDB-style filter dict (the
language :mod:`lablens.store.filters` describes) and turns it into a small tree: :class:`All`,
:class:`AnyOf` and :class:`Not` over leaves that each hold one :class:`Field`, one operator and
values already checked and coerced (times as aware datetimes, numbers as floats, strings that
read as numbers with that number). An engine turns the tree into its own SQL
(``lablens.store.embedded._filter_sql`` for DuckDB); nothing here knows SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from lablens.contract.fields import JSON_PREFIXES, canonical_field

__all__ = [
    "All",
    "AnyOf",
    "Compare",
    "Eq",
    "Exists",
    "Field",
    "FieldKind",
    "In",
    "JsonValue",
    "Node",
    "Not",
    "NumericText",
    "Regex",
    "resolve_field",
]

FieldKind = Literal["text", "state", "time", "tags", "json"]  # the catalogue's kinds and json
CompareOp = Literal["$gt", "$gte", "$lt", "$lte"]


@dataclass(frozen=True)
class Field:
    """A field a run can be filtered or sorted on, and how it compares.

    ``name`` is the name as written (``createdAt``), for messages. ``kind`` is ``text``,
    ``state`` (text compared case-insensitively), ``time``, ``tags`` (a list of text) or
    ``json``. ``base`` is the catalogue's name of a plain field (``created_at``), or the document
    of a JSON one (``config`` or ``summary``), whose flat object is looked up at ``keys``: the
    key as written first, then the W&B fallback without ``.value``.
    """

    name: str
    kind: FieldKind
    base: str
    keys: tuple[str, ...] = ()


def resolve_field(name: str) -> Field | None:
    """Return the field called ``name`` (any alias of the catalogue), or ``None``."""
    plain = canonical_field(name)
    if plain is not None:
        return Field(name, plain.kind, plain.name)
    for prefix, document in JSON_PREFIXES.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            return Field(name, "json", document, _key_variants(name[len(prefix) :]))
    return None


def _key_variants(key: str) -> tuple[str, ...]:
    """The key as written, then W&B's spelling without ``.value`` (``lr.value`` -> ``lr``)."""
    if key.endswith(".value") and len(key) > len(".value"):
        return key, key[: -len(".value")]
    if ".value." in key:
        return key, key.replace(".value.", ".", 1)
    return (key,)


# --- the tree ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NumericText:
    """A string given for a JSON value that reads as a number: it matches the text or the number."""

    text: str
    number: float


# A value compared with a JSON value: null, bool, number, string (plain or reading as a number).
JsonValue = None | bool | float | str | NumericText


@dataclass(frozen=True)
class All:
    """Every part holds (none: always true)."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    """At least one part holds (none: always false)."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """The part does not hold; a missing value makes a condition false, so this one true."""

    part: Node


@dataclass(frozen=True)
class Eq:
    """The field equals ``value``.

    By kind: ``json`` a :data:`JsonValue`, or a tuple of them for a whole array; ``tags`` a
    string (one of the tags), a tuple of strings (exactly these tags) or ``None`` (never);
    ``time`` a datetime; ``text``/``state`` a string. ``None`` means the value is missing.
    """

    field: Field
    value: Any


@dataclass(frozen=True)
class Compare:
    """The field is above or below ``value``: a float or a string (``json``), a datetime
    (``time``), else a string; for ``tags``, any tag is."""

    field: Field
    op: CompareOp
    value: float | str | datetime


@dataclass(frozen=True)
class In:
    """The field equals one of ``values`` (coerced as for :class:`Eq`; no ``None`` for tags)."""

    field: Field
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Exists:
    """The field holds a value that is not null (for ``tags``: at least one tag)."""

    field: Field


@dataclass(frozen=True)
class Regex:
    """The field's text (any tag, any string element) contains a match of the RE2 ``pattern``;
    ``$options`` are already folded into it as ``(?ims)``."""

    field: Field
    pattern: str


Node = All | AnyOf | Not | Eq | Compare | In | Exists | Regex
