"""The pages' HTML: a project (its runs: name, state, summary metrics, the config that differs),
a run (summary, config, a chart per metric, media thumbnails), the sign-in form and the page of
a refusal. Built from the store's answers with the page parts reports use
(``lablens.contract.page``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import pyarrow as pa

from lablens.contract.flatten import flatten
from lablens.contract.page import esc, figure_html, page

__all__ = [
    "MAX_RUNS",
    "crumbs",
    "header",
    "sweep_line",
    "PLOTLY_URL",
    "index_page",
    "message_page",
    "project_page",
    "run_page",
    "runs_table",
    "signin_page",
]

#: Where the pages load plotly's JavaScript from (served once, cached by the browser).
PLOTLY_URL = "/-/plotly.js"
#: Runs listed on a project page; the rest are counted.
MAX_RUNS = 1000
# Metrics charted on a run page, and thumbnails per media key.
_MAX_PANELS = 48
_MAX_THUMBS = 12


def _q(segment: str) -> str:
    return quote(segment, safe="")


def project_url(ws: str, project: str) -> str:
    return f"/{_q(ws)}/{_q(project)}"


def run_url(ws: str, project: str, run_id: str) -> str:
    return f"{project_url(ws, project)}/runs/{_q(run_id)}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _value(value: Any) -> str:
    """A config or summary value as a cell shows it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _cell(value: Any) -> str:
    num = isinstance(value, (int, float)) and not isinstance(value, bool)
    return f"<td{' class=num' if num else ''}>{esc(_value(value))}</td>"


def header(user: dict[str, Any], crumbs: str) -> str:
    return (
        f"<div class='bar'><div class='meta'>{crumbs}</div><div class='meta'>"
        f"signed in as {esc(user['username'])} · <form class='inline' method='post'"
        " action='/-/signout'><button type='submit'>Sign out</button></form></div></div>"
    )


def crumbs(ws: str, project: str | None = None) -> str:
    out = esc(ws)
    if project is not None:
        out += f" / <a href='{project_url(ws, project)}'>{esc(project)}</a>"
    return out


