"""The records of new short runs: answered once on disk, stored into the embedded store after.

A short run (a sweep's trial, a fold, an evaluation) is created, logged into and finished by
one records request (``routers/run_records.py``). Storing it is ~13 DuckDB statements and a
commit, most of the request's time. When the request makes a new run and every check that
could refuse it has passed (the key may write the workspace, the project exists, the run id
is free, the create body, points, updates and console lines are valid), the request's body is
appended to this journal, flushed to disk (``fsync``), and answered: the run is as durable as
a DuckDB commit makes it. A thread then stores the journaled requests, several in one
transaction.

What the client may then do sees them stored:

- every other request waits until the requests journaled before it are stored
  (``JournalBarrier``, in front of the app), so a read after ``finish()`` finds the run, and a
  change or deletion applies to what was logged first;
- a records request that is not journaled waits the same way, then is stored at once;
- a server that stops stores what is left first; one that was killed stores, when it starts
  again, what its journal holds and its store does not (a journaled run is stored whole in one
  transaction, so a run the store has is a request already stored).

The journal is the embedded store's only: with PostgreSQL several servers share the data, and
one server's journal would hide a run from the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from lablens.store.base import Store

__all__ = ["Entry", "JournalBarrier", "RecordsJournal"]

log = logging.getLogger("lablens.server")

FILE_NAME = "records.journal"
# An entry: its header's length and its body's length, its crc32, then header and body.
_HEAD = struct.Struct("<IIL")
# Past this many requests waiting to be stored, new ones are stored at once (after the
# others): the journal's backlog, and a read's wait, stay bounded.
MAX_PENDING = 500


@dataclass(frozen=True)
class Entry:
    """One journaled records request: where it goes, who sent it, and its body as received.

    ``parsed``: what the request made of the body, kept in memory (not journaled) so that the
    storing thread does not decode it again; an entry read back from the file has none.
    """

    workspace: str
    project: str
    run_id: str
    username: str
    body: bytes
    parsed: Any = field(default=None, compare=False, repr=False)

    def encode(self) -> bytes:
        head = json.dumps(
            [self.workspace, self.project, self.run_id, self.username], ensure_ascii=False
        ).encode()
        crc = zlib.crc32(head + self.body)
        return _HEAD.pack(len(head), len(self.body), crc) + head + self.body


def read_entries(data: bytes) -> list[Entry]:
    """The whole entries of a journal file; a torn last one (the server stopped while writing
    it, so it was never answered) is left out."""
    out: list[Entry] = []
    at = 0
    while at + _HEAD.size <= len(data):
        n_head, n_body, crc = _HEAD.unpack_from(data, at)
        start = at + _HEAD.size
        end = start + n_head + n_body
        if end > len(data) or zlib.crc32(data[start:end]) != crc:
            log.warning("lablens: the records journal ends with a torn entry; it was not answered")
            break
        ws, project, run_id, username = json.loads(data[start : start + n_head])
        out.append(Entry(ws, project, run_id, username, bytes(data[start + n_head : end])))
        at = end
    return out


class RecordsJournal:
    """New runs' records answered once on disk and stored by a thread (the module's docstring).

    Args:
        store: the embedded store the records go to.
        directory: where the journal file is kept (the data dir).
        apply: stores one entry (inside the caller's ``store.one_commit()``), raising what the
            store raises; it answers what to call once that transaction has committed (the
            automations' events).
        hold: journal and answer, but store only when stopped or started again (for tests of
            a server killed before it stored what it answered; a read would wait).
    """

    def __init__(
        self,
        store: Store,
        directory: Path,
        apply: Callable[[Store, Entry], list[Callable[[], None]]],
        *,
        hold: bool = False,
    ) -> None:
        self.store = store
        self._hold = hold
        self.path = Path(directory) / FILE_NAME
        self._apply = apply
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: list[tuple[int, Entry]] = []
        self._keys: set[tuple[str, str, str]] = set()  # runs journaled, not yet stored
        self._written = 0  # sequence number of the last entry journaled
        self._stored = 0  # ... and of the last one stored
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._stopping = False
        self._failed = False  # an entry could not be stored: the file is kept, not emptied
        self._thread: threading.Thread | None = None
        self._fd = -1
        self._size = 0  # bytes of whole entries in the file

    # -- start and stop -------------------------------------------------------------------------

    def start(self) -> RecordsJournal:
        """Store what a killed server left in the journal, then take new entries."""
        left = read_entries(self.path.read_bytes()) if self.path.exists() else []
        stored = 0
        for entry in left:
            if self.store.run_id_free(entry.workspace, entry.project, entry.run_id):
                self._store_alone(entry)
                stored += 1
        if left:
            log.info("lablens: stored %d of %d journaled records requests", stored, len(left))
        if self._failed:
            # Kept for the operator (and a later start) rather than emptied.
            kept = self.path.with_name(f"{FILE_NAME}.failed-{int(time.time())}")
            self.path.rename(kept)
            log.error("lablens: journaled records that could not be stored are kept in %s", kept)
            self._failed = False
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fsync(self._fd)
        self._size = 0
        self._thread = threading.Thread(target=self._run, name="lablens-journal", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Store what is journaled, then stop."""
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    # -- the request side -----------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """How many journaled requests are not stored yet."""
        return self._written - self._stored

    def has(self, workspace: str, project: str, run_id: str) -> bool:
        """Whether a journaled request not stored yet makes this run."""
        return (workspace, project, run_id) in self._keys

    def append(self, entry: Entry) -> bool:
        """Journal ``entry`` and flush it to disk; ``False`` (nothing written) when the backlog
        is full, the journal stopped, or a request for the same run is journaled already."""
        data = entry.encode()
        key = (entry.workspace, entry.project, entry.run_id)
        with self._lock:
            if self._stopping or self._fd < 0 or self.pending >= MAX_PENDING or key in self._keys:
                return False
            try:
                os.write(self._fd, data)
                os.fsync(self._fd)
            except OSError:
                # A full disk: the request is stored now instead (and refused as it would be);
                # a part written is cut off, so the entries after it read.
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, self._size)
                    os.lseek(self._fd, self._size, os.SEEK_SET)
                return False
            self._size += len(data)
            self._written += 1
            self._queue.append((self._written, entry))
            self._keys.add(key)
            self._wake.notify()
        return True

    async def settled(self) -> None:
        """Return once every request journaled before this call is stored."""
        target = self._written
        if self._stored >= target:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._stored >= target:
                return
            self._waiters.append((target, loop, future))
        await future

    # -- the storing thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                while (not self._queue or self._hold) and not self._stopping:
                    self._wake.wait()
                if not self._queue:
                    return  # stopping, and everything is stored
                taken = self._queue
                self._queue = []
            self._store_all([e for _, e in taken])
            with self._lock:
                self._stored = taken[-1][0]
                for _, e in taken:
                    self._keys.discard((e.workspace, e.project, e.run_id))
                if self._stored == self._written and not self._failed:
                    # Everything journaled is stored: the file starts again empty.
                    try:
                        os.ftruncate(self._fd, 0)
                        os.lseek(self._fd, 0, os.SEEK_SET)
                        self._size = 0
                    except OSError:
                        log.exception("lablens: the records journal could not be emptied")
                waiting, self._waiters = self._waiters, []
                for target, loop, future in waiting:
                    if target <= self._stored:
                        loop.call_soon_threadsafe(_done, future)
                    else:
                        self._waiters.append((target, loop, future))
                self._wake.notify_all()

    def _store_all(self, entries: list[Entry]) -> None:
        """Store the entries in one transaction; if that fails, each in its own."""
        if len(entries) > 1:
            fired: list[Callable[[], None]] = []
            try:
                with self.store.one_commit():
                    for entry in entries:
                        fired += self._apply(self.store, entry)
            except Exception:
                log.debug("lablens: journaled requests stored one by one", exc_info=True)
            else:
                _tell(fired)
                return
        for entry in entries:
            self._store_alone(entry)

    def _store_alone(self, entry: Entry) -> None:
        try:
            with self.store.one_commit():
                fired = self._apply(self.store, entry)
        except Exception:
            # Every check that can refuse it ran before it was journaled: this is a fault of
            # the store (a full disk), which the log must name. The journal is then kept as it
            # is: the next start stores what it holds and the store lacks.
            self._failed = True
            log.exception(
                "lablens: the journaled records of run %s/%s/%s could not be stored; %s keeps"
                " them until the server starts again",
                entry.workspace,
                entry.project,
                entry.run_id,
                self.path,
            )
        else:
            _tell(fired)


def _tell(fired: list[Callable[[], None]]) -> None:
    """Call what the stored entries tell the automations; a failure there loses no data."""
    for tell in fired:
        try:
            tell()
        except Exception:
            log.exception("lablens: telling the automations of journaled records failed")


def _done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class JournalBarrier:
    """In front of the app: a request other than a records request waits until the records
    journaled before it are stored, so it reads and changes what the clients were told is
    stored."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        journal = getattr(scope["app"].state, "journal", None) if "app" in scope else None
        if (
            journal is not None
            and scope["type"] == "http"
            and journal.pending
            and not (scope["method"] == "POST" and scope["path"].endswith("/records"))
        ):
            await journal.settled()
        await self.app(scope, receive, send)
