"""A file's preview in the artifact browser: the first lines of a text, an image, the first rows
of a CSV or Parquet table, or a note saying why there is none."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lablens.api.artifact_display import size_text
from lablens.widgets._call import ApiCall

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["PREVIEW_ROWS", "preview"]

PREVIEW_ROWS = 20  # rows of a table preview
_PREVIEW_LINES = 40  # lines of a text preview
_PREVIEW_MAX = 8 * 1024 * 1024  # files larger than this are not read for a preview
_IMAGES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}
_TEXT = {
    ".txt",
    ".json",
    ".md",
    ".yaml",
    ".yml",
    ".py",
    ".log",
    ".toml",
    ".cfg",
    ".ini",
    ".csv",
    ".tsv",
    ".html",
    ".xml",
}


def preview(
    api: Api, version: ApiCall, name: str, path: str, record: Callable[[str], None]
) -> dict[str, Any]:
    """The preview of file ``name`` of the version that ``version`` reads.

    Args:
        api: the ``Api``.
        version: the call reading the version, ``api.artifact(...)``.
        name: the file's path in the artifact.
        path: the file's node path, put in the preview.
        record: takes the source of the call that read the file's content.

    Returns:
        ``{path, size, kind, ...}`` with ``kind`` one of text, image, table, other.
    """
    artifact = version.run(api)
    entry_call = version.then("get_entry", name)
    entry = entry_call.run_after(version, artifact)
    ext = os.path.splitext(name)[1].lower()
    out: dict[str, Any] = {"path": path, "size": size_text(entry.size)}
    if entry.ref:
        out.update(kind="other", note=f"a reference to {entry.ref}; only its URI is stored")
    elif (entry.size or 0) > _PREVIEW_MAX:
        out.update(kind="other", note=f"{size_text(entry.size)}: too large to preview")
    elif ext in (".parquet", ".csv"):
        call = version.then("get", name).then("head", PREVIEW_ROWS)
        frame = call.run_after(version, artifact)
        record(call.assign("df"))
        html = frame.to_html(index=False, border=0, max_cols=30, float_format="{:.6g}".format)
        out.update(kind="table", html=html, rows=len(frame))
    else:
        call = entry_call.then("read")
        data = call.run_after(entry_call, entry)
        record(call.assign("data"))
        if ext in _IMAGES:
            out.update(
                kind="image",
                url=f"data:{_IMAGES[ext]};base64," + base64.b64encode(data).decode("ascii"),
            )
        elif ext in _TEXT or _looks_text(data):
            lines = data.decode("utf-8", errors="replace").splitlines()
            more = len(lines) - _PREVIEW_LINES
            text = "\n".join(lines[:_PREVIEW_LINES])
            out.update(kind="text", text=text + (f"\n… {more} more lines" if more > 0 else ""))
        else:
            out.update(kind="other", note=f"{size_text(entry.size)} of binary data")
    return out


def _looks_text(data: bytes) -> bool:
    head = data[:2048]
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
