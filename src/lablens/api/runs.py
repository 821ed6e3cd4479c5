"""``Run`` and ``Runs``: one training run, and the lazy collection a query returns."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lablens.api import _frames as F
from lablens.api import history as H
from lablens.api._attrs import Attrs, html_table
from lablens.api.files import RunFiles
from lablens.api.history import RunHistory
from lablens.api.paging import Paginator
from lablens.api.run_artifacts import RunArtifactMethods
from lablens.api.run_fields import Profile, RunState, Summary
from lablens.api.run_writes import RunWrites
from lablens.contract.routes import project_route, run_route
from lablens.errors import UsageError
from lablens.transport import decode_floats

if TYPE_CHECKING:
    from lablens.api.api import Api
    from lablens.api.sweeps import Sweep

__all__ = ["Run", "Runs"]

# Keys a run answer may leave out in a list (a "lazy" listing); reading one loads the whole run.
_HEAVY = ("config", "summary", "system_metrics", "metadata", "requirements", "conda")


class Run(RunHistory, RunFiles, RunWrites, RunArtifactMethods, Attrs):
    """A single run: its metadata, config, summary, metric history and files.

    Get one with ``api.run("alice/mnist/3f2a9c1b")`` or by iterating ``api.runs()``.
    Attributes cover both seeds: SwanLab's (``description``, ``labels``, ``profile``, ``show``,
    ``user``, ``metrics()``) and W&B's (``notes``, ``tags``, ``summary``, ``history()``,
    ``scan_history()``, ``update()``), and ``log_points()``/``finish()`` to write data that
    exists elsewhere with its own steps and times.

    ``path`` is the string ``entity/project/run_id`` (SwanLab), not W&B's list: a string is what
    every path argument takes. ``path_parts`` gives the list.

    Example:
        >>> run = api.run("alice/mnist/3f2a9c1b")
        >>> run.name, run.state, run.config["lr"], run.summary["loss"]
        >>> run.tags.append("best")
        >>> run.update()
        >>> run.metrics(keys=["loss", "acc"])
        >>> run.history(keys=["loss"], samples=None)
    """

    id: str
    """The run id (SwanLab's experiment id), unique in its project."""
    entity: str
    """The workspace (entity) of the run's project."""
    project: str
    """The name of the run's project."""
    name: str | None
    """The run's display name; set it and call ``update()`` to rename."""
    notes: str
    """Notes about the run (SwanLab: ``description``); editable."""
    state: RunState
    """``FINISHED``, ``RUNNING``, ``CRASHED`` or ``ABORTED``; also equal to the lowercase form."""
    group: str | None
    """The run's group (a string; SwanLab's list form is not used); editable."""
    job_type: str | None
    """The job type, e.g. ``train``; editable."""
    tags: list[str]
    """The run's tags (SwanLab: ``labels``); editable."""
    created_at: str | None
    """When the run started, ISO 8601 UTC, e.g. ``2025-12-09T17:57:38.224Z``."""
    finished_at: str | None
    """When the run ended, ISO 8601 UTC; ``None`` while it runs."""
    heartbeat_at: str | None
    """The last sign of life from the training process, ISO 8601 UTC."""
    show: bool
    """Whether the run shows in comparison charts."""
    history_keys: dict[str, Any]
    """Each logged metric: ``{"loss": {"count": 100, "last_step": 99}}``."""

    def _load(self, data: dict[str, Any]) -> None:
        path = data.get("path") or ""
        parts = path.split("/") if path.count("/") == 2 else [None, None, None]
        self.id = data.get("id") or parts[2] or ""
        self.entity = data.get("entity") or parts[0] or ""
        self.project = data.get("project") or parts[1] or ""
        self.name = data.get("name")
        self.notes = data.get("notes") or ""
        self.state = RunState(data.get("state") or "RUNNING")
        self.group = data.get("group")
        self.job_type = data.get("job_type")
        self.tags = list(data.get("tags") or [])
        self.created_at = data.get("created_at")
        self.finished_at = data.get("finished_at")
        self.heartbeat_at = data.get("heartbeat_at")
        self.show = bool(data.get("show", True))
        self.history_keys = dict(data.get("history_keys") or {})
        self._full = all(k in data for k in _HEAVY)
        self._config = decode_floats(data["config"]) if "config" in data else None
        # Refresh the Summary in place: code holding ``run.summary`` sees the server's answer.
        summary = getattr(self, "_summary", None)
        if summary is not None and "summary" in data:
            summary._replace(data["summary"])
        else:
            self._summary = Summary(self, data["summary"]) if "summary" in data else None

    def _heavy(self, key: str) -> Any:
        if key not in self._attrs and not self._full:
            self.load(force=True)
        return self._attrs.get(key)

    # -- identity -------------------------------------------------------------------------

    @property
    def path(self) -> str:
        """``entity/project/run_id``, SwanLab's ``username/project_name/experiment_id``."""
        return f"{self.entity}/{self.project}/{self.id}"

    @property
    def path_parts(self) -> list[str]:
        """``[entity, project, run_id]``: W&B's list form of ``path``."""
        return [self.entity, self.project, self.id]

    @property
    def url(self) -> str:
        """The run's address in a browser: ``{host}/{entity}/{project}/runs/{id}``."""
        return f"{self._api.host}/{self.entity}/{self.project}/runs/{self.id}"

    @property
    def sweep(self) -> Sweep | None:
        """The sweep that made this run (W&B's ``run.sweep``), or ``None``; read when first
        asked."""
        sweep_id = self._attrs.get("sweep")
        if not sweep_id:
            return None
        cached = self.__dict__.get("_sweep")
        if cached is None or cached.id != sweep_id:
            cached = self._api.sweep(f"{self.entity}/{self.project}/{sweep_id}")
            self.__dict__["_sweep"] = cached
        return cached

    @property
    def sweep_id(self) -> str | None:
        """The id of the sweep that made this run, or ``None``."""
        return self._attrs.get("sweep")

    # -- SwanLab and W&B names for the same thing -----------------------------------------

    @property
    def description(self) -> str:
        """The run's notes under SwanLab's name; editable."""
        return self.notes

    @description.setter
    def description(self, value: str) -> None:
        self.notes = value

    @property
    def labels(self) -> list[str]:
        """The run's tags under SwanLab's name; editable."""
        return self.tags

    @labels.setter
    def labels(self, value: Sequence[str]) -> None:
        self.tags = list(value)

    @property
    def display_name(self) -> str | None:
        """The run's name under W&B's other name; editable."""
        return self.name

    @display_name.setter
    def display_name(self, value: str | None) -> None:
        self.name = value

    @property
    def user(self) -> dict[str, Any]:
        """Who made the run: ``{'is_self': True, 'username': 'alice'}``."""
        username = self._attrs.get("username")
        return {
            "is_self": bool(username) and username == self._api.viewer.username,
            "username": username,
        }

    # -- config, summary, environment ----------------------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        """The run's hyperparameters as given (nested); change it and call ``update()``."""
        if self._config is None:
            self._config = decode_floats(self._heavy("config") or {})
        return self._config

    @config.setter
    def config(self, value: Mapping[str, Any]) -> None:
        self._config = dict(value)

    @property
    def summary(self) -> Summary:
        """The last value of each metric plus what was set (W&B); see ``Summary``."""
        if self._summary is None:
            self._summary = Summary(self, self._heavy("summary") or {})
        return self._summary

    @property
    def summary_metrics(self) -> dict[str, Any]:
        """The summary as a plain ``dict`` (W&B's name, also the filter prefix)."""
        return dict(self.summary)

    @property
    def system_metrics(self) -> dict[str, Any]:
        """The latest system metrics, e.g. ``{"system.cpu": 12.5}``."""
        return decode_floats(dict(self._heavy("system_metrics") or {}))

    @property
    def metadata(self) -> dict[str, Any]:
        """Where and how the run ran: Python version, host, hardware, command."""
        return dict(self._heavy("metadata") or {})

    @property
    def profile(self) -> Profile:
        """SwanLab's ``run.profile``: ``config``, ``metadata``, ``requirements``, ``conda``."""
        return Profile(
            config=self.config,
            metadata=self.metadata,
            requirements=self._heavy("requirements"),
            conda=self._heavy("conda"),
        )

    @property
    def last_history_step(self) -> int:
        """The last step with a logged metric; ``-1`` before the first, as in W&B."""
        step = self._attrs.get("last_history_step")
        return -1 if step is None else int(step)

    @property
    def lastHistoryStep(self) -> int:  # noqa: N802 - W&B's name
        """``last_history_step`` under W&B's name."""
        return self.last_history_step

    # -- reading and writing the run -----------------------------------------------------

    def _route(self) -> str:
        return run_route(self.entity, self.project, self.id)

    def _reload(self, data: dict[str, Any]) -> None:
        self._attrs = dict(data)
        self._load(self._attrs)

    def load(self, force: bool = False) -> Run:
        """Read the run from the server again.

        Args:
            force: read even when every field is already here.

        Returns:
            The run itself, refreshed.

        Raises:
            RunNotFound: the run was deleted.

        Example:
            >>> run.load(force=True).state
        """
        if force or not self._full:
            self._reload(self._api.client.get_json(self._route()))
        return self

    def _patch(self, body: dict[str, Any]) -> None:
        if body:
            self._reload(self._api.client.patch_json(self._route(), body))

    def update(self) -> Run:
        """Write the changes made here to the server: name, notes/description, tags/labels,
        group, job type, config and summary.

        Returns:
            The run, as the server now holds it.

        Raises:
            ApiError: the server refused the change.

        Example:
            >>> run = api.run("alice/mnist/3f2a9c1b")
            >>> run.name, run.notes = "baseline", "lr sweep winner"
            >>> run.tags.append("best")
            >>> run.config["seed"] = 1
            >>> run.update()
        """
        body: dict[str, Any] = {
            "name": self.name,
            "notes": self.notes,
            "tags": list(self.tags),
            "group": self.group,
            "job_type": self.job_type,
        }
        if self._config is not None:
            body["config"] = self._config
        if self._summary is not None:
            body.update(self._summary._patch_body())
        self._patch(body)
        return self

    def delete(self) -> None:
        """Delete the run, its metrics and its files from the server.

        Raises:
            RunNotFound: the run is already gone.

        Example:
            >>> api.run("alice/mnist/3f2a9c1b").delete()
        """
        self._api.client.delete(self._route())

    # -- display --------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<Run {self.path} {self.state}>"

    def _repr_html_(self) -> str:
        summary = self._summary if self._summary is not None else self._attrs.get("summary", {})
        return html_table(
            [
                ("name", self.name),
                ("state", self.state),
                ("created_at", self.created_at),
                ("finished_at", self.finished_at),
                ("tags", ", ".join(self.tags)),
                ("group", self.group),
                ("job_type", self.job_type),
                ("notes", self.notes),
                ("config", self._config if self._config is not None else self._attrs.get("config")),
                ("summary", dict(summary or {})),
                ("url", self.url),
            ],
            title=f"Run {self.path}",
        )


def _runs_of(table: pa.Table) -> tuple[list[str], dict[str, float], dict[str, str | None]]:
    """The runs of a history answer in order, when each was created (for ``_runtime``) and
    each one's display name."""
    column = table.column("run_id").combine_chunks()
    ids = [str(v) for v in column.dictionary.to_pylist()]
    meta = table.schema.metadata or {}
    started = json.loads(meta.get(b"started", b"{}"))
    names = json.loads(meta.get(b"names", b"{}"))
    return (
        ids,
        {rid: float(started[rid]) for rid in ids if rid in started},
        {rid: names.get(rid) for rid in ids},
    )


class Runs(Paginator[Run]):
    """The runs of a project that match a filter, read lazily page by page.

    Returned by ``api.runs()``. Pages follow the server's keyset cursor, so runs created while
    the list is read are never skipped or repeated. Bulk reads take one request each:
    ``to_pandas()`` for config and summary of every run, ``histories()`` for their metrics.

    Example:
        >>> runs = api.runs("alice/mnist", filters={"state": "FINISHED"})
        >>> len(runs)
        >>> df = runs.to_pandas()
        >>> hist = runs.histories(keys=["loss"], format="pandas")
    """

    def __init__(
        self,
        api: Api,
        entity: str,
        project: str,
        filters: dict[str, Any] | None = None,
        order: str = "+created_at",
        per_page: int = 50,
        include_sweeps: bool = True,
        lazy: bool = True,
    ) -> None:
        super().__init__(api, per_page)
        if filters is not None and not isinstance(filters, dict):
            raise UsageError(f"filters must be a dict, not {type(filters).__name__}")
        self.entity = entity
        self.project = project
        self.filters = filters
        self.order = order
        self.include_sweeps = include_sweeps
        self.lazy = lazy

    @property
    def path(self) -> str:
        """The project path, ``entity/project``."""
        return f"{self.entity}/{self.project}"

    def _query(self) -> dict[str, Any]:
        body: dict[str, Any] = {"order": self.order}
        if self.filters:
            body["filters"] = self.filters
        return body

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        body = {**self._query(), "limit": limit, "include_sweeps": self.include_sweeps}
        if cursor:
            body["cursor"] = cursor
        return self._api.client.post_json(
            f"{project_route(self.entity, self.project)}/runs/query", body
        )

    def _convert(self, item: dict[str, Any]) -> Run:
        return Run.from_json(self._api, item)

    def _table(
        self,
        columns: Sequence[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> pa.Table:
        body = self._query()
        if columns is not None:
            body["columns"] = list(columns)
        if offset:
            body["offset"] = offset
        if limit is not None:
            body["limit"] = limit
        return self._api.client.post_arrow(
            f"{project_route(self.entity, self.project)}/runs/table", body
        )

    @staticmethod
    def _pick(table: pa.Table, columns: Sequence[str] | None) -> pa.Table:
        """The columns asked for, in the order asked (``id`` first when not asked for)."""
        if columns is None:
            return table
        names = list(dict.fromkeys(columns if "id" in columns else ["id", *columns]))
        missing = [n for n in names if n not in table.column_names]
        if missing:
            raise UsageError(f"no such run table column: {', '.join(missing)}", field="columns")
        return table.select(names)

    def to_arrow(
        self,
        columns: Sequence[str] | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
    ) -> pa.Table:
        """The run table as Arrow, whole or one page of it, in one request.

        A page is cut by position in ``order`` (``offset``, ``limit``) so that a table view can
        jump to any row; use iteration (keyset cursors) to read every run while runs arrive.

        Args:
            columns: only these columns (``name``, ``config.lr``, ``summary.loss`` ...), in
                this order, ``id`` first; ``None`` for every column.
            offset: how many matching runs to skip.
            limit: at most this many rows; ``None`` for all from ``offset`` on.

        Returns:
            An Arrow table with the columns of ``to_pandas()``. Its schema metadata ``b"total"``
            holds the number of matching runs (all pages together).

        Raises:
            BadRequest: the filter or order is invalid.
            UsageError: ``offset``/``limit`` is negative, or a column does not exist.

        Example:
            >>> page = api.runs("alice/mnist", order="-summary_metrics.acc").to_arrow(
            ...     ["name", "summary.acc"], offset=100, limit=50)
            >>> int(page.schema.metadata[b"total"]), page.num_rows
        """
        if not isinstance(offset, int) or offset < 0:
            raise UsageError(f"offset must be a non-negative integer, not {offset!r}")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise UsageError(f"limit must be a positive integer or None, not {limit!r}")
        table = self._table(columns=columns, offset=offset, limit=limit)
        meta = table.schema.metadata
        return self._pick(table, columns).replace_schema_metadata(meta)

    def to_pandas(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per matching run, in one request: the whole project as a table.

        Args:
            columns: only these columns, in this order, ``id`` first (``None``: all of them).

        Returns:
            A DataFrame with ``id name state tags group job_type created_at finished_at
            heartbeat_at username host notes``, then a ``config.<key>`` column per config key
            (nested keys dotted) and a ``summary.<key>`` column per summary key.

        Raises:
            BadRequest: the filter or order is invalid.
            UsageError: a column does not exist.

        Example:
            >>> df = api.runs("alice/mnist").to_pandas()
            >>> df[["name", "config.lr", "summary.loss"]]
        """
        return self._pick(self._table(columns=columns), columns).to_pandas()

    def _ids_and_starts(self) -> tuple[list[str], dict[str, float]]:
        if self.objects and not self.more:
            return (
                [r.id for r in self.objects],
                {r.id: F.epoch_seconds(r.created_at) for r in self.objects},
            )
        table = self._table(columns=["id", "created_at"])
        ids = [str(v) for v in table.column("id").to_pylist()]
        created = table.column("created_at")
        if pa.types.is_timestamp(created.type):
            us = pc.cast(pc.cast(created, pa.timestamp("us", tz="UTC")), pa.int64())
            starts = (np.asarray(us.to_numpy(), dtype=np.float64) / 1e6).tolist()
        else:
            starts = [F.epoch_seconds(v) for v in created.to_pylist()]
        return ids, dict(zip(ids, starts, strict=True))

    def histories(
        self,
        samples: int | None = 500,
        keys: Sequence[str] | None = None,
        x_axis: str = "_step",
        format: Literal["default", "pandas", "polars", "long"] = "default",  # noqa: A002 - W&B's name
        stream: Literal["default", "system"] = "default",
        min_x: float | None = None,
        max_x: float | None = None,
    ) -> list[dict[str, Any]] | pd.DataFrame | Any:
        """Metric history of every matching run, in one history request (W&B's ``histories()``).

        Args:
            samples: at most this many points per run and metric; ``None`` for every point.
            keys: only these metrics; ``None`` for all.
            x_axis: ``_step``, ``_timestamp``, ``_runtime`` or a metric name (rows without it
                are dropped; the server reads every key at the steps where it was logged).
            format: ``default`` (a list of dicts), ``pandas``, ``polars``, or ``long``: a
                pandas DataFrame with one row per point, ``run_id key _step _timestamp
                _runtime value`` (and a column named after a metric ``x_axis``), the form
                plotting libraries take.
            stream: ``default`` for logged metrics, ``system`` for machine metrics.
            min_x: read only from this ``x_axis`` value on (inclusive); the range is cut on the
                server before sampling, so a zoomed-in range comes at full resolution. On
                ``_step``; ``_timestamp`` (seconds since the epoch); ``_runtime`` (seconds
                since each run started, a point's own time); or a metric, where each run keeps
                the steps at which that metric's value lies in the range, and every key is read
                at those steps only.
            max_x: read only up to this ``x_axis`` value (inclusive); as ``min_x``.

        Returns:
            One row per (run, step): ``run_id``, ``_step``, a column per key, ``_timestamp`` and
            ``_runtime``; runs in this collection's order, steps ascending. With ``pandas``,
            ``df.attrs["run_names"]`` maps each run id to its display name (``None`` when it
            has none), for legends; the columns stay as they are.

        Raises:
            UsageError: ``format`` is unknown, polars is not installed for ``polars``, or
                ``x_axis``, ``min_x`` or ``max_x`` is invalid (``min_x`` above ``max_x``, not a
                finite number); ``.field`` names it.

        Example:
            >>> df = api.runs("alice/mnist").histories(keys=["loss"], format="pandas")
            >>> df.groupby("run_id")["loss"].min()
            >>> late = api.runs("alice/mnist").histories(keys=["loss"], x_axis="epoch",
            ...                                          min_x=8, max_x=10, format="pandas")
            >>> late.attrs["run_names"]
        """
        if format not in ("default", "pandas", "polars", "long"):
            raise UsageError(
                f"format must be 'default', 'pandas', 'polars' or 'long', not {format!r}",
                field="format",
            )
        window = H.x_window(x_axis, min_x, max_x)
        keys = [keys] if isinstance(keys, str) else (list(keys) if keys is not None else None)
        fetch = keys
        if keys is not None and x_axis not in H.BUILTIN_X and x_axis not in keys:
            fetch = [*keys, x_axis]
        names: dict[str, str | None] = {}
        if self.objects and not self.more:
            ids, created = self._ids_and_starts()
            table = (
                H.fetch_history(
                    self._api,
                    self.entity,
                    self.project,
                    ids,
                    keys=fetch,
                    samples=samples,
                    stream=stream,
                    **window,
                )
                if ids
                else None
            )
            if table is not None:
                # The server's starts are exact (created_at as text stops at milliseconds), so
                # _runtime matches the range the server cut.
                _, started, names = _runs_of(table)
                created.update(started)
        else:
            # One request: the server picks the runs by this collection's filters and order.
            table = H.fetch_history(
                self._api,
                self.entity,
                self.project,
                None,
                keys=fetch,
                samples=samples,
                stream=stream,
                filters=self.filters,
                order=self.order,
                **window,
            )
            ids, created, names = _runs_of(table)
        if table is None or not ids:
            table = pa.table({"run_id": pa.array([], pa.string())})
        if format == "long":
            frame = F.long_frame(table, keys, x_axis, created, ids)
            frame.attrs["run_names"] = {rid: names.get(rid) for rid in ids}
            return frame
        wide = F.pivot(table, fetch)
        if x_axis not in H.BUILTIN_X:
            wide = wide.take(wide.present_mask(x_axis))
        rank = {run_id: i for i, run_id in enumerate(ids)}
        code_rank = np.array([rank.get(r, len(ids)) for r in wide.run_ids], dtype=np.int64)
        if len(wide) and not np.all(np.diff(code_rank) > 0):
            # Rows come grouped by run in the server's order; put the runs in this collection's
            # order. A stable sort keeps the steps ascending inside each run.
            wide = wide.take(np.argsort(code_rank[wide.run_codes], kind="stable"))
        if format == "pandas":
            frame = F.wandb_frame(wide, created, with_run_id=True)
            frame.attrs["run_names"] = {rid: names.get(rid) for rid in ids}
            return frame
        if format == "polars":
            return F.polars_frame(wide, created, with_run_id=True)
        return F.records(wide, created, with_run_id=True)

    def __repr__(self) -> str:
        return f"<Runs {self.path}>"

    def _repr_html_(self) -> str:
        shown = self[:10]
        total = len(self)
        head = "".join(f"<th>{h}</th>" for h in ("id", "name", "state", "created_at", "tags"))
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v if v is not None else ''))}</td>"
                for v in (r.id, r.name, r.state, r.created_at, ", ".join(r.tags))
            )
            + "</tr>"
            for r in shown
        )
        more = (
            f"<tr><td colspan=5>… {total - len(shown)} more</td></tr>" if total > len(shown) else ""
        )
        return (
            f"<div class='lablens'><b>Runs {html.escape(self.path)}</b> ({total} runs)"
            f"<table><tr>{head}</tr>{rows}{more}</table></div>"
        )
