"""``PanelGrid``: one panel per metric, in titled sections by prefix, the runs' curves drawn on
canvas; live while a run drawn is running.

The widget (its traits, its reads and what it sends) is here; its parts are in
``lablens.widgets.panels``: the sections, the history calls and buffers, the run groups.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import pandas as pd
import traitlets as t

from lablens.api import UnknownKeyWarning
from lablens.errors import UsageError
from lablens.widgets._base import LablensWidget, make_api, shows_errors
from lablens.widgets._call import ApiCall, kernel_code
from lablens.widgets._colors import run_colors as pick_colors
from lablens.widgets._traits import Keys, RunPaths
from lablens.widgets.chart.history import by_project, code_of, join
from lablens.widgets.panels.data import append, history_call, new_points, pack, runs_call
from lablens.widgets.panels.groups import check_group_by, group_labels, group_options
from lablens.widgets.panels.sections import sections

if TYPE_CHECKING:
    from lablens.api import Api, Run

__all__ = ["PanelGrid"]


class PanelGrid(LablensWidget):
    """Metric panels of several runs, one per metric, in sections by prefix (``train/``,
    ``val/``, ``system/``, the rest under "Charts"), the way W&B lays out a workspace.

    Every panel is read in one ``Runs.histories(format="long")`` request per project of the runs
    drawn, sampled on the server (each bucket's first, last, min and max point survive, so
    spikes show), and sent to the page as binary buffers; the page draws them on canvas (uPlot).
    In the page: a metric picker with search adds a panel, each panel can be removed or made
    full width, hovering shows every run's value at one x, the smoothing slider draws an EMA
    over the raw curve (left faint behind it). While a drawn run is running the panels are
    live: the page asks every ``poll_interval`` seconds, while it is in sight and the kernel has
    answered the last ask, and only the points logged since are read (``poll()``).

    Args:
        api: the ``Api`` to query (default: the ``Api`` of the Run objects given, else
            ``lablens.Api()``).

    Keyword Args:
        runs: the runs: paths ``entity/project/run_id``, ``Run`` objects or a ``Runs``
            collection; kept as paths.
        panels: the metrics to draw, a panel each; empty for every metric the runs logged.
        x_axis: ``_step``, ``_timestamp``, ``_runtime`` or a metric name.
        smoothing: EMA weight, 0 to 0.99 (drawn in the page; the points read stay as they are).
        samples: at most this many points per run and metric; longer series are sampled on
            the server (each bucket's first, last, min and max kept), shorter ones read whole.
        group_by: ``""`` (a line per run), ``group``, ``job_type`` or ``config.<key>``: a mean
            line and a min/max band per group.
        full_width: the panels drawn across the whole width.
        legend: show the compact legend above the panels (run or group names and colours).
        run_colors: ``{run path: CSS colour}``; runs not in it take the shared palette's.
        paused: stop the live updates.
        poll_interval: seconds between two live reads.

    Raises:
        TypeError: an unknown keyword argument, or a value of a type its argument does not take.

    Example:
        >>> grid = PanelGrid(api, runs=api.runs("alice/mnist")[:5])
        >>> grid.panels = ["train/loss", "val/acc"]
        >>> grid.to_pandas().groupby(["run_id", "key"])["value"].last()
        >>> print(grid.panel_code("val/acc"))
    """

    _bundle = "panel_grid"
    _public = (
        "runs",
        "panels",
        "x_axis",
        "smoothing",
        "samples",
        "group_by",
        "full_width",
        "legend",
        "run_colors",
        "paused",
        "poll_interval",
    )

    runs = RunPaths().tag(sync=True)
    """The runs drawn, as paths ``entity/project/run_id``; set it to paths, ``Run`` objects or
    a ``Runs`` collection."""

    panels = Keys().tag(sync=True)
    """The metrics drawn, a panel each, in the order added; empty for every metric the runs
    logged. The picker and a panel's remove button set it."""

    x_axis = t.Unicode("_step").tag(sync=True)
    """The x axis of every panel: ``_step``, ``_timestamp``, ``_runtime`` or a metric name."""

    smoothing = t.Float(0.0, min=0.0, max=0.99).tag(sync=True)
    """EMA smoothing of the lines, 0 (none) to 0.99; the raw curve stays faint behind."""

    samples = t.Int(1000, min=2).tag(sync=True)
    """At most this many points per run and metric are read: a longer series is sampled on the
    server (the first, last, min and max of each bucket kept); shorter ones are read whole."""

    group_by = t.Unicode("").tag(sync=True)
    """``""``: a line per run; ``group``, ``job_type`` or ``config.<key>``: per group of runs
    with the same value, the mean line and the min/max band."""

    full_width = Keys().tag(sync=True)
    """The panels (metric names) drawn across the whole width."""

    legend = t.Bool(True).tag(sync=True)
    """Whether the compact legend (one line of names and colours) is shown above the panels."""

    run_colors = t.Dict(value_trait=t.Unicode()).tag(sync=True)
    """``{run path: CSS colour}`` given by the owner (the explorer gives the table's); runs not
    in it take a colour of the shared palette (``lablens.widgets._colors``)."""

    live = t.Bool(False, read_only=True).tag(sync=True)
    """Whether a run drawn is running: the page then asks for new points."""

    paused = t.Bool(False).tag(sync=True)
    """Whether live updates are paused (the page's pause button)."""

    poll_interval = t.Float(2.0, min=0.2).tag(sync=True)
    """Seconds between two live reads."""

    collapsed = t.List(t.Unicode()).tag(sync=True)
    """The titles of the sections folded in the page."""

    _sections = t.List(t.Dict()).tag(sync=True)
    _metrics = t.List(t.Unicode()).tag(sync=True)
    _names = t.Dict().tag(sync=True)
    _colors = t.Dict().tag(sync=True)
    _groups = t.Dict().tag(sync=True)
    _group_colors = t.Dict().tag(sync=True)
    _group_options = t.List(t.Unicode()).tag(sync=True)
    _codes = t.Dict().tag(sync=True)
    _version = t.Int(0).tag(sync=True)

    def __init__(self, api: Api | None = None, **kwargs: Any) -> None:
        self._api = make_api(api, kwargs.get("runs"), widget="PanelGrid")
        self._frames: dict[str, pd.DataFrame] = {}
        self._read: dict[str, Run] = {}
        self._samples: dict[str, int | None] = {}
        self._auto_colors: dict[str, str] = {}
        self._ready = False
        self.last_poll = ""
        """The source of the last live read (``histories(..., min_step=...)``), or ``""``."""
        super().__init__(**kwargs)
        self.on_msg(self._on_msg)
        self._ready = True
        self._refetch()

    # -- reading ----------------------------------------------------------------------------

    @t.validate("group_by")
    def _check_group_by(self, proposal: dict[str, Any]) -> str:
        try:
            return check_group_by(proposal["value"])
        except ValueError as exc:
            raise t.TraitError(str(exc)) from None

    @t.observe("runs", "panels", "x_axis", "samples")
    def _query_changed(self, change: dict[str, Any]) -> None:
        if self._ready:
            self._refetch()

    def refresh(self) -> None:
        """Read every panel again (one history request per project) and draw it."""
        self._refetch()

    @shows_errors
    def _refetch(self) -> None:
        frames: dict[str, pd.DataFrame] = {}
        read: dict[str, Run] = {}
        unknown: list[UnknownKeyWarning] = []
        calls: list[ApiCall] = []
        for project, ids in by_project(self.runs).items():
            listed, call, frame, note = self._read_project(project, ids)
            read.update(listed)
            frames[project] = frame
            calls.append(call)
            if note is not None:
                unknown.append(note)
            self._called(call.assign("df"))
        self._frames, self._read = frames, read
        # The code, the page's state and the version in one state message, then the points in
        # one data message: the page draws once, when the points of that version are in.
        with self.hold_sync():
            self._set_code(code_of(calls))
            self._describe()
            self._version += 1
        self._send_all(bump=False)
        if unknown and len(unknown) == len(calls):
            raise UsageError(str(unknown[0]))

    def _read_project(
        self, project: str, ids: list[str]
    ) -> tuple[dict[str, Run], ApiCall, pd.DataFrame, UnknownKeyWarning | None]:
        """The runs of one project (names, states, groups) and their points: the runs listed
        once, then the history read by their ids (the call returned is that read)."""
        head = runs_call(project, ids)
        runs = head.run(self._api)
        listed = {run.path: run for run in runs}
        # Series no longer than ``samples`` come whole from a sampled read too: read them
        # unsampled, which the server answers faster and the same.
        samples = None if self._fits(listed.values()) else self.samples
        self._samples[project] = samples
        call = history_call(
            project, ids, keys=self.panels, x_axis=self.x_axis, samples=samples
        )  # fmt: skip
        note = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnknownKeyWarning)
            frame = call.run_after(head, runs)
        for w in caught:
            if isinstance(w.message, UnknownKeyWarning):
                note = w.message
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return listed, call, frame, note

    def _fits(self, runs: Any) -> bool:
        """Whether no series of these runs (of the panels' metrics) has more than ``samples``
        points, by the counts the runs' listing gives."""
        for run in runs:
            logged = run.history_keys or {}
            for key in self.panels or list(logged):
                info = logged.get(key)
                if info is None:
                    continue  # not logged by this run: nothing to read
                count = info.get("count") if isinstance(info, dict) else None
                if not isinstance(count, int) or count > self.samples:
                    return False
        return True

    def to_pandas(self) -> pd.DataFrame:
        """The points of every panel, as read (before smoothing), in long form: one row per
        point, ``run_id key _step _timestamp _runtime value``. Equal to ``exec(grid.code)``'s
        ``df`` until a live read appends to it.

        Example:
            >>> grid.to_pandas().groupby("key")["run_id"].nunique()
        """
        return join(list(self._frames.values())).copy()

    def panel_code(self, key: str) -> str:
        """The Python source that reads one panel's points: the ``histories`` call of its
        metric alone (``df`` in long form).

        Raises:
            UsageError: no panel shows ``key``.

        Example:
            >>> print(grid.panel_code("val/acc"))
        """
        if key not in self._codes:
            raise UsageError(
                f"no panel {key!r}; the panels: {', '.join(self._codes) or 'none'}", field="key"
            )
        return str(self._codes[key])

    # -- what the page shows ---------------------------------------------------------------

    @property
    def shown(self) -> list[str]:
        """The metrics with a panel now, in the order the page shows them (by section)."""
        return [str(k) for section in self._sections for k in section["keys"]]  # type: ignore[attr-defined]

    def _shown(self) -> list[str]:
        """The metrics with a panel: ``panels``, else every metric the runs logged."""
        if self.panels:
            return list(self.panels)
        logged: set[str] = set()
        for frame in self._frames.values():
            if "key" in frame:
                logged.update(str(k) for k in frame["key"].unique())
        for path in self.runs:
            run = self._read.get(path)
            if run is not None:
                logged.update(run.history_keys or {})
        return sorted(logged)

    def _describe(self) -> None:
        """Set what the page needs beside the points: sections, names, colours, groups, the
        metrics the picker offers, each panel's code, and whether to poll."""
        shown = self._shown()
        metrics = set(shown)
        for run in self._read.values():
            metrics.update(run.history_keys or {})
        names = {p: (r.name or r.id) for p, r in self._read.items()}
        groups = group_labels([self._read[p] for p in self.runs if p in self._read], self.group_by)
        projects = by_project(self.runs)
        codes = {}
        for key in shown:
            calls = [
                history_call(
                    project,
                    ids,
                    keys=[key],
                    x_axis=self.x_axis,
                    samples=self._samples.get(project, self.samples),
                )
                for project, ids in projects.items()
            ]
            codes[key] = self._full_code(code_of(calls))
        # One state message to the page for all of them (and one redraw there).
        with self.hold_sync(), self.hold_trait_notifications():
            self._sections = sections(shown)
            self._metrics = sorted(metrics)
            self._names = names
            self._groups = groups
            self._group_colors = pick_colors(dict.fromkeys(groups.values()))
            self._group_options = group_options(self._read.values())
            self._codes = codes
            self._update_colors()
            self.set_trait("live", self._running() != [])

    def _full_code(self, source: str) -> str:
        return kernel_code(self._api, source) if source else ""

    @t.observe("run_colors")
    def _colors_given(self, change: dict[str, Any]) -> None:
        self._update_colors()

    def _update_colors(self) -> None:
        self._auto_colors = pick_colors(self.runs, previous=self._auto_colors)
        self._colors = {p: self.run_colors.get(p) or self._auto_colors[p] for p in self.runs}

    @t.observe("group_by")
    def _regroup(self, change: dict[str, Any]) -> None:
        self._describe()

    def _send_all(self, *, bump: bool = True) -> None:
        """Send every point held, as the version after the page's (``bump``), or as the version
        just set with the state that goes with them."""
        packed = pack(self._frames, self.x_axis)
        if bump:
            self._version += 1
        self.send(
            {
                "type": "data",
                "mode": "full",
                "version": self._version,
                "x_axis": self.x_axis,
                "series": packed.series,
            },
            buffers=[packed.x, packed.y],
        )

    # -- live -------------------------------------------------------------------------------

    def _running(self) -> list[str]:
        return [p for p in self.runs if p in self._read and self._read[p].state == "RUNNING"]

    def poll(self) -> int:
        """Read what the running runs logged since the last read, and draw it.

        One ``api.runs(...)`` read of the running runs' states, then one
        ``histories(..., min_step=...)`` read from the last step held (``last_poll`` shows it);
        a run that has finished is read a last time and then no longer polled.

        Returns:
            How many new points were drawn.

        Example:
            >>> grid.poll()
            12
        """
        added = 0
        frames: dict[str, pd.DataFrame] = {}
        for project, ids in by_project(self._running()).items():
            held = self._frames.get(project, pd.DataFrame())
            head = runs_call(project, ids)
            runs = head.run(self._api)
            self._read.update({run.path: run for run in runs})
            mine = held[held["run_id"].isin(ids)] if not held.empty else held
            # The last step held of the run furthest behind: read again from there (that step
            # may have had more keys logged since), and drop what is held.
            last = mine.groupby("run_id")["_step"].max() if not mine.empty else pd.Series()
            start = int(min(last.get(i, 0) for i in ids))
            call = history_call(
                project, ids, keys=self.panels, x_axis=self.x_axis,
                samples=self._samples.get(project, self.samples),
                min_step=start,
            )  # fmt: skip
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnknownKeyWarning)
                tail = call.run_after(head, runs)
            self.last_poll = call.assign("df")
            new = new_points(mine, tail)
            order = [p.rsplit("/", 1)[-1] for p in self.runs if p.startswith(project + "/")]
            self._frames[project] = append(held, new, order)
            frames[project] = new
            added += len(new)
        known = {s for sec in self._sections for s in sec["keys"]}  # type: ignore[union-attr]
        self._describe()
        if {s for sec in self._sections for s in sec["keys"]} != known:  # type: ignore[union-attr]
            self._send_all()  # a new metric: its panel is new, send everything
        elif added:
            packed = pack(frames, self.x_axis)
            self.send(
                {
                    "type": "data",
                    "mode": "append",
                    "version": self._version,
                    "x_axis": self.x_axis,
                    "series": packed.series,
                },
                buffers=[packed.x, packed.y],
            )
        return added

    @shows_errors
    def _on_msg(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        kind = content.get("type")
        if kind == "ready":
            self._send_all()  # a view shown after the last read asks for the points
        elif kind == "poll":
            try:
                if not self.paused:
                    self.poll()
            finally:
                # Always answered, so the page never waits for an answer that is not coming.
                self.send({"type": "polled", "live": self.live})

    def __repr__(self) -> str:
        shown = len(self._shown())
        return f"<PanelGrid {len(self.runs)} runs, {shown} panels vs {self.x_axis}>"
