"""W&B media as lablens media items: each reference a history row holds (an image, a gallery, a
table, a histogram, audio, HTML, a plotly figure, a video) becomes items of the run at the row's
step, with captions, as lablens's own ``lablens.Image`` and friends make them, so
``Run.media(key)`` reads what the ``wandb`` client logged.

A reference names files that the client uploads on its own (``uploads.py``), before or after it
streams the row (``file_stream.py``). The reference is kept in the run file
``wandb-media.jsonl`` either way, and whichever of the two arrives second makes the items: the
row makes those whose files are stored, and each upload of a ``media/`` file makes those of the
kept references that name it. Batch ids name the items' content, so a reference made twice (a
retry, or both at once) is stored once.

A file that is not what its reference says (not an image, not a table) is logged and left a run
file: the client's post or upload still succeeds.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import wave
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from lablens.contract.media import FORMATS
from lablens.server.wandb.buckets import MEDIA
from lablens.store.base import Store
from lablens.store.errors import InvalidInput, NotFound

__all__ = [
    "files_of",
    "keep_items",
    "media_item",
    "media_of_rows",
    "media_of_upload",
    "png_image",
    "wav_meta",
]

log = logging.getLogger("lablens.server.wandb")

_PNG = b"\x89PNG\r\n\x1a\n"

Path3 = tuple[str, str, str]


class _Missing(Exception):
    """A file the reference names is not uploaded yet."""


def files_of(value: Mapping[str, Any]) -> list[str]:
    """The run files a reference names (none for an inline histogram)."""
    names = value.get("filenames") if value.get("_type") in ("images/separated", "images") else None
    if isinstance(names, list):
        return [n for n in names if isinstance(n, str)]
    path = value.get("path")
    return [path] if isinstance(path, str) and value.get("_type") != "histogram" else []


def _read(store: Store, path: Path3, name: str) -> bytes:
    try:
        return store.read_file(*path, name)[1]
    except NotFound:
        raise _Missing(name) from None


def png_image(content: bytes) -> tuple[bytes, dict[str, Any]]:
    """An image file as PNG bytes (a PNG kept as it is) and its meta."""
    from PIL import Image  # a core dependency; loaded only when media arrive

    with Image.open(io.BytesIO(content)) as im:
        meta = {"width": im.width, "height": im.height, "channels": len(im.getbands())}
        if content.startswith(_PNG):
            return content, meta
        im.load()
        out = io.BytesIO()
        converted = (
            im if im.mode in ("L", "LA", "RGB", "RGBA", "I;16", "1", "P") else im.convert("RGB")
        )
        converted.save(out, format="PNG")
        return out.getvalue(), meta


def _histogram(value: Mapping[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """W&B's inline histogram as lablens stores one (``{"counts", "edges"}``)."""
    counts, bins = value.get("values"), value.get("bins")
    packed = value.get("packedBins")
    if isinstance(packed, Mapping):
        low, size, n = float(packed["min"]), float(packed["size"]), int(packed["count"])
        bins = [low + size * i for i in range(n + 1)]
    if not isinstance(counts, list) or not isinstance(bins, list) or len(bins) != len(counts) + 1:
        raise ValueError("a histogram needs 'values' and one more 'bins'")
    counts = [int(c) if float(c).is_integer() else float(c) for c in counts]
    edges = [float(e) for e in bins]
    content = json.dumps({"counts": counts, "edges": edges}).encode()
    meta = {"num_bins": len(counts), "values": counts, "bins": edges, "count": sum(counts)}
    return content, meta


