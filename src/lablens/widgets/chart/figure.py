"""The chart's plotly figure: its layout, and its traces drawn from history in long form.

The history comes as ``Runs.histories(format="long")`` gives it, one row per point (``run_id key
_step _timestamp _runtime value``, and a column named after a metric x axis); each (run, key)
is one line, its points handed to plotly as numpy arrays that it sends as binary buffers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lablens.contract.names import BUILTIN_X
from lablens.widgets.chart.smoothing import band, ema

__all__ = ["binary_x", "draw", "labels", "metrics_read", "new_figure", "traces"]

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
_DASHES = ["solid", "dot", "dash", "dashdot"]
# The columns of the long form that are not a metric's.
_LONG = {"run_id", "key", "value", *BUILTIN_X}


def new_figure() -> go.FigureWidget:
    """The empty figure a chart updates in place."""
    # The legend goes above the plot, in rows: run names are long, and a legend at the side
    # would take the width the curves need.
    return go.FigureWidget(
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


def binary_x(x: np.ndarray, x_axis: str) -> np.ndarray:
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


def metrics_read(frame: pd.DataFrame) -> list[str]:
    """The metrics in a long frame, sorted: its keys and a metric x axis."""
    # unique() first: iterating an Arrow-backed column row by row is slow.
    keys = {str(k) for k in frame["key"].unique()} if "key" in frame else set()
    return sorted(keys | (set(frame.columns) - _LONG))


def labels(run_ids: Sequence[str], names: dict[str, str | None]) -> dict[str, str]:
    """Each run's legend label: its display name, with its short id when names repeat."""
    shown = {r: names.get(r) or r for r in run_ids}
    seen = Counter(shown.values())
    first = {r: f"{n} ({r[:8]})" if seen[n] > 1 else n for r, n in shown.items()}
    seen = Counter(first.values())
    return {r: f"{shown[r]} ({r})" if seen[lab] > 1 else lab for r, lab in first.items()}


def traces(
    frame: pd.DataFrame,
    keys: Sequence[str],
    x_axis: str,
    names: dict[str, str | None],
    *,
    smoothing: float = 0.0,
    show_band: bool = False,
) -> list[go.Scatter]:
    """One line per run and metric of a long history frame (and two band edges before it).

    Args:
        frame: the history in long form.
        keys: the metrics to draw; empty for every metric in ``frame`` but the x axis.
        x_axis: the column of x values.
        names: run id -> display name, for the legend.
        smoothing: EMA weight of the lines.
        show_band: draw each line's min/max band.
    """
    out: list[go.Scatter] = []
    if frame.empty or x_axis not in frame.columns:
        return out
    keys = list(keys) or sorted({str(k) for k in frame["key"].unique()} - {x_axis})
    run_ids, rows_of = _lines(frame)
    none = np.zeros(0, dtype=np.intp)
    xs = frame[x_axis].to_numpy()
    values = frame["value"].to_numpy(dtype=np.float64)
    label_of = labels(run_ids, names)
    for i, run_id in enumerate(run_ids):
        color = _COLORS[i % len(_COLORS)]
        label = label_of[run_id]
        for j, key in enumerate(keys):
            rows = rows_of.get((run_id, key), none)
            rows = rows[~np.isnan(values[rows])]
            x = binary_x(xs[rows], x_axis)
            y = values[rows]
            name = f"{label} · {key}" if len(keys) > 1 else label
            if show_band and len(y):
                out += _band_edges(x, y, name, color)
            # Names go in meta, not in the template, so a name cannot be read as one.
            out.append(
                go.Scatter(
                    x=x,
                    y=ema(y, smoothing),
                    mode="lines",
                    name=name,
                    legendgroup=name,
                    meta=[label, run_id, key, x_axis],
                    hovertemplate=_HOVER,
                    line={"color": color, "dash": _DASHES[j % len(_DASHES)], "width": 1.6},
                )
            )
    return out


def _lines(frame: pd.DataFrame) -> tuple[list[str], dict[tuple[str, str], np.ndarray]]:
    """The runs in order of appearance, and the row numbers of each (run, key), in row order."""
    run_codes, run_ids = pd.factorize(frame["run_id"])
    key_codes, key_names = pd.factorize(frame["key"])
    n = max(len(key_names), 1)
    # Sort by (run, key) code as one number; a stable sort keeps the steps ascending inside.
    pair = run_codes.astype(np.int64) * n + key_codes
    order = np.argsort(pair, kind="stable")
    bounds = np.searchsorted(pair[order], np.arange(len(run_ids) * n + 1))
    runs = [str(r) for r in run_ids]
    rows = {
        (runs[p // n], str(key_names[p % n])): order[bounds[p] : bounds[p + 1]]
        for p in range(len(run_ids) * n)
        if bounds[p + 1] > bounds[p]
    }
    return runs, rows


def _band_edges(x: np.ndarray, y: np.ndarray, name: str, color: str) -> list[go.Scatter]:
    bx, lo, hi = band(np.asarray(x), y, max(len(y) // 8, 2))
    edge: dict[str, Any] = {
        "x": bx,
        "mode": "lines",
        "line": {"width": 0},
        "hoverinfo": "skip",
        "showlegend": False,
        "legendgroup": name,
    }
    return [
        go.Scatter(y=hi, **edge),
        go.Scatter(y=lo, fill="tonexty", fillcolor=color + "33", **edge),
    ]


def draw(fig: go.FigureWidget, lines: list[go.Scatter], *, log_y: bool, x_axis: str) -> None:
    """Show ``lines`` in ``fig``, updating its traces in place when their number is the same."""
    if len(fig.data) != len(lines):
        fig.data = []
        fig.add_traces(lines)
    with fig.batch_update():
        for old, new in zip(fig.data, lines, strict=True):
            old.update(new.to_plotly_json(), overwrite=True)
        fig.layout.yaxis.type = "log" if log_y else "linear"
        fig.layout.xaxis.type = "date" if x_axis == "_timestamp" else "linear"
        fig.layout.xaxis.title.text = x_axis
