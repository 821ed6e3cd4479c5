"""The run card: what ``init()`` shows of a run, and what ``finish()`` shows of how it went.

In a notebook (an IPython kernel), ``init()`` displays a card: the project, the run's name and
id, its state, a link to it, and a sparkline per logged metric. A daemon thread redraws it through
an IPython display handle, at most once a second and only when something changed, from what the
run itself logged (it never asks the server), while the cell runs and after it. ``finish()``
turns it into a summary: state, duration, the last value of each metric.

In a terminal, one line on stderr at ``init()`` and one at ``finish()``, as W&B prints them.
``Settings.silent`` (``LABLENS_SILENT=true``) shows nothing.

Only an ``IPython`` the process has already imported is used, so a training script never loads
it.
"""

from __future__ import annotations

import html
import math
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "CardView",
    "RunCard",
    "Series",
    "card_html",
    "finish_line",
    "format_duration",
    "format_value",
    "sparkline_svg",
    "start_card",
    "start_line",
]

#: Points a sparkline keeps per metric: every n-th logged point, n doubling as the run grows.
SPARK_POINTS = 120
#: The width of a sparkline in the card, in pixels.
SPARK_WIDTH = 220
#: Metrics the card shows; the rest are counted.
CARD_METRICS = 16
#: Metrics the terminal's last line names.
LINE_METRICS = 6
#: Seconds between two redraws of the card, at the most.
REFRESH = 1.0

_STATE_COLORS = {
    "running": "#1a7f37",
    "finished": "#0969da",
    "crashed": "#cf222e",
    "aborted": "#9a6700",
}


class CardRun(Protocol):
    """What the card reads of a run (the SDK's ``Run``)."""

    id: str
    entity: str | None
    project: str
    offline: bool
    dir: Path
    start_time: float
    #: its address in a browser, as ``lablens.Api().run(path).url`` prints it; ``None`` offline
    url: str | None

    @property
    def name(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def summary(self) -> Any: ...


class Series:
    """One metric's points for a sparkline: every n-th logged point, n doubling whenever
    ``2 * SPARK_POINTS`` are kept, so memory stays small however long the run is; plus the
    last point, always."""

    __slots__ = ("count", "last", "points", "stride")

    def __init__(self) -> None:
        self.points: list[tuple[int, float]] = []
        self.stride = 1
        self.count = 0
        self.last: tuple[int, Any] | None = None

    def add(self, step: int, value: Any) -> None:
        """Take one logged value."""
        self.last = (step, value)
        if self.count % self.stride == 0:
            self.points.append((step, float(value)))
            if len(self.points) >= 2 * SPARK_POINTS:
                self.points = self.points[::2]
                self.stride *= 2
        self.count += 1

    def drawn(self) -> list[tuple[int, float]]:
        """The points to draw: the kept ones, and the last one if it was not kept."""
        if self.last is None:
            return []
        last = (self.last[0], float(self.last[1]))
        if self.points and self.points[-1] == last:
            return list(self.points)
        return [*self.points, last]


@dataclass
class CardView:
    """What a card shows at one moment; ``card_html`` and the terminal lines draw it."""

    name: str
    id: str
    project: str
    entity: str | None = None
    url: str | None = None
    state: str = "running"
    seconds: float = 0.0
    offline: bool = False
    dir: str | None = None
    #: ``(key, points to draw, last value, last step)``, in the order first logged.
    metrics: list[tuple[str, list[tuple[int, float]], Any, int]] = field(default_factory=list)


def format_value(value: Any) -> str:
    """A metric value in a few characters: integers whole, floats to 4 significant digits."""
    if isinstance(value, int):  # bool too
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.4g}"


