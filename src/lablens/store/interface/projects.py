"""The ``Store`` interface's methods for projects of a workspace, and the fields their runs hold."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any


class ProjectStore(abc.ABC):
    """Projects of a workspace."""

    # -- projects -------------------------------------------------------------------------
    @abc.abstractmethod
    def create_project(
        self,
        workspace: str,
        name: str,
        *,
        description: str | None = None,
        labels: Sequence[str] = (),
        visibility: str = "PRIVATE",
        exist_ok: bool = False,
    ) -> dict[str, Any]:
        """Create a project; ``Conflict`` if the name is taken and not ``exist_ok``."""

    @abc.abstractmethod
    def get_project(self, workspace: str, name: str) -> dict[str, Any]:
        """One project; ``NotFound("project", "ws/name")`` when absent."""

    @abc.abstractmethod
    def list_projects(
        self,
        workspace: str,
        *,
        sort: str | None = None,
        search: str | None = None,
        cursor: str | None = None,
        limit: int = 200,
        viewer: str | None = None,
    ) -> dict[str, Any]:
        """A page ``{items, total, next}`` of the workspace's projects the viewer may see."""

    @abc.abstractmethod
    def update_project(
        self, workspace: str, name: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change a project's ``description``, ``labels`` or ``visibility``."""

    @abc.abstractmethod
    def delete_project(self, workspace: str, name: str) -> None:
        """Delete a project with its runs, sweeps and reports."""

    @abc.abstractmethod
    def project_fields(self, workspace: str, project: str) -> dict[str, dict[str, str]]:
        """``{"config": {key: type}, "summary": {key: type}}`` over the project's runs."""
