"""``MetricChart``: metric curves of several runs in one plotly ``FigureWidget``."""

from __future__ import annotations

import math
import numbers
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import traitlets as t

from lablens.widgets._base import Recorder, call_source, check_kwargs, make_api, shows_errors

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["MetricChart", "ema"]

_BUILTIN_X = ("_step", "_timestamp", "_runtime")

_HOVER = (
    "%{meta[0]} <span style='color:#888'>run %{meta[1]}</span><br>"
    "%{meta[2]}: %{y}<br>%{meta[3]}: %{x}<extra></extra>"
)
_COLORS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


def ema(values: np.ndarray, smoothing: float) -> np.ndarray:
    """Exponential moving average with TensorBoard's debiasing; NaNs are skipped, not spread.

    Args:
        values: the series.
        smoothing: the weight of the past, 0 (none) to below 1.

    Returns:
        The smoothed series, NaN where ``values`` is NaN.
    """
    if smoothing <= 0:
        return values
    out = np.full(len(values), np.nan)
    last, weight = 0.0, 0.0
    for i, v in enumerate(values):
        if not np.isfinite(v):
            continue
        last = last * smoothing + (1 - smoothing) * v
        weight = weight * smoothing + (1 - smoothing)
        out[i] = last / weight
    return out


def _binary_x(x: np.ndarray, x_axis: str) -> np.ndarray:
    """x values as an array that plotly sends as a binary buffer.

    plotly's FigureWidget sends 1-D numpy arrays of float and of integers up to 32 bits as
    binary buffers, but int64, datetime and object arrays (and lists) as JSON number lists.
    Steps that fit go as int32 (4 bytes a point), others as float64; a date axis takes
    milliseconds since the epoch as float64.
    """
    if x_axis == "_timestamp":
        return x.astype(np.float64) * 1000.0
    if x.dtype.kind in "iu" and (not len(x) or (x.min() >= -(2**31) and x.max() < 2**31)):
        return x.astype(np.int32)
    return x.astype(np.float64)


