"""The background sender: takes logged points off the caller's thread and gets them to the server.

``run.log()`` only appends to column lists under a lock (``Sender.add``). Two threads do the rest:

- the log writer wakes every ``flush_interval`` seconds (or as soon as a batch is full), turns the
  lists into Arrow columns ``key: string, step: int64, timestamp: float64, value: float64`` in
  batches of at most ``batch_points`` points, turns config and summary changes into updates and
  console output into chunks, writes each to the run's log (``wal.py``) and queues it. It never
  waits for the network, so whatever happens to the server, a point logged is on disk at most
  ``flush_interval`` later, and ``run.log()`` pays nothing for it;
- the sender sends the queue in order, what is queued at once as one request to
  ``.../runs/{id}/records`` (``contract/records.py``): the run's creation while the server does
  not have it yet, batches of points, updates, console chunks and the run's end; each record is
  acknowledged in the log once the server has it.

Creation: ``init()`` does not wait for the server. The run's create body goes with the first
records the writer queues, ``flush_interval`` after ``init()`` or at ``finish()`` if that comes
first, so a short run is created, logged into and finished by one request. A refusal of the
creation (a missing workspace, a workspace the key may not write, an id taken) is kept in
``fatal``: ``run.log()`` and ``finish()`` raise it.

How each record is delivered (retries with the same batch id, drops, heartbeats) is the sender
thread's, in ``send_loop.py``; how points become batches is in ``batches.py``. Here:

- Back-pressure: the points logged but not yet taken by the server are bounded by
  ``max_buffered_points`` (5 million by default). Past it, ``run.log()`` blocks until the sender has
  brought the backlog under the limit, and warns once per run. Memory stays bounded however long
  the server is away; the price is that training waits for it.
- Media (``run.log({"img": lablens.Image(a)})``): ``add_media`` only queues the values (copied
  when they were made); the log writer encodes them (PNG, Parquet, WAV...), hashes them and
  writes items and blobs to the log as one record; the sender uploads the blobs the server lacks,
  then the items (``media_upload.py``).
- Offline (no transport): everything goes to the log only; there is no sender thread.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable
from typing import Any

from lablens import errors as E
from lablens.sdk import connections
from lablens.sdk.batches import SCHEMA, Columns, Item, build_table, encode_batch
from lablens.sdk.media import held_bytes
from lablens.sdk.media_upload import MediaEntry, encode_media, pack_blobs
from lablens.sdk.send_loop import SendLoop
from lablens.sdk.wal import WriteAheadLog, new_id
from lablens.transport import Transport

__all__ = ["SCHEMA", "Sender", "build_table", "encode_batch"]

log = logging.getLogger("lablens.sdk")

#: Media items in one record (one ``POST .../media``); the server takes up to 10,000.
MEDIA_BATCH = 500
#: Bytes of media logged and not yet taken by the server past which ``run.log()`` waits (as
#: for points): their copies and encodings are what memory holds while the server is away.
MAX_BUFFERED_MEDIA_BYTES = 512 << 20


class Sender(SendLoop):
    """Writes one run's points, updates and console lines to its log and sends them.

    Args:
        transport: a ``Transport`` used by the sender thread only (``requests`` sessions are not
            meant to be shared between threads); ``None`` for an offline run.
        run_path: ``/api/v1/projects/{entity}/{project}/runs/{id}``.
        wal: the run's log, where every record goes before it is sent.
        flush_interval, batch_points, max_buffered_points, heartbeat_interval: see ``Settings``.
        console: a callable returning the console lines to send, or ``None``.
    """

    def __init__(
        self,
        transport: Transport | None,
        run_path: str,
        wal: WriteAheadLog,
        *,
        flush_interval: float = 0.25,
        batch_points: int = 200_000,
        max_buffered_points: int = 5_000_000,
        heartbeat_interval: float = 30.0,
        console: Callable[[], list[dict[str, Any]]] | None = None,
        create: dict[str, Any] | None = None,
        own_id: bool = False,
    ) -> None:
        self._transport = transport
        # The create body while the server has not made the run; None once it has (or when
        # init() made it). own_id: the id was made here, so a retried create resumes it.
        self._create = create if transport is not None else None
        self._create_queued = False
        self._own_id = own_id
        self._records_path = run_path + "/records"
        #: The server's refusal of the run (its creation, or the key): log() and finish() raise it.
        self.fatal: Exception | None = None
        # The run's end, given by finish() before close(): written and sent after the rest.
        self._end: dict[str, Any] | None = None
        #: Whether the server took (or refused for good) the run's end.
        self.end_sent = False
        # Set once the server made the run, or refused it.
        self._made = threading.Event()
        self._run_path = run_path
        self._wal = wal
        self._flush_interval = flush_interval
        self._batch_points = max(1, batch_points)
        self._max_buffered = max(self._batch_points, max_buffered_points)
        self._heartbeat_interval = heartbeat_interval
        self._console = console

        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._streams: dict[str, Columns] = {"default": Columns(), "system": Columns()}
        self._default = self._streams["default"]
        # Points accepted by add() and not yet taken by the server (or dropped, or given up on).
        self.unacked = 0
        self._woken = False
        self._warned_full = False
        # Run fields to PATCH, the latest value of each (config is sent whole, the server keeps it).
        self._fields: dict[str, Any] = {}
        self._summary: dict[str, Any] = {}
        # Media logged, waiting for the writer to encode them; the blobs written to the log so
        # far (each once a run) and those the server has from this process.
        self._media: list[MediaEntry] = []
        self._logged_blobs: set[str] = set()
        self._uploaded_blobs: set[str] = set()
        self.media_items = 0
        #: bytes of media logged and not yet taken by the server (``held_bytes``).
        self.media_unacked = 0

        # Written to the log, waiting to be sent, in order; the writer appends, the sender pops.
        self._outbox: deque[Item] = deque()
        self._pass: list[Item] = []
        self._next_heartbeat = time.monotonic() + heartbeat_interval

        self._wake = threading.Event()  # wakes the writer
        self._queued = threading.Event()  # wakes the sender
        self._stop = threading.Event()
        self._written = threading.Event()  # the writer has written its last records
        self._deadline = math.inf
        self._writer = threading.Thread(target=self._write_loop, name="lablens-log", daemon=True)
        self._thread = threading.Thread(target=self._send_all, name="lablens-sender", daemon=True)

        self.sent_points = 0
        self.dropped_points = 0
        #: points (and whether any record) still unsent when ``close()`` gave up: in the log.
        self.unsent_points = 0
        self.unsent = False
        self._host = transport.base_url if transport is not None else None
        self._last_error: Exception | None = None

    # -- caller side ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the log writer and (online) the sender thread."""
        self._writer.start()
        if self._transport is not None:
            self._thread.start()

    def add(self, data: dict[str, Any], step: int, ts: float) -> None:
        """Queue the points of one ``log()`` call; ``data`` is flat, its values plain numbers."""
        with self._lock:
            c = self._default
            self.unacked += c.add(data, step, ts)
            full = c.points >= self._batch_points and not self._woken
            if full:
                self._woken = True
            over = self.unacked > self._max_buffered
        if full:
            self._wake.set()
        if over:
            self._wait_for_room()

    def add_media(self, entries: list[MediaEntry]) -> None:
        """Queue media values ``(key, index, media, step, timestamp)``; encoded off the
        caller's thread."""
        size = sum(held_bytes(e[2]) for e in entries)
        with self._lock:
            self._media.extend(entries)
            self.media_unacked += size
            over = self.media_unacked > MAX_BUFFERED_MEDIA_BYTES
        if over:
            self._wake.set()
            with self._room:
                while (
                    self.media_unacked > MAX_BUFFERED_MEDIA_BYTES
                    and self._thread.is_alive()
                    and not self._stop.is_set()
                ):
                    self._room.wait(0.5)

    def add_stream(self, stream: str, data: dict[str, float], step: int, ts: float) -> None:
        """Queue points of another stream (``system``); never blocks, as those are few."""
        with self._lock:
            self.unacked += self._streams.setdefault(stream, Columns()).add(data, step, ts)

    def _wait_for_room(self) -> None:
        if not self._warned_full:
            self._warned_full = True
            warnings.warn(
                f"lablens: more than {self._max_buffered:,} logged points are waiting for the "
                "server; run.log() now waits until it catches up "
                "(see Settings.max_buffered_points)",
                RuntimeWarning,
                stacklevel=4,
            )
        self._wake.set()
        with self._room:
            while (
                self.unacked > self._max_buffered
                and self._thread.is_alive()
                and not self._stop.is_set()
            ):
                self._room.wait(0.5)

    def set_config(self, config: dict[str, Any]) -> None:
        """Send this whole config (the latest one given wins)."""
        self.set_fields({"config": config})

    def set_fields(self, fields: dict[str, Any]) -> None:
        """Send these run fields (``config``, ``conda``...); the latest value of each wins."""
        with self._lock:
            self._fields.update(fields)
        self._wake.set()

    def update_summary(self, values: dict[str, Any]) -> None:
        """Send these summary values (merged with ones not yet sent)."""
        with self._lock:
            self._summary.update(values)
        self._wake.set()

    def wait_created(self, timeout: float) -> None:
        """Have the server make the run now if it has not yet (a call that needs the run on
        the server, such as ``log_artifact``), waiting at most ``timeout`` seconds.

        Raises:
            lablens.errors.ApiError: the server refused the run (``fatal``).
            lablens.errors.ConnectionFailed: the server did not make it in time.
        """
        if self._create is not None and self.fatal is None:
            self._wake.set()  # the writer's next pass queues the creation: now
            deadline = time.monotonic() + timeout
            while self._create is not None and self.fatal is None:
                if time.monotonic() > deadline:
                    raise E.ConnectionFailed(
                        f"the server at {self._host} did not create the run within {timeout:g}s"
                        f" ({self._last_error})"
                    )
                self._made.wait(0.05)
        if self.fatal is not None:
            raise self.fatal

    def end(self, state: str, exit_code: int, finished_at: str) -> None:
        """The run's end, to write and send after everything still queued (``close()``)."""
        self._end = {"state": state, "exit_code": exit_code, "finished_at": finished_at}

    def close(self, timeout: float) -> None:
        """Write and send everything still queued, for at most ``timeout`` seconds; stop.

        What is left after the timeout stays in the log (``unsent_points``, ``unsent``).
        """
        self._deadline = time.monotonic() + timeout
        self._stop.set()
        self._wake.set()
        self._queued.set()
        if self._writer.is_alive():
            self._writer.join(timeout + 30)
        if self._thread.is_alive():
            self._thread.join(timeout + 30)
        if self._thread.is_alive():  # stuck in a request past its own timeout
            log.warning("lablens: the sender did not stop in time")
            self.unsent = True

    # -- sender thread -------------------------------------------------------------------------

    def _send_all(self) -> None:
        """The sender thread: the send loop (``send_loop.py``), then its session handed back
        for the next run of the process when everything was sent; a session whose requests
        were left failing is closed instead."""
        try:
            self._send_loop()
        finally:
            if self._transport is not None:
                if self._outbox:
                    self._transport.close()
                else:
                    connections.release(self._transport)

    # -- log writer thread ---------------------------------------------------------------------

    def _write_loop(self) -> None:
        # The first conversion imports pandas (a quarter of a second): do it now, off the
        # caller's thread, rather than when the first batch is due or at exit.
        try:
            build_table(Columns())
        except Exception:
            log.debug("lablens: warming up pyarrow failed", exc_info=True)
        while True:
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            with self._lock:
                self._woken = False
            # Read before writing: what is logged before close() is written after it.
            stopping = self._stop.is_set()
            try:
                self._write_pending(final=stopping)
            except Exception:  # a bug here must not stop the run: say so, and go on
                log.warning("lablens: writing the run's log failed", exc_info=True)
            if stopping:
                self._written.set()
                self._queued.set()
                return

    def _queue(self, item: Item) -> None:
        if self._transport is None:  # offline: the log is where it goes
            if item.points or item.media:
                self._acked(item.points, item.media)
            return
        self._pass.append(item)

    def _write_pending(self, *, final: bool = False) -> None:
        """Write what was logged since the last call to the log, and queue it for sending;
        ``final``: the last call, after which the run's end (``end()``) is written.

        What one call queues is handed to the sender at once, so it goes as one request."""
        self._pass: list[Item] = []
        if self._create is not None and not self._create_queued:
            # The first pass: the run's creation goes first, with what was logged so far.
            self._create_queued = True
            self._pass.append(Item("create", new_id(), json=self._create))
        try:
            self._write_records()
            if final and self._end is not None:
                end = self._end
                end_id = self._wal.add_finish(end["state"], end["exit_code"], end["finished_at"])
                if self._transport is not None:
                    self._pass.append(
                        Item("finish", end_id, json={k: end[k] for k in ("state", "exit_code")})
                    )
        finally:
            if self._pass:
                self._outbox.extend(self._pass)
                self._pass = []
                self._queued.set()

    def _write_records(self) -> None:
        with self._lock:
            taken = []
            for stream, c in self._streams.items():
                if c.points:
                    taken.append((stream, c))
                    self._streams[stream] = Columns()
            self._default = self._streams["default"]
            body: dict[str, Any] = dict(self._fields)
            if self._summary:
                body["summary"] = self._summary
            self._fields, self._summary = {}, {}
            media, self._media = self._media, []
        for stream, c in taken:
            try:
                table = build_table(c)
            except Exception:  # a bug of ours: say so, and never leave log() waiting for these
                log.warning(
                    "lablens: %d points could not be encoded and are dropped",
                    c.points,
                    exc_info=True,
                )
                self.dropped_points += c.points
                self._acked(c.points)
                continue
            for offset in range(0, table.num_rows, self._batch_points):
                part = table.slice(offset, self._batch_points)
                item = Item("points", new_id(), stream, encode_batch(part), part.num_rows)
                # Into the log before the first attempt: from now on a dead process loses nothing
                # of it.
                self._wal.add_points(item.id, item.stream, item.body, item.points)
                self._queue(item)
        if media:
            self._write_media(media)
        if body:
            item = Item("patch", new_id(), json=body)
            self._wal.add_patch(item.id, body)
            self._queue(item)
        lines = self._console() if self._console is not None else []
        for start in range(0, len(lines), 5000):
            item = Item("console", new_id(), json=lines[start : start + 5000])
            self._wal.add_console(item.id, item.json)
            self._queue(item)

    def _write_media(self, entries: list[MediaEntry]) -> None:
        # Records of at most MEDIA_BATCH items: a request the server takes whole, and the first
        # ones are on disk (and on their way) while the rest are encoded.
        for start in range(0, len(entries), MEDIA_BATCH):
            chunk = entries[start : start + MEDIA_BATCH]
            held = sum(held_bytes(e[2]) for e in chunk)
            items, blobs = encode_media(chunk)
            if not items:  # dropped with a warning: never leave log() waiting for them
                self._acked(0, held)
                continue
            new = {sha: data for sha, data in blobs.items() if sha not in self._logged_blobs}
            toc, body = pack_blobs(new)
            item = Item(
                "media", new_id(), body=body, json={"items": items, "blobs": toc}, media=held
            )
            self._wal.add_media(item.id, items, toc, body)
            self._logged_blobs.update(new)
            self.media_items += len(items)
            self._queue(item)

    def _acked(self, points: int, media: int = 0) -> None:
        with self._room:
            self.unacked -= points
            self.media_unacked -= media
            self._room.notify_all()
