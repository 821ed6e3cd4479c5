"""Media: the types a run logs beside its numbers, their file formats, and one item's wire form.

An image, a table, a histogram... is one *item*: its content is a workspace blob named by its
sha256 (uploaded with the blob routes, so the same image logged twice is stored once), and the
item says where it was logged and what the blob holds::

    {"key": "samples", "step": 10, "timestamp": 1700000000.0, "index": 0,
     "type": "image", "format": "png", "sha256": "9f86...", "size": 2048,
     "caption": "a cat", "meta": {"width": 64, "height": 64, "channels": 3}}

``index`` is the item's place in a gallery (a list logged under one key at one step), 0 for a
single item. ``refs`` (optional) lists further blobs the item points to: the images held in a
table's cells. The SDK makes items, the server checks them with :func:`check_item` and stores
them, the ``Api`` reads them back; history rows show them as W&B's references (:func:`reference`).
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Mapping
from typing import Any, Literal

from lablens.errors import UsageError

__all__ = [
    "CONTENT_TYPES",
    "FORMATS",
    "MEDIA_TYPES",
    "WANDB_TYPES",
    "BadItem",
    "MediaType",
    "check_item",
    "pack",
    "reference",
    "unpack",
]

#: The media types, in the order a panel lists them.
MediaType = Literal["image", "table", "histogram", "audio", "text", "html", "plotly", "video"]
MEDIA_TYPES: tuple[str, ...] = (
    "image",
    "table",
    "histogram",
    "audio",
    "text",
    "html",
    "plotly",
    "video",
)

#: The file formats each type is stored in; the first is what the SDK writes.
FORMATS: dict[str, tuple[str, ...]] = {
    "image": ("png",),
    "table": ("parquet",),
    "histogram": ("json",),
    "audio": ("wav",),
    "text": ("txt",),
    "html": ("html",),
    "plotly": ("json",),
    "video": ("gif", "mp4", "webm", "ogg"),
}

#: The content type a format is served with.
CONTENT_TYPES: dict[str, str] = {
    "png": "image/png",
    "parquet": "application/vnd.apache.parquet",
    "json": "application/json",
    "wav": "audio/wav",
    "txt": "text/plain; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "gif": "image/gif",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "ogg": "video/ogg",
}

#: W&B's ``_type`` of each media type's reference in a history row.
WANDB_TYPES: dict[str, str] = {
    "image": "image-file",
    "table": "table-file",
    "histogram": "histogram",
    "audio": "audio-file",
    "text": "text-file",
    "html": "html-file",
    "plotly": "plotly-file",
    "video": "video-file",
}

_SHA256 = re.compile(r"[0-9a-f]{64}")
_MAX_STEP = 2**53 - 1
_MAX_CAPTION = 10_000
_FIELDS = {
    "key",
    "step",
    "timestamp",
    "index",
    "type",
    "format",
    "sha256",
    "size",
    "caption",
    "meta",
    "refs",
}


class BadItem(UsageError):
    """A media item that does not have the wire form; ``field`` names the bad part
    (``items[3].sha256``)."""


def _int(value: Any, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise BadItem(f"{field} must be an integer from {lo} to {hi}, not {value!r}", field=field)
    return value


def _digest(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise BadItem(f"{field} must be a sha256 (64 lowercase hex digits)", field=field)
    return value


def check_item(item: Any, where: str = "item") -> dict[str, Any]:
    """One media item checked and normalized (defaults filled in), or ``BadItem`` naming the
    bad field as ``{where}.{field}``."""
    if not isinstance(item, Mapping):
        raise BadItem(f"{where} must be an object", field=where)
    extra = sorted(set(item) - _FIELDS)
    if extra:
        raise BadItem(f"{where}: unknown field {extra[0]!r}", field=f"{where}.{extra[0]}")
    key = item.get("key")
    if not isinstance(key, str) or not key or len(key) > 1000:
        raise BadItem(f"{where}.key must be a non-empty string", field=f"{where}.key")
    step = _int(item.get("step"), f"{where}.step", 0, _MAX_STEP)
    index = _int(item.get("index", 0), f"{where}.index", 0, 1_000_000)
    ts = item.get("timestamp")
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
        raise BadItem(
            f"{where}.timestamp must be a finite number (seconds since the epoch)",
            field=f"{where}.timestamp",
        )
    kind = item.get("type")
    if kind not in FORMATS:
        raise BadItem(
            f"{where}.type must be one of {', '.join(MEDIA_TYPES)}, not {kind!r}",
            field=f"{where}.type",
        )
    fmt = item.get("format", FORMATS[kind][0])
    if fmt not in FORMATS[kind]:
        raise BadItem(
            f"{where}.format of a {kind} must be one of {', '.join(FORMATS[kind])}, not {fmt!r}",
            field=f"{where}.format",
        )
    sha = _digest(item.get("sha256"), f"{where}.sha256")
    size = _int(item.get("size"), f"{where}.size", 0, 2**62)
    caption = item.get("caption")
    if caption is not None and (not isinstance(caption, str) or len(caption) > _MAX_CAPTION):
        raise BadItem(
            f"{where}.caption must be a string of at most {_MAX_CAPTION} characters",
            field=f"{where}.caption",
        )
    meta = item.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise BadItem(f"{where}.meta must be an object", field=f"{where}.meta")
    refs = item.get("refs") or []
    if not isinstance(refs, list):
        raise BadItem(f"{where}.refs must be a list of sha256", field=f"{where}.refs")
    refs = [_digest(r, f"{where}.refs[{i}]") for i, r in enumerate(refs)]
    return {
        "key": key,
        "step": step,
        "timestamp": float(ts),
        "index": index,
        "type": kind,
        "format": fmt,
        "sha256": sha,
        "size": size,
        "caption": caption,
        "meta": dict(meta),
        "refs": refs,
    }


def reference(item: Mapping[str, Any]) -> dict[str, Any]:
    """The W&B-style reference to an item that a history row holds at its step:
    ``{"_type": "image-file", "path", "sha256", "size", "caption", "width", "height", ...}``.

    ``path`` is where ``MediaItem.download()`` puts the file: ``media/{type}s/{key}_{step}_
    {index}_{sha256[:20]}.{format}``, as W&B lays out a run's media files.
    """
    kind = item["type"]
    safe_key = re.sub(r"[^\w.-]+", "_", item["key"])
    path = (
        f"media/{kind}s/{safe_key}_{item['step']}_{item.get('index', 0)}"
        f"_{item['sha256'][:20]}.{item['format']}"
    )
    out: dict[str, Any] = {
        "_type": WANDB_TYPES.get(kind, f"{kind}-file"),
        "path": path,
        "sha256": item["sha256"],
        "size": item["size"],
        "format": item["format"],
    }
    if item.get("caption") is not None:
        out["caption"] = item["caption"]
    meta = item.get("meta") or {}
    out.update({k: v for k, v in meta.items() if k not in out})
    return out


_HEAD = struct.Struct("<I")


def pack(blobs: Mapping[str, bytes]) -> bytes:
    """Many blobs as one body (``POST .../blobs/pack``, and a media record of the SDK's run
    log): the length of a JSON table of contents ``[[sha256, size], ...]`` (a little-endian
    uint32), the table, then the blobs' bytes in its order."""
    toc = json.dumps([[sha, len(data)] for sha, data in blobs.items()]).encode()
    return _HEAD.pack(len(toc)) + toc + b"".join(blobs.values())


