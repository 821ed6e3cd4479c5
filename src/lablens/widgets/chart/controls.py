"""The controls above the chart: x axis, smoothing, log y and the min/max band, each linked to
the chart trait of the same name, and a status line."""

from __future__ import annotations

import ipywidgets as w
import traitlets as t

from lablens.contract.names import BUILTIN_X

__all__ = ["Controls"]


class Controls:
    """The chart's controls, linked to ``chart``'s ``x_axis``, ``smoothing``, ``log_y`` and
    ``show_band``; ``box`` is the row that shows them."""

    def __init__(self, chart: t.HasTraits) -> None:
        smooth = w.FloatSlider(
            0.0,
            min=0.0,
            max=0.99,
            step=0.01,
            description="smoothing",
            continuous_update=False,
            layout={"width": "260px"},
        )
        log_y = w.Checkbox(False, description="log y", indent=False, layout={"width": "70px"})
        band = w.Checkbox(False, description="min/max", indent=False, layout={"width": "80px"})
        self.x_axis = w.Combobox(
            value="_step",
            options=list(BUILTIN_X),
            description="x",
            layout={"width": "200px"},
            ensure_option=False,
        )
        """The x-axis box: the built-in axes and the metrics read, any name typed."""
        for control, name in (
            (smooth, "smoothing"),
            (log_y, "log_y"),
            (band, "show_band"),
            (self.x_axis, "x_axis"),
        ):
            w.link((control, "value"), (chart, name))
        self.status = w.HTML()
        """How many runs and points are drawn, or the last error."""
        self.box = w.HBox([self.x_axis, smooth, log_y, band, self.status])

    def offer(self, metrics: list[str]) -> None:
        """Offer these metrics as x axes, after the built-in ones."""
        self.x_axis.options = [*BUILTIN_X, *metrics]

    def show_status(self, error: str, runs: int, points: int) -> None:
        """The error when there is one, else the counts drawn."""
        self.status.value = (
            f"<span style='color:#b00020'>{error}</span>"
            if error
            else f"<small>{runs} runs · {points:,} points</small>"
        )
