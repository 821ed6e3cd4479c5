"""The run methods of ``Api``: ``runs()``, ``run()`` and ``create_run()``. A part of ``Api`` (see
``_api_part.py``); each method builds a route, calls the transport, and returns a resource from
``run.py`` or ``runs.py``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from lablens.api._api_part import ApiPart
from lablens.api.run import Run
from lablens.api.run_writes import to_iso
from lablens.api.runs import Runs
from lablens.contract import paths
from lablens.contract.routes import project_route, run_route
from lablens.errors import UsageError


class ApiRuns(ApiPart):
    """``Api.runs()``, ``run()`` and ``create_run()``."""

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
            self._api,
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
        return Run.from_json(self._api, data)

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
        return Run.from_json(self._api, data)
