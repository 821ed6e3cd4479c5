"""The run's write-ahead log: every record the run sends, kept on disk before it is sent.

One file per run, ``<dir>/run-<time>-<id>/run.wal``, appended to and never rewritten, so a killed
process (SIGKILL, OOM killer, a lost node) leaves every record it had written, and
``lablens sync`` can upload them later. The records, in the order they were made:

- ``run``: where the run belongs (``host``, ``entity``, ``project``, ``id``) and the body that
  creates it, so ``lablens sync`` can make it on a server that does not have it (offline runs);
- ``points``: one batch of points, the Arrow IPC stream that is the request body, with its batch id;
- ``patch``: a run update (config, summary, name, tags...), with an id;
- ``console``: console lines, with their batch id;
- ``media``: media items (images, tables...) with their batch id, and the body their blobs'
  bytes (``blobs`` lists each blob's sha256 and size, in order; a blob an earlier record of the
  log carried is not repeated);
- ``finish``: the final state, exit code and time; a killed process's log has none;
- ``ack``: the id of a record the server took (or refused for good), so a sync skips it.

Replaying is idempotent: the server stores a points or console batch id once, and a sync skips the
records acknowledged in the log.

Framing: the file starts with ``MAGIC``; each record is ``<header length, body length, crc32>``
(three little-endian uint32) then the header (JSON) and the body (bytes, for points). Each record
is one ``write()`` on a file opened for appending, so a killed process leaves whole records, at
worst a torn last one, which the reader skips (and counts) rather than failing on. Nothing is
fsync'ed: a process's death loses nothing written, a power cut may lose the last seconds.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import threading
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lablens.transport import encode_floats

log = logging.getLogger("lablens.sdk")

FILE_NAME = "run.wal"
MAGIC = b"LABLENS-WAL 1\n"
_FRAME = struct.Struct("<III")


def new_id() -> str:
    """A fresh record id (a uuid4 in hex), the batch id the server deduplicates by."""
    return uuid.uuid4().hex


class WriteAheadLog:
    """Appends records to one run's log file, creating it (and its directory) on first use.

    Thread-safe: the caller's thread writes the ``run`` and ``finish`` records, the sender thread
    the others. A failed write (a full disk) is logged once and does not stop the run: the server
    still gets the data, only the local copy is missing.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._failed = False
        #: points written to the log so far (what a sync could upload).
        self.points = 0
        #: records written so far.
        self.records = 0

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            if os.fstat(fd).st_size == 0:
                os.write(fd, MAGIC)
            self._fd = fd
        return self._fd

    def _write(self, header: dict[str, Any], body: bytes = b"") -> bool:
        head = json.dumps(encode_floats(header), separators=(",", ":")).encode()
        frame = _FRAME.pack(len(head), len(body), zlib.crc32(body, zlib.crc32(head))) + head + body
        with self._lock:
            try:
                fd = self._open()
                view = memoryview(frame)
                while view:
                    view = view[os.write(fd, view) :]
            except OSError as exc:
                if not self._failed:
                    self._failed = True
                    log.warning("lablens: cannot write the run's log %s: %s", self.path, exc)
                return False
            self.records += 1
        return True

    def add_run(self, info: dict[str, Any]) -> None:
        """Record where the run belongs and how to create it (the first record)."""
        self._write({"t": "run", **info})

    def add_points(self, batch_id: str, stream: str, body: bytes, points: int) -> None:
        """Record one batch of points (an Arrow IPC stream)."""
        if self._write({"t": "points", "id": batch_id, "stream": stream, "n": points}, body):
            with self._lock:
                self.points += points

    def add_patch(self, patch_id: str, body: dict[str, Any]) -> None:
        """Record one run update (a ``PATCH`` body)."""
        self._write({"t": "patch", "id": patch_id, "body": body})

    def add_console(self, batch_id: str, lines: list[dict[str, Any]]) -> None:
        """Record console lines (a ``POST .../console`` body)."""
        self._write({"t": "console", "id": batch_id, "lines": lines})

    def add_media(
        self, batch_id: str, items: list[dict[str, Any]], toc: list[list[Any]], body: bytes
    ) -> None:
        """Record media items and the bytes of the blobs they need (``toc``: sha256, size)."""
        self._write({"t": "media", "id": batch_id, "items": items, "blobs": toc}, body)

    def add_finish(self, state: str, exit_code: int, finished_at: str) -> str:
        """Record how the run ended; returns the record's id."""
        record_id = new_id()
        header = {"state": state, "exit_code": exit_code, "finished_at": finished_at}
        self._write({"t": "finish", "id": record_id, **header})
        return record_id

    def add_ack(self, record_id: str) -> None:
        """Record that the server took (or refused for good) the record ``record_id``."""
        self._write({"t": "ack", "id": record_id})

    def close(self) -> None:
        """Close the file; a later write opens it again."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


@dataclass
class Record:
    """One record read back: its header fields, and the body bytes of a points or media
    record."""

    kind: str
    header: dict[str, Any]
    body: bytes = b""

    @property
    def id(self) -> str | None:
        """The record's id (batch id), if it has one."""
        return self.header.get("id")


@dataclass
class LogContents:
    """Everything read from one run's log."""

    path: Path
    run: dict[str, Any] | None = None
    records: list[Record] = field(default_factory=list)
    acked: set[str] = field(default_factory=set)
    #: bytes at the end that do not make a whole record (a write cut by the process's death).
    torn_bytes: int = 0

    @property
    def finish(self) -> Record | None:
        """The ``finish`` record, or ``None`` when the process died before finishing."""
        return next((r for r in reversed(self.records) if r.kind == "finish"), None)

    @property
    def points(self) -> int:
        """Points in the log's batches."""
        return sum(r.header.get("n", 0) for r in self.records if r.kind == "points")


def iter_records(path: Path) -> Iterator[Record | int]:
    """The records of a log file in order; a trailing ``int`` counts the bytes of a torn tail."""
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise ValueError(f"{path} is not a lablens run log")
    pos = len(MAGIC)
    while pos < len(data):
        if pos + _FRAME.size > len(data):
            yield len(data) - pos
            return
        head_len, body_len, crc = _FRAME.unpack_from(data, pos)
        start = pos + _FRAME.size
        end = start + head_len + body_len
        head, body = data[start : start + head_len], data[start + head_len : end]
        if end > len(data) or zlib.crc32(body, zlib.crc32(head)) != crc:
            yield len(data) - pos
            return
        header = json.loads(head)
        yield Record(header.get("t", ""), header, bytes(body))
        pos = end


def read_log(path: Path) -> LogContents:
    """Read a run's log (``path`` is the file or its run directory)."""
    if path.is_dir():
        path = path / FILE_NAME
    out = LogContents(path)
    for item in iter_records(path):
        if isinstance(item, int):
            out.torn_bytes = item
        elif item.kind == "run":
            out.run = item.header
        elif item.kind == "ack":
            out.acked.add(item.header["id"])
        else:
            out.records.append(item)
    return out