def unpack(body: bytes) -> list[tuple[str, bytes]]:
    """The ``(sha256, bytes)`` of a pack made by :func:`pack`; ``BadItem`` naming ``blobs`` (or
    ``blobs[i]``) for a body that is not one. The digests are not checked against the bytes
    here: the store does that as it keeps them."""
    if len(body) < _HEAD.size:
        raise BadItem("the body is not a pack of blobs", field="blobs")
    (size,) = _HEAD.unpack_from(body)
    try:
        toc = json.loads(body[_HEAD.size : _HEAD.size + size])
    except ValueError:
        raise BadItem("the pack's table of contents is not JSON", field="blobs") from None
    if not isinstance(toc, list):
        raise BadItem("the pack's table of contents must be a list", field="blobs")
    out, pos = [], _HEAD.size + size
    for i, entry in enumerate(toc):
        if (
            not isinstance(entry, list)
            or len(entry) != 2
            or not isinstance(entry[1], int)
            or isinstance(entry[1], bool)
            or entry[1] < 0
        ):
            raise BadItem("each entry must be [sha256, size]", field=f"blobs[{i}]")
        digest = _digest(entry[0], f"blobs[{i}]")
        if pos + entry[1] > len(body):
            raise BadItem("the pack ends before this blob's bytes", field=f"blobs[{i}]")
        out.append((digest, body[pos : pos + entry[1]]))
        pos += entry[1]
    if pos != len(body):
        raise BadItem("the pack holds bytes its table of contents does not name", field="blobs")
    return out
