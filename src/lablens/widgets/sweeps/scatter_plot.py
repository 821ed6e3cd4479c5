"""``ScatterPlot``: a dot per run, a config value against a summary metric, the hover naming the
run, as W&B's scatter plot panel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as w
import pandas as pd
import traitlets as t

from lablens.widgets._call import ApiCall
from lablens.widgets.sweeps._plot import RunsPlot

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["ScatterPlot"]


class ScatterPlot(RunsPlot):
    """A dot per run: ``x`` (a hyperparameter) against ``y`` (a metric); hovering a dot names
    the run.

    Each change is one call, ``api.sweep(...).scatter(...)`` (or ``api.runs(...).scatter(...)``)
    returning a plotly figure, recorded as ``code``.

    Args:
        api: the ``Api`` to query (default: the ``Api`` of the ``source``, else
            ``lablens.Api()``).
        source: a ``Sweep``, a sweep path, a ``Runs`` collection or a project path.

    Keyword Args:
        x: the x axis (``config.optim.lr``); empty for the sweep's first parameter.
        y: the y axis (``summary.val/acc``); empty for the sweep's metric.
        log_x: a log x axis.
        log_y: a log y axis.

    Raises:
        TypeError: an unknown keyword argument, or a ``source`` of a type it does not take.

    Example:
        >>> sp = ScatterPlot(api, "alice/mnist/x1y2z3w4", x="config.optim.lr", log_x=True)
        >>> sp.to_pandas()
    """

    _public = ("x", "y", "log_x", "log_y")

    x = t.Unicode("")
    """The x axis: a config key or any run table column; empty for the sweep's first
    parameter."""

    y = t.Unicode("")
    """The y axis: a summary metric or any column; empty for the sweep's metric."""

    log_x = t.Bool(None, allow_none=True)
    """A log x axis; ``None`` for one when the values span two decades or more."""

    log_y = t.Bool(None, allow_none=True)
    """A log y axis; ``None`` as ``log_x``."""

    def __init__(self, api: Api | None = None, source: Any = None, **kwargs: Any) -> None:
        super().__init__(api, source, kwargs)
        self.add_class("lablens-scatter-plot")

    def _make_controls(self) -> list[w.Widget]:
        self._x_box = w.Dropdown(options=[("(default)", "")], description="x")
        self._y_box = w.Dropdown(options=[("(default)", "")], description="y")
        self._logx_box = w.Checkbox(value=False, description="log x", indent=False)
        self._x_box.observe(lambda c: setattr(self, "x", c["new"] or ""), "value")
        self._y_box.observe(lambda c: setattr(self, "y", c["new"] or ""), "value")
        self._syncing = False
        self._logx_box.observe(self._log_picked, "value")
        for box in (self._x_box, self._y_box):
            box.layout = w.Layout(width="300px")
        return [
            w.HTML("<b>Scatter</b>", layout=w.Layout(flex="0 0 auto")),
            self._x_box,
            self._y_box,
            self._logx_box,
        ]

    def _offer(self, config: list[str], summary: list[str]) -> None:
        xs = [("(default)", ""), *((c, c) for c in config + summary)]
        ys = [("(default)", ""), *((s, s) for s in summary + config)]
        if list(self._x_box.options) != xs:
            self._x_box.options = xs
        if list(self._y_box.options) != ys:
            self._y_box.options = ys
        self._x_box.value = self.x if self.x in config + summary else ""
        self._y_box.value = self.y if self.y in summary + config else ""

    def _log_picked(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self.log_x = bool(change["new"])

    def _drawn(self, fig: Any) -> None:
        # The box shows the axis drawn, the automatic choice too.
        self._syncing = True
        try:
            self._logx_box.value = fig.layout.xaxis.type == "log"
        finally:
            self._syncing = False

    def _figure_call(self, source: ApiCall) -> ApiCall:
        x, y = self.x or None, self.y or None
        if not self.sweep and y is None:
            # A project's runs have no metric of their own: the first one logged.
            _, summary = self._columns()
            y = summary[0] if summary else None
        return source.then("scatter", x=x, y=y, log_x=self.log_x, log_y=self.log_y)

    def to_pandas(self) -> pd.DataFrame:
        """What the plot shows: ``run_id``, ``name`` and the x and y value of each dot."""
        fig = self._figure_data
        if fig is None or not fig.data:
            return pd.DataFrame()
        trace = fig.data[0]
        return pd.DataFrame(
            {
                "run_id": list(trace.customdata),
                "name": list(trace.text),
                fig.layout.xaxis.title.text: list(trace.x),
                fig.layout.yaxis.title.text: list(trace.y),
            }
        )

    def __repr__(self) -> str:
        return f"<ScatterPlot {self.sweep or self.project or '-'}>"
