"""The paging of list routes: the ``cursor``/``limit`` query of a page, and the answer of a list
that is never paged.

A page answers ``{"items", "total", "next"}``; ``next`` is the cursor of the following page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query


class Page:
    """The ``cursor`` and ``limit`` query parameters of a list route: 50 items a page, at most
    1000."""

    def __init__(self, cursor: str | None = None, limit: int = Query(50, ge=1, le=1000)) -> None:
        self.cursor = cursor
        self.limit = limit


#: A route's ``cursor`` and ``limit`` query parameters, as one parameter of the route.
PageQuery = Annotated[Page, Depends()]


def whole_page(items: list[dict[str, Any]]) -> dict[str, Any]:
    """A page holding every item: the answer of a list that is never paged."""
    return {"items": items, "total": len(items), "next": None}
