"""The workspace and project methods of ``Api``: ``workspaces()``, ``workspace()``, ``projects()``,
``project()`` and ``create_project()``. A part of ``Api`` (see ``_api_part.py``); each method
builds a route, calls the transport, and returns a resource from ``workspaces.py`` or
``projects.py``."""

from __future__ import annotations

from typing import Any

from lablens.api._api_part import ApiPart
from lablens.api.projects import Project, Projects
from lablens.api.workspaces import Workspace
from lablens.contract import paths
from lablens.contract.routes import API, project_route, workspace_route
from lablens.errors import UsageError


class ApiProjects(ApiPart):
    """``Api.workspaces()``, ``workspace()``, ``projects()``, ``project()`` and
    ``create_project()``."""

    def workspaces(self) -> list[Workspace]:
        """Every workspace the signed-in user belongs to (their own and their teams').

        Returns:
            A list of ``Workspace``.

        Example:
            >>> for workspace in api.workspaces():
            ...     print(workspace.username, workspace.name, workspace.profile)
        """
        found: list[Workspace] = []
        cursor: str | None = None
        while True:
            page = self._transport.get_json(
                f"{API}/workspaces", params={"cursor": cursor} if cursor else None
            )
            if isinstance(page, list):
                return found + [Workspace.from_json(self._api, w) for w in page]
            found += [Workspace.from_json(self._api, w) for w in page.get("items", [])]
            cursor = page.get("next")
            if not cursor or not page.get("items"):
                return found

    def workspace(self, username: str | None = None) -> Workspace:
        """One workspace.

        Args:
            username: the workspace's username; by default the signed-in user's own.

        Returns:
            The ``Workspace``.

        Raises:
            WorkspaceNotFound: there is no such workspace (or it is not visible to you).

        Example:
            >>> workspace = api.workspace(username="alice")
            >>> workspace.name, workspace.role
        """
        name = paths.parse_workspace(username) if username else self.viewer.username
        data = self._transport.get_json(workspace_route(name or ""))
        return Workspace.from_json(self._api, data)

    def projects(
        self,
        path: str | None = None,
        sort: str | None = None,
        search: str | None = None,
        detail: bool = True,
        per_page: int = 200,
        *,
        entity: str | None = None,
    ) -> Projects:
        """The projects of a workspace.

        Args:
            path: the workspace username (SwanLab's ``path='username'``); W&B code may pass the
                same value as ``entity``. By default the default entity.
            sort: ``created_at`` or ``updated_at``.
            search: only projects whose name contains this text.
            detail: accepted for SwanLab compatibility; projects always come with details.
            per_page: projects per request.
            entity: the workspace under W&B's name.

        Returns:
            A lazy ``Projects`` collection.

        Raises:
            UsageError: ``path`` and ``entity`` disagree, or no workspace can be found.

        Example:
            >>> for project in api.projects(path="alice"):
            ...     print(project.name, project.created_at, project.url, project.visibility)
        """
        workspace = self._workspace_arg(path, entity)
        return Projects(self._api, workspace, sort=sort, search=search, per_page=per_page)

    def project(
        self, path: str | None = None, entity: str | None = None, *, name: str | None = None
    ) -> Project:
        """One project, by SwanLab's path or W&B's name and entity.

        Args:
            path: ``entity/project`` (SwanLab), or a bare project name (W&B), with ``entity``
                or the default entity.
            entity: the workspace, when ``path`` is a bare name.
            name: W&B's keyword for a bare project name.

        Returns:
            The ``Project``.

        Raises:
            UsageError: the path is malformed or disagrees with ``entity``.
            ProjectNotFound: there is no such project.

        Example:
            >>> api.project(path="alice/mnist")
            >>> api.project("mnist", entity="alice")
            >>> api.project(name="mnist")                  # the default entity
        """
        if path is not None and name is not None:
            raise UsageError("pass the project as path or as name, not both")
        given = path if path is not None else name
        if given is None:
            raise UsageError("project() needs a path ('entity/project') or a name")
        ws, proj = paths.parse_project_path(given, entity or (lambda: self.default_entity))
        if entity and ws != paths.parse_workspace(entity):
            raise UsageError(f"path {given!r} is in workspace {ws!r}, not entity={entity!r}")
        return Project.from_json(self._api, self._transport.get_json(project_route(ws, proj)))

    def create_project(
        self,
        name: str,
        entity: str | None = None,
        *,
        description: str | None = None,
        labels: list[str] | None = None,
        visibility: str = "PRIVATE",
    ) -> Project:
        """Make a new project.

        Args:
            name: the project name.
            entity: the workspace to make it in; by default the default entity.
            description: what the project is about.
            labels: the project's tags.
            visibility: ``PRIVATE`` or ``PUBLIC``.

        Returns:
            The new ``Project`` (W&B returns ``None``; the project is more useful).

        Raises:
            Conflict: the workspace already has a project of that name.
            UsageError: the name is empty or holds a ``/``.

        Example:
            >>> api.create_project("mnist", "alice", description="digits")
        """
        if not isinstance(name, str) or not name.strip() or "/" in name:
            raise UsageError(f"a project name must be a non-empty name without '/', not {name!r}")
        workspace = self._workspace_arg(None, entity)
        body: dict[str, Any] = {"name": name, "visibility": visibility}
        if description is not None:
            body["description"] = description
        if labels is not None:
            body["labels"] = list(labels)
        data = self._transport.post_json(f"{workspace_route(workspace)}/projects", body)
        return Project.from_json(self._api, data)
