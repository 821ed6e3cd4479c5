"""W&B's relay connections (``edges``, ``pageInfo``, ``totalCount``) over a store page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def connection(
    nodes: Sequence[dict[str, Any]],
    page: Mapping[str, Any],
    after: str | None,
    *,
    total: bool = True,
) -> dict[str, Any]:
    """A connection of ``nodes``, one store page ``{items, next, total}`` read after ``after``.

    The store's keyset cursor continues after a page's last item, so it is the last edge's
    cursor; clients page from the last edge.
    """
    edges = [{"node": node, "cursor": ""} for node in nodes]
    if edges:
        edges[-1]["cursor"] = page["next"] or ""
    out: dict[str, Any] = {
        "edges": edges,
        "pageInfo": {
            "endCursor": page["next"],
            "hasNextPage": page["next"] is not None,
            "startCursor": None,
            "hasPreviousPage": bool(after),
        },
    }
    if total:
        out["totalCount"] = int(page["total"])
    return out