def _same(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def runs_table(ws: str, project: str, table: pa.Table, total: int) -> str:
    """The runs section: one row per run (name linked to its page, state, created, summary
    metrics, the config keys whose values differ), the keys the same for all below."""
    rows = table.to_pylist()
    names = table.column_names
    summary = [c for c in names if c.startswith("summary.")]
    config = [c for c in names if c.startswith("config.")]
    differs = [c for c in config if len({_same(r.get(c)) for r in rows}) > 1]
    same = [c for c in config if c not in differs]
    # Two header rows: the groups (summary, config), then each key without its prefix.
    groups = "<th colspan=3></th>" + "".join(
        f"<th colspan={len(cols)} class='group'>{name}</th>"
        for name, cols in (("summary", summary), ("config that differs", differs))
        if cols
    )
    keys = "".join(f"<th>{esc(c)}</th>" for c in ("name", "state", "created")) + "".join(
        f"<th title='{esc(c)}'>{esc(c.split('.', 1)[1])}</th>" for c in (*summary, *differs)
    )
    head = f"{groups}</tr><tr>{keys}"
    body_rows = []
    for r in rows:
        link = f"<a href='{run_url(ws, project, r['id'])}'>{esc(r.get('name') or r['id'])}</a>"
        state = esc(r.get("state"))
        created = str(r.get("created_at") or "")[:16]
        cells = "".join(_cell(r.get(c)) for c in [*summary, *differs])
        body_rows.append(
            f"<tr><td>{link}</td><td><span class='state {state}'>{state}</span></td>"
            f"<td>{esc(created)}</td>{cells}</tr>"
        )
    if rows:
        shown = "" if total <= len(rows) else f" (the first {len(rows)} shown)"
        runs_html = (
            f"<h2>Runs</h2><p class='meta'>{_plural(total, 'run')}{shown}; config keys that"
            " differ between them are columns</p>"
            f"<div class='scroll'><table class='grid' id='runs'><tr>{head}</tr>"
            + "".join(body_rows)
            + "</table></div>"
        )
    else:
        runs_html = "<h2>Runs</h2><p class='meta'>No runs yet: log one with lablens.init().</p>"
    if same and rows:
        constant = ", ".join(
            f"{esc(c.removeprefix('config.'))}={esc(_value(rows[0].get(c)))}" for c in same
        )
        runs_html += f"<p class='meta'>Same for all runs: {constant}</p>"
    return runs_html


def project_page(
    user: dict[str, Any],
    ws: str,
    project: str,
    info: dict[str, Any],
    table: pa.Table,
    total: int,
    sweeps: Sequence[dict[str, Any]],
) -> str:
    """A project's page: its sweeps, then one row per run (name, state, summary metrics, and
    the config keys whose values differ between the runs)."""
    runs_html = runs_table(ws, project, table, total)
    sweeps_html = ""
    if sweeps:
        items = "".join(
            f"<li><a href='{project_url(ws, project)}/sweeps/{_q(sw['id'])}'>"
            f"{esc(sw.get('name') or sw['id'])}</a> · {sweep_line(sw, named=False)}</li>"
            for sw in sweeps
        )
        sweeps_html = f"<h2>Sweeps</h2><ul>{items}</ul>"
    description = f"<p>{esc(info.get('description'))}</p>" if info.get("description") else ""
    body = (
        header(user, crumbs(ws))
        + f"<h1>{esc(project)}</h1>{description}"
        + f"<p class='meta'>{esc(info.get('visibility', '').lower())} project of {esc(ws)}</p>"
        + sweeps_html
        + runs_html
    )
    return page(f"{ws}/{project}", body, plotly=None)


def sweep_line(sweep: dict[str, Any], *, named: bool = True) -> str:
    """``demo-grid · grid · running · 5 of 18 runs · metric val/acc (maximize)`` (without the
    name when not ``named``)."""
    expected = sweep.get("expected_run_count")
    metric = (sweep.get("config") or {}).get("metric") or {}
    parts = [
        *([f"<b>{esc(sweep.get('name') or sweep['id'])}</b>"] if named else []),
        esc(sweep.get("method")),
        esc(str(sweep.get("state", "")).lower()),
        f"{int(sweep.get('run_count') or 0)} of"
        f" {_plural(int(expected), 'run') if expected else '∞ runs'}",
    ]
    if metric.get("name"):
        parts.append(f"metric {esc(metric['name'])} ({esc(metric.get('goal', 'minimize'))})")
    return " · ".join(parts)


def _when(value: Any) -> str:
    """An ISO time as ``2026-12-03 13:55 UTC``."""
    text = str(value or "")
    return f"{text[:10]} {text[11:16]} UTC" if len(text) >= 16 else text


def _key_value_table(values: dict[str, Any], table_id: str, empty: str) -> str:
    if not values:
        return f"<p class='meta'>{esc(empty)}</p>"
    rows = "".join(f"<tr><th>{esc(k)}</th>{_cell(v)}</tr>" for k, v in sorted(values.items()))
    return f"<table class='grid' id='{table_id}'>{rows}</table>"


def _metric_panels(points: pa.Table) -> str:
    """A chart per metric the run logged, grouped in sections by prefix (``train/``, ``val/``)."""
    import plotly.graph_objects as go

    series: dict[str, tuple[list[int], list[float]]] = {}
    for key, step, value in zip(
        points.column("key").to_pylist(),
        points.column("step").to_pylist(),
        points.column("value").to_pylist(),
        strict=True,
    ):
        xs, ys = series.setdefault(key, ([], []))
        xs.append(step)
        ys.append(value)
    if not series:
        return "<p class='meta'>No metrics logged.</p>"
    sections: dict[str, list[str]] = {}
    for key in sorted(series)[:_MAX_PANELS]:
        sections.setdefault(key.split("/", 1)[0] if "/" in key else "", []).append(key)
    out = []
    n = 0
    for section, keys in sections.items():
        panels = []
        for key in keys:
            xs, ys = series[key]
            fig = go.Figure(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines+markers" if len(xs) < 30 else "lines",
                    name=key,
                    line={"width": 2},
                )
            )
            fig.update_layout(
                title={"text": key, "font": {"size": 14}},
                xaxis_title="step",
                yaxis_title=key,
                margin={"l": 55, "r": 15, "t": 40, "b": 40},
                showlegend=False,
            )
            panels.append(f"<div class='panel'>{figure_html(fig, f'metric-{n}', height=300)}</div>")
            n += 1
        title = f"<h3>{esc(section)}</h3>" if section else ""
        out.append(f"{title}<div class='panels'>{''.join(panels)}</div>")
    return "".join(out)


