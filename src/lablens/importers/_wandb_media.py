"""W&B's media references in a history row as lablens media values, their files read from the
run directory's ``files/``.

A W&B history row holds each logged media value as a reference: ``{"_type": "image-file",
"path": "media/images/x_3_9f2a.png", "caption": ...}`` (the file under ``files/``), a gallery
as ``{"_type": "images/separated", "filenames": [...], "captions": [...]}``, a table as
``{"_type": "table-file", "path": "media/table/t_1_ab.table.json"}`` (``{"columns", "data"}``),
a histogram inline as ``{"_type": "histogram", "values": counts, "bins": edges}`` (or
``packedBins``), and ``audio-file``, ``html-file``, ``plotly-file``, ``video-file`` files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from lablens.importers._media import image_bytes, wav_audio
from lablens.sdk.media import Histogram, Html, Media, Plotly, Video
from lablens.sdk.media_table import Table

__all__ = ["media_of", "references"]


def references(row: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every media reference in a row under its dotted key (``{"val": {"img": ref}}`` ->
    ``val.img``); W&B's own keys (``_step``...) left out."""
    for key, value in row.items():
        if not prefix and key.startswith("_"):
            continue
        if isinstance(value, dict):
            if isinstance(value.get("_type"), str):
                yield f"{prefix}{key}", value
            else:
                yield from references(value, f"{prefix}{key}.")


def _file(files: Path, path: Any) -> Path:
    if not isinstance(path, str) or not path:
        raise ValueError("the reference names no file")
    local = (files / path).resolve()
    if not local.is_relative_to(files.resolve()):
        raise ValueError(f"{path} is outside the run's files")
    if not local.is_file():
        raise ValueError(f"{path}: no such file in the run directory")
    return local


def _caption(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _histogram(ref: Mapping[str, Any]) -> Histogram:
    counts = ref.get("values")
    bins = ref.get("bins")
    packed = ref.get("packedBins")
    if isinstance(packed, Mapping):
        # Equal bins: min, size, count.
        low, size, n = float(packed["min"]), float(packed["size"]), int(packed["count"])
        bins = [low + size * i for i in range(n + 1)]
    if not isinstance(counts, list) or not isinstance(bins, list):
        raise ValueError("a histogram needs 'values' and 'bins'")
    return Histogram(np_histogram=(counts, bins))


def _table(local: Path, caption: str | None) -> Table:
    data = json.loads(local.read_text(encoding="utf-8"))
    if not isinstance(data, Mapping) or not isinstance(data.get("columns"), list):
        raise ValueError(f"{local.name} is not a W&B table (no 'columns')")
    rows = data.get("data") or []
    # Cells W&B wrote as objects (media inside a table) are kept as their JSON text.
    rows = [
        [json.dumps(v) if isinstance(v, (dict, list)) else v for v in row]
        for row in rows
        if isinstance(row, list)
    ]
    return Table(columns=[str(c) for c in data["columns"]], data=rows, caption=caption)


def media_of(ref: Mapping[str, Any], files: Path) -> list[Media]:
    """The media values of one reference (several for a gallery, in order; none for a type
    lablens does not keep, such as W&B's object3D or molecule).

    Raises:
        ValueError: the reference or its file is broken (the message says how).
        OSError: the file cannot be read.
    """
    kind = ref.get("_type")
    caption = _caption(ref.get("caption"))
    if kind == "image-file":
        return [image_bytes(_file(files, ref.get("path")).read_bytes(), caption)]
    if kind in ("images/separated", "images"):
        names = ref.get("filenames") or []
        captions = ref.get("captions") or []
        if not isinstance(names, list):
            raise ValueError("a gallery's 'filenames' must be a list")
        return [
            image_bytes(
                _file(files, name).read_bytes(),
                _caption(captions[i]) if isinstance(captions, list) and i < len(captions) else None,
            )
            for i, name in enumerate(names)
        ]
    if kind == "histogram":
        return [_histogram(ref)]
    if kind == "table-file":
        return [_table(_file(files, ref.get("path")), caption)]
    if kind == "audio-file":
        local = _file(files, ref.get("path"))
        if local.suffix.lower() != ".wav":
            raise ValueError(f"{local.name}: only WAV audio is kept")
        return [wav_audio(local.read_bytes(), caption)]
    if kind == "html-file":
        return [Html(_file(files, ref.get("path")).read_text(encoding="utf-8"), caption=caption)]
    if kind == "plotly-file":
        return [Plotly(json.loads(_file(files, ref.get("path")).read_text(encoding="utf-8")))]
    if kind == "video-file":
        return [Video(_file(files, ref.get("path")), caption=caption)]
    return []
