"""What a media panel draws, one payload per run column, as the page reads it (``_view``).

Bytes (thumbnails, audio, a table page's Arrow IPC) stay ``bytes``: ipywidgets sends them as
binary buffers beside the JSON, never as base64 or lists of numbers.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from lablens.contract.arrow import table_to_ipc

if TYPE_CHECKING:
    from lablens.api import MediaItem

__all__ = [
    "MAX_HIST_STEPS",
    "MAX_ITEMS",
    "PAGE_ROWS",
    "histogram",
    "image",
    "png_size",
    "table_page",
]

#: Rows of a table page, as the run table pages.
PAGE_ROWS = 20
#: Items of a gallery drawn in one column at one step; more are counted, not drawn.
MAX_ITEMS = 48
#: Steps of a histogram heat map; a longer series is thinned evenly, keeping the last step.
MAX_HIST_STEPS = 400


def png_size(png: bytes) -> tuple[int, int]:
    """The width and height written in a PNG's header (``IHDR``), without decoding it."""
    if len(png) < 24 or not png.startswith(b"\x89PNG"):
        return 0, 0
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def image(position: int, item: MediaItem, thumb: bytes) -> dict[str, Any]:
    """One thumbnail: where the item is in ``items`` (``n``, for the full-size read), its
    caption, its own size and the thumbnail's, and the thumbnail's PNG bytes."""
    tw, th = png_size(thumb)
    return {
        "n": position,
        "index": item.index,
        "caption": item.caption,
        "width": int(item.meta.get("width", tw)),
        "height": int(item.meta.get("height", th)),
        "thumb_width": tw,
        "thumb_height": th,
        "png": thumb,
    }


def _cell_text(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if hasattr(value, "type") and hasattr(value, "sha256"):  # an image cell: a MediaItem
        size = f" {value.meta.get('width')}x{value.meta.get('height')}" if value.meta else ""
        caption = f" {value.caption!r}" if value.caption else ""
        return f"[{value.type}{size}{caption}]"
    return str(value)


def table_page(frame: pd.DataFrame, page: int) -> dict[str, Any]:
    """Page ``page`` (from 0, clamped) of a table: ``PAGE_ROWS`` rows as Arrow IPC, with the
    column names, the row count and the number of pages."""
    pages = max(math.ceil(len(frame) / PAGE_ROWS), 1)
    page = min(max(int(page), 0), pages - 1)
    part = frame.iloc[page * PAGE_ROWS : (page + 1) * PAGE_ROWS]
    columns = {}
    for name in part.columns:
        values = part[name]
        if values.dtype == object:
            values = values.map(_cell_text)
            try:
                columns[str(name)] = pa.array(values.tolist())
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: shown as text
                columns[str(name)] = pa.array([None if v is None else str(v) for v in values])
        else:
            columns[str(name)] = pa.array(values.to_numpy(), from_pandas=True)
    table = pa.table(columns) if columns else pa.table({})
    return {
        "columns": [str(c) for c in frame.columns],
        "total": len(frame),
        "page": page,
        "pages": pages,
        "arrow": table_to_ipc(table),
    }


def _thin(items: Sequence[MediaItem], keep: int) -> list[MediaItem]:
    if len(items) <= keep:
        return list(items)
    picks = {round(i * (len(items) - 1) / (keep - 1)) for i in range(keep)}
    return [items[i] for i in sorted(picks)]


def histogram(items: Sequence[MediaItem]) -> dict[str, Any]:
    """A run's histograms of one key over steps: ``steps``, and per step its ``counts`` and bin
    ``edges`` (from each item's ``meta``, read with the item list: no request per step); ``of``
    is how many steps there are (more than ``steps`` holds when thinned to ``MAX_HIST_STEPS``)."""
    have = sorted((i for i in items if "values" in i.meta and "bins" in i.meta), key=_step)
    kept = _thin(have, MAX_HIST_STEPS)
    return {
        "steps": [i.step for i in kept],
        "counts": [[float(c) for c in i.meta["values"]] for i in kept],
        "edges": [[float(e) for e in i.meta["bins"]] for i in kept],
        "of": len(have),
    }


def _step(item: MediaItem) -> int:
    return item.step
