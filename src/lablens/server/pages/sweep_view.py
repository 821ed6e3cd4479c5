"""A sweep's page (``Sweep.url``): its configuration, a parallel coordinates chart of its runs
(an axis per swept parameter, lines coloured by its metric) and its runs' table.

The chart follows ``Runs.parallel_coordinates()`` of the ``Api``: text values get an axis of
their own values, numbers spanning two decades a log axis labelled with the values.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pyarrow as pa

from lablens.contract.page import esc, figure_html, page
from lablens.server.pages import views

__all__ = ["sweep_page"]

# An axis with at most this many distinct numbers gets a tick at each.
_FEW = 10


def _parameters(config: dict[str, Any]) -> list[str]:
    """The swept parameters as run table columns (``config.optim.lr``), nested ones dotted."""
    out: list[str] = []

    def walk(params: Any, prefix: str) -> None:
        for name, spec in params.items() if isinstance(params, dict) else ():
            if isinstance(spec, dict) and "parameters" in spec:
                walk(spec["parameters"], f"{prefix}{name}.")
            else:
                out.append(f"config.{prefix}{name}")

    walk(config.get("parameters"), "")
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _dimension(label: str, values: list[Any], *, ticks: bool = True) -> dict[str, Any]:
    present = [v for v in values if v is not None]
    if present and all(_number(v) is not None for v in present):
        numbers = [_number(v) if v is not None else math.nan for v in values]
        distinct = sorted({n for n in numbers if not math.isnan(n)})
        log = distinct[0] > 0 and distinct[-1] / distinct[0] >= 100
        dim: dict[str, Any] = {"label": label, "values": numbers}
        if log:
            dim["values"] = [math.log10(n) if not math.isnan(n) else n for n in numbers]
        if not ticks:
            dim["tickformat"] = ".4g"
        elif len(distinct) <= _FEW:
            dim["tickvals"] = [math.log10(t) for t in distinct] if log else distinct
            dim["ticktext"] = [f"{t:.4g}" for t in distinct]
        return dim
    texts = sorted({json.dumps(v) if not isinstance(v, str) else v for v in present})
    # Lists ([64] < [128] < [64, 32]) by length then text; other values alphabetically.
    texts.sort(key=lambda t: (t.count(","), len(t), t) if t.startswith("[") else (-1, 0, t))
    code = {t: i for i, t in enumerate(texts)}
    return {
        "label": label,
        "values": [
            math.nan if v is None else code[json.dumps(v) if not isinstance(v, str) else v]
            for v in values
        ],
        "tickvals": list(range(len(texts))),
        "ticktext": texts,
    }


def _chart(sweep: dict[str, Any], table: pa.Table) -> str:
    import plotly.graph_objects as go

    config = sweep.get("config") or {}
    params = [c for c in _parameters(config) if c in table.column_names]
    name = (config.get("metric") or {}).get("name")
    metric = f"summary.{name}" if name and f"summary.{name}" in table.column_names else None
    columns = [*params, *([metric] if metric else [])]
    if not columns or table.num_rows == 0:
        return "<p class='meta'>No runs to draw yet.</p>"
    # The metric's axis keeps plotly's ticks: its values are many and not chosen.
    dims = [_dimension(c, table.column(c).to_pylist(), ticks=c != metric) for c in columns]
    line: dict[str, Any] = {"color": "#1f77b4"}
    if metric:
        line = {
            "color": [_number(v) for v in table.column(metric).to_pylist()],
            "colorscale": "Viridis",
            "showscale": True,
            "colorbar": {"title": {"text": name}},
        }
    fig = go.Figure(go.Parcoords(dimensions=dims, line=line, labelangle=0))
    fig.update_layout(margin={"l": 70, "r": 90, "t": 60, "b": 30})
    return f"<div class='panel'>{figure_html(fig, 'parallel-coordinates', height=440)}</div>"


def sweep_page(
    user: dict[str, Any], ws: str, project: str, sweep: dict[str, Any], table: pa.Table, total: int
) -> str:
    """A sweep's page: what it searches, its runs as parallel coordinates, then as a table."""
    config = sweep.get("config") or {}
    params = ", ".join(p.removeprefix("config.") for p in _parameters(config))
    body = (
        views.header(user, views.crumbs(ws, project))
        + f"<h1>{esc(sweep.get('name') or sweep['id'])}</h1>"
        + (f"<p>{esc(sweep['description'])}</p>" if sweep.get("description") else "")
        + f"<p class='meta'>sweep {esc(sweep['id'])} · {views.sweep_line(sweep, named=False)}"
        + (f" · parameters {esc(params)}" if params else "")
        + "</p><h2>Parallel coordinates</h2>"
        + _chart(sweep, table)
        + views.runs_table(ws, project, table, total)
    )
    title = f"{sweep.get('name') or sweep['id']} · {ws}/{project}"
    return page(title, body, plotly=views.PLOTLY_URL)
