"""``MetricChart``: metric curves of several runs in one plotly ``FigureWidget``.

The widget itself (its traits and how they drive reads and drawing) is here; its parts are in
``lablens.widgets.chart``: the history calls, the smoothing maths, the figure, the zoom and the
controls.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import pandas as pd
import traitlets as t

from lablens.api import UnknownKeyWarning
from lablens.api.history import closest, unknown_keys_message
from lablens.errors import UsageError
from lablens.widgets._base import Recorder, check_kwargs, make_api, shows_errors
from lablens.widgets._traits import Keys, RunPaths
from lablens.widgets.chart import figure, zoom
from lablens.widgets.chart.controls import Controls
from lablens.widgets.chart.history import by_project, code_of, history_call, join, run_names
from lablens.widgets.chart.smoothing import ema

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["MetricChart", "ema"]


class MetricChart(Recorder):
    """Curves of ``keys`` for each run in ``runs``, read in one history request per project.

    Lines are sampled on the server keeping each bucket's first, last, min and max point;
    ``show_band`` draws the min/max band. Zooming in, on any x axis, reads the visible range
    again at full resolution (the server cuts it before sampling); resetting the zoom reads the
    whole range. The legend names each line by its run's display name (with the run id when
    names repeat); the hover text gives the run id.

    Args:
        api: the ``Api`` to query (default: the ``Api`` of the Run objects given, else
            ``lablens.Api()``).

    Keyword Args:
        runs: the runs: paths ``entity/project/run_id``, ``Run`` objects, or a ``Runs``
            collection (``api.runs("alice/mnist")[:5]``); kept as paths.
        keys: metric names (one name alone is fine); empty for every metric the runs logged.
            A key no run logged shows as an error in the chart's status line, naming the
            metrics that were logged (closest first); the other keys are drawn.
        x_axis: ``_step``, ``_timestamp``, ``_runtime`` or a metric name.
        smoothing: EMA weight, 0 to 0.99.
        log_y: a log y axis.
        samples: points per run and metric read from the server.
        show_band: draw each line's min/max band.

    The chart is not itself an ipywidget (ipywidgets reserves the name ``keys``); it displays
    as ``chart.widget``, a ``VBox`` of its controls and ``chart.figure``.

    Raises:
        TypeError: an unknown keyword argument, or ``runs``/``keys``/``api`` of a type they
            do not take (the message names the argument and what it takes).

    Example:
        >>> chart = MetricChart(api, runs=["alice/mnist/3f2a9c1b"], keys=["loss"], log_y=True)
        >>> chart = MetricChart(runs=api.runs("alice/mnist")[:5], keys="val/acc")
        >>> chart.to_pandas().groupby(["run_id", "key"])["value"].min()
    """

    _public = ("runs", "keys", "x_axis", "smoothing", "log_y", "samples", "show_band")

    runs = RunPaths()
    """The runs drawn, as paths ``entity/project/run_id``; set it to paths, ``Run`` objects or
    a ``Runs`` collection."""

    keys = Keys()
    """The metrics drawn; empty for every metric the runs logged. One name is a list of one."""

    x_axis = t.Unicode("_step")
    """The x axis: ``_step``, ``_timestamp``, ``_runtime`` or a metric name."""

    smoothing = t.Float(0.0, min=0.0, max=0.99)
    """EMA smoothing of the lines, 0 (none) to 0.99; the points read stay as they are."""

    log_y = t.Bool(False)
    """Whether the y axis is logarithmic."""

    samples = t.Int(500, min=2)
    """Points per run and metric read from the server (min/max/last of each bucket kept)."""

    show_band = t.Bool(False)
    """Whether each line shows the min/max band of its samples."""

    x_range = t.Tuple(allow_none=True, default_value=None)
    """The zoomed x range ``(lo, hi)`` in ``x_axis`` units (``_timestamp``: seconds since the
    epoch), or ``None`` for everything; zooming sets it, and setting it zooms."""

    def __init__(self, api: Api | None = None, **kwargs: Any) -> None:
        check_kwargs(self, kwargs, self._public)
        self._api = make_api(api, kwargs.get("runs"), widget="MetricChart")
        self._recorder_init()
        self._frame = pd.DataFrame()
        self._names: dict[str, str | None] = {}
        self._quiet = False
        self.figure = figure.new_figure()
        """The plotly ``FigureWidget`` (one instance, updated in place)."""
        self.figure.layout.xaxis.on_change(self._zoomed, "range")
        self._controls = Controls(self)
        self._x_control = self._controls.x_axis
        self.widget = w.VBox([self._controls.box, self.figure])
        """The displayed widget: the controls above the figure."""
        super().__init__(**kwargs)
        self._refetch()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # -- reading ----------------------------------------------------------------------------

    @t.observe("runs", "keys", "samples", "x_axis")
    def _query_changed(self, change: dict[str, Any]) -> None:
        if change["name"] == "x_axis":
            self._quiet = True
            try:
                self.x_range = None
                self.figure.layout.xaxis.autorange = True
            finally:
                self._quiet = False
        self._refetch()

    @shows_errors
    def _refetch(self) -> None:
        calls = [
            history_call(
                project,
                ids,
                keys=self.keys,
                x_axis=self.x_axis,
                samples=self.samples,
                x_range=self.x_range,
            )
            for project, ids in by_project(self.runs).items()
        ]
        frames = []
        notes: list[UnknownKeyWarning | None] = []
        for call in calls:
            frame, note = _run_noting_unknown_keys(call, self._api)
            frames.append(frame)
            notes.append(note)
            self._called(call.assign("df"))
        self._frame = join(frames)
        self._names = run_names(frames)
        self._set_code(code_of(calls))
        # Any metric read can be the x axis: offer them beside the built-in axes.
        self._controls.offer(figure.metrics_read(self._frame))
        self._draw()
        message = _unknown_everywhere(notes)
        if message:
            # Drawn what exists; a typo is an error in the status line, not an empty chart.
            raise UsageError(message)

    @t.observe("error")
    def _error_changed(self, change: dict[str, Any]) -> None:
        self._show_status()

    # -- zoom -------------------------------------------------------------------------------

    @t.validate("x_range")
    def _check_range(self, proposal: dict[str, Any]) -> tuple[float, float] | None:
        try:
            return zoom.check_range(proposal["value"])
        except ValueError as exc:
            raise t.TraitError(str(exc)) from None

    def _zoomed(self, _layout: Any, rng: Any) -> None:
        if self._quiet:
            return
        try:
            new = zoom.from_plotly(rng, self.x_axis)
        except (TypeError, ValueError) as exc:  # from the browser: shown, not raised
            self.error = f"cannot read the zoomed range {rng!r}: {exc}"
            return
        if new != self.x_range:
            self._quiet = True  # the figure shows it already
            try:
                self.x_range = new
            finally:
                self._quiet = False
            self._refetch()

    @t.observe("x_range")
    def _range_set(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        self._quiet = True
        try:
            if self.x_range is None:
                self.figure.layout.xaxis.autorange = True
            else:
                self.figure.layout.xaxis.range = zoom.to_plotly(self.x_range, self.x_axis)
        finally:
            self._quiet = False
        self._refetch()

    def to_pandas(self) -> pd.DataFrame:
        """The points drawn, as read (before smoothing), in long form: one row per point,
        ``run_id key _step _timestamp _runtime value`` (and a column of the x values when
        ``x_axis`` is a metric). Equal to ``exec(chart.code)``'s ``df``; with the runs of one
        project, ``attrs["run_names"]`` maps their ids to the names in the legend's labels.

        Example:
            >>> chart.to_pandas().groupby("run_id").size()
        """
        return self._frame.copy()

    # -- drawing ----------------------------------------------------------------------------

    @t.observe("smoothing", "log_y", "show_band")
    def _style_changed(self, change: dict[str, Any]) -> None:
        self._draw()

    def _draw(self) -> None:
        lines = figure.traces(
            self._frame,
            self.keys,
            self.x_axis,
            self._names,
            smoothing=self.smoothing,
            show_band=self.show_band,
        )
        self._quiet = True
        try:
            figure.draw(self.figure, lines, log_y=self.log_y, x_axis=self.x_axis)
        finally:
            self._quiet = False
        self._show_status()

    def _show_status(self) -> None:
        runs = self._frame["run_id"].nunique() if "run_id" in self._frame else 0
        self._controls.show_status(self.error, runs, len(self._frame))

    def __repr__(self) -> str:
        keys = ", ".join(self.keys) or "all metrics"
        return f"<MetricChart {len(self.runs)} runs: {keys} vs {self.x_axis}>"


def _run_noting_unknown_keys(call: Any, api: Api) -> tuple[pd.DataFrame, UnknownKeyWarning | None]:
    """Run a history call, and keep its ``UnknownKeyWarning`` rather than let it go to stderr,
    where a widget's user would not look."""
    found = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownKeyWarning)
        frame = call.run(api)
    for note in caught:
        if isinstance(note.message, UnknownKeyWarning):
            found = note.message
        else:  # any other warning goes on as it came
            warnings.warn_explicit(note.message, note.category, note.filename, note.lineno)
    return frame, found


def _unknown_everywhere(notes: list[UnknownKeyWarning | None]) -> str:
    """The message for the keys that no run of any project logged (one history call per
    project: a key unknown in one project may be drawn from another), or ``""``."""
    kept = [n for n in notes if n is not None]
    if not kept or len(kept) < len(notes):
        return ""
    unknown = [k for k in kept[0].unknown if all(k in n.unknown for n in kept)]
    if not unknown:
        return ""
    known = closest(unknown, {k for n in kept for k in n.known})
    return unknown_keys_message(unknown, known, "these runs")
