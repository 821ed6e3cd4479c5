"""``Explorer``: the tree, the run table, the metric panels and the artifact browser in one
layout, with an action log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as w
import pandas as pd
import traitlets as t

from lablens.api import Runs
from lablens.errors import UsageError
from lablens.widgets._base import LablensWidget, Recorder, check_kwargs, make_api
from lablens.widgets._call import api_call, api_source
from lablens.widgets._colors import run_colors
from lablens.widgets._listing import plural
from lablens.widgets._traits import where_path
from lablens.widgets.artifact_browser import ArtifactBrowser
from lablens.widgets.compare import CompareView
from lablens.widgets.custom_chart_panel import CustomChartPanel
from lablens.widgets.media_panel import MediaPanel
from lablens.widgets.panel_grid import PanelGrid
from lablens.widgets.run_table import RunTable
from lablens.widgets.sweeps import ParallelCoordinates, ScatterPlot
from lablens.widgets.workspace_tree import WorkspaceTree

if TYPE_CHECKING:
    from lablens.api import Api, BetaReport

__all__ = ["ActionLog", "Explorer"]

_LOG_KEEP = 200  # entries kept; scrolling a big table adds one per page read


def _is_view(path: str) -> bool:
    """Whether a tree path is a sweep or a report (a view of some of a project's runs)."""
    parts = (path or "").split("/")
    return len(parts) == 4 and parts[2] in ("sweeps", "reports")


def _title(text: str) -> w.HTML:
    """A section's title, as the explorer's parts are headed."""
    return w.HTML(
        f'<div class="ll-section-title" style="font-weight:600;font-size:13px;'
        f'margin:8px 0 2px;border-bottom:1px solid #e3e3e3">{text}</div>'
    )


def _section(text: str, part: w.DOMWidget, flex: str) -> w.VBox:
    """A titled column of the explorer's top row."""
    return w.VBox([_title(text), part], layout=w.Layout(flex=flex, min_width="0"))


class ActionLog(LablensWidget):
    """The Python source of each Api call, newest last, each with a copy button."""

    _bundle = "action_log"
    _public = ("entries",)

    entries = t.List(t.Unicode()).tag(sync=True)
    """The source of each Api call, oldest first (the first and the last 199 are kept)."""

    def add(self, source: str) -> None:
        """Append one entry (the first stays: the explorer's makes the ``api`` the rest use)."""
        entries = [*self.entries, source]
        if len(entries) > _LOG_KEEP:
            entries = entries[:1] + entries[-(_LOG_KEEP - 1) :]
        self.entries = entries


class Explorer(w.VBox, Recorder):
    """Browse workspaces, filter and sort runs, and compare their curves, in one widget.

    Selecting a project in the tree fills the table; selecting rows draws them in every panel
    of the panel grid below it (a panel per metric the runs logged, in sections by prefix),
    each run in the colour its row shows, shows the media they logged in the media panel
    (``explorer.media``) and compares them side by side (``explorer.compare``).
    Every Api call the parts make is listed in the action log, ready to copy; its first entry
    makes the ``api`` they use (``import lablens``, ``api = lablens.Api(host=...)``).

    Args:
        api: the ``Api`` to query (default: the ``Api`` of the resource given as ``path``,
            else ``lablens.Api()``).
        path: a workspace (``"alice"`` or a ``Workspace``) to open; a project
            (``"alice/mnist"`` or a ``Project``) to show; a run (its path or a ``Run``) to
            show selected; or a ``Runs`` collection, whose filters and order the table takes.

    Raises:
        TypeError: an unknown keyword argument, or a ``path``/``api`` of a type they do not
            take.

    Example:
        >>> ex = Explorer(api, path="alice/mnist")
        >>> ex.table.filters = {"state": "FINISHED"}
        >>> ex.actions[-1]
    """

    _public = ("path",)

    path = t.Unicode("")
    """The workspace or project shown."""

    def __init__(self, api: Api | None = None, path: Any = None, **kwargs: Any) -> None:
        check_kwargs(self, kwargs, ())
        self._api = make_api(api, path, widget="Explorer")
        where = where_path(path, "Explorer(path=...)") if path is not None else ""
        self._recorder_init()
        self.action_log = ActionLog()
        """The ``ActionLog`` of every Api call."""
        # The entries are calls on ``api``: the first one makes it, as a fresh kernel needs.
        self._logged("import lablens\n\n" + api_source(self._api))
        self.tree = WorkspaceTree(self._api)
        """The ``WorkspaceTree``."""
        self.table = RunTable(self._api)
        """The ``RunTable``."""
        self.panels = PanelGrid(self._api)
        """The ``PanelGrid`` of the selected runs, at the output's full width."""
        self._colors: dict[str, str] = {}
        self.artifacts = ArtifactBrowser(self._api)
        """The ``ArtifactBrowser`` of the project shown."""
        self.media = MediaPanel(self._api)
        """The ``MediaPanel`` of the selected runs (images, tables, histograms...)."""
        self.custom_charts = CustomChartPanel(self._api)
        """The ``CustomChartPanel``: a preset of the project's entity drawn on the runs the
        table shows."""
        self._compare_init()
        for part in (
            self.tree,
            self.table,
            self.panels,
            self.artifacts,
            self.media,
            self.custom_charts,
            *self._compare_parts,
        ):
            part.on_api_call(self._logged)
        # The tree listed workspaces before the log was listening.
        if self.tree.code:
            self._logged(self.tree.code)
        self.tree.observe(self._tree_selected, "selected")
        self.table.observe(self._rows_selected, "selected")
        self.artifacts.observe(self._lineage_run, "selected_run")
        self.table.observe(self._table_filtered, "filters")
        # The tree takes what a project's names need; the table the rest, so that its metric
        # columns are in sight at 1280 px.
        self.tree.layout = w.Layout(max_height="420px", overflow="auto")
        self.table.layout = w.Layout(width="100%")
        self.panels.layout = w.Layout(width="100%")
        super().__init__(
            children=[
                w.HBox(
                    [
                        _section("Workspace", self.tree, flex="0 0 220px"),
                        _section("Runs", self.table, flex="1 1 auto"),
                    ],
                    layout=w.Layout(width="100%"),
                ),
                _title("Charts"),
                self.panels,
                _title("Media"),
                self.media,
                _title("Custom charts"),
                self.custom_charts,
                self.compare_section,
                _title("Artifacts"),
                self.artifacts,
                self.action_log,
            ],
        )
        if where:
            self.path = where
            self._show(where)
        if isinstance(path, Runs):
            self.table.filters = dict(path.filters or {})
            self.table.order = path.order

    # -- the Compare section: the selected runs side by side, a sweep's plots ----------------

    def _compare_init(self) -> None:
        self.compare = CompareView(self._api)
        """The ``CompareView`` of the runs selected in the table."""
        self.parallel_coordinates = ParallelCoordinates(self._api)
        """The ``ParallelCoordinates`` of the sweep the table shows."""
        self.scatter_plot = ScatterPlot(self._api)
        """The ``ScatterPlot`` of the sweep the table shows."""
        self._compare_parts = (self.compare, self.parallel_coordinates, self.scatter_plot)
        # Filled only while the table shows a sweep's runs: a plot made in a hidden box would
        # take plotly's default width instead of the box's.
        self._sweep_hint = w.HTML(
            "<div style='color:#666'>Open a sweep in the tree to see its parallel coordinates"
            " and scatter plot.</div>"
        )
        self.sweep_plots = w.VBox([self._sweep_hint])
        self.compare_section = w.VBox([_title("Compare"), self.compare, self.sweep_plots])
        self.compare_section.add_class("lablens-compare-section")
        self.table.observe(self._sweep_shown, "filters")

    def _sweep_shown(self, change: dict[str, Any]) -> None:
        filters = change["new"] or {}
        sweep_id = filters.get("sweep") if len(filters) == 1 else None
        project = self.table._project or self.table.path
        if isinstance(sweep_id, str) and project:
            path = f"{project}/{sweep_id}"
            self.parallel_coordinates.sweep = path
            self.scatter_plot.sweep = path
            self.sweep_plots.children = (self.parallel_coordinates, self.scatter_plot)
        else:
            self.sweep_plots.children = (self._sweep_hint,)

    def _show(self, path: str) -> None:
        parts = path.split("/")
        self.tree.expand(parts[0])
        if len(parts) >= 2:
            self.tree.selected = "/".join(parts[:2])
        if len(parts) == 3:
            self.tree.selected = path  # a run: shown selected in the table

    def _logged(self, source: str) -> None:
        self.action_log.add(source)

    def _tree_selected(self, change: dict[str, Any]) -> None:
        path = change["new"]
        parts = path.split("/")
        if len(parts) < 2:
            return
        if len(parts) == 4 and parts[2] == "reports":
            self.open_report(path)
            return
        project = "/".join(parts[:2])
        sweep = parts[3] if len(parts) == 4 and parts[2] == "sweeps" else None
        # One read of the rows however many of the table's query traits change.
        with self.table._one_query():
            if project != self.table._project:
                self.table.selected = []
                self.table.columns = []
                self.table.path = project
            if sweep is not None:
                # A sweep's runs: the columns are chosen again, so the parameters the sweep
                # varies come first and those it holds fixed fold into "same for all".
                self.table.selected = []
                self.table.filters = {"sweep": sweep}
                self.table.columns = []
            elif len(parts) == 2 and _is_view(change["old"]):
                # Back from a sweep or a report to the project: all its runs again.
                self.table.selected = []
                self.table.filters = {}
                self.table.order = "+created_at"
                self.table.columns = []
        if project != self.artifacts.path:
            self.artifacts.path = project
        if project != self.custom_charts.path:
            self.custom_charts.path = project
        if len(parts) == 3:
            self.table.selected = [path]

    def _table_filtered(self, change: dict[str, Any]) -> None:
        """The custom chart draws the runs the table shows."""
        self.custom_charts.filters = dict(change["new"] or {})

    def _lineage_run(self, change: dict[str, Any]) -> None:
        """A run clicked in the artifact browser's lineage view: select it in the table."""
        path = change["new"]
        if not path or path.count("/") != 2:
            return
        project = path.rsplit("/", 1)[0]
        if project != self.table._project:
            self.table.filters = {}
            self.table.path = project
        self.table.selected = [path]

    def save_report(self, name: str, description: str | None = None) -> BetaReport:
        """Save what the explorer shows as a report: the table's filters, order, columns and
        selected runs, and the panels (a ``line`` panel per metric, with the grid's settings).

        The report re-opens exactly as saved with ``open_report``, and ``report.to_html()``
        writes it as a standalone page.

        Args:
            name: the report's title.
            description: what it shows.

        Returns:
            The saved ``BetaReport``.

        Raises:
            UsageError: no project is shown.

        Example:
            >>> report = explorer.save_report("best learning rates")
        """
        project = self.table._project
        if not project:
            raise UsageError("select a project before saving a report")
        grid = self.panels
        spec = {
            "runsets": [
                {
                    "name": "explorer",
                    "project": project,
                    "filters": dict(self.table.filters),
                    "order": self.table.order,
                    "runs": [p.rsplit("/", 1)[-1] for p in self.table.selected],
                }
            ],
            "panels": [
                {
                    "type": "line",
                    "runset": 0,
                    "x": grid.x_axis,
                    "y": [key],
                    "samples": grid.samples,
                    "smoothing": grid.smoothing,
                    "full_width": key in grid.full_width,
                }
                for key in grid.shown
            ],
            "explorer": {
                "columns": list(self.table.columns),
                "panels": list(grid.panels),
                "group_by": grid.group_by,
            },
        }
        call = api_call("create_report", project, name, description=description, spec=spec)
        report = call.run(self._api)
        self._logged(call.assign("report"))
        return report

    def open_report(self, report: BetaReport | str) -> None:
        """Show a saved report as it was saved: its run set in the table, its panels.

        Args:
            report: a ``BetaReport`` or its path ``entity/project/reports/<name>-<id>``.

        Example:
            >>> explorer.open_report(api.reports("alice/mnist", name="best learning rates")[0])
        """
        if isinstance(report, str):
            call = api_call("report", report)
            report = call.run(self._api)
            self._logged(call.assign("report"))
        spec = report.spec or {}
        runset = (spec.get("runsets") or [{}])[0]
        lines = [p for p in spec.get("panels") or [] if p.get("type") == "line"]
        panel = lines[0] if lines else {}
        explorer = spec.get("explorer") or {}
        project = runset.get("project") or f"{report.entity}/{report.project}"
        columns = explorer.get("columns")
        # One read of the rows for the whole run set.
        with self.table._one_query():
            self.table.selected = []
            if project != self.table._project:
                self.table.columns = []
                self.table.path = project
            self.table.filters = dict(runset.get("filters") or {})
            self.table.order = runset.get("order") or "+created_at"
            if columns:
                self.table.columns = list(columns)
        keys: list[str] = []
        for line in lines:  # a report of the chart before the panels holds several y a line
            y = line.get("y") or []
            keys += [y] if isinstance(y, str) else list(y)
        grid = self.panels
        with grid.hold_trait_notifications():
            grid.x_axis = panel.get("x", "_step")
            # Saved as shown: "panels" empty is every metric the runs logged.
            grid.panels = list(explorer.get("panels", keys))
            grid.samples = int(panel.get("samples", grid.samples))
            grid.smoothing = float(panel.get("smoothing", 0.0))
            grid.full_width = [
                k for line, k in zip(lines, keys, strict=False) if line.get("full_width")
            ]
            grid.group_by = str(explorer.get("group_by", ""))
        self.table.selected = [f"{project}/{rid}" for rid in runset.get("runs") or []]

    def _rows_selected(self, change: dict[str, Any]) -> None:
        selected = list(change["new"])
        # One colour per run for the table's swatches and every panel; a run keeps its colour
        # while others are selected and unselected.
        self._colors = run_colors(selected, previous=self._colors)
        by_id = {p.rsplit("/", 1)[-1]: c for p, c in self._colors.items()}
        self.table.run_colors = by_id  # the table's rows and the media's columns go by run id
        self.panels.run_colors = dict(self._colors)
        self.panels.runs = selected
        # The media of the same runs and their config side by side, in the same colours.
        with self.media.hold_trait_notifications():
            self.media.run_colors = dict(by_id)
            self.media.runs = selected
        self.compare.run_colors = dict(by_id)
        self.compare.runs = selected

    @property
    def actions(self) -> list[str]:
        """The source of every Api call made so far, oldest first."""
        return list(self.action_log.entries)

    def to_pandas(self) -> pd.DataFrame:
        """What the table shows (see ``RunTable.to_pandas``); the panels' points are
        ``explorer.panels.to_pandas()``."""
        return self.table.to_pandas()

    @property
    def code(self) -> str:  # type: ignore[override]
        """The source that gives ``to_pandas()``: the table's query."""
        return self.table.code

    def __repr__(self) -> str:
        return (
            f"<Explorer {self.table._project or self.path or '-'}: "
            f"{plural(self.table.total, 'run')}, {len(self.table.selected)} selected>"
        )
