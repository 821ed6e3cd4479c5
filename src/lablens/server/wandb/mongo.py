"""W&B's run filters and orders in our filter language: the field names differ, not the operators.

W&B names a run's id ``name`` and its display name ``displayName``; our catalogue
(``contract/fields.py``) calls them ``id`` and ``name``. W&B keeps each top-level config entry as
``{"value": v, "desc": ...}``, so its filters say ``config.lr.value`` (and ``config.opt.value.beta``
for nested keys) where ours say ``config.lr``. Everything else (``$and``, ``$in``, ``$regex``,
``summary_metrics.x``, ``createdAt``, ``state`` in lower case) our parser reads as it comes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: W&B field names whose meaning differs from ours.
_RENAMES = {
    "name": "id",
    "displayName": "name",
    "display_name": "name",
}


def field_name(name: str) -> str:
    """A W&B run field as our filter language names it."""
    if name in _RENAMES:
        return _RENAMES[name]
    if name.startswith("config."):
        parts = name.split(".")
        # config.<key>.value[.<nested>...]: the wrapper W&B keeps around each top-level entry.
        if len(parts) >= 3 and parts[2] == "value":
            return ".".join(parts[:2] + parts[3:])
    return name


def translate_filters(filters: Any) -> Any:
    """A W&B Mongo-style filter with its field names in ours; operators and values unchanged.

    What is not a dict is returned as it is, for the store's parser to name the mistake.
    """
    if isinstance(filters, Mapping):
        out: dict[str, Any] = {}
        for key, value in filters.items():
            if not isinstance(key, str):
                out[key] = value
            elif key.startswith("$"):
                out[key] = translate_filters(value) if key in _LOGICAL else value
            else:
                name = field_name(key)
                out[name] = _state_values(value) if name == "state" else value
        return out
    if isinstance(filters, list):
        return [translate_filters(item) for item in filters]
    return filters


# Operators whose operand is itself a filter (or a list of filters).
_LOGICAL = {"$and", "$or", "$nor", "$not"}

# W&B's states that are our ABORTED (a run stopped before it finished).
_ABORTED = {"failed", "killed"}


def _state(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in _ABORTED:
        return "ABORTED"
    return value


def _state_values(value: Any) -> Any:
    """W&B's ``failed``/``killed`` as our ``ABORTED``, in a state condition."""
    if isinstance(value, Mapping):
        return {
            op: ([_state(v) for v in arg] if isinstance(arg, list) else _state(arg))
            for op, arg in value.items()
        }
    return _state(value)


def translate_order(order: str | None) -> str | None:
    """A W&B order (``-summary_metrics.acc``, ``+config.lr.value``) in our field names."""
    if not order or not isinstance(order, str):
        return order
    text = order.strip()
    sign = text[0] if text[:1] in ("+", "-") else ""
    return sign + field_name(text[len(sign) :].strip())
