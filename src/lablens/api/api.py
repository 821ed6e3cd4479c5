"""``Api``: the one client class. Each method builds a route, calls the transport, and returns a
resource from its own module.

This module holds what the client itself is: construction, the transport, the signed-in user and
the defaults for short paths, and ``from_path()``. The methods of each resource are a part of
``Api`` in a module of their own: ``_api_projects.py`` (workspaces and projects), ``_api_runs.py``,
``_api_sweeps.py``, ``_api_reports.py``, ``_api_artifacts.py``, ``_api_registries.py``,
``_api_accounts.py`` (users and teams), ``_api_imports.py`` (``sync_tensorboard``),
``_api_charts.py`` (custom charts), ``_api_run_queues.py`` (run queues, jobs) and
``_api_automations.py`` (automations and integrations).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from lablens._settings import resolve_api_key, resolve_host
from lablens.api._api_accounts import ApiAccounts
from lablens.api._api_artifacts import ApiArtifacts
from lablens.api._api_automations import ApiAutomations
from lablens.api._api_charts import ApiCharts
from lablens.api._api_imports import ApiImports
from lablens.api._api_projects import ApiProjects
from lablens.api._api_registries import ApiRegistries
from lablens.api._api_reports import ApiReports
from lablens.api._api_run_queues import ApiRunQueues
from lablens.api._api_runs import ApiRuns
from lablens.api._api_sweeps import ApiSweeps
from lablens.api.projects import Project
from lablens.api.reports import BetaReport
from lablens.api.run import Run
from lablens.api.sweeps import Sweep
from lablens.api.users import User
from lablens.contract import paths
from lablens.contract.routes import VIEWER
from lablens.errors import LablensError, UsageError
from lablens.transport import Transport

__all__ = ["Api"]


class Api(
    ApiProjects,
    ApiRuns,
    ApiSweeps,
    ApiReports,
    ApiArtifacts,
    ApiAccounts,
    ApiImports,
    ApiCharts,
    ApiRunQueues,
    ApiRegistries,
    ApiAutomations,
):
    """Query and manage runs on a lablens server, with the SwanLab OpenAPI and W&B public API
    resource model: workspaces (entities), projects, runs, metric history, files, artifacts and
    users.

    Args:
        api_key: the key to sign in with; by default ``LABLENS_API_KEY``, else the key stored for
            the host (the local server writes it on first start, ``lablens login`` for others).
        host: the server, e.g. ``http://127.0.0.1:8123``; by default ``overrides["base_url"]``,
            else ``LABLENS_HOST``, else the local server (started if none runs).
        timeout: seconds to wait for each answer (default 60).
        overrides: W&B's settings: ``base_url``, and the defaults ``entity`` and ``project`` used
            by paths that leave them out. A dict passed first (``Api({"entity": "alice"})``, W&B's
            positional form) is taken as ``overrides``.

    Raises:
        ConnectionFailed: no host is given and no local server can be started.

    Example:
        >>> from lablens import Api
        >>> api = Api()                                    # the local server, stored key
        >>> api = Api(host="http://10.0.0.5:8123", api_key="...")
        >>> api = Api(overrides={"entity": "alice", "project": "mnist"})
        >>> run = api.run("3f2a9c1b")                      # alice/mnist/3f2a9c1b
    """

    def __init__(
        self,
        api_key: str | None = None,
        host: str | None = None,
        timeout: float | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(api_key, Mapping) and overrides is None:
            overrides, api_key = api_key, None
        settings = dict(overrides or {})
        # Found on its own: no host given and none in the environment, so the local server.
        self._local = not (host or settings.get("base_url") or os.environ.get("LABLENS_HOST"))
        self._host = resolve_host(host or settings.get("base_url"))
        #: W&B's settings: ``base_url``, ``entity``, ``project`` (defaults for short paths).
        self.settings: dict[str, Any] = {
            "entity": None,
            "project": None,
            **settings,
            "base_url": self._host,
        }
        #: The key this client signs in with (``None`` when none was found).
        self.api_key = resolve_api_key(self._host, api_key)
        self._transport = Transport(self._host, self.api_key, timeout=timeout)
        self._viewer: User | None = None

    # -- the client itself ----------------------------------------------------------------

    @property
    def client(self) -> Transport:
        """The HTTP session (``lablens.transport.Transport``) every call goes through."""
        return self._transport

    @property
    def user_agent(self) -> str:
        """The ``User-Agent`` every request of this client sends:
        ``lablens/<version> python/<version> requests/<version>``."""
        return self._transport.user_agent

    @property
    def host(self) -> str:
        """The server's address, e.g. ``http://127.0.0.1:8123``."""
        return self._host

    @property
    def viewer(self) -> User:
        """The signed-in user (read once, then cached until ``flush()``).

        Raises:
            Unauthorized: no key, or a wrong one.
        """
        if self._viewer is None:
            data = self._transport.get_json(VIEWER)
            self._viewer = User.from_json(self, data, is_self=True)
        return self._viewer

    @property
    def default_entity(self) -> str | None:
        """The entity for paths without one: ``overrides["entity"]``, else the viewer's own."""
        return self.settings.get("entity") or self.viewer.default_entity

    def _default_project(self) -> str | None:
        return self.settings.get("project")

    def flush(self) -> None:
        """Forget what this client cached (the viewer), so the next call reads it afresh.

        Example:
            >>> api.flush()
        """
        self._viewer = None

    def __repr__(self) -> str:
        try:
            return f"<Api {self._host} as {self.viewer.username}>"
        except LablensError:
            return f"<Api {self._host}>"

    def _workspace_arg(self, path: str | None, entity: str | None) -> str:
        """The workspace a call names by ``path`` or ``entity`` (which must agree), else the
        default entity."""
        if path and entity and paths.parse_workspace(path) != paths.parse_workspace(entity):
            raise UsageError(f"path={path!r} and entity={entity!r} name different workspaces")
        name = path or entity or self.default_entity
        if not name:
            raise UsageError("no workspace given and the signed-in user has no default entity")
        return paths.parse_workspace(name)

    def from_path(self, path: str) -> Project | Run | Sweep | BetaReport:
        """The project, run, sweep or report a path names, as W&B's ``from_path``.

        Args:
            path: ``project``, ``entity/project``, ``entity/project/run_id``,
                ``entity/project/runs/run_id``, ``entity/project/sweeps/sweep_id``,
                ``entity/project/reports/<name>-<id>``, or such a URL.

        Returns:
            A ``Project``, ``Run``, ``Sweep`` or ``BetaReport``.

        Raises:
            UsageError: the path is malformed, or names an artifact (not built yet).
            NotFound: the object does not exist.

        Example:
            >>> project = api.from_path("alice/mnist")
            >>> run = api.from_path("alice/mnist/runs/3f2a9c1b")
            >>> sweep = api.from_path("alice/mnist/sweeps/x1y2z3w4")
            >>> report = api.from_path("alice/mnist/reports/LR-sweep-ab12cd34")
        """
        found = paths.parse_path(path, lambda: self.default_entity)
        if found.kind == "project":
            return self.project(f"{found.entity}/{found.project}")
        if found.kind == "run":
            return self.run(f"{found.entity}/{found.project}/{found.id}")
        if found.kind == "sweep":
            return self.sweep(f"{found.entity}/{found.project}/{found.id}")
        if found.kind == "report":
            return self.report(path)
        if found.kind == "artifact":
            raise UsageError(
                f"{path!r} is an artifact path: use api.artifact('entity/project/name:version')"
            )
        raise UsageError(f"{path!r} is a {found.kind} path: lablens has no {found.kind}s yet")