def _band(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bucket x (middle), min and max of a sampled series, for the min/max band."""
    n = len(x)
    if n == 0:
        return x, y, y
    edges = np.linspace(0, n, min(buckets, n) + 1).astype(int)
    xs, lo, hi = [], [], []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if b > a:
            seg = y[a:b]
            xs.append(x[(a + b - 1) // 2])
            lo.append(np.nanmin(seg) if np.isfinite(seg).any() else np.nan)
            hi.append(np.nanmax(seg) if np.isfinite(seg).any() else np.nan)
    return np.asarray(xs), np.asarray(lo), np.asarray(hi)


class MetricChart(Recorder):
    """Curves of ``keys`` for each run in ``runs``, read in one history request per project.

    Lines are sampled on the server keeping each bucket's first, last, min and max point;
    ``show_band`` draws the min/max band. Zooming in, on any x axis, reads the visible range
    again at full resolution (the server cuts it before sampling); resetting the zoom reads the
    whole range. The legend names each line by its run's display name (with the run id when
    names repeat); the hover text gives the run id.

    Args:
        api: the ``Api`` to query (default: ``lablens.Api()``).
        runs: run paths ``entity/project/run_id``.
        keys: metric names; empty for every metric the runs logged.
        x_axis: ``_step``, ``_timestamp``, ``_runtime`` or a metric name.
        smoothing: EMA weight, 0 to 0.99.
        log_y: a log y axis.
        samples: points per run and metric read from the server.
        show_band: draw each line's min/max band.

    The chart is not itself an ipywidget (ipywidgets reserves the name ``keys``); it displays
    as ``chart.widget``, a ``VBox`` of its controls and ``chart.figure``.

    Raises:
        TypeError: an unknown keyword argument.

    Example:
        >>> chart = MetricChart(api, runs=["alice/mnist/3f2a9c1b"], keys=["loss"], log_y=True)
        >>> chart.to_pandas().groupby("run_id")["loss"].min()
    """

    _public = ("runs", "keys", "x_axis", "smoothing", "log_y", "samples", "show_band")

    runs = t.List(t.Unicode())
    """The runs drawn, as paths ``entity/project/run_id``."""

    keys = t.List(t.Unicode())
    """The metrics drawn; empty for every metric the runs logged."""

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
        self._api = make_api(api)
        self._recorder_init()
        self._frame = pd.DataFrame()
        self._names: dict[str, str | None] = {}
        self._sources: list[str] = []
        self._quiet = False
        self.figure = go.FigureWidget(
            # The legend goes above the plot, in rows: run names are long, and a legend at the
            # side would take the width the curves need.
            layout=go.Layout(
                height=380,
                margin={"l": 50, "r": 10, "t": 30, "b": 40},
                template="plotly_white",
                legend={
                    "font": {"size": 10},
                    "orientation": "h",
                    "yanchor": "bottom",
                    "y": 1.02,
                    "xanchor": "left",
                    "x": 0,
                },
                xaxis={"title": {"text": "_step"}},
            ),
        )
        """The plotly ``FigureWidget`` (one instance, updated in place)."""
        self.figure.layout.xaxis.on_change(self._zoomed, "range")
        self._status = w.HTML()
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
        x_axis = w.Combobox(
            value="_step",
            options=list(_BUILTIN_X),
            description="x",
            layout={"width": "200px"},
            ensure_option=False,
        )
        self._x_control = x_axis
        for control, name in (
            (smooth, "smoothing"),
            (log_y, "log_y"),
            (band, "show_band"),
            (x_axis, "x_axis"),
        ):
            w.link((control, "value"), (self, name))
        self.widget = w.VBox([w.HBox([x_axis, smooth, log_y, band, self._status]), self.figure])
        """The displayed widget: the controls above the figure."""
        super().__init__(**kwargs)
        self._refetch()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # -- reading ----------------------------------------------------------------------------

    def _by_project(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = defaultdict(list)
        for path in self.runs:
            parts = path.split("/")
            if len(parts) == 4 and parts[2] == "runs":
                parts = [parts[0], parts[1], parts[3]]
            if len(parts) != 3:
                raise ValueError(f"a run path is entity/project/run_id, not {path!r}")
            groups[f"{parts[0]}/{parts[1]}"].append(parts[2])
        return groups

    def _call_source(self, project: str, ids: list[str]) -> str:
        lo, hi = self.x_range or (None, None)
        return (
            call_source("api.runs", project, filters={"id": {"$in": ids}})
            + "."
            + call_source(
                "histories",
                samples=self.samples,
                keys=list(self.keys) or None,
                x_axis=self.x_axis,
                format="pandas",
                min_x=lo,
                max_x=hi,
            )
        )

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
        frames, sources = [], []
        names: dict[str, str | None] = {}
        lo, hi = self.x_range or (None, None)
        for project, ids in self._by_project().items():
            frames.append(
                self._api.runs(project, filters={"id": {"$in": ids}}).histories(
                    samples=self.samples,
                    keys=list(self.keys) or None,
                    x_axis=self.x_axis,
                    format="pandas",
                    min_x=lo,
                    max_x=hi,
                )
            )
            names.update(frames[-1].attrs.get("run_names", {}))
            sources.append(self._call_source(project, ids))
            self._called(f"df = {sources[-1]}")
        if len(sources) == 1:
            code = f"df = {sources[0]}"
        elif sources:
            joined = ",\n    ".join(sources)
            code = f"import pandas as pd\n\ndf = pd.concat([\n    {joined},\n], ignore_index=True)"
        else:
            code = ""
        self._frame = (
            frames[0]
            if len(frames) == 1
            else pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame()
        )
        self._names = names
        self._sources = sources
        self._set_code(code)
        # Any metric read can be the x axis: offer them beside the built-in axes.
        metrics = sorted(c for c in self._frame.columns if c not in _BUILTIN_X and c != "run_id")
        self._x_control.options = [*_BUILTIN_X, *metrics]
        self._draw()

    @t.validate("x_range")
    def _check_range(self, proposal: dict[str, Any]) -> tuple[float, float] | None:
        rng = proposal["value"]
        if rng is None:
            return None
        if (
            len(rng) != 2
            or not all(
                isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
                for v in rng
            )
            or rng[0] > rng[1]
        ):
            raise t.TraitError(f"x_range is (lo, hi), two finite numbers, lo <= hi; not {rng!r}")
        return (float(rng[0]), float(rng[1]))

    def _seconds(self, value: Any) -> float:
        # A date axis gives dates as strings, in UTC as drawn; a number there is milliseconds.
        if isinstance(value, numbers.Real):
            return float(value) / 1000.0
        stamp = pd.Timestamp(value)
        return (stamp if stamp.tzinfo else stamp.tz_localize("UTC")).timestamp()

    def _zoomed(self, _layout: Any, rng: Any) -> None:
        if self._quiet:
            return
        new = None
        if rng is not None:
            try:
                lo, hi = rng
                new = (
                    (self._seconds(lo), self._seconds(hi))
                    if self.x_axis == "_timestamp"
                    else (float(lo), float(hi))
                )
            except (TypeError, ValueError) as exc:  # from the browser: shown, not raised
                self.error = f"cannot read the zoomed range {rng!r}: {exc}"
                return
            new = (min(new), max(new))  # a reversed axis gives them high to low
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
                scale = 1000.0 if self.x_axis == "_timestamp" else 1.0
                self.figure.layout.xaxis.range = [v * scale for v in self.x_range]
        finally:
            self._quiet = False
        self._refetch()

    def to_pandas(self) -> pd.DataFrame:
        """The points drawn, as read (before smoothing): ``run_id``, ``_step``, the keys,
        ``_timestamp``, ``_runtime``. Equal to ``exec(chart.code)``'s ``df``; with the runs of
        one project, ``attrs["run_names"]`` maps their ids to the names in the legend's labels.

        Example:
            >>> chart.to_pandas().groupby("run_id").size()
        """
        return self._frame.copy()

    # -- drawing ----------------------------------------------------------------------------

    @t.observe("smoothing", "log_y", "show_band")
    def _style_changed(self, change: dict[str, Any]) -> None:
        self._draw()

    def _keys_drawn(self) -> list[str]:
        if self.keys:
            return [k for k in self.keys if k in self._frame.columns]
        fixed = {"run_id", "_step", "_timestamp", "_runtime", self.x_axis}
        return [c for c in self._frame.columns if c not in fixed]

    def _labels(self, run_ids: list[str]) -> dict[str, str]:
        """Each run's legend label: its display name, with its short id when names repeat."""
        names = {r: self._names.get(r) or r for r in run_ids}
        seen = Counter(names.values())
        labels = {r: f"{n} ({r[:8]})" if seen[n] > 1 else n for r, n in names.items()}
        seen = Counter(labels.values())
        return {r: f"{names[r]} ({r})" if seen[lab] > 1 else lab for r, lab in labels.items()}

    def _traces(self) -> list[go.Scatter]:
        df = self._frame
        traces: list[go.Scatter] = []
        if df.empty or self.x_axis not in df.columns:
            return traces
        keys = self._keys_drawn()
        parts = list(df.groupby("run_id", sort=False))
        labels = self._labels([str(r) for r, _ in parts])
        for i, (run_id, part) in enumerate(parts):
            color = _COLORS[i % len(_COLORS)]
            for j, key in enumerate(keys):
                rows = part[part[key].notna()] if key in part else part.iloc[:0]
                x = _binary_x(rows[self.x_axis].to_numpy(), self.x_axis)
                y = rows[key].to_numpy(dtype=np.float64)
                label = labels[str(run_id)]
                name = f"{label} · {key}" if len(keys) > 1 else label
                dash = ["solid", "dot", "dash", "dashdot"][j % 4]
                if self.show_band and len(y):
                    bx, lo, hi = _band(np.asarray(x), y, max(len(y) // 8, 2))
                    traces.append(
                        go.Scatter(
                            x=bx,
                            y=hi,
                            mode="lines",
                            line={"width": 0},
                            hoverinfo="skip",
                            showlegend=False,
                            legendgroup=name,
                        )
                    )
                    traces.append(
                        go.Scatter(
                            x=bx,
                            y=lo,
                            mode="lines",
                            line={"width": 0},
                            fill="tonexty",
                            fillcolor=color + "33",
                            hoverinfo="skip",
                            showlegend=False,
                            legendgroup=name,
                        )
                    )
                # Names go in meta, not in the template, so a name cannot be read as one.
                traces.append(
                    go.Scatter(
                        x=x,
                        y=ema(y, self.smoothing),
                        mode="lines",
                        name=name,
                        legendgroup=name,
                        meta=[label, str(run_id), key, self.x_axis],
                        hovertemplate=_HOVER,
                        line={"color": color, "dash": dash, "width": 1.6},
                    )
                )
        return traces

    def _draw(self) -> None:
        traces = self._traces()
        fig = self.figure
        self._quiet = True
        try:
            if len(fig.data) != len(traces):
                fig.data = []
                fig.add_traces(traces)
            with fig.batch_update():
                for old, new in zip(fig.data, traces, strict=True):
                    old.update(new.to_plotly_json(), overwrite=True)
                fig.layout.yaxis.type = "log" if self.log_y else "linear"
                fig.layout.xaxis.type = "date" if self.x_axis == "_timestamp" else "linear"
                fig.layout.xaxis.title.text = self.x_axis
        finally:
            self._quiet = False
        n = self._frame["run_id"].nunique() if "run_id" in self._frame else 0
        self._status.value = (
            f"<span style='color:#b00020'>{self.error}</span>"
            if self.error
            else f"<small>{n} runs · {len(self._frame):,} points</small>"
        )

    def __repr__(self) -> str:
        keys = ", ".join(self.keys) or "all metrics"
        return f"<MetricChart {len(self.runs)} runs: {keys} vs {self.x_axis}>"
