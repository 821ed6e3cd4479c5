"""``CustomChartPanel``: the custom chart presets of a project's entity, in the Explorer, one
drawn at a time on the runs the run table shows.

Built of ipywidgets: a picker of the presets and an ``Output`` in which a ``CustomChartView``
is displayed, so JupyterLab's own Vega renderer draws the Vega-Lite spec with its rows (no
JavaScript of ours, no network). Each action is one ``Api`` call, recorded as every widget's:
listing the presets (``api.custom_charts(entity)``) and reading the rows drawn
(``api.custom_chart(chart).data(project, filters=...)``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import traitlets as t
from IPython.display import display

from lablens.errors import LablensError
from lablens.widgets._base import Recorder, check_kwargs, make_api
from lablens.widgets._call import api_call
from lablens.widgets.custom_chart import CustomChartView

if TYPE_CHECKING:
    import pandas as pd

    from lablens.api import Api

__all__ = ["CustomChartPanel"]

_HINT = "<div class='ll-hint' style='color:#666'>{}</div>"


class CustomChartPanel(w.VBox, Recorder):
    """A project's custom charts: pick one of its entity's presets (``api.custom_charts``) and
    it is drawn from its query's rows on the project's runs.

    Args:
        api: the ``Api`` to query (default ``lablens.Api()``).

    Keyword Args:
        path: the project, ``entity/project``.
        chart: the preset drawn, ``entity/name``; empty for none.
        filters: which runs of the project (as the run table's); empty for the preset's own.

    Example:
        >>> panel = CustomChartPanel(api, path="alice/mnist")
        >>> panel.chart = "alice/loss-curve"
        >>> panel.to_pandas()
    """

    _public = ("path", "chart", "filters")

    path = t.Unicode("")
    """The project whose runs are drawn, ``entity/project``."""

    chart = t.Unicode("")
    """The preset drawn, ``entity/name``; empty for none."""

    filters = t.Dict()
    """Which runs of the project are drawn (the run table's filters); empty for the preset's
    own query's."""

    def __init__(self, api: Api | None = None, **kwargs: Any) -> None:
        check_kwargs(self, kwargs, self._public)
        self._api = make_api(api, None, widget="CustomChartPanel")
        self._recorder_init()
        self._view: CustomChartView | None = None
        self._picker = w.Dropdown(
            options=[("(none)", "")], description="Chart", layout=w.Layout(width="360px")
        )
        self._picker.observe(self._picked, "value")
        self._message = w.HTML()
        self._output = w.Output()
        super().__init__(children=[self._picker, self._message, self._output])
        self._show_hint("Open a project in the tree to see its entity's custom charts.")
        for name, value in kwargs.items():
            setattr(self, name, value)

    def to_pandas(self) -> pd.DataFrame:
        """The rows drawn, as ``code``'s call returns them.

        Raises:
            LablensError: no chart is drawn.
        """
        if self._view is None:
            raise LablensError("no custom chart is drawn: pick one first (panel.chart = ...)")
        return self._view.to_pandas()

    def _show_hint(self, text: str) -> None:
        self._message.value = _HINT.format(html.escape(text))

    @t.observe("path")
    def _listed(self, change: Mapping[str, Any]) -> None:
        entity = self.path.split("/")[0] if self.path else ""
        self._view = None
        self._output.clear_output()
        if not entity:
            self._picker.options = [("(none)", "")]
            return
        call = api_call("custom_charts", entity)
        try:
            charts = [(c.display_name or c.name, c.id) for c in call.run(self._api)]
        except LablensError as exc:
            self.error = str(exc)
            self._show_hint(str(exc))
            return
        self._record(call.assign("charts"))
        names = [path for _, path in charts]
        self._picker.options = [("(none)", ""), *charts]
        if self.chart not in names:
            self.chart = ""
        if not names:
            self._show_hint(
                f"{entity} has no custom charts yet: api.create_custom_chart({entity!r}, ...)"
                " makes one (see the custom charts docs)."
            )
        else:
            self._show_hint(f"{len(names)} custom chart{'s' if len(names) != 1 else ''}.")

    @t.observe("chart", "filters")
    def _redraw(self, change: Mapping[str, Any]) -> None:
        if self._picker.value != self.chart and self.chart in dict(
            (v, v) for _, v in self._picker.options
        ):
            self._picker.value = self.chart
        self._draw()

    def _picked(self, change: Mapping[str, Any]) -> None:
        self.chart = change["new"] or ""

    def _draw(self) -> None:
        self._output.clear_output()
        self._view = None
        if not self.chart or not self.path:
            return
        try:
            view = CustomChartView(self._api, self.chart, self.path, filters=self.filters or None)
        except LablensError as exc:
            self.error = str(exc)
            self._show_hint(f"{self.chart}: {exc}")
            return
        self.error = ""
        self._view = view
        self._record(view.code)
        self._show_hint(f"{len(view.to_pandas())} rows from {self.path}.")
        with self._output:
            display(view)
