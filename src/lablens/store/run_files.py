"""Run files and console lines as every engine takes them: a file's name checked and its row's
facts, console lines made into one table (``i ts stream line``), a bad line named."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import mimetypes
import posixpath
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from lablens.contract.names import CONSOLE_STREAMS
from lablens.store._json import _bad_text
from lablens.store.errors import InvalidInput


def check_file_name(name: str) -> str:
    """A run file's name: relative, no ``..`` part, no backslash, not empty."""
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        raise InvalidInput(f"bad file name {name!r}: it must be a relative path", field="name")
    norm = posixpath.normpath(name)
    if norm.startswith("..") or any(part == ".." for part in name.split("/")) or norm == ".":
        raise InvalidInput(f"bad file name {name!r}: '..' is not allowed", field="name")
    return norm


def file_facts(name: str, content: bytes) -> dict[str, Any]:
    """A run file's row but its time: ``name`` (checked, normalized), ``size``, ``md5``,
    ``mimetype`` (guessed from the name) and ``blob`` (the content's sha256)."""
    name = check_file_name(name)
    return {
        "name": name,
        "size": len(content),
        "md5": hashlib.md5(content).hexdigest(),
        "mimetype": mimetypes.guess_type(name)[0] or "application/octet-stream",
        "blob": hashlib.sha256(content).hexdigest(),
    }


def console_table(lines: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Console lines ``{ts?, stream?, line}`` as a table ``i ts stream line``, naming a bad one."""
    ts_col, streams, texts = [], [], []
    for i, item in enumerate(lines):
        if not isinstance(item, Mapping) or not isinstance(item.get("line"), str):
            raise InvalidInput("each console line needs a string 'line'", field=f"lines[{i}].line")
        # A NUL is refused too: PostgreSQL's text cannot hold one, so no engine keeps it.
        if why := _bad_text(item["line"]):
            raise InvalidInput(f"the line {why}", field=f"lines[{i}].line")
        stream = item.get("stream", "stdout")
        if stream not in CONSOLE_STREAMS:
            raise InvalidInput("stream must be stdout or stderr", field=f"lines[{i}].stream")
        ts = item.get("ts")
        if ts is None:
            ts = dt.datetime.now(dt.UTC).timestamp()
        elif isinstance(ts, bool) or not isinstance(ts, (int, float)):
            raise InvalidInput(
                "ts must be a number (seconds since the epoch)", field=f"lines[{i}].ts"
            )
        try:
            ts = float(ts)
        except OverflowError:
            ts = math.inf
        if not math.isfinite(ts):
            raise InvalidInput(
                "ts must be a finite number (seconds since the epoch)", field=f"lines[{i}].ts"
            )
        ts_col.append(ts)
        streams.append(stream)
        texts.append(item["line"])
    return pa.table(
        {
            "i": pa.array(range(len(texts)), pa.int64()),
            "ts": pa.array(ts_col, pa.float64()),
            "stream": pa.array(streams, pa.string()),
            "line": pa.array(texts, pa.string()),
        }
    )
