"""What both engines' filter compilers share: SQL fragments and the walk over a filter tree.

A parsed run filter (:mod:`lablens.store.filter_tree`) becomes a condition over ``runs AS
alias`` by :class:`FilterCompiler`, whose :meth:`~FilterCompiler.node` walks the tree and joins
the conditions; each engine's subclass writes one operator on one field in its SQL
(``store/embedded/_filter_sql.py``, ``store/postgres/_filter_sql.py``), with its own
placeholders. Every condition is two-valued (never SQL NULL), so ``NOT`` can negate it: a
missing value is "not equal" to anything.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from lablens.store.filter_parse import parse_filters
from lablens.store.filter_tree import All, AnyOf, Compare, Eq, Exists, Field, In, Node, Not

__all__ = [
    "FALSE",
    "TRUE",
    "FilterCompiler",
    "Frag",
    "Pred",
    "and_",
    "cat",
    "column_of",
    "compile_with",
    "or_",
    "two_valued",
]

# Where each field of the catalogue (``lablens.contract.fields``) lives in the ``runs`` table.
_COLUMN_OF: dict[str, str] = {"group": "group_name"}
_JSON_COLUMN_OF: dict[str, str] = {"config": "config_flat", "summary": "summary"}


def column_of(field: Field) -> str:
    """The ``runs`` column holding ``field`` (for a JSON field, the flat object to look up)."""
    if field.kind == "json":
        return _JSON_COLUMN_OF[field.base]
    return _COLUMN_OF.get(field.base, field.base)


class Frag(NamedTuple):
    """SQL text and the parameters of its placeholders, in textual order."""

    sql: str
    params: tuple[Any, ...] = ()


#: A condition on one JSON element, given the SQL expression of that element.
Pred = Callable[[str], Frag]

TRUE = Frag("TRUE")
FALSE = Frag("FALSE")


def cat(*parts: Frag | str) -> Frag:
    """Concatenate text and fragments; parameters follow the text order, as placeholders do."""
    sql: list[str] = []
    params: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            sql.append(part)
        else:
            sql.append(part.sql)
            params.extend(part.params)
    return Frag("".join(sql), tuple(params))


def _join(sep: str, parts: list[Frag]) -> Frag:
    out: list[Frag | str] = []
    for i, part in enumerate(parts):
        if i:
            out.append(sep)
        out.append(cat("(", part, ")"))
    return cat(*out)


def and_(parts: list[Frag]) -> Frag:
    """Every condition of ``parts`` (``TRUE`` for none)."""
    if not parts:
        return TRUE
    return parts[0] if len(parts) == 1 else _join(" AND ", parts)


def or_(parts: list[Frag]) -> Frag:
    """Any condition of ``parts`` (``FALSE`` for none)."""
    if not parts:
        return FALSE
    return parts[0] if len(parts) == 1 else _join(" OR ", parts)


def two_valued(part: Frag) -> Frag:
    """NULL (a missing value) becomes FALSE, so that ``$not``, ``$ne`` and ``$nor`` can negate."""
    return cat("COALESCE((", part, "), FALSE)")


class FilterCompiler(abc.ABC):
    """A filter tree as one engine's SQL condition over ``runs AS alias``: the walk and the
    joins here, one operator on one field in the subclass, each a condition never NULL."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def node(self, node: Node) -> Frag:
        """The condition of ``node`` and everything below it."""
        if isinstance(node, All):
            return and_([self.node(part) for part in node.parts])
        if isinstance(node, AnyOf):
            return or_([self.node(part) for part in node.parts])
        if isinstance(node, Not):
            # Safe because every leaf is two-valued: NOT never meets a NULL.
            return cat("NOT (", self.node(node.part), ")")
        if isinstance(node, Eq):
            return self.eq(node.field, node.value)
        if isinstance(node, Compare):
            return self.compare(node.field, node.op, node.value)
        if isinstance(node, In):
            return self.in_(node.field, node.values)
        if isinstance(node, Exists):
            return self.exists(node.field)
        return self.regex(node.field, node.pattern)

    def col(self, field: Field) -> str:
        """The column of ``field`` in the aliased ``runs``."""
        return f"{self.alias}.{column_of(field)}"

    @abc.abstractmethod
    def eq(self, field: Field, value: Any) -> Frag:
        """``$eq``."""

    @abc.abstractmethod
    def compare(self, field: Field, op: str, value: Any) -> Frag:
        """``$gt``, ``$gte``, ``$lt``, ``$lte``."""

    @abc.abstractmethod
    def in_(self, field: Field, values: tuple[Any, ...]) -> Frag:
        """``$in``."""

    @abc.abstractmethod
    def exists(self, field: Field) -> Frag:
        """``$exists: true``."""

    @abc.abstractmethod
    def regex(self, field: Field, pattern: str) -> Frag:
        """``$regex``."""


def compile_with(
    compiler: type[FilterCompiler], filters: Mapping[str, Any] | None, alias: str
) -> tuple[str, list[Any]]:
    """Parse ``filters`` and compile them with ``compiler`` over ``runs AS alias``: the SQL
    condition and its parameters. Raises ``InvalidFilter`` (with ``field`` the path of the bad
    part) for anything malformed."""
    if not alias.isidentifier():
        raise ValueError(f"alias must be an SQL identifier, got {alias!r}")
    frag = compiler(alias).node(parse_filters(filters))
    return frag.sql, list(frag.params)