def format_duration(seconds: float) -> str:
    """``45s``, ``3m 05s``, ``2h 07m``."""
    total = max(0, int(round(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def sparkline_svg(points: list[tuple[int, float]], width: int = 120, height: int = 24) -> str:
    """An inline SVG of ``(step, value)`` points: a polyline over the steps, a dot at the last.

    Non-finite values are left out of the line (the card prints the last value as it is).
    """
    finite = [(s, v) for s, v in points if math.isfinite(v)]
    pad = 2.0
    head = (
        f'<svg class="ll-spark" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="display:block">'
    )
    if not finite:
        return head + "</svg>"
    steps = [s for s, _ in finite]
    values = [v for _, v in finite]
    s0, s1 = min(steps), max(steps)
    v0, v1 = min(values), max(values)

    def xy(step: int, value: float) -> tuple[float, float]:
        x = pad + (width - 2 * pad) * ((step - s0) / (s1 - s0) if s1 > s0 else 1.0)
        y = pad + (height - 2 * pad) * ((v1 - value) / (v1 - v0) if v1 > v0 else 0.5)
        return x, y

    coords = [xy(s, v) for s, v in finite]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    x, y = coords[-1]
    return (
        head + f'<polyline points="{line}" fill="none" stroke="var(--jp-brand-color1, #1976d2)" '
        'stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round"/>'
        + f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="var(--jp-brand-color1, #1976d2)"/>'
        + "</svg>"
    )


def card_html(view: CardView) -> str:
    """The card as HTML, styled inline with JupyterLab's theme variables (so it follows a dark
    theme) and plain fallbacks."""
    e = html.escape
    color = _STATE_COLORS.get(view.state, "#57606a")
    muted = "color: var(--jp-ui-font-color2, #57606a)"
    where = f"{view.entity}/{view.project}" if view.entity else view.project
    title = e(view.name)
    if view.url:
        title = (
            f'<a class="ll-card-link" href="{e(view.url)}" target="_blank" rel="noopener" '
            f'style="color: var(--jp-content-link-color, #0969da); font-weight: 600">{title}</a>'
        )
    else:
        title = f'<span style="font-weight: 600">{title}</span>'
    when = ("ran " if view.state != "running" else "running for ") + format_duration(view.seconds)
    parts = [
        f'<div class="ll-run-card" data-state="{e(view.state)}" data-run="{e(view.id)}" '
        'style="font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 13px; '
        "color: var(--jp-ui-font-color1, #1f2328); "
        "background: var(--jp-layout-color1, #fff); "
        "border: 1px solid var(--jp-border-color2, #d0d7de); border-radius: 6px; "
        "padding: 8px 12px; width: fit-content; min-width: 440px; max-width: 100%; "
        'box-sizing: border-box">',
        '<div style="display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 10px">',
        f'<span style="font-weight: 600; {muted}">lablens</span>',
        f'<span class="ll-card-state" style="color: #fff; background: {color}; '
        f'border-radius: 10px; padding: 0 8px; font-size: 12px">{e(view.state)}</span>',
        f'<span class="ll-card-name">{title} <span style="{muted}">({e(view.id)})</span></span>',
        f'<span class="ll-card-project" style="{muted}">in {e(where)}</span>',
        f'<span class="ll-card-time" style="margin-left: auto; {muted}">{e(when)}</span>',
        "</div>",
    ]
    if view.url:
        parts.append(
            f'<div class="ll-card-url" style="{muted}; font-size: 12px; margin-top: 2px; '
            f'overflow-wrap: anywhere">{e(view.url)}</div>'
        )
    if view.metrics:
        parts.append(
            # JupyterLab styles rendered tables (stripes, centring, right-aligned cells): undone
            # inline, so the card looks the same in every frontend.
            '<table class="ll-card-metrics" style="border-collapse: collapse; border: none; '
            'margin: 6px 0 0 0; font-size: 13px">'
        )
        for key, points, last, step in view.metrics[:CARD_METRICS]:
            parts.append(
                f'<tr class="ll-card-metric" data-key="{e(key)}" '
                'style="background: transparent; border: none">'
                f'<td style="padding: 3px 10px 3px 0; text-align: left; max-width: 240px; '
                f'overflow: hidden; text-overflow: ellipsis; white-space: nowrap">{e(key)}</td>'
                f'<td style="padding: 3px 10px 3px 0; width: {SPARK_WIDTH}px">'
                f"{sparkline_svg(points, SPARK_WIDTH, 26)}</td>"
                '<td class="ll-card-value" style="padding: 3px 10px 3px 0; text-align: right; '
                f'font-variant-numeric: tabular-nums">{e(format_value(last))}</td>'
                f'<td style="padding: 3px 0; text-align: left; {muted}; font-size: 12px; '
                f'white-space: nowrap">step {step}</td>'
                "</tr>"
            )
        parts.append("</table>")
        hidden = len(view.metrics) - CARD_METRICS
        if hidden > 0:
            parts.append(f'<div style="{muted}; font-size: 12px">and {hidden} more metrics</div>')
    else:
        parts.append(
            f'<div style="{muted}; margin-top: 6px">no metrics logged yet: '
            "<code>run.log({...})</code></div>"
        )
    if view.offline and view.dir:
        parts.append(
            f'<div style="{muted}; font-size: 12px; margin-top: 4px">offline: kept in '
            f"<code>{e(view.dir)}</code>; upload it with <code>lablens sync {e(view.dir)}</code>"
            "</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def start_line(view: CardView) -> str:
    """The terminal's line at ``init()``: ``lablens: run NAME (ID) → URL``."""
    if view.offline:
        where = f"kept in {view.dir}" if view.dir else "offline"
        return f"lablens: offline run {view.name} ({view.id}) in {view.project}, {where}"
    return f"lablens: run {view.name} ({view.id}) → {view.url}"


def finish_line(view: CardView, points: int | None = None) -> str:
    """The terminal's line at ``finish()``: state, duration and the last value of a few
    metrics, then where to see the run (or how to upload an offline one)."""
    words = [f"lablens: {'offline ' if view.offline else ''}run {view.name} ({view.id})"]
    words.append(f"{view.state} in {format_duration(view.seconds)}")
    line = " ".join(words)
    shown = [f"{key} {format_value(last)}" for key, _, last, _ in view.metrics[:LINE_METRICS]]
    hidden = len(view.metrics) - LINE_METRICS
    if hidden > 0:
        shown.append(f"+{hidden} more")
    if shown:
        line += " · " + " · ".join(shown)
    if view.offline:
        count = f"{points:,} points " if points is not None else ""
        return line + f"; {count}kept in {view.dir}; upload it with: lablens sync {view.dir}"
    return line + f" → {view.url}"


def _kernel_shell() -> Any:
    """The IPython kernel's shell when this process is one (a notebook), else ``None``."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        shell = ipython.get_ipython()
    except Exception:  # an IPython half torn down at exit
        return None
    # Only a kernel's shell has a kernel; terminal IPython prints like a script.
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


class RunCard:
    """One run's card: started by ``init()``, fed by ``run.log()``, ended by ``finish()``.

    ``observe()`` is all ``run.log()`` pays in a notebook: one append to a queue that the
    redrawing thread empties. In a terminal it is not called; the last line reads the summary.
    """

    def __init__(self, run: CardRun, *, notebook: bool, stream: Any = None) -> None:
        self._run = run
        self.notebook = notebook
        self._stream = stream
        self._series: dict[str, Series] = {}
        self._queue: deque[tuple[int, dict[str, Any]]] = deque()
        self._lock = threading.Lock()
        self._handle: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drawn: tuple[Any, ...] | None = None

    # -- fed by the run ------------------------------------------------------------------------

    def observe(self, data: dict[str, Any], step: int) -> None:
        """Take what one ``run.log()`` call logged (a copy: callers reuse their dicts)."""
        self._queue.append((step, dict(data)))

    def _drain(self) -> None:
        with self._lock:
            while self._queue:
                step, data = self._queue.popleft()
                for key, value in data.items():
                    series = self._series.get(key)
                    if series is None:
                        series = self._series[key] = Series()
                    series.add(step, value)

    def view(self) -> CardView:
        """What the card shows now."""
        run = self._run
        if self.notebook:
            self._drain()
            with self._lock:
                # Only the metrics the card shows need their points copied.
                metrics = [
                    (key, s.drawn() if i < CARD_METRICS else [], s.last[1], s.last[0])
                    for i, (key, s) in enumerate(self._series.items())
                    if s.last is not None
                ]
        else:
            # A terminal draws no curve: the run's summary (last values) is all it needs.
            metrics = [
                (key, [], value, -1)
                for key, value in run.summary.items()
                if isinstance(value, (int, float)) and not key.startswith("_")
            ]
        return CardView(
            name=run.name,
            id=run.id,
            project=run.project,
            entity=run.entity,
            url=run.url,
            state=run.state,
            seconds=time.time() - run.start_time,
            offline=run.offline,
            dir=str(run.dir),
            metrics=metrics,
        )

    # -- shown ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Show the card (notebook) or the first line (terminal)."""
        view = self.view()
        if not self.notebook:
            print(start_line(view), file=self._stream or sys.stderr, flush=True)
            return
        from IPython.display import HTML, display

        self._handle = display(HTML(card_html(view)), display_id=True)
        self._drawn = self._key(view)
        self._thread = threading.Thread(target=self._loop, name="lablens-card", daemon=True)
        self._thread.start()

    def finish(self, points: int | None = None) -> None:
        """Show how the run ended: the card becomes its summary, or the terminal's last line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        view = self.view()
        if not self.notebook:
            print(finish_line(view, points), file=self._stream or sys.stderr, flush=True)
            return
        self._update(view)

    @staticmethod
    def _key(view: CardView) -> tuple[Any, ...]:
        # What makes a redraw worth it; the running time alone is not, but once in a while it
        # is updated too, so the card does not look stuck.
        return (
            view.state,
            view.name,
            int(view.seconds) // 10,
            tuple((k, len(p), last, step) for k, p, last, step in view.metrics),
        )

    def _update(self, view: CardView) -> None:
        if self._handle is None:
            return
        from IPython.display import HTML

        try:
            self._handle.update(HTML(card_html(view)))
        except Exception:  # a closed kernel channel at exit: the card is not worth an error
            return
        self._drawn = self._key(view)

    def _loop(self) -> None:
        while not self._stop.wait(REFRESH):
            try:
                view = self.view()
                if self._key(view) != self._drawn:
                    self._update(view)
            except Exception:  # never let the card take the run down
                continue


def start_card(run: CardRun, *, silent: bool) -> RunCard | None:
    """Show ``run``'s card (in a notebook) or its first line (in a terminal); ``None`` when
    ``silent``."""
    if silent:
        return None
    card = RunCard(run, notebook=_kernel_shell() is not None)
    try:
        card.start()
    except Exception:  # a display that fails must not fail init()
        return None
    return card
