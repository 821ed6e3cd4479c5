"""``RunsPlot``: what the parallel coordinates and scatter widgets share: where their runs come
from (a sweep, or a project's runs and a filter), the keys their pickers offer, and the plotly
``FigureWidget`` that shows the figure an ``Api`` call returned."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import plotly.graph_objects as go
import traitlets as t

from lablens.api import Runs, Sweep
from lablens.contract.paths import parse_sweep_path
from lablens.widgets._base import Recorder, check_kwargs, make_api
from lablens.widgets._call import ApiCall, api_call

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["RunsPlot", "source_of"]

SOURCE_TAKEN = "a Sweep, a sweep path ('entity/project/sweep_id'), a Runs collection or a project"


def source_of(value: Any, argument: str) -> dict[str, Any]:
    """``{sweep}`` or ``{project, filters}`` from a ``Sweep``, a ``Runs``, or a path
    (``entity/project`` is a project; ``entity/project/id`` or ``.../sweeps/id`` a sweep).

    Raises:
        TypeError: something else; the message names ``argument`` and what it takes.
    """
    if isinstance(value, Sweep):
        return {"sweep": value.path}
    if isinstance(value, Runs):
        return {"project": value.path, "filters": dict(value.filters or {})}
    if isinstance(value, str) and value.strip("/"):
        parts = value.strip("/").split("/")
        if len(parts) == 2:
            return {"project": "/".join(parts), "filters": {}}
        entity, project, sweep_id = parse_sweep_path(value)
        return {"sweep": f"{entity}/{project}/{sweep_id}"}
    raise TypeError(f"{argument} takes {SOURCE_TAKEN}, not {type(value).__name__}")


class RunsPlot(w.VBox, Recorder):
    """The base of ``ParallelCoordinates`` and ``ScatterPlot``: its runs are a sweep's
    (``sweep``) or a project's that match ``filters``; a subclass builds its figure call."""

    _public: tuple[str, ...] = ()

    sweep = t.Unicode("")
    """The sweep whose runs are drawn, ``entity/project/sweep_id``; empty for ``project``'s."""

    project = t.Unicode("")
    """The project whose runs matching ``filters`` are drawn, when no ``sweep`` is set."""

    filters = t.Dict()
    """The filter of ``project``'s runs (the filter language of ``api.runs``)."""

    def __init__(self, api: Api | None, source: Any, kwargs: dict[str, Any]) -> None:
        check_kwargs(self, kwargs, self._public)
        self._api = make_api(api, source, widget=type(self).__name__)
        self._recorder_init()
        self._fields: dict[str, dict[str, dict[str, str]]] = {}
        self._sweeps: dict[str, Sweep] = {}
        self._figure_data: go.Figure | None = None
        self.figure = go.FigureWidget(layout={"template": "plotly_white", "height": 420})
        """The plotly ``FigureWidget`` drawn."""
        # As wide as the output, not plotly's default 700 px; no plotly logo.
        self.figure._config = {"responsive": True, "displaylogo": False}
        self._status = w.HTML()
        self._controls = w.HBox(self._make_controls())
        super().__init__(children=[self._controls, self._status, self.figure])
        self.observe(self._show_error, "error")
        with self.hold_trait_notifications():
            if source is not None:
                for name, value in source_of(source, f"{type(self).__name__}(source)").items():
                    setattr(self, name, value)
            for name, value in kwargs.items():
                setattr(self, name, value)
        self.observe(self._redraw, ["sweep", "project", "filters", *self._public])
        self._redraw()

    # -- what a subclass provides ------------------------------------------------------------

    def _make_controls(self) -> list[w.Widget]:
        return []

    def _figure_call(self, source: ApiCall) -> ApiCall:
        raise NotImplementedError

    def _offer(self, config: list[str], summary: list[str]) -> None:
        """Set the pickers' choices: the project's config and summary columns."""

    # -- shared ------------------------------------------------------------------------------

    def _source_call(self) -> ApiCall | None:
        if self.sweep:
            return api_call("sweep", self.sweep)
        if self.project:
            return api_call("runs", self.project, filters=self.filters or None)
        return None

    def _project_of(self) -> str:
        return "/".join(self.sweep.split("/")[:2]) if self.sweep else self.project

    def _sweep(self) -> Sweep | None:
        """The sweep (read once, recorded in the action log), for its defaults."""
        if not self.sweep:
            return None
        if self.sweep not in self._sweeps:
            call = api_call("sweep", self.sweep)
            self._sweeps[self.sweep] = call.run(self._api)
            self._called(call.assign("sweep"))
        return self._sweeps[self.sweep]

    def _columns(self) -> tuple[list[str], list[str]]:
        """The project's config and summary columns (read once per project, recorded)."""
        project = self._project_of()
        if project not in self._fields:
            call = api_call("project", project).then("fields")
            self._fields[project] = call.run(self._api)
            self._called(call.assign("fields"))
        fields = self._fields[project]
        config = [f"config.{k}" for k in sorted(fields.get("config", {}))]
        summary = [
            f"summary.{k}"
            for k, kind in sorted(fields.get("summary", {}).items())
            if kind in ("integer", "number") and not k.startswith("_")
        ]
        return config, summary

    def _redraw(self, change: dict[str, Any] | None = None) -> None:
        try:
            source = self._source_call()
            if source is None:
                self._figure_data = None
                self.figure.data = []
                self._status.value = (
                    "<span style='color:#666'>Pick a sweep (or a project) to draw its runs.</span>"
                )
                self._record("")
                return
            self._offer(*self._columns())
            call = self._figure_call(source)
            fig = call.run(self._api)
        except Exception as exc:  # shown in the widget: a callback's error reaches no one
            self.error = f"{type(exc).__name__}: {exc}"
            return
        self.error = ""
        self._figure_data = fig
        with self.figure.batch_update():
            self.figure.data = []
            self.figure.add_traces(list(fig.data))
            self.figure.layout = fig.layout
            self.figure.layout.template = "plotly_white"
            self.figure.layout.height = 420
        n = len(fig.layout.meta["run_ids"]) if fig.layout.meta else len(fig.data[0].x or [])
        self._status.value = (
            f"<span style='color:#666'>{n} run{'' if n == 1 else 's'}</span>"
            if n
            else "<span style='color:#666'>No runs yet.</span>"
        )
        self._drawn(fig)
        self._record(call.assign("fig"))

    def _drawn(self, fig: go.Figure) -> None:
        """Set the pickers to what was drawn (the defaults the call chose)."""

    def _show_error(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._status.value = f"<span style='color:#b00020'>{html.escape(change['new'])}</span>"
