"""Run orders (:mod:`lablens.store.order_tree`) as PostgreSQL ``ORDER BY`` terms, and the keyset
condition that pages through them.

The same order as the embedded engine's (``store.embedded._order_sql``): a JSON field sorts first
as a number (``lablens_json_sort_num``: its text read as a double, so ``64``, ``"64"`` and the
``"NaN"`` strings are numbers; PostgreSQL, like DuckDB, ranks NaN above +Infinity), then as text
by bytes; a time as itself; text by bytes; ``NULLS LAST`` throughout, and the run's ``pk`` last
so the order is total.

Cursors hold each term's value on the last row of a page (select ``t.sql AS _o0, ...`` next to
the row); :func:`keyset_condition` selects the rows after them. Terms on columns that are never
NULL (``created_at``, ``id``, ``state``, ``pk``) compare as a row, ``(created_at, pk) > (%s, %s)``,
so the ``runs_by_created`` index serves the default order's pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lablens.store.errors import InvalidInput
from lablens.store.order_tree import parse_order_key
from lablens.store.postgres._filter_sql import column_of

__all__ = ["OrderTerm", "keyset_condition", "order_by_sql", "parse_order", "sql_literal"]

# Run columns that are never NULL.
_NOT_NULL = {"created_at", "id", "state", "pk"}


@dataclass(frozen=True)
class OrderTerm:
    """One ``ORDER BY`` expression, its direction, its SQL type and whether it can be NULL."""

    sql: str
    descending: bool
    kind: str  # bigint | float8 | text | timestamptz
    nullable: bool = True


def sql_literal(text: str) -> str:
    """``text`` as a PostgreSQL string constant holding only letters, digits and escapes.

    A key must sit in an ``ORDER BY`` as a constant (the planner sees it); written as
    ``U&'...'`` with every other character escaped, it holds no quote and no ``%`` that
    psycopg would read as a placeholder.
    """
    out = []
    for ch in text:
        if ch.isascii() and (ch.isalnum() or ch in " _.-/:"):
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\{ord(ch):04X}")
        else:
            out.append(f"\\+{ord(ch):06X}")
    return "U&'" + "".join(out) + "'"


def parse_order(order: str | None, *, alias: str = "r") -> list[OrderTerm]:
    """Parse a W&B-style order (``"-summary_metrics.loss"``) into terms over ``runs AS alias``.

    ``None`` or ``""`` mean ``"+created_at"``. The last term is always ``alias.pk`` in the first
    term's direction. Raises ``InvalidFilter(field="order")`` for an unknown or unsortable field.
    """
    if not alias.isidentifier():
        raise ValueError(f"alias must be an SQL identifier, got {alias!r}")
    field, descending = parse_order_key(order)
    column = column_of(field)
    col = f"{alias}.{column}"
    terms: list[OrderTerm]
    if field.kind == "json":
        keys = [sql_literal(k) for k in field.keys]
        lookups = [f"({col} ->> {k})" for k in keys]
        text_sql = lookups[0] if len(lookups) == 1 else f"COALESCE({', '.join(lookups)})"
        # The same value as jsonb (a JSON null falls back as a missing key does in text).
        value = f"({col} -> {keys[0]})"
        if len(keys) > 1:
            value = f"COALESCE(NULLIF({value}, 'null'::jsonb), {col} -> {keys[1]})"
        terms = [
            OrderTerm(f"lablens_json_sort_num({value})", descending, "float8"),
            OrderTerm(f'{text_sql} COLLATE "C"', descending, "text"),
        ]
    elif field.kind == "time":
        terms = [OrderTerm(col, descending, "timestamptz", column not in _NOT_NULL)]
    else:
        terms = [OrderTerm(f'{col} COLLATE "C"', descending, "text", column not in _NOT_NULL)]
    terms.append(OrderTerm(f"{alias}.pk", descending, "bigint", nullable=False))
    return terms


def order_by_sql(terms: Sequence[OrderTerm]) -> str:
    """The ``ORDER BY`` list: ``"expr DESC NULLS LAST, ..., r.pk DESC"``.

    ``NULLS LAST`` only where a term can be NULL, so that an index in either direction serves
    an order of columns that never are.
    """
    return ", ".join(
        f"{t.sql} {'DESC' if t.descending else 'ASC'}{' NULLS LAST' if t.nullable else ''}"
        for t in terms
    )


def keyset_condition(terms: Sequence[OrderTerm], last_values: Sequence[Any]) -> tuple[str, list]:
    """The condition selecting exactly the rows after ``last_values`` in the order of ``terms``.

    ``last_values`` are the terms' values on the previous page's last row, the final one its pk.
    Lexicographic, each term in its direction with NULLs last: after a non-NULL value come the
    values beyond it and then NULLs; after a NULL only NULLs, when a later term says so. Raises
    ``InvalidInput(field="cursor")`` when the values do not fit the terms.
    """
    if not terms or len(last_values) != len(terms):
        raise InvalidInput("malformed cursor", field="cursor")
    for term, value in zip(terms, last_values, strict=True):
        if not _fits(term, value):
            raise InvalidInput("malformed cursor", field="cursor")
    if all(not t.nullable for t in terms) and len({t.descending for t in terms}) == 1:
        op = "<" if terms[0].descending else ">"
        left = ", ".join(t.sql for t in terms)
        right = ", ".join(f"%s::{t.kind}" for t in terms)
        return f"({left}) {op} ({right})", list(last_values)

    # Built from the last term outwards: after(i) = beyond_i OR (equal_i AND after(i+1)).
    sql, params = "", []
    for i in range(len(terms) - 1, -1, -1):
        term, value = terms[i], last_values[i]
        holder = f"%s::{term.kind}"
        op = "<" if term.descending else ">"
        if i == len(terms) - 1:
            sql, params = f"{term.sql} {op} {holder}", [value]
        elif value is None:
            # NULLs sort last: nothing is beyond a NULL, only other NULLs tie with it.
            sql = f"({term.sql} IS NULL AND ({sql}))"
        else:
            beyond = f"{term.sql} {op} {holder}"
            if term.nullable:
                beyond += f" OR {term.sql} IS NULL"
            sql = f"({beyond} OR ({term.sql} = {holder} AND ({sql})))"
            params = [value, value, *params]
    return sql, params


def _fits(term: OrderTerm, value: Any) -> bool:
    if value is None:
        return term.nullable
    if term.kind == "bigint":
        return isinstance(value, int) and not isinstance(value, bool)
    if term.kind == "float8":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if term.kind == "text":
        return isinstance(value, str) and "\x00" not in value
    if term.kind == "timestamptz":
        return isinstance(value, dt.datetime) and value.tzinfo is not None
    return False
