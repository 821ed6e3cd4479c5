"""``Api``: the one client class. Each method builds a route, calls the transport, and returns a
resource from its own module."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lablens._settings import resolve_api_key, resolve_host
from lablens.api._api_artifacts import ApiArtifacts
from lablens.api.projects import Project, Projects
from lablens.api.reports import BetaReport, Reports
from lablens.api.run_writes import to_iso
from lablens.api.runs import Run, Runs
from lablens.api.sweeps import Sweep, Sweeps
from lablens.api.teams import Team
from lablens.api.users import User
from lablens.api.workspaces import Workspace
from lablens.contract import paths
from lablens.contract.routes import project_route, quote_segment, run_route
from lablens.errors import LablensError, UsageError, UserNotFound
from lablens.transport import Transport

if TYPE_CHECKING:
    from lablens.importers import ImportReport

__all__ = ["Api"]


class Api(ApiArtifacts):
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
            data = self._transport.get_json("/api/v1/viewer")
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

    # -- workspaces -----------------------------------------------------------------------

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
                "/api/v1/workspaces", params={"cursor": cursor} if cursor else None
            )
            if isinstance(page, list):
                return found + [Workspace.from_json(self, w) for w in page]
            found += [Workspace.from_json(self, w) for w in page.get("items", [])]
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
        data = self._transport.get_json(f"/api/v1/workspaces/{quote_segment(name or '')}")
        return Workspace.from_json(self, data)

    # -- projects -------------------------------------------------------------------------

    def _workspace_arg(self, path: str | None, entity: str | None) -> str:
        if path and entity and paths.parse_workspace(path) != paths.parse_workspace(entity):
            raise UsageError(f"path={path!r} and entity={entity!r} name different workspaces")
        name = path or entity or self.default_entity
        if not name:
            raise UsageError("no workspace given and the signed-in user has no default entity")
        return paths.parse_workspace(name)

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
        return Projects(self, workspace, sort=sort, search=search, per_page=per_page)

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
        return Project.from_json(self, self._transport.get_json(project_route(ws, proj)))

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
        data = self._transport.post_json(
            f"/api/v1/workspaces/{quote_segment(workspace)}/projects", body
        )
        return Project.from_json(self, data)

    # -- runs -----------------------------------------------------------------------------

    def runs(
        self,
        path: str | None = None,
        filters: dict[str, Any] | None = None,
        order: str = "+created_at",
        per_page: int = 50,
        include_sweeps: bool = True,
        lazy: bool = True,
    ) -> Runs:
        """The runs of a project that match the filters.

        Args:
            path: ``entity/project``; a bare ``project`` uses the default entity, and ``None``
                the ``project`` and ``entity`` of ``overrides``.
            filters: MongoDB-style: ``$and $or $nor $not $eq $ne $gt $gte $lt $lte $in $nin
                $exists $regex`` on ``state``, ``name``/``display_name``, ``tags``, ``group``,
                ``job_type``, ``created_at``, ``username``, ``host``, ``config.<key>`` and
                ``summary_metrics.<key>``. SwanLab's flat form ``{'state': 'FINISHED',
                'config.batch_size': '64'}`` is the same language.
            order: ``+`` (ascending) or ``-`` (descending) and a field: ``created_at``,
                ``heartbeat_at``, ``config.<key>``, ``summary_metrics.<key>``.
            per_page: runs per request.
            include_sweeps: include runs that belong to sweeps.
            lazy: accepted for W&B compatibility; a field a listing leaves out is read when
                first used.

        Returns:
            A lazy ``Runs`` collection; ``len()`` is the number of matching runs.

        Raises:
            UsageError: the path is malformed.
            BadRequest: the filter or order is invalid (``.field`` names the bad part), raised
                when the runs are first read.

        Example:
            >>> runs = api.runs(path="alice/mnist", filters={"state": "FINISHED",
            ...                                                "config.batch_size": 64})
            >>> for run in runs:
            ...     print(run.name, run.id, run.created_at, run.url)
        """
        ws, proj = paths.parse_project_path(
            path, lambda: self.default_entity, self._default_project
        )
        return Runs(
            self,
            ws,
            proj,
            filters=filters,
            order=order,
            per_page=per_page,
            include_sweeps=include_sweeps,
            lazy=lazy,
        )

    def run(self, path: str = "") -> Run:
        """One run.

        Args:
            path: ``entity/project/run_id`` (also ``entity/project/runs/run_id`` or a run URL);
                ``project/run_id`` with a default entity; ``run_id`` with default entity and
                project (``overrides``).

        Returns:
            The ``Run``.

        Raises:
            UsageError: the path is malformed (the message names it).
            RunNotFound: there is no such run.

        Example:
            >>> run = api.run(path="alice/mnist/3f2a9c1b")
            >>> run.name, run.id, run.created_at, run.url, run.profile.config
        """
        entity, project, run_id = paths.parse_run_path(
            path, lambda: self.default_entity, self._default_project
        )
        data = self._transport.get_json(run_route(entity, project, run_id))
        return Run.from_json(self, data)

    def create_run(
        self,
        run_id: str | None = None,
        project: str | None = None,
        entity: str | None = None,
        *,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
        notes: str | None = None,
        group: str | None = None,
        job_type: str | None = None,
        host: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        created_at: dt.datetime | float | str | None = None,
    ) -> Run:
        """Create a new run, as W&B's ``Api.create_run``; it is ``RUNNING`` until ``finish()``.

        For training code, ``lablens.init()`` is the way to log a run. This is for runs whose
        data exists elsewhere: write their points with ``run.log_points()`` (each with its own
        step and time) and end them with ``run.finish(finished_at=...)``.

        Args:
            run_id: the ID to assign to the run (1 to 64 characters, no ``/``). By default a
                random one.
            project: the project of the new run (made if missing). By default the ``project``
                of ``overrides``, else ``uncategorized``.
            entity: the workspace of the project. By default the default entity.
            name: the display name; by default the id.
            config: the hyperparameters (nested dicts are kept).
            tags: the run's tags.
            notes: a description.
            group: the group the run belongs to.
            job_type: the kind of run, e.g. ``train``.
            host: the machine it ran on.
            metadata: anything else worth keeping, e.g. where the run came from.
            created_at: when the run started: a datetime, seconds since the epoch, or ISO 8601;
                by default now.

        Returns:
            The new ``Run``.

        Raises:
            Conflict: the project already has a run with this id.
            BadRequest: a field is invalid (``.field`` names it).

        Example:
            >>> run = api.create_run(run_id="tb-3f2a9c1b", project="mnist",
            ...                      config={"lr": 0.01}, created_at=1.7e9)
            >>> run.log_points({"key": ["loss"], "step": [0], "timestamp": [1.7e9],
            ...                 "value": [0.5]}, batch_id="tb-3f2a9c1b:0")
            >>> run.finish(finished_at=1.7e9 + 60)
        """
        ws = self._workspace_arg(None, entity)
        proj = project or self._default_project() or "uncategorized"
        if not isinstance(proj, str) or not proj.strip() or "/" in proj:
            raise UsageError(f"a project name must be a non-empty name without '/', not {proj!r}")
        body: dict[str, Any] = {}
        for key, value in (
            ("id", run_id),
            ("name", name),
            ("notes", notes),
            ("group", group),
            ("job_type", job_type),
            ("host", host),
        ):
            if value is not None:
                body[key] = value
        if config is not None:
            body["config"] = dict(config)
        if tags is not None:
            body["tags"] = [tags] if isinstance(tags, str) else list(tags)
        if metadata is not None:
            body["metadata"] = dict(metadata)
        when = to_iso(created_at, "created_at")
        if when is not None:
            body["created_at"] = when
        data = self._transport.post_json(f"{project_route(ws, proj)}/runs", body)
        return Run.from_json(self, data)

    def sync_tensorboard(
        self,
        root_dir: str | os.PathLike[str],
        run_id: str | None = None,
        project: str | None = None,
        entity: str | None = None,
    ) -> ImportReport:
        """Import a local directory of TensorBoard event files, as W&B's ``sync_tensorboard``.

        Every directory under ``root_dir`` that holds event files (from tensorboard,
        tensorboardX or ``torch.utils.tensorboard``) becomes one run: scalars exactly as stored,
        with their step and wall time; hparams as config; text as files. Running it again adds
        only what is new. Same as ``lablens import tensorboard ROOT_DIR`` without the progress
        bars; see ``lablens.importers.tensorboard``.

        Args:
            root_dir: the directory to search, recursively.
            run_id: the id of the run, when ``root_dir`` holds one run directory; by default
                one derived from the event files, so importing again finds the same run.
            project: the project to import into; by default ``overrides["project"]``, else
                ``tensorboard``.
            entity: the workspace; by default the default entity.

        Returns:
            An ``ImportReport``: the runs written, the points stored, and the files that could
            not be read (each with its path and why).

        Raises:
            UsageError: ``root_dir`` is not a directory, or ``run_id`` is given and it holds
                several run directories.

        Example:
            >>> report = api.sync_tensorboard("runs/", project="mnist")
            >>> report.runs, report.points, report.problems
        """
        from lablens.importers import tensorboard

        return tensorboard.import_(
            root_dir,
            api=self,
            run_id=run_id,
            project=project or self._default_project(),
            entity=entity,
            progress=False,
        )

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

    # -- users and teams ------------------------------------------------------------------

    def user(
        self, username_or_email: str | None = None, *, username: str | None = None
    ) -> User | None:
        """A user by username or email; by default the signed-in one (as ``viewer``).

        Args:
            username_or_email: the user's username or email address (W&B); ``None`` for the
                signed-in user (SwanLab's ``api.user()``).
            username: the same, under SwanLab's keyword.

        Returns:
            The ``User``, or ``None`` when there is no such user (as W&B's ``user()``). For
            another user, the email and the teams you do not share are not shown.

        Example:
            >>> me = api.user()
            >>> me.username, me.is_self, me.teams, me.api_keys
            >>> api.user("bob@example.com")
        """
        name = username_or_email or username
        if name is None or name == self.viewer.username:
            return self.viewer
        try:
            data = self._transport.get_json(f"/api/v1/users/{quote_segment(name)}")
        except UserNotFound:
            return None
        return User.from_json(self, data)

    def users(self, username_or_email: str | None = None) -> list[User]:
        """Every user of the server, or those whose username or email contains the text given
        (administrators only).

        Args:
            username_or_email: only users whose username or email contains this text.

        Returns:
            A list of ``User``.

        Raises:
            PermissionDenied: the signed-in user is not an administrator.

        Example:
            >>> for user in api.users():
            ...     print(user.username, user.is_self, user.teams)
            >>> api.users("@example.com")
        """
        params: dict[str, Any] = {}
        if username_or_email:
            params["search"] = username_or_email
        found: list[User] = []
        while True:
            page = self._transport.get_json("/api/v1/users", params=params or None)
            items = page if isinstance(page, list) else page.get("items", [])
            found += [User.from_json(self, u) for u in items]
            cursor = None if isinstance(page, list) else page.get("next")
            if not cursor or not items:
                return found
            params["cursor"] = cursor

    def create_user(
        self,
        email: str | None = None,
        admin: bool = False,
        *,
        username: str | None = None,
        password: str | None = None,
        name: str | None = None,
    ) -> User:
        """Create a user (administrators only), as W&B's ``create_user(email, admin)``.

        Args:
            email: the user's email address; the username is the part before the ``@`` (made
                unique) unless ``username`` is given.
            admin: make the user an administrator of the server.
            username: the new user's username.
            password: lets the user sign in with ``lablens login --username``.
            name: the display name.

        Returns:
            The new ``User``; ``user.api_key`` holds its first API key, shown only now.

        Raises:
            PermissionDenied: the signed-in user is not an administrator.
            Conflict: the username is taken.
            UsageError: neither ``email`` nor ``username`` is given.

        Example:
            >>> bob = api.create_user("bob@example.com")
            >>> bob.username, bob.api_key
        """
        if not email and not username:
            raise UsageError("create_user() needs an email or a username")
        body = {
            "username": username,
            "email": email,
            "is_admin": bool(admin),
            "password": password,
            "name": name,
        }
        data = self._transport.post_json(
            "/api/v1/users", {k: v for k, v in body.items() if v is not None}
        )
        return User.from_json(self, data, is_self=False)

    def create_team(self, team: str, admin_username: str | None = None) -> Team:
        """Create a team: a shared workspace whose members log runs into its projects.

        Args:
            team: the team's name, unique among users and teams.
            admin_username: the team's first OWNER; by default you. Naming someone else needs
                an administrator.

        Returns:
            The new ``Team``.

        Raises:
            Conflict: the name is taken by a user or a team.
            PermissionDenied: ``admin_username`` is someone else and you are not an admin.

        Example:
            >>> team = api.create_team("vision")
            >>> team.invite("bob")
        """
        body: dict[str, Any] = {"name": team}
        if admin_username:
            body["admin_username"] = admin_username
        return Team.from_json(self, self._transport.post_json("/api/v1/teams", body))

    def team(self, team: str) -> Team:
        """A team with its members (visible to its members and to admins).

        Args:
            team: the team's name.

        Returns:
            The ``Team``.

        Raises:
            TeamNotFound: there is no such team, or you are not one of its members.

        Example:
            >>> [(m.username, m.role) for m in api.team("vision").members]
        """
        name = paths.parse_workspace(team)
        return Team.from_json(
            self, self._transport.get_json(f"/api/v1/teams/{quote_segment(name)}")
        )

    # -- sweeps ---------------------------------------------------------------------------

    def sweep(self, path: str = "") -> Sweep:
        """A sweep, by ``entity/project/sweep_id``.

        Args:
            path: ``entity/project/sweep_id`` (also ``entity/project/sweeps/sweep_id`` or a
                sweep URL); ``project/sweep_id`` with a default entity; ``sweep_id`` with
                default entity and project (``overrides``).

        Returns:
            The ``Sweep``.

        Raises:
            UsageError: the path is malformed.
            SweepNotFound: there is no such sweep.

        Example:
            >>> sweep = api.sweep("alice/mnist/x1y2z3w4")
            >>> sweep.state, len(sweep.runs), sweep.best_run()
        """
        entity, project, sweep_id = paths.parse_sweep_path(
            path, lambda: self.default_entity, self._default_project
        )
        data = self._transport.get_json(
            f"{project_route(entity, project)}/sweeps/{quote_segment(sweep_id)}"
        )
        return Sweep.from_json(self, data)

    def sweeps(self, path: str | None = None, per_page: int = 50) -> Sweeps:
        """The sweeps of a project, newest first (as ``project.sweeps()``).

        Args:
            path: ``entity/project``, or a project with the default entity.
            per_page: sweeps per request.

        Returns:
            A lazy ``Sweeps`` collection.

        Example:
            >>> [s.id for s in api.sweeps("alice/mnist")]
        """
        ws, proj = paths.parse_project_path(
            path, lambda: self.default_entity, self._default_project
        )
        return Sweeps(self, ws, proj, per_page=per_page)

    # -- reports --------------------------------------------------------------------------

    def reports(self, path: str = "", name: str | None = None, per_page: int = 50) -> Reports:
        """The reports of a project, newest first.

        Args:
            path: ``entity/project``, or a project with the default entity.
            name: only reports with this name, title or id.
            per_page: reports per request.

        Returns:
            A lazy ``Reports`` collection of ``BetaReport``.

        Example:
            >>> for report in api.reports("alice/mnist"):
            ...     print(report.display_name, report.updated_at, report.url)
        """
        ws, proj = paths.parse_project_path(
            path or None, lambda: self.default_entity, self._default_project
        )
        return Reports(self, ws, proj, name=name, per_page=per_page)

    def report(self, path: str) -> BetaReport:
        """One report, by ``entity/project/reports/<name>-<id>`` (or its URL).

        Raises:
            ReportNotFound: there is no such report.

        Example:
            >>> report = api.report("alice/mnist/reports/LR-sweep-ab12cd34")
        """
        entity, project, report_id = paths.parse_report_path(path, lambda: self.default_entity)
        data = self._transport.get_json(
            f"{project_route(entity, project)}/reports/{quote_segment(report_id)}"
        )
        return BetaReport.from_json(self, data)

    def create_report(
        self,
        path: str,
        title: str,
        *,
        description: str | None = None,
        runsets: list[dict[str, Any]] | None = None,
        panels: list[dict[str, Any]] | None = None,
        spec: dict[str, Any] | None = None,
    ) -> BetaReport:
        """Save a report: run sets (filters) and panels (chart settings) under a title.

        This is the call the explorer makes to save its view (``Explorer.save_report``): it
        passes its whole state as ``spec``, and re-opens a report from ``report.spec``.

        Args:
            path: the project the report belongs to, ``entity/project``.
            title: the report's title.
            description: what it shows.
            runsets: ``[{"name", "project", "filters", "order", "runs"}]``; ``project``
                defaults to the report's, ``runs`` pins run ids.
            panels: ``[{"type": "line"|"bar"|"scatter", "runset", "title", "x", "y", ...}]``.
            spec: the whole spec at once, instead of ``runsets`` and ``panels``; keys other
                than those two are kept as given.

        Returns:
            The saved ``BetaReport``.

        Raises:
            BadRequest: a run set's filter or order is invalid (``.field`` names it).
            ProjectNotFound: a run set names a project you may not read.
            PermissionDenied: you are not a member of the project's workspace.

        Example:
            >>> report = api.create_report(
            ...     "alice/mnist", "LR sweep", description="which lr wins",
            ...     runsets=[{"filters": {"sweep": "x1y2z3w4"}}],
            ...     panels=[{"type": "line", "y": ["val/acc"]},
            ...             {"type": "scatter", "x": "config.lr", "y": "summary_metrics.val/acc"}])
        """
        ws, proj = paths.parse_project_path(path, lambda: self.default_entity)
        body_spec = dict(spec or {})
        if runsets is not None:
            body_spec["runsets"] = list(runsets)
        if panels is not None:
            body_spec["panels"] = list(panels)
        body: dict[str, Any] = {"title": title, "spec": body_spec}
        if description is not None:
            body["description"] = description
        data = self._transport.post_json(f"{project_route(ws, proj)}/reports", body)
        return BetaReport.from_json(self, data)
