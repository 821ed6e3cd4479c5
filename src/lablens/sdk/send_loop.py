"""The sender thread: sends a run's queued records in order, and keeps the run alive.

Delivery:

- The records queued together (the run's creation, batches of points, updates, console lines,
  its end) go as one ``POST .../runs/{id}/records`` (``contract/records.py``); media records
  go on their own (``media_upload.py``). A records request the server refuses with a 4xx is
  sent again record by record, so one refused record loses only itself; a refused creation
  is the run's ``fatal`` error.

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
from lablens.contract.records import MEDIA_TYPE, encode_records
from lablens.sdk.batches import Item
from lablens.sdk.media_upload import send_media, unpack_blobs
from lablens.transport import ARROW, encode_floats

if TYPE_CHECKING:
    from lablens.sdk.wal import WriteAheadLog
    from lablens.transport import Transport

__all__ = ["SendLoop"]

log = logging.getLogger("lablens.sdk")

_BACKOFF_FIRST = 0.5
_BACKOFF_MAX = 10.0
#: What one records request carries at most: records, and bytes of points.
_GROUP_RECORDS = 256
_GROUP_BYTES = 32 << 20
#: The kinds of records a records request carries.
_GROUPED = frozenset({"create", "points", "patch", "console", "finish"})


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
    _create: dict | None
    _own_id: bool
    _records_path: str
    fatal: Exception | None
    end_sent: bool
    _made: threading.Event
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
            if self.fatal is not None:
                self._drop_all()
                return True
            if not self._heartbeat():
                return False
            group = self._group()
            if not group:
                item = self._outbox[0]
                if not self._send(item):
                    return False
                self._outbox.popleft()
                if item.points or item.media:
                    self._acked(item.points, item.media)
                continue
            sent = self._send_group(group)
            if sent is None:
                return False
            for _ in range(sent):
                item = self._outbox.popleft()
                if item.points or item.media:
                    self._acked(item.points, item.media)
        return self._heartbeat()

    def _group(self) -> list[Item]:
        """The records at the head of the queue that go as one records request."""
        group: list[Item] = []
        size = 0
        for item in self._outbox:
            if item.kind not in _GROUPED or len(group) >= _GROUP_RECORDS:
                break
            if group and size + len(item.body) > _GROUP_BYTES:
                break
            group.append(item)
            size += len(item.body)
        return group

    def _send_group(self, group: list[Item]) -> int | None:
        """Send ``group`` as one records request: how many records of the queue's head were
        dealt with, or None to retry later."""
        assert self._transport is not None
        records: list[dict] = []
        bodies: list[bytes] = []
        header: dict = {"records": records}
        for item in group:
            if item.kind == "create":
                header["create"] = item.json
            elif item.kind == "points":
                records.append(
                    {
                        "t": "points",
                        "id": item.id,
                        "stream": item.stream,
                        "n": item.points,
                        "size": len(item.body),
                    }
                )
                bodies.append(item.body)
            elif item.kind == "patch":
                records.append({"t": "patch", "body": item.json})
            elif item.kind == "console":
                records.append({"t": "console", "id": item.id, "lines": item.json})
            else:
                records.append({"t": "finish", **item.json})
        try:
            answer = self._transport.request(
                "POST",
                self._records_path,
                data=encode_records(encode_floats(header), bodies),
                headers={"Content-Type": MEDIA_TYPE},
            ).json()
        except (E.ApiError, E.ConnectionFailed) as exc:
            if _retryable(exc):
                self._last_error = exc
                self._create_maybe_made(group)
                return None
            return self._refused(group, exc)
        self._took(group, answer)
        return len(group)

    def _create_maybe_made(self, group: list[Item]) -> None:
        # The create may have been stored and only its answer lost: sent again, it must find
        # this run, not refuse an id that is "taken" (by itself). Only an id made here is known
        # to be this run's; a given id keeps resume="never", as init() was told.
        if self._own_id and group[0].kind == "create":
            group[0].json = {**group[0].json, "resume": "allow"}

    def _took(self, group: list[Item], answer: object) -> None:
        for item in group:
            if item.kind == "create":
                self._create = None
                self._made.set()
                continue
            self._wal.add_ack(item.id)
            if item.kind == "points":
                self.sent_points += item.points
            elif item.kind == "finish":
                self.end_sent = True
        timeout = answer.get("heartbeat_timeout") if isinstance(answer, dict) else None
        if isinstance(timeout, (int, float)) and 0 < timeout / 4 < self._heartbeat_interval:
            # A heartbeat well within the server's timeout: missing one must not make the run
            # CRASHED.
            self._heartbeat_interval = timeout / 4
            self._next_heartbeat = min(self._next_heartbeat, time.monotonic() + timeout / 4)

    def _refused(self, group: list[Item], exc: Exception) -> int | None:
        """A 4xx for ``group``: the creation's refusal is fatal; else each record on its own."""
        if group[0].kind == "create":
            if len(group) > 1:
                # Was it the creation? Ask with it alone, then the rest one by one. (On a store
                # whose parts commit on their own the creation may have been stored before a
                # later record was refused: an id made here resumes it; a Conflict is the
                # creation's own refusal.)
                if not isinstance(exc, E.Conflict):
                    self._create_maybe_made(group)
                return self._send_group(group[:1])
            self.fatal = exc
            self._made.set()
            log.warning("lablens: the server refused the run: %s", exc)
            self._drop_all()
            return 0
        if len(group) == 1:
            return 1 if self._send(group[0]) else None
        done = 0
        for item in group:
            if not self._send(item):
                return done or None
            done += 1
        return done

    def _drop_all(self) -> None:
        """The run is refused: nothing queued can be stored (it stays in the log)."""
        points = sum(item.points for item in self._outbox)
        media = sum(item.media for item in self._outbox)
        self.dropped_points += points
        self._outbox.clear()
        self._acked(points, media)

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
            elif item.kind == "finish":
                self._transport.patch_json(self._run_path, item.json)
                self.end_sent = True
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
            elif item.kind == "finish":
                self.end_sent = True
                log.warning(
                    "lablens: the server refused to mark the run %s: %s", item.json["state"], exc
                )
            else:
                log.warning("lablens: the server refused a %s request: %s", item.kind, exc)
        # Taken, or refused for good (a sync would only be refused again).
        self._wal.add_ack(item.id)
        return True

    def _heartbeat(self) -> bool:
        now = time.monotonic()
        if now < self._next_heartbeat or self._stop.is_set() or self._create is not None:
            return True  # (a run the server does not have yet has no heartbeat)
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
