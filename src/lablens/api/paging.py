"""``Paginator``: the lazy, cached, indexable collection every list in the ``Api`` returns.

The server answers lists as ``{"items": [...], "total": N, "next": CURSOR_OR_NULL}``. ``next`` is an
opaque keyset cursor and is sent back exactly as given: a keyset, not an offset, because an offset
skips or repeats items when new ones arrive while a list is being read.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from lablens.errors import UsageError

if TYPE_CHECKING:
    from lablens.api.api import Api

T = TypeVar("T")

__all__ = ["Paginator"]


class Paginator(abc.ABC, Generic[T]):
    """A lazy collection read page by page from the server.

    Nothing is fetched until the collection is iterated, indexed or measured. Items already read
    are kept, so iterating twice costs no second request; ``len()`` is the server's ``total``.

    Args:
        api: the ``Api`` to talk through.
        per_page: how many items to ask for per request.

    Raises:
        UsageError: ``per_page`` is not a positive integer.

    Example:
        >>> runs = api.runs("alice/mnist", per_page=50)
        >>> len(runs), runs[0].id, [r.id for r in runs[:3]]
    """

    def __init__(self, api: Api, per_page: int = 50) -> None:
        if not isinstance(per_page, int) or isinstance(per_page, bool) or per_page < 1:
            raise UsageError(f"per_page must be a positive integer, not {per_page!r}")
        self._api = api
        self.per_page = per_page
        #: The items read so far, in order (W&B's name for it).
        self.objects: list[T] = []
        self._cursor: str | None = None
        self._total: int | None = None
        self._done = False

    @abc.abstractmethod
    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        """Ask the server for one page; return ``{"items", "total", "next"}``."""

    @abc.abstractmethod
    def _convert(self, item: dict[str, Any]) -> T:
        """Turn one JSON item into a resource."""

    def _get_page(self, route: str, cursor: str | None, limit: int, **query: Any) -> dict[str, Any]:
        """GET one page of ``route``: ``limit``, the cursor when there is one, and each
        ``query`` parameter that is set (``None`` and empty ones are left out)."""
        params: dict[str, Any] = {"limit": limit}
        params.update((k, v) for k, v in query.items() if v)
        if cursor:
            params["cursor"] = cursor
        return self._api.client.get_json(route, params=params)

    def _load_page(self) -> None:
        page = self._fetch(self._cursor, self.per_page)
        if isinstance(page, list):  # a plain list is one complete page
            page = {"items": page, "total": len(page), "next": None}
        items = page.get("items") or []
        self.objects.extend(self._convert(item) for item in items)
        if page.get("total") is not None:
            self._total = int(page["total"])
        self._cursor = page.get("next")
        # An empty page that still names a next cursor would loop forever; stop instead.
        if not self._cursor or not items:
            self._done = True

    def _load_until(self, count: int | None) -> None:
        """Read pages until ``count`` items are held (all of them for ``None``)."""
        while not self._done and (count is None or len(self.objects) < count):
            self._load_page()

    @property
    def more(self) -> bool:
        """Whether the server has items not read yet."""
        return not self._done

    @property
    def cursor(self) -> str | None:
        """The server's cursor of the next page (``None`` before the first and after the last)."""
        return self._cursor

    @property
    def length(self) -> int:
        """The number of items the server reports, as ``len()`` (W&B's name)."""
        return len(self)

    def __iter__(self) -> Iterator[T]:
        index = 0
        while True:
            if index < len(self.objects):
                yield self.objects[index]
                index += 1
            elif self._done:
                return
            else:
                self._load_page()

    def __len__(self) -> int:
        if self._total is None and not self._done:
            self._load_page()
        if self._total is None:
            # A server that sends no total: count by reading everything.
            self._load_until(None)
            return len(self.objects)
        return self._total

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            ends = (index.start, index.stop)
            if index.stop is None or any(e is not None and e < 0 for e in ends):
                self._load_until(None)
            else:
                self._load_until(max(e for e in ends if e is not None))
            return self.objects[index]
        if not isinstance(index, int):
            raise TypeError(f"indices must be integers or slices, not {type(index).__name__}")
        self._load_until(None if index < 0 else index + 1)
        return self.objects[index]
