"""The base of every resource class: typed attributes mapped from the server's JSON.

``from_json()`` keeps the whole answer in ``_attrs``, so keys this client does not know yet (from a
newer server) stay reachable as attributes and in ``json()``: a newer server never breaks an older
client.
"""

from __future__ import annotations

import copy
import html
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from lablens.api.api import Api


class Attrs:
    """A resource read from the server: typed attributes plus the raw JSON in ``_attrs``.

    Subclasses map the keys they know in ``_load()``; every other key is still reachable as an
    attribute (``run.exit_code``) through ``__getattr__``.
    """

    _api: Api
    _attrs: dict[str, Any]

    def __init__(self, api: Api, attrs: dict[str, Any] | None = None) -> None:
        self._api = api
        self._attrs = dict(attrs or {})
        self._load(self._attrs)

    @classmethod
    def from_json(cls, api: Api, data: dict[str, Any]) -> Self:
        """Build the resource from the server's JSON answer.

        Args:
            api: the ``Api`` the resource talks through.
            data: the JSON object the server answered.

        Returns:
            The resource.
        """
        return cls(api, data)

    def _load(self, data: dict[str, Any]) -> None:
        """Map the known keys of ``data`` onto typed attributes (subclasses override)."""

    def json(self) -> dict[str, Any]:
        """All the information the server gave about this resource, as a ``dict``.

        Returns:
            A deep copy of the server's JSON, so changing it changes nothing here.

        Example:
            >>> api.project("alice/mnist").json()["name"]
            'mnist'
        """
        return copy.deepcopy(self._attrs)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: unknown server keys stay reachable.
        if name.startswith("_"):
            raise AttributeError(name)
        attrs = self.__dict__.get("_attrs")
        if attrs is not None and name in attrs:
            return attrs[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def html_table(rows: list[tuple[str, Any]], title: str | None = None) -> str:
    """A compact two-column HTML table for ``_repr_html_``, every value escaped."""
    head = f"<b>{html.escape(title)}</b>" if title else ""
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
        f"<td style='text-align:left'>{html.escape(_short(v))}</td></tr>"
        for k, v in rows
    )
    return f"<div class='lablens'>{head}<table>{body}</table></div>"


def _short(value: Any, limit: int = 120) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
