"""Drawing a report: one plotly figure per panel, and the standalone HTML page around them.

A ``custom`` panel (``{"type": "custom", "chart": "alice/loss-curve", "runset": 0}``) is a
custom chart preset drawn from the run set's rows (``CustomChart.data_of``): in the page, its
Vega-Lite spec with those rows as a ``<script type="application/json">`` and, where
``vl-convert-python`` is installed (the ``charts`` extra), the chart drawn as SVG, so the page
needs neither a network nor JavaScript to show it.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from lablens.contract.names import BUILTIN_X
from lablens.contract.page import figure_html
from lablens.contract.page import page as html_page
from lablens.errors import LablensError

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from lablens.api.reports import BetaReport


def _column(field: str) -> str:
    """A run-table column for a panel field: ``summary_metrics.acc`` -> ``summary.acc``."""
    if field.startswith("summary_metrics."):
        return "summary." + field[len("summary_metrics.") :]
    return field


def _title(panel: dict[str, Any], default: str) -> str:
    return str(panel.get("title") or default)


def _line(report: BetaReport, panel: dict[str, Any]) -> go.Figure:
    import plotly.graph_objects as go

    keys = panel.get("y") or []
    keys = [keys] if isinstance(keys, str) else list(keys)
    x = panel.get("x") or "_step"
    runs = report.runs(panel.get("runset", 0))
    names = {r.id: r.name or r.id for r in runs}
    frame: pd.DataFrame = runs.histories(
        samples=panel.get("samples", 500), keys=keys or None, x_axis=x, format="pandas"
    )
    if not keys:
        keys = [c for c in frame.columns if c != "run_id" and c not in BUILTIN_X]
    fig = go.Figure()
    for run_id, rows in frame.groupby("run_id", sort=False):
        for key in keys:
            if key not in rows:
                continue
            part = rows[[x, key]].dropna()
            label = (
                names.get(run_id, run_id)
                if len(keys) == 1
                else f"{names.get(run_id, run_id)} · {key}"
            )
            fig.add_trace(go.Scatter(x=part[x], y=part[key], mode="lines", name=label))
    fig.update_layout(
        title=_title(panel, ", ".join(keys)),
        xaxis_title=x,
        yaxis_title=keys[0] if len(keys) == 1 else None,
    )
    if panel.get("log_y"):
        fig.update_yaxes(type="log")
    if panel.get("log_x"):
        fig.update_xaxes(type="log")
    return fig


def _bar(report: BetaReport, panel: dict[str, Any]) -> go.Figure:
    import plotly.graph_objects as go

    field = panel.get("y") or ""
    col = _column(field)
    table = report.runs(panel.get("runset", 0)).to_pandas()
    fig = go.Figure()
    if col in table:
        fig.add_trace(go.Bar(x=table["name"], y=table[col], name=field))
    fig.update_layout(title=_title(panel, field), yaxis_title=field)
    if panel.get("log_y"):
        fig.update_yaxes(type="log")
    return fig


def _scatter(report: BetaReport, panel: dict[str, Any]) -> go.Figure:
    import plotly.graph_objects as go

    xf, yf = panel.get("x") or "", panel.get("y") or ""
    table = report.runs(panel.get("runset", 0)).to_pandas()
    fig = go.Figure()
    if _column(xf) in table and _column(yf) in table:
        fig.add_trace(
            go.Scatter(
                x=table[_column(xf)],
                y=table[_column(yf)],
                mode="markers",
                text=table["name"],
                name=yf,
            )
        )
    fig.update_layout(title=_title(panel, f"{yf} by {xf}"), xaxis_title=xf, yaxis_title=yf)
    if panel.get("log_x"):
        fig.update_xaxes(type="log")
    if panel.get("log_y"):
        fig.update_yaxes(type="log")
    return fig


_DRAW = {"line": _line, "bar": _bar, "scatter": _scatter}


def figures(report: BetaReport) -> list[go.Figure]:
    """One figure per panel of a known type, in the spec's order."""
    return [
        _DRAW[p.get("type", "line")](report, p)
        for p in report.panels
        if p.get("type", "line") in _DRAW
    ]


def custom_spec(report: BetaReport, panel: dict[str, Any]) -> dict[str, Any]:
    """A ``custom`` panel's Vega-Lite spec, its run set's rows as ``data.values``."""
    chart = report._api.custom_chart(str(panel.get("chart") or ""))
    spec = chart.vega_lite(chart.data_of(report.runs(panel.get("runset", 0))))
    if panel.get("title"):
        spec["title"] = str(panel["title"])
    return spec


def custom_html(spec: dict[str, Any], div_id: str) -> str:
    """A Vega-Lite spec in a page: the spec (with its data) as JSON, and its SVG drawing."""
    text = json.dumps(spec, allow_nan=False).replace("</", "<\\/")
    try:
        import vl_convert
    except ImportError:
        drawing = "<p class='note'>install lablens[charts] to draw custom charts in HTML</p>"
    else:
        drawing = vl_convert.vegalite_to_svg(spec)
    return (
        f"<div class='panel vega-lite' id='{div_id}'>{drawing}"
        f"<script type='application/json' class='vega-lite-spec'>{text}</script></div>"
    )


def page(report: BetaReport) -> str:
    """The whole report as one HTML page, plotly's JavaScript inlined once (the page parts of
    ``lablens.contract.page``, which the server's project and run pages share)."""
    parts = []
    for i, panel in enumerate(report.panels):
        kind = panel.get("type", "line")
        if kind == "custom":
            try:
                parts.append(custom_html(custom_spec(report, panel), f"panel-{i}"))
            except LablensError as exc:
                parts.append(f"<p class='note'>panel {i}: {html.escape(str(exc))}</p>")
            continue
        if kind not in _DRAW:
            parts.append(
                f"<p class='note'>panel {i}: type {html.escape(str(kind))!s} is not"
                " drawn in HTML</p>"
            )
            continue
        try:
            fig = _DRAW[kind](report, panel)
        except LablensError as exc:
            # A reader who may not read a run set gets a note, never its runs.
            parts.append(f"<p class='note'>panel {i}: {html.escape(str(exc))}</p>")
            continue
        parts.append(figure_html(fig, f"panel-{i}"))
    title = html.escape(report.display_name)
    body = (
        f"<h1>{title}</h1><p>{html.escape(report.description)}</p>"
        f"<p class='meta'>{html.escape(report.path)} · saved {report.updated_at or ''}</p>"
        + "\n".join(parts)
    )
    return html_page(report.display_name, body, plotly="inline")
