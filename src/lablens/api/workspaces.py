"""``Workspace``: a collection of projects, one per user (``PERSON``) or team (``TEAM``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lablens.api._attrs import Attrs

if TYPE_CHECKING:
    from lablens.api.projects import Projects

__all__ = ["Workspace"]


class Workspace(Attrs):
    """A workspace: the projects of one user or one team (SwanLab's term; W&B's *entity*).

    Get one with ``api.workspace(username)`` or list them with ``api.workspaces()``.

    Example:
        >>> ws = api.workspace(username="alice")
        >>> ws.username, ws.workspace_type, ws.role
        ('alice', 'PERSON', 'OWNER')
    """

    username: str
    """The workspace's unique id, e.g. ``alice``."""
    name: str | None
    """The workspace's display name."""
    role: str | None
    """The signed-in user's role in this workspace: ``OWNER`` or ``MEMBER``."""
    profile: dict[str, Any]
    """The workspace's introduction: ``bio``, ``url``, ``institution``, ``email``."""
    workspace_type: str | None
    """``PERSON`` (a user's own workspace) or ``TEAM``."""
    created_at: str | None
    """When the workspace was made, ISO 8601 UTC."""

    def _load(self, data: dict[str, Any]) -> None:
        self.username = data.get("username") or data.get("name") or ""
        self.name = data.get("name")
        self.role = data.get("role")
        self.profile = dict(data.get("profile") or {})
        self.workspace_type = data.get("workspace_type") or data.get("type")
        self.created_at = data.get("created_at")

    @property
    def entity(self) -> str:
        """The workspace username under its W&B name."""
        return self.username

    def projects(
        self,
        sort: str | None = None,
        search: str | None = None,
        detail: bool = True,
        per_page: int = 200,
    ) -> Projects:
        """The projects in this workspace.

        Args:
            sort: ``created_at`` or ``updated_at``.
            search: only projects whose name contains this text.
            detail: accepted for SwanLab compatibility; projects always come with details.
            per_page: projects per request.

        Returns:
            A lazy ``Projects`` collection.

        Example:
            >>> for project in api.workspace(username="alice").projects():
            ...     print(project.name, project.url)
        """
        return self._api.projects(
            self.username, sort=sort, search=search, detail=detail, per_page=per_page
        )

    def __repr__(self) -> str:
        return f"<Workspace {self.username} {self.workspace_type or ''}>".replace(" >", ">")
