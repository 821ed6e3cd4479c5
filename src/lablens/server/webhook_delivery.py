"""The delivery worker: a thread of the server that writes each firing of an automation as a
delivery, then sends due deliveries to their webhooks, signed, retried with back-off, every
attempt recorded.

A delivery's body is its automation's payload template filled once, when it fires, and sent
byte for byte at every attempt. With a secret, the request carries
``X-Lablens-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by the secret>``.
A 2xx answer delivers it; an error, a timeout, a 5xx, 408 or 429 is tried again after
``BACKOFF * 2**(attempt-1)`` seconds, up to ``ATTEMPTS`` attempts; another 4xx fails it at once.

Several servers on one PostgreSQL database each run a worker; a delivery is claimed with a
lease (``Store.claim_deliveries``), so one of them sends it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import queue
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from lablens._version import __version__
from lablens.store import _json
from lablens.store.automation_values import render
from lablens.store.base import Store

log = logging.getLogger("lablens.server")

#: Attempts of a delivery before it is FAILED (``LABLENS_WEBHOOK_ATTEMPTS``).
ATTEMPTS = int(os.environ.get("LABLENS_WEBHOOK_ATTEMPTS") or 5)
#: Seconds before the second attempt, doubled for each next one (``LABLENS_WEBHOOK_BACKOFF``).
BACKOFF = float(os.environ.get("LABLENS_WEBHOOK_BACKOFF") or 1.0)
#: The longest wait between two attempts.
MAX_BACKOFF = 300.0
#: Seconds a receiver has to answer (``LABLENS_WEBHOOK_TIMEOUT``).
TIMEOUT = float(os.environ.get("LABLENS_WEBHOOK_TIMEOUT") or 10.0)
#: Seconds between two looks for due deliveries (retries; deliveries other servers wrote).
POLL = 1.0
#: The header of the signature.
SIGNATURE_HEADER = "X-Lablens-Signature"
_RETRIED = {408, 429}


def signature(secret: str, body: bytes) -> str:
    """The value of the signature header of ``body``: ``sha256=`` and the HMAC's hex digest."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class DeliveryWorker:
    """A daemon thread: firings in through :meth:`fire`, deliveries out over HTTP."""

    def __init__(self, store: Store, active: Callable[[], bool]) -> None:
        self.store = store
        self.lease = secrets.token_hex(8)
        #: Whether any automation is enabled (as last read): without one, no look at the store.
        self.active = active
        self._queue: queue.Queue[tuple[Mapping[str, Any], dict[str, Any], str] | None] = (
            queue.Queue()
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._session = requests.Session()

    def start(self) -> None:
        """Start the thread, once."""
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="lablens-webhooks", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        """Stop the thread; firings still queued are written first."""
        self._stop.set()
        self._queue.put(None)
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=TIMEOUT + 5)

    def fire(self, automation: Mapping[str, Any], values: dict[str, Any], key: str) -> None:
        """Queue one firing of ``automation`` with the event's template ``values``."""
        self.start()
        self._queue.put((automation, values, key))

    # -- the thread -----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                active = self.active()
            except Exception:  # the store closing, or not answering: look again later
                log.warning("reading the automations failed", exc_info=True)
                active = False
            if active:
                self._send_due()
            try:
                item = self._queue.get(timeout=POLL)
            except queue.Empty:
                item = None
            while item is not None:
                self._enqueue(*item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    item = None
            if self._stop.is_set():
                return

    def _enqueue(self, automation: Mapping[str, Any], values: dict[str, Any], key: str) -> None:
        try:
            if "run_id" in values and "run_name" not in values:
                run = self.store.get_run(
                    values["entity_name"], values["project_name"], values["run_id"]
                )
                values.update(run_name=run.get("name"), run_state=run.get("state"))
            action = automation["action"]
            if action["action_type"] == "GENERIC_WEBHOOK":
                body = render(action.get("request_payload") or {}, values)
            elif action["action_type"] == "NOTIFICATION":
                body = {
                    "title": render(action.get("title") or "", values),
                    "text": render(action.get("message") or "", values),
                    "level": action.get("severity"),
                }
            else:
                body = {}
            text = json.dumps(body, separators=(",", ":"), allow_nan=False, default=str)
            self.store.enqueue_delivery(
                automation["pk"], event_key=key, event_type=values["event_type"], body=text
            )
        except Exception:  # a firing that cannot be written must not end the worker
            log.warning(
                "automation %s: the event could not be queued",
                automation.get("name"),
                exc_info=True,
            )

    def _send_due(self) -> None:
        try:
            claimed = self.store.claim_deliveries(self.lease, lease_seconds=TIMEOUT * 3 + 30)
        except Exception:
            log.warning("the look for due webhook deliveries failed", exc_info=True)
            return
        for delivery in claimed:
            if self._stop.is_set():
                return
            try:
                self._attempt(delivery)
            except Exception:
                log.warning("webhook delivery %s failed", delivery["pk"], exc_info=True)

    def _attempt(self, delivery: Mapping[str, Any]) -> None:
        action = _json.loads(delivery["action"]) or {}
        attempt = delivery["attempts"] + 1
        status, error, started = None, None, time.perf_counter()
        if action.get("action_type") == "NO_OP":
            state = "DELIVERED"
        elif delivery["kind"] != "WEBHOOK" or not delivery["url"]:
            state, error = (
                "FAILED",
                "only webhook integrations send: Slack notifications are not built",
            )
        else:
            body = delivery["body"].encode()
            headers = {
                "Content-Type": "application/json",
                "User-Agent": f"lablens/{__version__}",
                "X-Lablens-Event": delivery["event_type"],
                "X-Lablens-Delivery": str(delivery["pk"]),
                "X-Lablens-Automation": delivery["automation_id"],
            }
            if delivery["secret"]:
                headers[SIGNATURE_HEADER] = signature(delivery["secret"], body)
            try:
                answer = self._session.post(
                    delivery["url"],
                    data=body,
                    headers=headers,
                    timeout=TIMEOUT,
                    allow_redirects=False,
                )
                status = answer.status_code
                answer.close()
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"[:1000]
            if status is not None and 200 <= status < 300:
                state = "DELIVERED"
            elif status is not None and status < 500 and status not in _RETRIED:
                state = "FAILED"  # the receiver refuses it: trying again would not help
            else:
                state = "FAILED" if attempt >= ATTEMPTS else "PENDING"
        wait = min(MAX_BACKOFF, BACKOFF * 2 ** (attempt - 1))
        self.store.record_attempt(
            delivery["pk"],
            self.lease,
            status_code=status,
            error=error,
            duration_ms=(time.perf_counter() - started) * 1000,
            state=state,
            next_attempt_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)
            if state == "PENDING"
            else None,
        )