def _media(ws: str, project: str, items: Sequence[dict[str, Any]]) -> str:
    """Thumbnails of the run's images (the last steps of each key), with captions."""
    if not items:
        return ""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_key.setdefault(item["key"], []).append(item)
    out = ["<h2>Media</h2>"]
    for key, found in by_key.items():
        shown = found[-_MAX_THUMBS:]
        figs = "".join(
            f"<figure><img loading='lazy' alt='{esc(key)} step {esc(i.get('step'))}'"
            f" src='{project_url(ws, project)}/media/{esc(i['sha256'])}?thumb=256'>"
            f"step {esc(i.get('step'))}{' · ' + esc(i['caption']) if i.get('caption') else ''}"
            "</figure>"
            for i in shown
        )
        out.append(f"<h3>{esc(key)}</h3><div class='thumbs'>{figs}</div>")
    return "".join(out)


def run_page(
    user: dict[str, Any],
    ws: str,
    project: str,
    run: dict[str, Any],
    points: pa.Table,
    media: Sequence[dict[str, Any]],
    other_media: dict[str, dict[str, Any]],
    sweep_name: str | None = None,
) -> str:
    """A run's page: its facts, summary, config, a chart per metric and its images."""
    state = esc(run.get("state"))
    facts = [
        ("id", run["id"]),
        ("group", run.get("group")),
        ("job type", run.get("job_type")),
        ("tags", ", ".join(run.get("tags") or [])),
        ("created", _when(run.get("created_at"))),
        ("finished", _when(run.get("finished_at"))),
        ("user", run.get("username")),
        ("sweep", sweep_name or run.get("sweep")),
    ]
    facts_html = " · ".join(f"{k} <b>{esc(v)}</b>" for k, v in facts if v)
    summary = {k: v for k, v in (run.get("summary") or {}).items() if not k.startswith("_")}
    config = flatten(run.get("config") or {})
    notes = f"<p>{esc(run['notes'])}</p>" if run.get("notes") else ""
    others = ""
    if other_media:
        listed = ", ".join(
            f"{esc(k)} ({esc(v.get('type'))}, {_plural(int(v.get('count') or 0), 'item')})"
            for k, v in sorted(other_media.items())
        )
        others = f"<p class='meta'>Other media: {listed}; read them with run.media(key).</p>"
    body = (
        header(user, crumbs(ws, project))
        + f"<h1>{esc(run.get('name') or run['id'])} <span class='state {state}'>{state}</span></h1>"
        + notes
        + f"<p class='meta'>{facts_html}</p>"
        + "<div class='cols'><div><h2>Summary</h2>"
        + _key_value_table(summary, "summary", "No summary yet.")
        + "</div><div><h2>Config</h2>"
        + _key_value_table(config, "config", "No config.")
        + "</div></div><h2>Metrics</h2>"
        + _metric_panels(points)
        + _media(ws, project, media)
        + others
    )
    return page(f"{run.get('name') or run['id']} · {ws}/{project}", body, plotly=PLOTLY_URL)


def signin_page(next_path: str, message: str | None = None) -> str:
    """The sign-in form: an API key, or a username and password; back to ``next_path`` after."""
    note = f"<p class='note' id='signin-error'>{esc(message)}</p>" if message else ""
    body = (
        "<h1>Sign in to lablens</h1>"
        "<p class='meta'>This page needs you signed in. Give an API key (<code>lablens login"
        "</code> stored one in ~/.lablens/credentials) or your username and password.</p>"
        + note
        + "<form class='signin' method='post' action='/-/signin'>"
        f"<input type='hidden' name='next' value='{esc(next_path)}'>"
        "<label>API key <input name='api_key' type='password' autocomplete='off'></label>"
        "<div class='meta'>or</div>"
        "<label>Username <input name='username' autocomplete='username'></label>"
        "<label>Password <input name='password' type='password'"
        " autocomplete='current-password'></label>"
        "<button type='submit'>Sign in</button></form>"
    )
    return page("Sign in · lablens", body, plotly=None)


def index_page(user: dict[str, Any], sections: str) -> str:
    """The index: the projects the user can read, by workspace (``sections``, HTML)."""
    body = header(user, "lablens") + "<h1>Projects</h1>" + sections
    return page("lablens", body, plotly=None)


def message_page(title: str, message: str, user: dict[str, Any] | None = None) -> str:
    """A page that says what went wrong (not found, bad address), with a way on."""
    head = header(user, "<a href='/'>projects</a>") if user else ""
    body = f"{head}<h1>{esc(title)}</h1><p>{esc(message)}</p>"
    return page(f"{title} · lablens", body, plotly=None)
