"""The sender thread: sends a run's queued records in order, and keeps the run alive.

Delivery:

- Each batch gets a uuid, sent as ``X-Lablens-Batch-Id``, once, when it is built. A failed
  request (unreachable server, timeout, 5xx, 408, 429) is sent again with the same body and the same
  id, with backoff from 0.5 s up to 10 s, until it goes through or ``finish()``'s flush timeout
  passes. The server stores a batch id once, so a retry never stores a point twice.
- Any other 4xx answer means a bug of ours or data the server refuses: that batch is dropped, the
  server's detail is logged as a warning (logger ``lablens.sdk``), the batches after it are sent
  as usual, and ``finish()`` warns with the count of points lost.
- When ``finish()``'s flush timeout passes with data still unsent (or the process dies), it is in
  the log, and ``lablens sync`` uploads it later.

Updates, console chunks and media records are retried like batches. Every
``heartbeat_interval`` the sender tells the server the run is alive; a heartbeat answered with
the state ``CRASHED`` (the server gave up on the run while the network was down) sets the run
back to ``RUNNING``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from typing import TYPE_CHECKING

from lablens import errors as E
from lablens.sdk.batches import Item
from lablens.sdk.media_upload import send_media, unpack_blobs
from lablens.transport import ARROW

if TYPE_CHECKING:
    from lablens.sdk.wal import WriteAheadLog
    from lablens.transport import Transport

__all__ = ["SendLoop"]

log = logging.getLogger("lablens.sdk")

_BACKOFF_FIRST = 0.5
_BACKOFF_MAX = 10.0


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, E.ConnectionFailed):
        return True
    if isinstance(exc, E.ApiError):
        return exc.status is None or exc.status >= 500 or exc.status in (408, 429)
    return False


class SendLoop:
    """The sender-thread half of ``Sender`` (``sender.py``). A mixin, so each half stays the
    size of one concept."""

    _transport: Transport | None
    _run_path: str
    _wal: WriteAheadLog
    _outbox: deque[Item]
    _stop: threading.Event
    _queued: threading.Event
    _written: threading.Event
    _deadline: float
    _flush_interval: float
    _heartbeat_interval: float
    _next_heartbeat: float
    _host: str | None
    _last_error: Exception | None
    _uploaded_blobs: set[str]
    sent_points: int
    dropped_points: int
    unsent_points: int
    unsent: bool

    if TYPE_CHECKING:

        def _acked(self, points: int, media: int = 0) -> None: ...

    def _send_loop(self) -> None:
        backoff = 0.0
        while True:
            try:
                ok = self._send_ready()
            except Exception as exc:  # a bug here must not lose the data: it is in the log
                log.warning("lablens: the sender failed", exc_info=True)
                self._last_error = exc
                ok = False
            stopping = self._stop.is_set()
            if ok and not self._outbox and self._written.is_set():
                return
            # Past the deadline, once the writer has queued its last records (it never waits on
            # the network, so that is soon).
            if stopping and time.monotonic() >= self._deadline and self._written.is_set():
                self._give_up()
                return
            if ok:
                if backoff:
                    log.warning("lablens: the server at %s answers again", self._host)
                backoff = 0.0
                if self._outbox:
                    continue
                wait = max(0.0, self._next_heartbeat - time.monotonic())
                self._queued.wait(min(wait, self._flush_interval * 4) if not stopping else 0.05)
                self._queued.clear()
                continue
            if not backoff:
                log.warning(
                    "lablens: cannot send to the server at %s (%s); retrying in the background",
                    self._host,
                    self._last_error,
                )
            backoff = min(_BACKOFF_MAX, backoff * 2 if backoff else _BACKOFF_FIRST)
            wait = backoff * (0.75 + 0.5 * random.random())
            if stopping:
                time.sleep(min(wait, max(0.0, self._deadline - time.monotonic())))
            else:
                # Not self._queued: new points must not cut the backoff short. finish() does.
                self._stop.wait(wait)

    def _send_ready(self) -> bool:
        """Send what is queued, in order; False when a request failed and should be retried."""
        while self._outbox:
            if not self._heartbeat():
                return False
            item = self._outbox[0]
            if not self._send(item):
                return False
            self._outbox.popleft()
            if item.points or item.media:
                self._acked(item.points, item.media)
        return self._heartbeat()

    def _send(self, item: Item) -> bool:
        assert self._transport is not None
        try:
            if item.kind == "points":
                self._transport.request(
                    "POST",
                    self._run_path + "/points",
                    params={"stream": item.stream},
                    data=item.body,
                    headers={"Content-Type": ARROW, "X-Lablens-Batch-Id": item.id},
                )
                self.sent_points += item.points
            elif item.kind == "patch":
                self._transport.patch_json(self._run_path, item.json)
            elif item.kind == "media":
                blobs = unpack_blobs(item.json["blobs"], item.body)
                send_media(
                    self._transport,
                    self._run_path,
                    item.id,
                    item.json["items"],
                    blobs,
                    self._uploaded_blobs,
                )
            else:
                self._transport.request(
                    "POST",
                    self._run_path + "/console",
                    json_body={"lines": item.json},
                    headers={"X-Lablens-Batch-Id": item.id},
                )
        except (E.ApiError, E.ConnectionFailed) as exc:
            if _retryable(exc):
                self._last_error = exc
                return False
            # Refused for good (a 4xx): this record is lost, the ones after it are not.
            if item.kind == "points":
                log.warning(
                    "lablens: the server refused %d points (batch %s) and they are dropped: %s",
                    item.points,
                    item.id,
                    exc,
                )
                self.dropped_points += item.points
            else:
                log.warning("lablens: the server refused a %s request: %s", item.kind, exc)
        # Taken, or refused for good (a sync would only be refused again).
        self._wal.add_ack(item.id)
        return True

    def _heartbeat(self) -> bool:
        now = time.monotonic()
        if now < self._next_heartbeat or self._stop.is_set():
            return True
        assert self._transport is not None
        try:
            answer = self._transport.patch_json(self._run_path, {"heartbeat": True})
        except (E.ApiError, E.ConnectionFailed) as exc:
            if _retryable(exc):
                self._last_error = exc
                return False
            log.warning("lablens: the server refused a heartbeat: %s", exc)
            answer = None
        self._next_heartbeat = now + self._heartbeat_interval
        if isinstance(answer, dict) and answer.get("state") == "CRASHED":
            self._revive()
        return True

    def _revive(self) -> None:
        # The server marked the run CRASHED because no heartbeat came in time (a network
        # partition, a suspended laptop): this process is alive, so the run is running again.
        assert self._transport is not None
        try:
            self._transport.patch_json(self._run_path, {"state": "RUNNING"})
        except (E.ApiError, E.ConnectionFailed) as exc:
            log.warning("lablens: cannot mark the run RUNNING again: %s", exc)
            return
        log.warning(
            "lablens: the server at %s had marked this run CRASHED after missing heartbeats; "
            "it is RUNNING again",
            self._host,
        )

    def _give_up(self) -> None:
        """At the deadline: what is still unsent stays in the log; count it."""
        points = sum(item.points for item in self._outbox)
        media = sum(item.media for item in self._outbox)
        self.unsent_points += points
        self.unsent = self.unsent or bool(self._outbox)
        self._outbox.clear()
        self._acked(points, media)
