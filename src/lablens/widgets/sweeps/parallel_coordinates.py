"""``ParallelCoordinates``: a sweep's runs (or a project's) as a parallel coordinates plot, an
axis per hyperparameter and a line per run coloured by a metric, as W&B's panel."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import pandas as pd
import traitlets as t

from lablens.widgets._call import ApiCall
from lablens.widgets.sweeps._plot import RunsPlot

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["ParallelCoordinates"]


class ParallelCoordinates(RunsPlot):
    """An axis per parameter, a line per run coloured by ``metric``: where the good runs' lines
    go shows which hyperparameters matter.

    Each change is one call, ``api.sweep(...).parallel_coordinates(...)`` (or
    ``api.runs(...).parallel_coordinates(...)``) returning a plotly figure, recorded as
    ``code``; ``fig = ...`` in a notebook gives the same figure to keep or change.

    Args:
        api: the ``Api`` to query (default: the ``Api`` of the ``source``, else
            ``lablens.Api()``).
        source: a ``Sweep``, a sweep path (``entity/project/sweep_id``), a ``Runs``
            collection (its project and filters), or a project path (all its runs).

    Keyword Args:
        params: the axes (config keys such as ``config.optim.lr``); empty for the sweep's
            parameters (a project's: the config keys that differ between its runs).
        metric: the colour and last axis (``summary.val/acc``); empty for the sweep's metric.

    Raises:
        TypeError: an unknown keyword argument, or a ``source`` of a type it does not take.

    Example:
        >>> pc = ParallelCoordinates(api, "alice/mnist/x1y2z3w4")
        >>> pc.params = ["config.optim.lr", "config.model.hidden"]
        >>> pc.to_pandas()
    """

    _public = ("params", "metric")

    params = t.List(t.Unicode())
    """The axes, left to right; empty for the default ones."""

    metric = t.Unicode("")
    """The metric that colours the lines (the last axis); empty for the sweep's."""

    def __init__(self, api: Api | None = None, source: Any = None, **kwargs: Any) -> None:
        super().__init__(api, source, kwargs)
        self.add_class("lablens-parallel-coordinates")

    def _make_controls(self) -> list[w.Widget]:
        self._params_box = w.TagsInput(
            value=[], allowed_tags=[], allow_duplicates=False, placeholder="+ parameter"
        )
        self._metric_box = w.Dropdown(options=[("(sweep metric)", "")], description="colour by")
        self._syncing = False
        self._params_box.observe(self._params_picked, "value")
        self._metric_box.observe(lambda c: setattr(self, "metric", c["new"] or ""), "value")
        label = w.HTML(
            "<b>Parallel coordinates</b>&nbsp;&nbsp;axes:", layout=w.Layout(flex="0 0 auto")
        )
        return [label, self._params_box, self._metric_box]

    def _params_picked(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self.params = list(change["new"])

    def _drawn(self, fig: Any) -> None:
        # The box shows the axes drawn (the defaults too), so removing one is a click.
        metric = fig.layout.meta.get("metric")
        drawn = [d.label for d in fig.data[0].dimensions if d.label != metric]
        tags = list(self._params_box.allowed_tags)
        self._params_box.allowed_tags = tags + [d for d in drawn if d not in tags]
        self._syncing = True
        try:
            self._params_box.value = drawn
        finally:
            self._syncing = False

    def _offer(self, config: list[str], summary: list[str]) -> None:
        # What the user typed in Python stays in the box even when it names no column (the
        # error line says so), so the box and the call agree.
        known = config + summary
        self._params_box.allowed_tags = known + [p for p in self.params if p not in known]
        options = [("(sweep metric)" if self.sweep else "(none)", ""), *((s, s) for s in summary)]
        if list(self._metric_box.options) != options:
            self._metric_box.options = options
        self._metric_box.value = self.metric if self.metric in summary else ""

    def _figure_call(self, source: ApiCall) -> ApiCall:
        return source.then(
            "parallel_coordinates", params=list(self.params) or None, metric=self.metric or None
        )

    def to_pandas(self) -> pd.DataFrame:
        """What the plot shows: a row per run (indexed by its name, ``run_id`` a column), a
        column per axis, text axes as their text. Empty before a figure is drawn."""
        fig = self._figure_data
        if fig is None or not fig.data:
            return pd.DataFrame()
        out = pd.DataFrame(index=pd.Index(fig.layout.meta["run_names"], name="run"))
        out["run_id"] = fig.layout.meta["run_ids"]
        log_axes = set(fig.layout.meta.get("log_axes") or [])
        text_axes = set(fig.layout.meta.get("text_axes") or [])
        for dim in fig.data[0].dimensions:
            values = list(dim.values)
            if dim.label in log_axes:
                # log10 and back: rounded to the digits a float holds, 0.001 stays 0.001
                values = [v if math.isnan(v) else float(f"{10**v:.12g}") for v in values]
            elif dim.label in text_axes:
                texts = list(dim.ticktext)
                values = [None if math.isnan(v) else texts[int(v)] for v in values]
            out[dim.label] = values
        return out

    def __repr__(self) -> str:
        return f"<ParallelCoordinates {self.sweep or self.project or '-'}>"
