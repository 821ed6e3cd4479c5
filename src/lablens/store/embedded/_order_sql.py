"""Sort orders of run lists as DuckDB SQL, and the keyset condition that pages through them.

An order string is a field of the filter language (:mod:`lablens.store.filter_tree`) with an
optional sign, as in W&B: ``"-summary_metrics.loss"`` (descending), ``"+created_at"`` or
``"created_at"`` (ascending).
:func:`~lablens.store.order_tree.parse_order_key` reads it, the same for every engine;
:func:`parse_order` turns it into DuckDB :class:`OrderTerm` s, always ending with the run's
``pk`` so the order is total; :func:`order_by_sql` renders them (``NULLS LAST`` throughout).

Paging is by keyset, not offset: select each term's ``sql`` next to the row (``SELECT ...,
t.sql AS _o0, ...``), put the last row's values in the page's cursor
(``lablens.store.cursors.encode_cursor``), and select the next page with
:func:`keyset_condition` on the decoded values. Runs created or deleted
between pages never make a page skip or repeat one of the other runs. Every list of the embedded
store reads one row past its page and lets ``cursors.cut_page`` cut it and make the next cursor.

How terms sort:

- a JSON field (``config.<key>``, ``summary.<key>``) gives two terms: its value as a number
  (``TRY_CAST``, so ``64``, ``"64"`` and the ``"NaN"``/``"Infinity"`` strings of non-finite floats
  are numbers) and then as text, so numbers come first in numeric order, then strings in text
  order, then runs without the key. DuckDB ranks NaN above +Infinity, so NaN comes last among the
  numbers ascending and first descending.
- a time (``created_at`` ...) sorts as ``epoch_us(...)``, a BIGINT: the cursor then holds a plain
  integer, exact to the microsecond, and reading it needs no time zone database.
- ``tags`` cannot be sorted on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lablens.store.embedded._filter_sql import column_of, json_path
from lablens.store.errors import InvalidInput
from lablens.store.order_tree import parse_order_key

__all__ = ["OrderTerm", "keyset_condition", "order_by_sql", "parse_order"]


@dataclass(frozen=True)
class OrderTerm:
    """One ``ORDER BY`` expression and its direction.

    ``kind`` is the SQL type of ``sql`` (``BIGINT``, ``DOUBLE`` or ``VARCHAR``) when known;
    :func:`keyset_condition` uses it to reject cursor values of the wrong type.
    """

    sql: str
    descending: bool
    kind: str | None = None


def parse_order(order: str | None, *, alias: str = "r") -> list[OrderTerm]:
    """Parse a W&B-style order (``"-summary_metrics.loss"``) into terms over ``runs AS alias``.

    ``None`` or ``""`` mean ``"+created_at"``. The last term is always ``alias.pk`` in the first
    term's direction, so that ties have an order and cursors a unique position.
    Raises ``InvalidFilter(field="order")`` for an unknown or unsortable field.
    """
    if not alias.isidentifier():
        raise ValueError(f"alias must be an SQL identifier, got {alias!r}")
    field, descending = parse_order_key(order)
    col = f"{alias}.{column_of(field)}"
    terms: list[OrderTerm]
    if field.kind == "json":
        # order_by_sql returns bare SQL, so the key travels as a string literal; doubling single
        # quotes is the whole of SQL string escaping (DuckDB reads no backslash escapes in '').
        lookups = [
            f"json_extract_string({col}, '{json_path(k).replace(chr(39), chr(39) * 2)}')"
            for k in field.keys
        ]
        text_sql = lookups[0] if len(lookups) == 1 else f"COALESCE({', '.join(lookups)})"
        terms = [
            OrderTerm(f"TRY_CAST({text_sql} AS DOUBLE)", descending, "DOUBLE"),
            OrderTerm(text_sql, descending, "VARCHAR"),
        ]
    elif field.kind == "time":
        terms = [OrderTerm(f"epoch_us({col})", descending, "BIGINT")]
    else:
        terms = [OrderTerm(col, descending, "VARCHAR")]
    terms.append(OrderTerm(f"{alias}.pk", descending, "BIGINT"))
    return terms


def order_by_sql(terms: Sequence[OrderTerm]) -> str:
    """The ``ORDER BY`` list: ``"expr DESC NULLS LAST, ..., r.pk DESC NULLS LAST"``."""
    return ", ".join(f"{t.sql} {'DESC' if t.descending else 'ASC'} NULLS LAST" for t in terms)


def keyset_condition(terms: Sequence[OrderTerm], last_values: Sequence[Any]) -> tuple[str, list]:
    """The condition selecting exactly the rows after ``last_values`` in the order of ``terms``.

    ``last_values`` are the terms' values on the previous page's last row, the final one its pk.
    The comparison is lexicographic, each term in its own direction with NULLs last: after a
    non-NULL value come larger (or, descending, smaller) values and then NULLs; after a NULL come
    only NULLs, and only when a later term says so. Raises ``InvalidInput(field="cursor")`` when
    the values do not fit the terms (a cursor from another order, or tampered with).
    """
    if not terms or len(last_values) != len(terms):
        raise InvalidInput("malformed cursor", field="cursor")
    for term, value in zip(terms, last_values, strict=True):
        if not _fits(term.kind, value):
            raise InvalidInput("malformed cursor", field="cursor")
    if last_values[-1] is None:
        raise InvalidInput("malformed cursor", field="cursor")

    # Built from the last term outwards: after(i) = beyond_i OR (equal_i AND after(i+1)).
    sql, params = "", []
    for i in range(len(terms) - 1, -1, -1):
        term, value = terms[i], last_values[i]
        cast = f"CAST(? AS {term.kind})" if term.kind else "?"
        if i == len(terms) - 1:
            # The pk: never NULL, unique, so strictly beyond is all there is.
            sql, params = f"{term.sql} {'<' if term.descending else '>'} {cast}", [value]
        elif value is None:
            # NULLs sort last: nothing is beyond a NULL, only other NULLs tie with it.
            sql = f"({term.sql} IS NULL AND ({sql}))"
        else:
            beyond = f"{term.sql} {'<' if term.descending else '>'} {cast} OR {term.sql} IS NULL"
            sql = f"({beyond} OR ({term.sql} = {cast} AND ({sql})))"
            params = [value, value, *params]
    return sql, params


def _fits(kind: str | None, value: Any) -> bool:
    if kind is None:
        return True
    if value is None:
        return True
    if kind == "BIGINT":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "DOUBLE":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "VARCHAR":
        return isinstance(value, str)
    return True
