"""``Runs``: the lazy collection of runs a query returns, with its bulk reads (the run table,
and the history of every run in one request).

``Run``, one run, is in ``run.py`` (and still importable from here).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lablens.api.history import x_window
from lablens.api.paging import Paginator
from lablens.api.run import Run
from lablens.api.run_histories import HistoryFormat, check_format, keys_to_fetch, read, shape
from lablens.contract.names import PointStream
from lablens.contract.routes import project_route
from lablens.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from lablens.api.api import Api

__all__ = ["Run", "Runs"]


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

    def histories(
        self,
        samples: int | None = 500,
        keys: Sequence[str] | None = None,
        x_axis: str = "_step",
        format: HistoryFormat = "default",  # noqa: A002 - W&B's name
        stream: PointStream = "default",
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
        check_format(format)
        window = x_window(x_axis, min_x, max_x)
        keys, fetch = keys_to_fetch(keys, x_axis)
        found = read(self, fetch, samples=samples, stream=stream, window=window)
        return shape(found, keys, fetch, x_axis, format)

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