def _table(content: bytes) -> tuple[bytes, dict[str, Any]]:
    """W&B's table JSON (``{"columns", "data"}``) as Parquet, as ``lablens.Table`` stores one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = json.loads(content)
    if not isinstance(data, Mapping) or not isinstance(data.get("columns"), list):
        raise ValueError("not a W&B table: no 'columns'")
    columns = [str(c) for c in data["columns"]]
    rows = [r for r in data.get("data") or [] if isinstance(r, list) and len(r) == len(columns)]
    arrays = []
    for c in range(len(columns)):
        values = [row[c] for row in rows]
        values = [json.dumps(v) if isinstance(v, (dict, list)) else v for v in values]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # Mixed types in one column: kept as text, as lablens.Table keeps them.
            arrays.append(pa.array([None if v is None else str(v) for v in values]))
    out = io.BytesIO()
    pq.write_table(pa.table(dict(zip(columns, arrays, strict=True))), out)
    return out.getvalue(), {"rows": len(rows), "columns": columns}


def wav_meta(content: bytes) -> tuple[bytes, dict[str, Any]]:
    """A WAV file as it is, and its meta."""
    with wave.open(io.BytesIO(content)) as w:
        rate, frames, channels = w.getframerate(), w.getnframes(), w.getnchannels()
    return content, {"sample_rate": rate, "seconds": frames / rate, "channels": channels}


def _items(store: Store, path: Path3, line: Mapping[str, Any]) -> list[tuple[dict, bytes]]:
    """The items (with their content) of one kept reference; ``_Missing`` while a file it
    names is not uploaded; ``[]`` for a type lablens does not keep as media."""
    value = line["value"]
    kind = value.get("_type")
    caption = value.get("caption") if isinstance(value.get("caption"), str) else None
    made: list[tuple[str, str, bytes, dict[str, Any], str | None]] = []
    if kind == "histogram":
        made.append(("histogram", "json", *_histogram(value), None))
    elif kind in ("images/separated", "images"):
        captions = value.get("captions") if isinstance(value.get("captions"), list) else []
        for i, name in enumerate(files_of(value)):
            text = captions[i] if i < len(captions) and isinstance(captions[i], str) else None
            made.append(("image", "png", *png_image(_read(store, path, name)), text))
    elif kind in (
        "image-file",
        "table-file",
        "audio-file",
        "html-file",
        "plotly-file",
        "video-file",
    ):
        (name,) = files_of(value) or [""]
        if not name:
            raise ValueError("the reference names no file")
        content = _read(store, path, name)
        suffix = PurePosixPath(name).suffix.lower().lstrip(".")
        if kind == "image-file":
            made.append(("image", "png", *png_image(content), caption))
        elif kind == "table-file":
            made.append(("table", "parquet", *_table(content), caption))
        elif kind == "audio-file" and suffix == "wav":
            made.append(("audio", "wav", *wav_meta(content), caption))
        elif kind == "html-file":
            made.append(("html", "html", content, {"chars": len(content.decode())}, caption))
        elif kind == "plotly-file":
            traces = len(json.loads(content).get("data") or [])
            made.append(("plotly", "json", content, {"traces": traces}, None))
        elif kind == "video-file" and suffix in FORMATS["video"]:
            made.append(("video", suffix, content, {}, caption))
    ts = line.get("timestamp")
    ts = ts if isinstance(ts, (int, float)) else 0.0
    return [
        (media_item(line["key"], line["step"], ts, index, *parts), parts[2])
        for index, parts in enumerate(made)
    ]


def media_item(
    key: str,
    step: int,
    timestamp: float,
    index: int,
    media_type: str,
    fmt: str,
    content: bytes,
    meta: dict[str, Any],
    caption: str | None,
) -> dict[str, Any]:
    """One item in the wire form of ``lablens.contract.media``."""
    return {
        "key": key,
        "step": step,
        "timestamp": timestamp,
        "index": index,
        "type": media_type,
        "format": fmt,
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
        "caption": caption,
        "meta": meta,
    }


def keep_items(
    store: Store, path: Path3, made: list[tuple[dict[str, Any], bytes]], username: str, batch: str
) -> int:
    """Store items with their content (blobs first, then the items, under the batch id
    ``batch``); returns how many, 0 when the store refuses them (logged)."""
    items = [item for item, _ in made]
    blobs = list({item["sha256"]: content for item, content in made}.items())
    try:
        store.put_blobs(path[0], blobs, username=username)
        store.append_media(*path, items, username=username, batch_id=batch)
    except InvalidInput as exc:
        log.warning("media %r of %s refused: %s", items[0]["key"], "/".join(path), exc)
        return 0
    return len(items)


def _store_items(
    store: Store, path: Path3, lines: Iterable[Mapping[str, Any]], username: str
) -> int:
    """Make and store the items of ``lines`` whose files are all here; returns how many."""
    stored = 0
    for line in lines:
        try:
            made = _items(store, path, line)
        except _Missing:
            continue  # its upload makes it
        except Exception as exc:  # a file that is not what its reference says
            log.warning(
                "W&B media %r at step %s of %s not kept as media: %s",
                line.get("key"),
                line.get("step"),
                "/".join(path),
                exc,
            )
            continue
        if not made:
            continue
        what = json.dumps([line["key"], [[i["index"], i["sha256"]] for i, _ in made]])
        batch = f"wandb:media:{line['step']}:{hashlib.sha256(what.encode()).hexdigest()[:32]}"
        stored += keep_items(store, path, made, username, batch)
    return stored


def media_of_rows(store: Store, path: Path3, lines: list[dict[str, Any]], username: str) -> int:
    """The items of references just streamed whose files are uploaded already."""
    return _store_items(store, path, lines, username)


def media_of_upload(store: Store, path: Path3, name: str, username: str) -> int:
    """The items of kept references that name the file ``name`` just uploaded."""
    try:
        _, kept = store.read_file(*path, MEDIA)
    except NotFound:
        return 0
    lines = []
    quoted = json.dumps(name)[1:-1]  # as the kept lines write it (non-ASCII escaped)
    for text in kept.decode("utf-8", "replace").splitlines():
        if quoted not in text and name not in text:  # most lines name other files
            continue
        try:
            line = json.loads(text)
        except ValueError:
            continue
        value = line.get("value") if isinstance(line, dict) else None
        if isinstance(value, dict) and name in files_of(value):
            lines.append(line)
    return _store_items(store, path, lines, username)
