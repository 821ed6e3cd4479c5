"""``Runs``: the lazy collection of runs a query returns, with its bulk reads (the run table,
and the history of every run in one request).

``Run``, one run, is in ``run.py`` (and still importable from here).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import pandas as pd
import pyarrow as pa

from lablens.api.history import check_keys, keys_found, x_window
from lablens.api.media import MediaItem, fetch_media, fetch_media_keys
from lablens.api.paging import Paginator
from lablens.api.run import Run
from lablens.api.run_compare import RunComparison
from lablens.api.run_histories import HistoryFormat, check_format, keys_to_fetch, read, shape
from lablens.contract.names import PointStream
from lablens.contract.routes import project_route
from lablens.errors import LablensError, UsageError

if TYPE_CHECKING:
    from lablens.api.api import Api

__all__ = ["Run", "Runs"]


class Runs(RunComparison, Paginator[Run]):
    """The runs of a project that match a filter, read lazily page by page.

    Returned by ``api.runs()``. Pages follow the server's keyset cursor, so runs created while
    the list is read are never skipped or repeated. Bulk reads take one request each:
    ``to_pandas()`` for config and summary of every run, ``histories()`` for their metrics,
    ``compare()`` for what differs between them, ``parallel_coordinates()`` and ``scatter()``
    for hyperparameters against a metric (``run_compare.py``).

    ``runs[i]`` is one ``Run``; a slice (``runs[:5]``) or a list of positions (``runs[[0, 2]]``)
    is a ``Runs`` of just those runs, in that order, with the same bulk reads.

    Example:
        >>> runs = api.runs("alice/mnist", filters={"state": "FINISHED"})
        >>> len(runs)
        >>> df = runs.to_pandas()
        >>> hist = runs.histories(keys=["loss"], format="pandas")
        >>> runs[:5].compare()
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
        # The run ids of a collection cut from another (a slice), in its order; None otherwise.
        self._fixed: list[str] | None = None

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
        if self._fixed is None:
            if offset:
                body["offset"] = offset
            if limit is not None:
                body["limit"] = limit
        table = self._api.client.post_arrow(
            f"{project_route(self.entity, self.project)}/runs/table", body
        )
        if self._fixed is None:
            return table
        # A cut collection: its rows in its own order, and a page cut here (it is small).
        meta = table.schema.metadata
        where = {rid: i for i, rid in enumerate(table.column("id").to_pylist())}
        rows = [where[rid] for rid in self._fixed if rid in where]
        stop = None if limit is None else offset + limit
        table = table.take(pa.array(rows[offset:stop], pa.int64()))
        return table.replace_schema_metadata({**(meta or {}), b"total": str(len(rows)).encode()})

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

    def histories(
        self,
        samples: int | None = 500,
        keys: Sequence[str] | None = None,
        x_axis: str = "_step",
        format: HistoryFormat = "default",  # noqa: A002 - W&B's name
        stream: PointStream = "default",
        min_x: float | None = None,
        max_x: float | None = None,
        min_step: int | None = None,
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
            min_step: read only the points from this step on (inclusive), whatever the
                ``x_axis``: what a run logged since step ``min_step - 1`` was read, so a
                chart of a running run reads only what is new.

        Returns:
            One row per (run, step): ``run_id``, ``_step``, a column per key, ``_timestamp`` and
            ``_runtime``; runs in this collection's order, steps ascending. With ``pandas``,
            ``df.attrs["run_names"]`` maps each run id to its display name (``None`` when it
            has none), for legends; the columns stay as they are.

        Raises:
            UsageError: ``format`` is unknown, polars is not installed for ``polars``, or
                ``x_axis``, ``min_x`` or ``max_x`` is invalid (``min_x`` above ``max_x``, not a
                finite number); ``.field`` names it.

        Warns:
            UnknownKeyWarning: a key (or a metric ``x_axis``) that none of the runs logged, a
                typo: it comes back empty, as in W&B, and the warning names the metrics that
                were logged, closest first.

        Example:
            >>> df = api.runs("alice/mnist").histories(keys=["loss"], format="pandas")
            >>> df.groupby("run_id")["loss"].min()
            >>> late = api.runs("alice/mnist").histories(keys=["loss"], x_axis="epoch",
            ...                                          min_x=8, max_x=10, format="pandas")
            >>> late.attrs["run_names"]
            >>> new = api.runs("alice/mnist").histories(keys=["loss"], min_step=1200)
        """
        check_format(format)
        window = x_window(x_axis, min_x, max_x)
        if min_step is not None:
            window["min_step"] = _check_min_step(min_step)
        keys, fetch = keys_to_fetch(keys, x_axis)
        found = read(self, fetch, samples=samples, stream=stream, window=window)
        if stream == "default":
            check_keys(fetch, keys_found(found.table), self._logged_keys, self._where())
        return shape(found, keys, fetch, x_axis, format)

    def media(self, key: str | None = None, steps: Any = None) -> list[MediaItem]:
        """The media of every run here under ``key``, in one request for all of them.

        Args:
            key: the key they were logged under; ``None`` for every media key.
            steps: ``None`` for every step, an int for one, a ``range`` or a list of ints.

        Returns:
            ``MediaItem`` objects by run (in this collection's order), key, step and index;
            ``item.run`` is the run that logged it.

        Example:
            >>> items = api.runs("alice/mnist").media("samples", steps=90)
            >>> {item.run.name: item.to_numpy() for item in items}
        """
        runs = {r.id: r for r in self}
        return fetch_media(self._api, self.entity, self.project, list(runs), key, steps, runs)

    def media_keys(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The media keys of every run here, in one request for all of them: what
        ``Run.media_keys()`` gives for each run, by run path.

        Returns:
            ``{run.path: {key: {"type", "count", "first_step", "last_step"}}}``, the runs in
            this collection's order; a run that logged no media has ``{}``.

        Example:
            >>> keys = api.runs("alice/mnist", filters={"state": "finished"}).media_keys()
            >>> keys["alice/mnist/3f2a9c1b"]
            {'samples': {'type': 'image', 'count': 40, 'first_step': 0, 'last_step': 390}}
        """
        runs = {r.id: r for r in self}
        return fetch_media_keys(self._api, self.entity, self.project, runs)

    def _logged_keys(self) -> list[str]:
        """The metrics these runs logged: from the runs read, or else the project's summary
        keys (a logged metric's last value is in the summary). Read only for a message."""
        if self.objects and not self.more:
            return sorted({k for r in self.objects for k in r.history_keys})
        fields = self._api.client.get_json(f"{project_route(self.entity, self.project)}/fields")
        return sorted((fields.get("summary") or {}).keys())

    def _where(self) -> str:
        return f"the runs of {self.path}" if self._fixed is None else f"these runs of {self.path}"

    # -- indexing: one run, or a collection of some of them -----------------------------------

    @overload
    def __getitem__(self, index: int) -> Run: ...

    @overload
    def __getitem__(self, index: slice | Sequence[int]) -> Runs: ...

    def __getitem__(self, index: int | slice | Sequence[int]) -> Run | Runs:
        """``runs[i]`` is a ``Run``; ``runs[a:b]`` and ``runs[[i, j]]`` are a ``Runs`` of those
        runs (in that order), with ``to_pandas()``, ``histories()`` and ``compare()``."""
        if isinstance(index, slice):
            return self._cut(super().__getitem__(index))
        if isinstance(index, (list, tuple, np.ndarray)):
            positions = list(index)
            for p in positions:
                if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
                    raise TypeError(
                        "runs[...] takes an integer, a slice or a list of integers,"
                        f" not a list holding {type(p).__name__} ({p!r})"
                    )
            if any(p < 0 for p in positions):
                self._load_until(None)
            elif positions:
                self._load_until(max(int(p) for p in positions) + 1)
            try:
                return self._cut([self.objects[int(p)] for p in positions])
            except IndexError:
                raise IndexError(
                    f"runs[{positions!r}]: {len(self.objects)} runs, positions"
                    f" 0 to {len(self.objects) - 1}"
                ) from None
        return super().__getitem__(index)

    def _cut(self, runs: Sequence[Run]) -> Runs:
        """A collection of just these runs (each once), already read, in this order."""
        picked = list({r.id: r for r in runs}.values())
        ids = [r.id for r in picked]
        cut = Runs(
            self._api,
            self.entity,
            self.project,
            filters={"id": {"$in": ids}},
            order=self.order,
            per_page=max(len(ids), 1),
            include_sweeps=True,
            lazy=self.lazy,
        )
        cut.objects = picked
        cut._total = len(picked)
        cut._done = True
        cut._fixed = ids
        return cut

    # -- display ----------------------------------------------------------------------------

    def _count(self) -> int | None:
        """How many runs match, when that costs no request beyond the first page (which
        iterating reads anyway, and keeps); ``None`` when the server cannot be reached."""
        if self._total is None and not self._done:
            try:
                self._load_page()
            except LablensError:
                return None
        return self._total if self._total is not None else len(self.objects)

    def __repr__(self) -> str:
        count = self._count()
        if count is None:
            return f"<Runs {self.path}>"
        return f"<Runs {self.path}: {count} run{'' if count == 1 else 's'}>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        # IPython in a terminal: the count, then the first runs as a small table.
        p.text(repr(self))
        if cycle or not self.objects:
            return
        shown = self.objects[:10]
        rows = [("id", "name", "state", "created_at")]
        rows += [(r.id, r.name or "", str(r.state).lower(), r.created_at or "") for r in shown]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            p.break_()
            p.text("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        count = self._count() or 0
        if count > len(shown):
            p.break_()
            p.text(f"  … {count - len(shown)} more")

    def _repr_html_(self) -> str:
        shown = list(self[:10])
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
            f"<div class='lablens'><b>Runs {html.escape(self.path)}</b>"
            f" ({total} run{'' if total == 1 else 's'})"
            f"<table><tr>{head}</tr>{rows}{more}</table></div>"
        )


def _check_min_step(min_step: Any) -> int:
    """``min_step`` as an int, or a ``UsageError`` naming it."""
    if isinstance(min_step, bool) or not isinstance(min_step, (int, np.integer)):
        raise UsageError(f"min_step must be an integer or None, not {min_step!r}", field="min_step")
    return int(min_step)
