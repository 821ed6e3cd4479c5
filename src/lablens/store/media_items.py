"""Media items as every engine takes them: a batch checked item by item (the rules of
``lablens.contract.media``), and a stored row as the item's wire form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lablens.contract.media import BadItem, check_item
from lablens.store import _json
from lablens.store.errors import InvalidInput

# A batch is what the SDK gathers in one flush: a few hundred items at most in practice.
MAX_ITEMS = 10_000


def check_media_items(items: Any) -> list[dict[str, Any]]:
    """The items of a batch, each checked (``InvalidInput`` naming ``items[i].<field>``)."""
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        raise InvalidInput("items must be a list of media items", field="items")
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"a batch holds at most {MAX_ITEMS:,} media items", field="items")
    try:
        return [check_item(item, f"items[{i}]") for i, item in enumerate(items)]
    except BadItem as exc:
        raise InvalidInput(str(exc), field=exc.field) from None


def media_out(row: dict[str, Any]) -> dict[str, Any]:
    """A media row (the schema's columns, ``run_id`` added when asked) as its wire form."""
    out = {
        "key": row["key"],
        "step": row["step"],
        "timestamp": row["ts"],
        "index": row["idx"],
        "type": row["type"],
        "format": row["format"],
        "sha256": row["sha256"],
        "size": row["size"],
        "caption": row["caption"],
        "meta": _json.loads(row["meta"]) or {},
    }
    if row["refs"]:
        out["refs"] = list(row["refs"])
    if "run_id" in row:
        out["run_id"] = row["run_id"]
    return out
