"""A run order (``"-summary_metrics.loss"``) parsed into its field and direction, for every engine.

An order string is a field of :mod:`lablens.store.filter_tree` with an optional sign, as in W&B:
``-`` descending, ``+`` or none ascending; ``None`` or ``""`` mean ``"+created_at"``. Tags cannot
be sorted on. An engine turns the :class:`OrderKey` into its ``ORDER BY`` (DuckDB's is
:func:`lablens.store.embedded._order_sql.parse_order`).
"""

from __future__ import annotations

from typing import NamedTuple

from lablens.contract.fields import FIELD_HELP
from lablens.store.errors import InvalidFilter
from lablens.store.filter_tree import Field, resolve_field

__all__ = ["DEFAULT_ORDER", "OrderKey", "parse_order_key"]

DEFAULT_ORDER = "+created_at"


class OrderKey(NamedTuple):
    """The field to sort runs on, and whether descending."""

    field: Field
    descending: bool


def parse_order_key(order: str | None) -> OrderKey:
    """Parse a W&B-style order; raises ``InvalidFilter(field="order")`` for an unknown or
    unsortable field."""
    if order is not None and not isinstance(order, str):
        raise InvalidFilter(
            f"order must be a string like '-created_at', got {order!r}", field="order"
        )
    text = (order or "").strip() or DEFAULT_ORDER
    descending = text.startswith("-")
    name = text[1:].strip() if text[0] in "+-" else text
    field = resolve_field(name)
    if field is None or field.kind == "tags" or "\x00" in name:
        reason = "tags cannot be sorted on" if field is not None else f"unknown field {name!r}"
        raise InvalidFilter(
            f"{reason}; sort on {FIELD_HELP.replace(', tags (labels)', '')}, "
            "with '-' in front for descending",
            field="order",
        )
    return OrderKey(field, descending)
