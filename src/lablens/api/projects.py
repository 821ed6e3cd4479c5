"""``Project`` and ``Projects``: a project is a namespace of runs inside a workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lablens.api._attrs import Attrs, html_table
from lablens.api.paging import Paginator
from lablens.contract.routes import project_route, workspace_route

if TYPE_CHECKING:
    from lablens.api.api import Api
    from lablens.api.reports import Reports
    from lablens.api.runs import Runs
    from lablens.api.sweeps import Sweeps

__all__ = ["Project", "Projects"]


class Project(Attrs):
    """A project: the runs of one task (SwanLab's *project*, W&B's *project*).

    Get one with ``api.project("alice/mnist")`` (SwanLab) or ``api.project("mnist",
    entity="alice")`` (W&B); list them with ``api.projects("alice")``.

    Example:
        >>> project = api.project("alice/mnist")
        >>> project.path, project.visibility, project.count["runs"]
        ('alice/mnist', 'PRIVATE', 12)
    """

    id: Any
    """The server's id of the project, when it sends one."""
    name: str
    """The project name, e.g. ``mnist``."""
    entity: str
    """The workspace (W&B: entity) that holds the project."""
    path: str
    """``entity/project``, SwanLab's ``username/project_name``."""
    description: str | None
    """The project's description."""
    labels: list[str]
    """The project's tags."""
    visibility: str
    """``PUBLIC`` or ``PRIVATE``."""
    created_at: str | None
    """When the project was made, ISO 8601 UTC, e.g. ``2025-12-09T17:57:38.224Z``."""
    updated_at: str | None
    """When the project last changed, ISO 8601 UTC."""
    count: dict[str, Any]
    """Project statistics, e.g. ``{"runs": 12}``."""

    def _load(self, data: dict[str, Any]) -> None:
        self.id = data.get("id")
        self.name = data.get("name") or ""
        path = data.get("path") or ""
        self.entity = data.get("entity") or (path.split("/")[0] if "/" in path else "")
        self.path = path or f"{self.entity}/{self.name}"
        self.description = data.get("description")
        self.labels = list(data.get("labels") or [])
        self.visibility = data.get("visibility") or "PRIVATE"
        self.created_at = data.get("created_at")
        self.updated_at = data.get("updated_at")
        self.count = dict(data.get("count") or {})

    @property
    def url(self) -> str:
        """The project's address in a browser: ``{host}/{entity}/{project}``."""
        return f"{self._api.host}/{self.entity}/{self.name}"

    @property
    def tags(self) -> list[str]:
        """The project's labels under their W&B name."""
        return self.labels

    def runs(
        self,
        filters: dict[str, Any] | None = None,
        order: str = "+created_at",
        per_page: int = 50,
    ) -> Runs:
        """The runs in this project, as ``api.runs(project.path, ...)``.

        Args:
            filters: a MongoDB-style filter, e.g. ``{"state": "FINISHED"}``.
            order: ``+`` or ``-`` and a field, e.g. ``-summary_metrics.loss``.
            per_page: runs per request.

        Returns:
            A lazy ``Runs`` collection.

        Example:
            >>> for run in api.project("alice/mnist").runs():
            ...     print(run.name, run.url)
        """
        return self._api.runs(self.path, filters=filters, order=order, per_page=per_page)

    def fields(self) -> dict[str, dict[str, str]]:
        """The fields of this project's runs, with their types.

        Returns:
            ``{"run": {field: type}, "config": {key: type}, "summary": {key: type}}``. ``run``
            is the plain run fields every project has (``state``, ``name``, ``tags`` ...; types
            ``string time list``); ``config`` and ``summary`` are the keys logged in this
            project, nested keys dotted, each type one of ``integer number string bool json``
            (``json`` for lists, objects and keys seen with mixed types). These are the fields
            that filters, orders and ``Runs.to_pandas()`` columns take.

        Raises:
            ProjectNotFound: the project does not exist.

        Example:
            >>> api.project("alice/mnist").fields()["config"]
            {'lr': 'number', 'model.hidden': 'json'}
        """
        data = self._api.client.get_json(f"{project_route(self.entity, self.name)}/fields")
        return {
            "run": dict(data.get("run") or {}),
            "config": dict(data.get("config") or {}),
            "summary": dict(data.get("summary") or {}),
        }

    def sweeps(self, per_page: int = 50) -> Sweeps:
        """The project's sweeps, newest first.

        Example:
            >>> [(s.id, s.state) for s in api.project("alice/mnist").sweeps()]
        """
        return self._api.sweeps(self.path, per_page=per_page)

    def reports(self, name: str | None = None, per_page: int = 50) -> Reports:
        """The project's reports, newest first, as ``api.reports(project.path)``.

        Example:
            >>> [r.display_name for r in api.project("alice/mnist").reports()]
        """
        return self._api.reports(self.path, name=name, per_page=per_page)

    def update(self) -> Project:
        """Write a changed ``description``, ``labels`` or ``visibility`` to the server
        (changing the visibility needs an OWNER of the workspace).

        Example:
            >>> project.visibility = "PUBLIC"
            >>> project.update()
        """
        body = {
            "description": self.description,
            "labels": list(self.labels),
            "visibility": self.visibility,
        }
        self._attrs = self._api.client.patch_json(project_route(self.entity, self.name), body)
        self._load(self._attrs)
        return self

    def delete(self) -> None:
        """Delete the project with its runs, sweeps and reports (OWNERs of the workspace only).

        Raises:
            PermissionDenied: you are not an owner of the project's workspace.
        """
        self._api.client.delete(project_route(self.entity, self.name))

    def __repr__(self) -> str:
        # The count the server sent with the project: no request.
        runs = self.count.get("runs")
        if not isinstance(runs, int):
            return f"<Project {self.path}>"
        return f"<Project {self.path}: {runs} run{'' if runs == 1 else 's'}>"

    def _repr_html_(self) -> str:
        return html_table(
            [
                ("path", self.path),
                ("description", self.description),
                ("labels", ", ".join(self.labels)),
                ("visibility", self.visibility),
                ("runs", self.count.get("runs")),
                ("created_at", self.created_at),
                ("updated_at", self.updated_at),
                ("url", self.url),
            ],
            title=f"Project {self.path}",
        )


class Projects(Paginator[Project]):
    """The projects of one workspace, read lazily page by page.

    Returned by ``api.projects()``; iterate it, index it, or take ``len()``.

    Example:
        >>> projects = api.projects("alice", sort="updated_at")
        >>> [p.name for p in projects]
    """

    def __init__(
        self,
        api: Api,
        entity: str,
        *,
        sort: str | None = None,
        search: str | None = None,
        per_page: int = 200,
    ) -> None:
        super().__init__(api, per_page)
        self.entity = entity
        self.sort = sort
        self.search = search

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        route = f"{workspace_route(self.entity)}/projects"
        return self._get_page(route, cursor, limit, sort=self.sort, search=self.search)

    def _convert(self, item: dict[str, Any]) -> Project:
        return Project.from_json(self._api, item)

    def __repr__(self) -> str:
        return f"<Projects {self.entity}>"
