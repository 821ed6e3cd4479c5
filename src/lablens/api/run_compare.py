"""Comparing runs: ``compare()`` (config and summary side by side), ``parallel_coordinates()``
and ``scatter()`` (plotly figures of hyperparameters against a metric), the methods of ``Runs``
that read the run table once and put the runs next to each other.

A mixin of ``Runs`` (``runs.py``), so each stays one concept's size. ``Sweep`` offers the two
figures too, with the sweep's parameters and metric as defaults.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lablens.api.history import closest
from lablens.errors import UsageError

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["RunComparison", "column_of", "plot_value"]

# Parameters drawn when none are named: the first config keys that differ.
_DEFAULT_PARAMS = 8
# An axis with at most this many distinct numbers gets a tick at each.
_FEW = 10


class RunComparison:
    """``compare()``, ``parallel_coordinates()`` and ``scatter()`` of ``Runs``."""

    if TYPE_CHECKING:

        def to_pandas(self, columns: Sequence[str] | None = None) -> pd.DataFrame: ...

    def compare(
        self, keys: Sequence[str] | None = None, *, only_differences: bool = True
    ) -> pd.DataFrame:
        """The config and summary of these runs side by side: what differs between them.

        One request (the run table). Each column is a run, each row a ``config.<key>`` or
        ``summary.<key>`` (the names of ``to_pandas()``'s columns) whose values are not the
        same in every run; a key some runs lack differs too. Use a slice to compare a few
        runs: ``runs[:5].compare()``.

        Args:
            keys: these rows instead, whether they differ or not: ``config.lr``,
                ``summary.loss`` (``summary_metrics.loss`` too), or a bare ``lr`` for the
                config and summary keys of that name.
            only_differences: ``False`` for every config and summary key: the config rows
                first (those that differ, then those that are the same for all), then the
                summary rows (the same way). Ignored when ``keys`` are given.

        Returns:
            A DataFrame indexed by key, one column per run named by the run's display name
            (with its id in brackets when names repeat, the id when it has none), in this
            collection's order. ``df.attrs["run_ids"]`` maps each column to its run id;
            ``df.attrs["differs"]`` lists the rows whose values differ between the runs.

        Raises:
            UsageError: a key of ``keys`` is in neither config nor summary (the message names
                the closest ones).
            BadRequest: the filter or order is invalid.

        Example:
            >>> api.runs("alice/mnist")[:3].compare()
            >>> api.runs("alice/mnist").compare(keys=["lr", "summary.loss"])
            >>> api.runs("alice/mnist")[:3].compare(only_differences=False)
        """
        frame = self.to_pandas()
        fields = [c for c in frame.columns if c.startswith(("config.", "summary."))]
        differs = [c for c in fields if _differs(frame[c])]
        if keys is not None:
            rows = _compare_rows(fields, keys)
        elif only_differences:
            rows = differs
        else:
            rows = [
                c
                for prefix in ("config.", "summary.")
                for first in (True, False)
                for c in fields
                if c.startswith(prefix) and (c in differs) == first
            ]
        labels = run_labels(frame)
        out = frame[rows].T
        out.columns = pd.Index(labels, name="run")
        out.index.name = "key"
        out.attrs["run_ids"] = dict(zip(labels, frame["id"], strict=True))
        out.attrs["differs"] = [r for r in rows if r in differs]
        return out

    def parallel_coordinates(
        self,
        params: Sequence[str] | None = None,
        metric: str | None = None,
        *,
        title: str | None = None,
    ) -> go.Figure:
        """A parallel coordinates plot: an axis per hyperparameter, a line per run, coloured
        by ``metric`` (W&B's parallel coordinates panel), from one request (the run table).

        Text values (an optimizer's name) and lists (``[64, 32]``) get an axis of their own
        values, in sorted order; numbers a numeric axis. A run without a value is left off
        that axis.

        Args:
            params: the axes, left to right: config keys (``optim.lr``, ``config.optim.lr``)
                or any run table column (``summary.loss``, ``state``). By default the config
                keys whose values differ between the runs (at most 8).
            metric: the last axis and the line colour, a summary key (``val/acc``,
                ``summary.val/acc`` or ``summary_metrics.val/acc``); ``None`` for none.
            title: the figure's title; by default it names the metric.

        Returns:
            A plotly ``Figure`` holding one ``Parcoords`` trace; each dimension's ``label`` is
            its column, and ``layout.meta`` holds ``run_ids`` and ``run_names`` in the order of
            the lines; ``log_axes``: the numeric axes drawn on a log scale (positive values
            spanning two decades or more), whose ``values`` are the ``log10`` of the runs';
            ``text_axes``: the axes of text values, whose ``values`` index ``ticktext``;
            ``metric``: the metric's column (or ``None``).

        Raises:
            UsageError: a key names no column (the message names the closest), or no axis is
                left.

        Example:
            >>> fig = api.runs("alice/mnist").parallel_coordinates(
            ...     ["optim.lr", "optim.alpha", "model.hidden"], metric="val/acc")
            >>> fig.show()
        """
        import plotly.graph_objects as go

        frame = self.to_pandas()
        metric_col = column_of(frame, metric, "metric", prefer="summary.") if metric else None
        if params is None:
            cols = [c for c in frame.columns if c.startswith("config.") and _differs(frame[c])]
            cols = cols[:_DEFAULT_PARAMS]
        else:
            if isinstance(params, str):
                params = [params]
            cols = [column_of(frame, p, "params", prefer="config.") for p in params]
        cols = [c for c in dict.fromkeys(cols) if c != metric_col]
        if metric_col:
            cols.append(metric_col)
        if not cols:
            raise UsageError(
                "no axis to draw: these runs have no config keys that differ; name them with"
                " params=[...]",
                field="params",
            )
        dims = [_dimension(frame[c], c) for c in cols]
        line: dict[str, Any] = {"color": "#1f77b4"}
        if metric_col:
            values = pd.to_numeric(frame[metric_col], errors="coerce")
            if values.notna().any():
                line = {
                    "color": values.tolist(),
                    "colorscale": "Viridis",
                    "showscale": True,
                    "colorbar": {"title": {"text": metric_col.removeprefix("summary.")}},
                }
        log_axes = [d["label"] for d in dims if d.pop("log", False)]
        text_axes = [d["label"] for d in dims if d.pop("text", False)]
        fig = go.Figure(go.Parcoords(dimensions=dims, line=line, labelangle=0))
        fig.update_layout(
            title={
                "text": title or (f"parameters and {metric_col}" if metric_col else "parameters"),
                "x": 0,
                "xanchor": "left",
                "y": 0.98,
                "yref": "container",
            },
            meta={
                "run_ids": list(frame["id"]),
                "run_names": run_labels(frame),
                "log_axes": log_axes,
                "text_axes": text_axes,
                "metric": metric_col,
            },
            # Room above the axes for their names, and at the right for the colour bar.
            margin={"l": 70, "r": 90, "t": 110, "b": 30},
        )
        return fig

    def scatter(
        self,
        x: str | None = None,
        y: str | None = None,
        *,
        log_x: bool | None = None,
        log_y: bool | None = None,
        among: Sequence[str] | None = None,
        title: str | None = None,
    ) -> go.Figure:
        """A scatter plot, one dot per run: a config value (or any column) against a summary
        metric (W&B's scatter plot panel), from one request (the run table).

        Args:
            x: the x axis: a config key (``optim.lr``, ``config.optim.lr``) or any run table
                column; ``None`` for the first config key whose values differ between the runs
                (the first of ``among`` that does, when given).
            y: the y axis: a summary key (``val/acc``, ``summary.val/acc``) or any column.
            log_x: a log x axis; ``None`` for one when the x values are positive numbers
                spanning two decades or more (learning rates).
            log_y: a log y axis; ``None`` as ``log_x``.
            among: where a missing ``x`` is picked from (``Sweep.scatter`` passes its
                parameters).
            title: the figure's title; by default ``y by x``.

        Returns:
            A plotly ``Figure`` with one ``Scatter`` trace of markers; hovering a dot shows the
            run's name and both values; ``customdata`` holds the run ids.

        Raises:
            UsageError: ``x`` or ``y`` names no column (the message names the closest), ``y`` is
                missing, or no config key differs for a missing ``x``.

        Example:
            >>> fig = api.runs("alice/mnist").scatter("optim.lr", "val/acc")
        """
        import plotly.graph_objects as go

        if y is None:
            raise UsageError("scatter() needs y: a metric such as 'summary.val/acc'", field="y")
        frame = self.to_pandas()
        if x is None:
            pool = [column_of(frame, c, "among", prefer="config.") for c in among or ()]
            pool = pool or [c for c in frame.columns if c.startswith("config.")]
            varying = [c for c in pool if _differs(frame[c])]
            if not varying:
                raise UsageError("no config key differs between these runs: name x", field="x")
            x = varying[0]
        xc = column_of(frame, x, "x", prefer="config.")
        yc = column_of(frame, y, "y", prefer="summary.")
        xs = [plot_value(v) for v in frame[xc]]
        ys = [plot_value(v) for v in frame[yc]]
        names = run_labels(frame)
        fig = go.Figure(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                marker={"size": 11, "opacity": 0.85, "line": {"width": 1, "color": "white"}},
                text=names,
                customdata=list(frame["id"]),
                hovertemplate=(f"<b>%{{text}}</b><br>{xc}: %{{x}}<br>{yc}: %{{y}}<extra></extra>"),
            )
        )
        fig.update_layout(
            title={"text": title or f"{yc} by {xc}", "x": 0, "xanchor": "left"},
            xaxis_title=xc,
            yaxis_title=yc,
            margin={"l": 70, "r": 30, "t": 60, "b": 50},
        )
        if log_x if log_x is not None else _numbers_on_log(xs):
            fig.update_xaxes(type="log")
        numbers = {v for v in xs if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if numbers and len(numbers) <= _FEW:
            # A grid's few values: a tick at each, labelled as logged (not 100µ or 2, 3, 4 ...).
            ticks = sorted(numbers)
            fig.update_xaxes(tickvals=ticks, ticktext=[f"{t:.4g}" for t in ticks])
        if log_y if log_y is not None else _numbers_on_log(ys):
            fig.update_yaxes(type="log")
        return fig


def _numbers_on_log(values: list[Any]) -> bool:
    numbers = [v for v in values if v is not None]
    if not numbers or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers
    ):
        return False
    return is_log_scale([float(v) for v in numbers])


def plot_value(value: Any) -> Any:
    """A table value as a chart takes it: lists and dicts as their text, missing as ``None``."""
    value = _listed(value)
    if isinstance(value, (list, tuple, dict)):
        return str(list(value) if isinstance(value, tuple) else value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _dimension(values: pd.Series, label: str) -> dict[str, Any]:
    """One parallel-coordinates axis: numeric, or an axis of the column's distinct values."""
    shown = [_listed(v) for v in values]
    present = [v for v in shown if v is not None]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present)
    if numeric and present:
        return _numeric_dimension([math.nan if v is None else float(v) for v in shown], label)
    raw = {str(v): v for v in present}
    texts = sorted(raw, key=lambda t: _natural(raw[t]))
    code = {t: i for i, t in enumerate(texts)}
    return {
        "label": label,
        "text": True,
        "values": [math.nan if v is None else code[str(v)] for v in shown],
        "tickvals": list(range(len(texts))),
        "ticktext": texts,
        "range": [-0.5, len(texts) - 0.5] if texts else None,
    }


def is_log_scale(values: Sequence[float]) -> bool:
    """Whether numbers read better on a log axis: all positive, spanning two decades or more
    (learning rates, weight decays)."""
    finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and max(finite) / min(finite) >= 100


def _numeric_dimension(values: list[float], label: str) -> dict[str, Any]:
    """A numeric axis; on a log scale (``log10`` of the values, ticks labelled with the values
    themselves) when ``is_log_scale``; with a tick at each value when there are few."""
    distinct = sorted({v for v in values if math.isfinite(v)})
    log = is_log_scale(values)
    dim: dict[str, Any] = {"label": label, "values": values, "log": log}
    if log:
        dim["values"] = [math.log10(v) if math.isfinite(v) else math.nan for v in values]
    if len(distinct) <= _FEW:
        ticks = distinct
    elif log:
        lo, hi = math.floor(math.log10(distinct[0])), math.ceil(math.log10(distinct[-1]))
        ticks = [10.0**e for e in range(lo, hi + 1)]
    else:
        dim["tickformat"] = ".4g"
        return dim
    dim["tickvals"] = [math.log10(t) for t in ticks] if log else ticks
    dim["ticktext"] = [f"{t:.4g}" for t in ticks]
    return dim


def _listed(value: Any) -> Any:
    """A value as an axis takes it: arrays and the run table's JSON text of a list as lists,
    numpy scalars as Python's, missing as ``None``."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return parsed if isinstance(parsed, list) else value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _natural(value: Any) -> tuple[int, Any]:
    # Lists by length, then element-wise ([64] < [128] < [64, 32]); other values by their text.
    if isinstance(value, (list, tuple)):
        return (len(value), tuple(str(v).zfill(12) for v in value))
    return (0, (str(value),))


def column_of(frame: pd.DataFrame, key: str | None, arg: str, *, prefer: str) -> str:
    """The run table column a key names: itself, ``summary_metrics.x`` as ``summary.x``, or a
    bare key under ``prefer`` (``config.`` or ``summary.``), then under the other.

    Raises:
        UsageError: no column matches; ``.field`` is ``arg`` and the message names the closest.
    """
    if not isinstance(key, str) or not key:
        raise UsageError(f"{arg} must be a column name, not {key!r}", field=arg)
    name = (
        "summary." + key.removeprefix("summary_metrics.")
        if key.startswith("summary_metrics.")
        else key
    )
    other = "summary." if prefer == "config." else "config."
    for candidate in (name, prefer + name, other + name):
        if candidate in frame.columns:
            return candidate
    known = [c for c in frame.columns if c.startswith(("config.", "summary."))]
    near = closest([prefer + name], known)[:5]
    hint = f"; the closest: {', '.join(near)}" if near else "; these runs have none"
    raise UsageError(f"{arg}: no column {key!r}{hint}", field=arg)


def _same(value: Any) -> Any:
    """A value as compared: missing (None, NaN) alike, lists and dicts by their text."""
    if isinstance(value, (list, dict, np.ndarray)):
        return repr(value.tolist() if isinstance(value, np.ndarray) else value)
    if value is None or pd.isna(value):
        return None
    return value


def _differs(column: pd.Series) -> bool:
    return len({_same(v) for v in column}) > 1


def _compare_rows(fields: list[str], keys: Sequence[str]) -> list[str]:
    """The rows of ``compare(keys=...)``: each key resolved to its columns."""
    if isinstance(keys, str):
        keys = [keys]
    rows: list[str] = []
    for key in keys:
        if not isinstance(key, str):
            raise UsageError(f"keys must be strings, not {type(key).__name__}", field="keys")
        name = (
            "summary." + key.removeprefix("summary_metrics.")
            if key.startswith("summary_metrics.")
            else key
        )
        found = [name] if name in fields else [f"{k}.{name}" for k in ("config", "summary")]
        found = [c for c in found if c in fields]
        if not found:
            near = closest([name], fields)[:5]
            hint = f"; the closest: {', '.join(near)}" if near else "; these runs have none"
            raise UsageError(f"no config or summary key {key!r}{hint}", field="keys")
        rows += [c for c in found if c not in rows]
    return rows


def run_labels(frame: pd.DataFrame) -> list[str]:
    """Each run's column name: its display name, with its id when names repeat."""
    names = [
        n if isinstance(n, str) and n else None for n in frame.get("name", [None] * len(frame))
    ]
    ids = [str(i) for i in frame["id"]]
    counts: dict[str | None, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    return [
        rid if n is None else (n if counts[n] == 1 else f"{n} ({rid})")
        for n, rid in zip(names, ids, strict=True)
    ]
