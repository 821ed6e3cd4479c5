"""``MediaPanel``: the images, tables, histograms, audio and text that runs logged, side by side.

One column per run, titled with its name and colour; a key picker over the runs' media keys; a
step slider over the steps that have media. Images come as server-made thumbnails (full size on
click), tables paged, histograms as a heat map over steps, audio as players, text and HTML as
text. The reads and their code are in ``lablens.widgets.media``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import pandas as pd
import traitlets as t

from lablens.contract.media import MEDIA_TYPES
from lablens.contract.paths import parse_run_path
from lablens.errors import UsageError
from lablens.widgets._base import LablensWidget, make_api, shows_errors
from lablens.widgets._colors import PALETTE
from lablens.widgets._traits import RunPaths
from lablens.widgets.chart.history import by_project
from lablens.widgets.media import cells
from lablens.widgets.media.reads import EachItem, ItemsRead, KeysRead, item_call, runs_call

if TYPE_CHECKING:
    from lablens.api import Api, MediaItem

__all__ = ["MediaPanel"]

# What each item at a step gives the page, by type: the method read and the variable named.
_READS: dict[str, tuple[str, str]] = {
    "table": ("tables", "to_pandas"),
    "audio": ("sounds", "content"),
    "video": ("videos", "content"),
    "text": ("texts", "text"),
    "html": ("pages", "text"),
    "plotly": ("figures", "text"),
}


class MediaPanel(LablensWidget):
    """The media of several runs side by side, one column per run, at one step.

    Pick a media key (the keys any of the runs logged); move the step slider (or the
    prev/next buttons) over the steps that have media under it. Images show as thumbnails
    made by the server, a click opens one at full size with its caption; tables show 20 rows a
    page; histograms show over every step as a heat map (x: step, y: value, colour: count);
    audio as players; text as text, HTML in a sandboxed frame. Every read is one public ``Api``
    call, recorded in ``code`` and handed to ``on_api_call`` listeners (the Explorer's log).

    Args:
        api: the ``Api`` to query (default: the ``Api`` of the Run objects given, else
            ``lablens.Api()``).

    Keyword Args:
        runs: the runs: paths ``entity/project/run_id``, ``Run`` objects or a ``Runs``
            collection; kept as paths, one column each in this order.
        key: the media key shown; empty for the first image key (else the first key).
        step: the step shown; ``None`` for the last step with media under ``key``. A step
            without media moves to the closest one that has some.
        run_colors: run id -> CSS colour of its column's swatch (the Explorer passes the
            colours of its other parts); runs not in it take the shared palette's.
        thumb_size: the thumbnails' longest side in pixels (the server never enlarges).

    Raises:
        TypeError: an unknown keyword argument, or ``runs`` of a type it does not take.

    Example:
        >>> panel = MediaPanel(api, runs=api.runs("alice/mnist")[:4], key="val/misclassified")
        >>> panel.step = 20
        >>> print(panel.code)
        >>> panel.to_pandas()[["run_id", "step", "caption"]]
    """

    _bundle = "media_panel"
    _public = ("runs", "key", "step", "run_colors", "thumb_size")

    runs = RunPaths().tag(sync=True)
    """The runs shown, as paths ``entity/project/run_id``, one column each."""

    key = t.Unicode("").tag(sync=True)
    """The media key shown; empty picks the first image key, else the first key."""

    step = t.Int(None, allow_none=True).tag(sync=True)
    """The step shown; ``None`` is the last step with media under ``key``."""

    run_colors = t.Dict(value_trait=t.Unicode()).tag(sync=True)
    """Run id -> CSS colour of the run's swatch; the rest take the shared palette's."""

    thumb_size = t.Int(160, min=16, max=1024).tag(sync=True)
    """The longest side of the thumbnails, in pixels."""

    _keys = t.List().tag(sync=True)
    # [{key, type, runs, count}]: the key picker's entries, images first.
    _steps = t.List(t.Int()).tag(sync=True)
    # The steps that have media under ``key``, ascending: the slider's stops.
    _columns = t.List().tag(sync=True)
    # [{path, id, name, color}]: the columns, in the order of ``runs``.
    _view = t.Dict().tag(sync=True)
    # What the columns show: {key, type, step, empty, cells: {path: payload}} (see media.cells).
    _full = t.Dict().tag(sync=True)
    # The image opened at full size: {n, run, step, caption, width, height, png}.

    def __init__(self, api: Api | None = None, **kwargs: Any) -> None:
        self._api = make_api(api, kwargs.get("runs"), widget="MediaPanel")
        self._items: list[MediaItem] = []
        self._key_types: dict[str, str] = {}
        self._tables: dict[str, list[pd.DataFrame]] = {}
        self._thumbs: dict[tuple[str, int], bytes] = {}
        self._quiet = False
        super().__init__(**kwargs)
        self.on_msg(self._on_msg)
        self._load_runs()

    # -- reading ----------------------------------------------------------------------------

    # Each change is sent to the page in one message (hold_sync), so it never draws the new
    # columns with the old view.

    @t.observe("runs")
    def _runs_changed(self, change: dict[str, Any]) -> None:
        with self.hold_sync():
            self._load_runs()

    @t.observe("key")
    def _key_changed(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            with self.hold_sync():
                self._load_key()

    @t.observe("step", "thumb_size")
    def _step_changed(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            with self.hold_sync():
                self._show()

    @t.observe("run_colors")
    def _colors_changed(self, change: dict[str, Any]) -> None:
        self._columns = [
            {**c, "color": self._color(c["id"], i)} for i, c in enumerate(self._columns)
        ]

    def _color(self, run_id: str, position: int) -> str:
        return self.run_colors.get(run_id) or PALETTE[position % len(PALETTE)]

    @shows_errors
    def _load_runs(self) -> None:
        self._items, self._tables, self._full = [], {}, {}
        if not self.runs:
            self._columns, self._keys, self._steps = [], [], []
            self._view = {"empty": "no-runs"}
            self._set_code("")
            return
        groups = by_project(self.runs)
        read = KeysRead(tuple(runs_call(p, ids) for p, ids in groups.items()))
        found, keys = read.run(self._api)
        self._record(read.source())
        by_path = {run.path: run for run in found}
        shown = [by_path[p] for p in self._normal(self.runs) if p in by_path]
        self._columns = [
            {"path": r.path, "id": r.id, "name": r.name or r.id, "color": self._color(r.id, i)}
            for i, r in enumerate(shown)
        ]
        merged: dict[str, dict[str, Any]] = {}
        for run in shown:
            for key, info in keys.get(run.path, {}).items():
                entry = merged.setdefault(key, {"key": key, "type": info["type"], "runs": 0})
                entry["runs"] += 1
                entry["count"] = entry.get("count", 0) + int(info.get("count", 0))
        rank = {kind: i for i, kind in enumerate(MEDIA_TYPES)}
        self._keys = sorted(merged.values(), key=lambda e: (rank.get(e["type"], 99), e["key"]))
        self._key_types = {e["key"]: e["type"] for e in self._keys}
        if not self._keys:
            self._steps = []
            self._view = {"empty": "no-media"}
            return
        if self.key not in self._key_types:
            self._quiet = True
            try:
                self.key = self._keys[0]["key"]
            finally:
                self._quiet = False
        self._load_key()

    @staticmethod
    def _normal(paths: list[str]) -> list[str]:
        """The paths as ``entity/project/run_id`` (a URL or W&B's ``/runs/`` form read), in
        their order."""
        return ["/".join(parse_run_path(p)) for p in paths]

    @shows_errors
    def _load_key(self) -> None:
        self._tables, self._full = {}, {}
        if not self.runs or not self.key:
            return
        if self.key not in self._key_types:
            known = ", ".join(self._key_types) or "none"
            self._items, self._steps = [], []
            self._view = {"key": self.key, "empty": "unknown-key"}
            raise UsageError(f"no run here logged media under {self.key!r}; they logged: {known}")
        read = ItemsRead.of(by_project(self.runs), self.key)
        self._items = read.run(self._api)
        self._record(read.source())
        self._steps = sorted({item.step for item in self._items})
        self._show()

    def _at_step(self) -> int | None:
        """``step`` snapped to a step that has media (the last when unset)."""
        if not self._steps:
            return None
        if self.step is None:
            return self._steps[-1]
        return min(self._steps, key=lambda s: (abs(s - self.step), -s))

    @shows_errors
    def _show(self) -> None:
        kind = self._key_types.get(self.key)
        if kind is None:
            return
        step = None if kind == "histogram" else self._at_step()
        if kind != "histogram" and step != self.step:
            self._quiet = True
            try:
                self.step = step
            finally:
                self._quiet = False
        items_source = ItemsRead.of(by_project(self.runs), self.key).source()
        by_run: dict[str, list[tuple[int, MediaItem]]] = defaultdict(list)
        view: dict[str, Any] = {"key": self.key, "type": kind, "step": step, "cells": {}}
        if kind == "histogram":
            for n, item in enumerate(self._items):
                by_run[item.run_path].append((n, item))
            for path, pairs in by_run.items():
                view["cells"][path] = cells.histogram([i for _, i in pairs])
            self._set_code(items_source)
            self._view = view
            return
        if kind == "image":
            each = EachItem("thumbs", "thumbnail", (self.thumb_size,), step)
        else:
            name, method = _READS.get(kind, ("contents", "content"))
            each = EachItem(name, method, (), step)
        for n, item in each.pick(self._items):
            by_run[item.run_path].append((n, item))
        self._tables = {}
        for path, pairs in by_run.items():
            view["cells"][path] = self._cell(kind, each, pairs)
        self._record(each.source())
        self._set_code(items_source + "\n" + each.source())
        self._view = view

    def _cell(self, kind: str, each: EachItem, pairs: list[tuple[int, MediaItem]]) -> Any:
        shown = pairs[: cells.MAX_ITEMS]
        out: dict[str, Any] = {"more": len(pairs) - len(shown)}
        if kind == "image":
            out["items"] = [cells.image(n, i, self._thumb(each, i)) for n, i in shown]
        elif kind == "table":
            frames = [each.read(i) for _, i in shown]
            self._tables[shown[0][1].run_path] = frames
            out["items"] = [
                {"n": n, "caption": i.caption, **cells.table_page(f, 0)}
                for (n, i), f in zip(shown, frames, strict=True)
            ]
        else:
            out["items"] = [
                {
                    "n": n,
                    "caption": i.caption,
                    "format": i.format,
                    "meta": {k: v for k, v in i.meta.items() if isinstance(v, int | float | str)},
                    ("bytes" if kind in ("audio", "video") else "text"): each.read(i),
                }
                for n, i in shown
            ]
        return out

    def _thumb(self, each: EachItem, item: MediaItem) -> bytes:
        at = (item.sha256, self.thumb_size)
        if at not in self._thumbs:  # content-addressed: the same image, the same thumbnail
            if len(self._thumbs) > 2000:
                self._thumbs.clear()
            self._thumbs[at] = each.read(item)
        return self._thumbs[at]

    # -- the page's requests ----------------------------------------------------------------

    def _on_msg(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        kind = content.get("type")
        if kind == "full":
            self.open_full(int(content.get("n", -1)))
        elif kind == "page":
            self._page(str(content.get("run", "")), int(content.get("n", -1)), content.get("page"))

    @shows_errors
    def open_full(self, position: int) -> None:
        """Open item ``position`` of the key's items at full size (what a click on its
        thumbnail does): ``png = items[position].content()``.

        Raises:
            IndexError: no item there.
            UsageError: the item is not an image.
        """
        if not 0 <= position < len(self._items):
            raise IndexError(f"no media item {position}: the key has {len(self._items)}")
        item = self._items[position]
        if item.type != "image":
            raise UsageError(f"only images open at full size; item {position} is a {item.type}")
        call = item_call(position, "content")
        png = call.run(self._items)
        self._record(call.assign("png"))
        width, height = cells.png_size(png)
        self._full = {
            "n": position,
            "run": item.run_path,
            "step": item.step,
            "caption": item.caption,
            "width": width,
            "height": height,
            "png": png,
        }

    @shows_errors
    def _page(self, run: str, position: int, page: Any) -> None:
        frames = self._tables.get(run)
        view = self._view.get("cells", {})
        if not frames or run not in view:
            return
        items = list(view[run]["items"])
        for i, entry in enumerate(items):
            if entry["n"] == position:
                items[i] = {**entry, **cells.table_page(frames[i], int(page or 0))}
        self._view = {**self._view, "cells": {**view, run: {**view[run], "items": items}}}

    # -- as data ----------------------------------------------------------------------------

    def to_pandas(self) -> pd.DataFrame:
        """The items shown, one row each: ``run_id key step index type caption sha256 width
        height`` (a histogram key: every step's item).

        Example:
            >>> panel.to_pandas().groupby("run_id").size()
        """
        kind = self._key_types.get(self.key)
        step = None if kind == "histogram" else self._at_step()
        rows = [
            {
                "run_id": i.run_id,
                "key": i.key,
                "step": i.step,
                "index": i.index,
                "type": i.type,
                "caption": i.caption,
                "sha256": i.sha256,
                "width": i.meta.get("width"),
                "height": i.meta.get("height"),
            }
            for i in self._items
            if step is None or i.step == step
        ]
        columns = ["run_id", "key", "step", "index", "type", "caption", "sha256", "width", "height"]
        return pd.DataFrame(rows, columns=columns)

    def __repr__(self) -> str:
        return f"<MediaPanel {len(self.runs)} runs: {self.key or '-'} at step {self.step}>"
