"""The ``Store`` interface's methods for custom chart presets of an entity."""

from __future__ import annotations

import abc
from typing import Any


class ChartStore(abc.ABC):
    """Custom chart presets: a Vega-Lite spec and its query, owned by an entity."""

    @abc.abstractmethod
    def create_custom_chart(
        self,
        workspace: str,
        *,
        name: str,
        display_name: str | None,
        spec_type: str,
        access: str,
        spec: Any,
        query: Any,
        username: str,
    ) -> dict[str, Any]:
        """Save a preset; ``Conflict`` when the entity has one of that name, ``InvalidInput``
        (naming the part) for a bad spec or query."""

    @abc.abstractmethod
    def get_custom_chart(self, workspace: str, name: str) -> dict[str, Any]:
        """One preset; ``NotFound("custom_chart", ...)`` when absent."""

    @abc.abstractmethod
    def list_custom_charts(
        self,
        workspace: str,
        *,
        public_only: bool = False,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """A page of the entity's presets by name; ``public_only`` for a reader outside it."""

    @abc.abstractmethod
    def delete_custom_chart(self, workspace: str, name: str) -> None:
        """Delete a preset."""
