"""The HTML page lablens writes around charts: a report's standalone page (``report.to_html()``)
and the server's read-only project and run pages are built from these parts, so they look
alike and a chart is drawn one way.

A page is ``page(title, body, plotly=...)``: the title, the style, plotly's JavaScript (inlined
for a standalone file, or a ``<script src>`` the server serves once and the browser caches),
and the body. A chart is ``figure_html(fig, div_id)``: a plotly figure as a ``<div>`` drawn by
that script. Text that comes from users is escaped with ``esc`` before it reaches a page.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["STYLE", "esc", "figure_html", "page"]

#: The style every page shares: readable text, tables of runs and values, panels in a grid.
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1400px;margin:1.5em auto;padding:0 1.2em;"
    "color:#222;line-height:1.4}"
    "h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.2em;margin:1.4em 0 .5em;"
    "border-bottom:1px solid #e3e3e3;padding-bottom:.2em}h3{font-size:1em;margin:.8em 0 .3em}"
    ".note{color:#a33}.meta{color:#666;font-size:90%}"
    "a{color:#1a5fb4;text-decoration:none}a:hover{text-decoration:underline}"
    "table.grid{border-collapse:collapse;font-size:13px;margin:.3em 0}"
    "table.grid th,table.grid td{border-bottom:1px solid #eee;padding:3px 10px;text-align:left;"
    "white-space:nowrap}table.grid th{background:#f6f6f6}"
    "table.grid th.group{text-align:center;color:#555;font-weight:600;background:#eef2f7;"
    "border-left:2px solid #fff}"
    "table.grid td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".scroll{overflow:auto;max-height:70vh;border:1px solid #e6e6e6}"
    ".state{border-radius:9px;padding:0 7px;font-size:12px;background:#eee}"
    ".state.FINISHED{background:#dff3e3;color:#1e6b33}.state.RUNNING{background:#dde9fb;"
    "color:#1a4f9c}.state.CRASHED,.state.FAILED{background:#fbe1e1;color:#9c1a1a}"
    ".panels{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:12px}"
    ".panel{border:1px solid #e6e6e6;border-radius:6px;padding:4px}"
    ".cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:20px}"
    ".thumbs{display:flex;flex-wrap:wrap;gap:10px}.thumbs figure{margin:0;font-size:12px;"
    "color:#555;text-align:center}.thumbs img{display:block;border:1px solid #ddd;"
    "image-rendering:pixelated;width:128px;height:128px;object-fit:contain}"
    ".bar{display:flex;justify-content:space-between;align-items:center;gap:1em}"
    "form.signin{max-width:380px;display:grid;gap:.6em;margin-top:1em}"
    "form.signin input{padding:6px;font-size:14px}form.inline{display:inline}"
    "button{padding:5px 12px;font-size:14px;cursor:pointer}"
)


def esc(value: Any) -> str:
    """``value`` as text safe inside HTML (``None`` as empty)."""
    return html.escape("" if value is None else str(value))


def figure_html(fig: go.Figure, div_id: str, *, height: int = 420) -> str:
    """A plotly figure as a ``<div>`` that the page's plotly script draws (white template)."""
    fig.update_layout(template="plotly_white", height=height)
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config={"responsive": True, "displaylogo": False},
    )


def page(title: str, body: str, *, plotly: str | None = "inline") -> str:
    """A whole HTML page.

    Args:
        title: the page's title, as text (escaped here).
        body: the page's body, as HTML.
        plotly: ``"inline"`` to inline plotly's JavaScript (a file that opens without a
            network), a URL to load it from, or ``None`` for a page without charts.

    Returns:
        The HTML text.
    """
    if plotly == "inline":
        from plotly.offline import get_plotlyjs

        script = f"<script type='text/javascript'>{get_plotlyjs()}</script>"
    elif plotly:
        script = f"<script src='{esc(plotly)}'></script>"
    else:
        script = ""
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{STYLE}</style>{script}</head><body>"
        f"{body}</body></html>\n"
    )
