"""``RunTable``: the runs of a project as a virtually scrolled table with a filter builder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import traitlets as t

from lablens.api import Runs
from lablens.contract.arrow import table_to_ipc
from lablens.contract.paths import parse_run_path
from lablens.widgets._base import LablensWidget, make_api, shows_errors
from lablens.widgets._call import ApiCall, api_call
from lablens.widgets._traits import ProjectPath, RunPaths

if TYPE_CHECKING:
    import pyarrow as pa

    from lablens.api import Api

__all__ = ["RunTable"]

# Columns shown when none are asked for: these, then up to this many config and summary keys.
_DEFAULT_BASE = ["name", "state", "created_at"]
_DEFAULT_PER_KIND = 8
# Pages pushed with every new query (the one in sight and the next), and the most one request
# of the view may ask for.
_PUSHED_PAGES = 2
_MAX_PAGES = 10


class RunTable(LablensWidget):
    """The runs of one project as a table: filter, sort, pick columns, select runs.

    Only the rows in sight are in the page; the browser asks for pages of rows as it scrolls
    and Python answers each with one ``Runs.to_arrow(offset=..., limit=...)`` call, sent as
    Arrow IPC. Setting ``filters``, ``order`` or ``columns`` from Python or in the table runs
    the query again; ``total`` and the rows follow.

    Args:
        api: the ``Api`` to query (default: the ``Api`` of the ``Project`` or ``Runs``
            given, else ``lablens.Api()``).

    Keyword Args:
        path: the project: ``"entity/project"`` (or ``"project"`` in the default entity), a
            ``Project``, or a ``Runs`` collection, whose filters and order the table then
            takes unless ``filters``/``order`` are given (``RunTable(path=runs[:5])`` shows
            those five runs).
        filters: a MongoDB-style filter (see docs/filters.md).
        order: a field with ``+`` or ``-``, e.g. ``"-summary_metrics.loss"``.
        columns: the columns to show; empty for a default choice from the project's keys.
        selected: the runs to select: run paths, ``Run`` objects or a ``Runs`` collection.

    Raises:
        TypeError: an unknown keyword argument, or a value of a type its argument does not
            take (the message names the argument and what it takes).

    Example:
        >>> table = RunTable(api, path="alice/mnist", filters={"state": "FINISHED"},
        ...                  order="-summary_metrics.val/acc")
        >>> table.total, table.to_pandas().head()
        >>> table.selected_runs().compare()      # the rows ticked in the table
        >>> table.to_pandas(selected=True)
    """

    _bundle = "run_table"
    _public = ("path", "filters", "order", "columns", "selected")

    path = ProjectPath("").tag(sync=True)
    """The project whose runs are shown, ``entity/project``; set it to a path, a ``Project`` or
    a ``Runs`` (its project)."""

    filters = t.Dict().tag(sync=True)
    """The MongoDB-style filter the rows match (``{}`` for all runs); the builder edits it."""

    order = t.Unicode("+created_at").tag(sync=True)
    """The sort order: a field with ``+`` (ascending) or ``-`` (descending); headers set it."""

    columns = t.List(t.Unicode()).tag(sync=True)
    """The columns after the run id: ``name``, ``state``, ``config.<key>``, ``summary.<key>``."""

    selected = RunPaths().tag(sync=True)
    """The selected runs, as run paths ``entity/project/run_id``; set it to paths, ``Run``
    objects or a ``Runs`` collection."""

    total = t.Int(0, read_only=True).tag(sync=True)
    """How many runs match ``filters`` (all pages together)."""

    _fields = t.Dict().tag(sync=True)
    # ``project.fields()``: the plain run fields (``run``) and the project's config and summary
    # keys, with their types, for the builder and the picker.
    _project = t.Unicode("").tag(sync=True)
    # The resolved project path, "entity/project", for building run paths in the browser.
    _query = t.Int(0).tag(sync=True)
    # Bumped on every new query, so the browser drops pages of the old one.
    _page_size = t.Int(100).tag(sync=True)
    # Rows per page request.

    def __init__(self, api: Api | None = None, **kwargs: Any) -> None:
        self._api = make_api(api, kwargs.get("path"), kwargs.get("selected"), widget="RunTable")
        given = kwargs.get("path")
        if isinstance(given, Runs):
            # A query given whole: show what it selects, unless told otherwise.
            kwargs.setdefault("filters", dict(given.filters or {}))
            kwargs.setdefault("order", given.order)
        self._first: pa.Table | None = None
        super().__init__(**kwargs)
        self.on_msg(self._on_msg)
        if self.path:
            self._load_project()

    # -- the query ------------------------------------------------------------------------

    def runs(self) -> Runs:
        """The ``Runs`` the table shows: ``api.runs(path, filters=..., order=...)``."""
        return self._runs_call().run(self._api)

    def _runs_call(self) -> ApiCall:
        return api_call(
            "runs",
            self._project or self.path,
            filters=self.filters or None,
            order=self.order or "+created_at",
        )

    def _frame_call(self) -> ApiCall:
        return self._runs_call().then("to_pandas", columns=self.columns)

    def _selected_call(self) -> ApiCall:
        project = self._project or self.path
        ids = []
        for path in self.selected:
            entity, name, run_id = parse_run_path(path)
            # Runs of another project are not rows of this table (before the project is read,
            # its path may still be short: every selected run counts).
            if not self._project or f"{entity}/{name}" == self._project:
                ids.append(run_id)
        return api_call(
            "runs", project, filters={"id": {"$in": ids}}, order=self.order or "+created_at"
        )

    def selected_runs(self) -> Runs:
        """The selected runs, as a ``Runs`` collection in the table's order, with its bulk reads
        (``to_pandas()``, ``histories()``, ``compare()``).

        Returns:
            ``api.runs(path, filters={"id": {"$in": [...]}}, order=...)``; empty when no row
            is selected.

        Example:
            >>> table.selected_runs().histories(keys=["loss"], format="pandas")
            >>> table.selected_runs().compare()
        """
        return self._selected_call().run(self._api)

    def to_pandas(self, selected: bool = False) -> pd.DataFrame:
        """What the table shows, every row: the runs matching ``filters`` in ``order``, with
        ``id`` and ``columns``. Equal to ``exec(table.code)``'s ``df``.

        Args:
            selected: only the selected rows (in the table's order, with the same columns).

        Returns:
            A DataFrame, one row per run.

        Example:
            >>> table.to_pandas()[["name", "summary.loss"]]
            >>> table.to_pandas(selected=True)
        """
        call = self._selected_call() if selected else self._runs_call()
        return call.then("to_pandas", columns=self.columns).run(self._api)

    @t.observe("path")
    def _path_changed(self, change: dict[str, Any]) -> None:
        self._load_project()

    @shows_errors
    def _load_project(self) -> None:
        project_call = api_call("project", self.path)
        project = project_call.run(self._api)
        self._called(project_call.assign("project"))
        # The fields of the project just read: the source names it by its variable.
        fields_call = ApiCall("project").then("fields")
        fields = fields_call.run(project)
        self._called(fields_call.assign("fields"))
        self._project = project.path
        self._fields = fields
        if not self.columns:
            with self.hold_trait_notifications():
                self.columns = self._default_columns(fields)
        self._requery()

    @staticmethod
    def _default_columns(fields: dict[str, dict[str, str]]) -> list[str]:
        cols = list(_DEFAULT_BASE)
        for kind in ("config", "summary"):
            keys = [k for k, typ in fields.get(kind, {}).items() if typ != "json"]
            cols += [f"{kind}.{k}" for k in keys[:_DEFAULT_PER_KIND]]
        return cols

    @t.observe("filters", "order", "columns")
    def _query_changed(self, change: dict[str, Any]) -> None:
        if self._project:
            self._requery()

    @shows_errors
    def _requery(self) -> None:
        self._first = None
        self._set_code(self._frame_call().assign("df"))
        try:
            # The first pages carry the total: one call answers both, and the view's first
            # requests (the page in sight and the one prefetched after it) need no other.
            self._first = self._rows(0, _PUSHED_PAGES * self._page_size)
        except Exception:
            self.set_trait("total", 0)
            raise
        finally:
            self._query += 1
        self.set_trait("total", int((self._first.schema.metadata or {}).get(b"total", b"0")))
        # Push them with the new query rather than wait for the view to ask: one kernel round
        # trip less for every sort and filter. A view shown later asks, and is served from
        # ``_first``.
        self._send_rows(0, self._first)

    def _rows(self, offset: int, limit: int) -> pa.Table:
        call = self._runs_call().then("to_arrow", self.columns, offset=offset, limit=limit)
        table = call.run(self._api)
        self._called(call.assign("page"))
        return table

    # -- the browser's page requests ------------------------------------------------------

    @shows_errors
    def _on_msg(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        if content.get("type") != "page" or content.get("query") != self._query:
            return  # a request for a query that has been replaced
        offset = max(int(content.get("offset", 0)), 0)
        # The view asks for the pages it lacks as one range (those in sight and the next):
        # one Api call, however many pages.
        limit = min(
            max(int(content.get("limit", self._page_size)), 1), _MAX_PAGES * self._page_size
        )
        first = self._first
        # The first read holds what it covers, or every matching run when it came back short.
        whole = first is not None and first.num_rows < _PUSHED_PAGES * self._page_size
        if first is not None and (whole or offset + limit <= first.num_rows):
            table = first.slice(offset, limit)
        else:
            table = self._rows(offset, limit)
        self._send_rows(offset, table)

    def _send_rows(self, offset: int, table: pa.Table) -> None:
        self.send(
            {"type": "page", "query": self._query, "offset": offset, "total": self.total},
            buffers=[table_to_ipc(table)],
        )

    def __repr__(self) -> str:
        n = len(self.selected)
        return (
            f"<RunTable {self._project or self.path or '-'}: {self.total} runs"
            f"{f', {n} selected' if n else ''}>"
        )
