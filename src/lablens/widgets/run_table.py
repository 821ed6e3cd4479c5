"""``RunTable``: the runs of a project as a virtually scrolled table with a filter builder."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd
import traitlets as t

from lablens.api import Runs
from lablens.contract.arrow import table_to_ipc
from lablens.contract.paths import parse_run_path
from lablens.widgets._base import LablensWidget, make_api, shows_errors
from lablens.widgets._call import ApiCall, api_call
from lablens.widgets._listing import plural
from lablens.widgets._traits import ProjectPath, RunPaths

if TYPE_CHECKING:
    import pyarrow as pa

    from lablens.api import Api

__all__ = ["RunTable"]

# Columns shown when none are asked for: these, then the summary metrics, then the config keys
# whose values differ between the runs shown (at most this many of each kind).
_DEFAULT_BASE = ["name", "state"]
_DEFAULT_PER_KIND = 40
# Summary keys of held-out metrics (``val/acc``, ``eval_loss``, ``test/f1`` ...).
_HELD_OUT = re.compile(r"^(val|valid|validation|eval|test)[/_.]", re.IGNORECASE)
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
        columns: the columns to show; empty for the default: ``name``, ``state``, the summary
            metrics, then the config keys whose values differ between the runs shown (those
            the same for all are listed apart, in the "same for all" chip).
        selected: the runs to select: run paths, ``Run`` objects or a ``Runs`` collection.
        column_widths: column -> width in pixels (dragging a header's edge sets it).
        run_colors: run id -> CSS colour of the swatch on its row (the Explorer fills it
            with the colours its charts use).
        live: refresh the rows of running runs every few seconds while the table is in sight.

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
    _public = (
        "path",
        "filters",
        "order",
        "columns",
        "selected",
        "column_widths",
        "run_colors",
        "live",
    )

    path = ProjectPath("").tag(sync=True)
    """The project whose runs are shown, ``entity/project``; set it to a path, a ``Project`` or
    a ``Runs`` (its project)."""

    filters = t.Dict().tag(sync=True)
    """The MongoDB-style filter the rows match (``{}`` for all runs); the builder edits it."""

    order = t.Unicode("+created_at").tag(sync=True)
    """The sort order: a field with ``+`` (ascending) or ``-`` (descending); headers set it
    (``-summary.val/acc``; W&B's ``summary_metrics.`` spelling is taken too)."""

    columns = t.List(t.Unicode()).tag(sync=True)
    """The columns after the run id, in the order shown: ``name``, ``state``,
    ``config.<key>``, ``summary.<key>``; dragging a header reorders them. Set it to ``[]`` for
    the default choice."""

    column_widths = t.Dict(value_trait=t.Int()).tag(sync=True)
    """Column -> width in pixels, for the columns the user resized (others take a width that
    fits their kind: the full run name, a number, a state)."""

    run_colors = t.Dict(value_trait=t.Unicode()).tag(sync=True)
    """Run id -> CSS colour of the swatch drawn on its row (the charts' colour for the run)."""

    live = t.Bool(True).tag(sync=True)
    """Refresh the state and columns of running runs (every ~3 s, while the table is in sight
    and no request is out); the table's pause button turns it off."""

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
    _same = t.Dict().tag(sync=True)
    # The config columns left out of the default choice because every run shown has the same
    # value: {"values": {column: value as text}, "runs": how many runs were compared}.
    _loading = t.Bool(False).tag(sync=True)
    # True while a query is being read.

    def __init__(self, api: Api | None = None, **kwargs: Any) -> None:
        self._api = make_api(api, kwargs.get("path"), kwargs.get("selected"), widget="RunTable")
        given = kwargs.get("path")
        if isinstance(given, Runs):
            # A query given whole: show what it selects, unless told otherwise.
            kwargs.setdefault("filters", dict(given.filters or {}))
            kwargs.setdefault("order", given.order)
        self._first: pa.Table | None = None
        self._held = 0  # > 0 inside ``_one_query``: trait changes wait for one query at its end
        self._pending = False
        super().__init__(**kwargs)
        self.on_msg(self._on_msg)
        # Setting ``path`` above has read the project already (its observer ran).
        if self.path and not self._project:
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
        if project.path != self._project:
            self._same = {}
        self._project = project.path
        self._fields = fields
        self._query_changed({})

    @staticmethod
    def _candidates(fields: dict[str, dict[str, str]]) -> list[str]:
        """The columns the default choice picks from: name, state, the summary metrics (not
        the ``_step``-like ones), then the config keys."""
        cols = list(_DEFAULT_BASE)
        for kind in ("summary", "config"):
            keys = [k for k, typ in fields.get(kind, {}).items() if typ != "json" and k[:1] != "_"]
            if kind == "summary":
                # Held-out metrics first: they are what runs are compared by, and so in sight
                # without scrolling sideways in a narrow notebook.
                keys.sort(key=lambda k: not _HELD_OUT.match(k))
            cols += [f"{kind}.{k}" for k in keys[:_DEFAULT_PER_KIND]]
        return cols

    @staticmethod
    def _split_constant(table: pa.Table) -> tuple[list[str], dict[str, str]]:
        """The columns of ``table`` to show, and the config columns whose values are the same
        in every row (as text), which are not shown. A column no row has is neither."""
        shown, same = [], {}
        for name in table.column_names:
            if name == "id":
                continue
            if name in _DEFAULT_BASE:
                shown.append(name)
                continue
            values = table.column(name).to_pylist()
            distinct = {repr(v) for v in values}
            if distinct == {"None"} and values:
                continue  # no run shown has it (a metric the sweep's trials do not log)
            if not name.startswith("config."):
                shown.append(name)
            elif len(distinct) == 1 and len(values) > 1:
                same[name] = _text(values[0])
            else:
                shown.append(name)
        return shown, same

    @contextlib.contextmanager
    def _one_query(self) -> Iterator[None]:
        """Set several of ``path``/``filters``/``order``/``columns`` and read the rows once,
        at the end (the Explorer opening a sweep sets filters and columns together)."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held and self._pending:
                self._pending = False
                if self._project:
                    self._requery()

    @t.observe("filters", "order", "columns")
    def _query_changed(self, change: dict[str, Any]) -> None:
        """Read the rows again, or once at the end of ``_one_query``."""
        if self._held:
            self._pending = True
        elif self._project:
            self._requery()

    @shows_errors
    def _requery(self) -> None:
        self._first = None
        self.set_trait("_loading", True)
        try:
            if not self.columns:
                self._first = self._default_rows()
            else:
                # The first pages carry the total: one call answers both, and the view's first
                # requests (the page in sight and the one prefetched after it) need no other.
                self._first = self._rows(0, _PUSHED_PAGES * self._page_size)
        except Exception:
            self.set_trait("total", 0)
            raise
        finally:
            self._set_code(self._frame_call().assign("df"))
            self._query += 1
            self.set_trait("_loading", False)
        self.set_trait("total", int((self._first.schema.metadata or {}).get(b"total", b"0")))
        # Push them with the new query rather than wait for the view to ask: one kernel round
        # trip less for every sort and filter. A view shown later asks, and is served from
        # ``_first``.
        self._send_rows(0, self._first)

    def _default_rows(self) -> pa.Table:
        """Choose the default columns from the first pages of the runs shown, read with every
        candidate column: one call, whose rows are then the first pages of the table."""
        wide = self._rows_of(self._candidates(self._fields), 0, _PUSHED_PAGES * self._page_size)
        shown, same = self._split_constant(wide)
        try:
            # Setting ``columns`` here must not start another query: this one answers it.
            self._held += 1
            self.columns = shown
        finally:
            self._held -= 1
            self._pending = False
        self._same = {"values": same, "runs": wide.num_rows}
        return wide.select(["id", *shown]).replace_schema_metadata(wide.schema.metadata)

    def _rows(self, offset: int, limit: int, record: bool = True) -> pa.Table:
        return self._rows_of(self.columns, offset, limit, record)

    def _rows_of(
        self, columns: list[str], offset: int, limit: int, record: bool = True
    ) -> pa.Table:
        call = self._runs_call().then("to_arrow", columns, offset=offset, limit=limit)
        table = call.run(self._api)
        if record:
            self._called(call.assign("page"))
        return table

    # -- the browser's page requests ------------------------------------------------------

    @shows_errors
    def _on_msg(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        kind = content.get("type")
        if kind not in ("page", "refresh") or content.get("query") != self._query:
            return  # a request for a query that has been replaced
        if not self._project:
            return  # no project shown: no rows to read
        if kind == "refresh":
            self._refresh(content)
            return
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

    def _refresh(self, content: dict[str, Any]) -> None:
        """Read again the rows in sight, which hold running runs: their state and metrics
        move. One ``to_arrow`` call, the one that read them; not logged (it repeats)."""
        offset = max(int(content.get("offset", 0)), 0)
        limit = min(max(int(content.get("limit", self._page_size)), 1), self._page_size * 2)
        try:
            table = self._rows(offset, limit, record=False)
        except Exception:
            # The view waits for an answer before it asks again: always send one.
            self.send({"type": "refresh", "query": self._query, "offset": offset, "rows": 0})
            raise
        # Pages read before now are out of date; the view asks again for what it needs.
        self._first = None
        total = int((table.schema.metadata or {}).get(b"total", b"0"))
        if total != self.total:
            self.set_trait("total", total)
        self._send_rows(offset, table, kind="refresh")

    def _send_rows(self, offset: int, table: pa.Table, kind: str = "page") -> None:
        self.send(
            {"type": kind, "query": self._query, "offset": offset, "total": self.total},
            buffers=[table_to_ipc(table)],
        )

    def __repr__(self) -> str:
        n = len(self.selected)
        return (
            f"<RunTable {self._project or self.path or '-'}: {plural(self.total, 'run')}"
            f"{f', {n} selected' if n else ''}>"
        )


def _text(value: Any) -> str:
    """A config value as the "same for all" list shows it."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)
