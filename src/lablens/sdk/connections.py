"""Senders' HTTP sessions kept between the runs of one process.

A sweep, a cross-validation or an evaluation job makes many short runs one after the other;
each run's sender opened its own connection to the server, and the server accepted it and
closed it again, for one request. A sender that stops hands its session back here, with its
keep-alive connection, and the next run's sender to the same server with the same key takes it.
A session is only ever used by one sender thread at a time (``requests`` sessions are not meant
to be shared across threads).
"""

from __future__ import annotations

import threading
import time

from lablens.transport import Transport

__all__ = ["release", "sender_transport"]

# Sessions idle longer than this are closed rather than reused: the server drops a keep-alive
# connection after 5 s of silence (uvicorn's default), and a sender sends without retries.
MAX_IDLE = 2.0
# At most this many idle sessions per server and key: one per run running at once is plenty.
MAX_KEPT = 4

_lock = threading.Lock()
_idle: dict[tuple[str, str | None], list[tuple[float, Transport]]] = {}


def sender_transport(host: str, api_key: str | None) -> Transport:
    """A session for a run's sender: an idle one to ``host`` with ``api_key``, else a new one."""
    key = (host.rstrip("/"), api_key)
    now = time.monotonic()
    stale: list[Transport] = []
    found: Transport | None = None
    with _lock:
        kept = _idle.get(key, [])
        while kept:
            since, transport = kept.pop()
            if now - since <= MAX_IDLE:
                found = transport
                break
            stale.append(transport)
    for transport in stale:
        transport.close()
    # retries=0: the sender retries by itself (same batch id), within finish()'s deadline.
    return found or Transport(host, api_key, timeout=60.0, retries=0)


def release(transport: Transport) -> None:
    """Hand a stopped sender's session back for the next run (or close it when enough are kept)."""
    key = (transport.base_url, transport.api_key)
    with _lock:
        kept = _idle.setdefault(key, [])
        if len(kept) < MAX_KEPT:
            kept.append((time.monotonic(), transport))
            return
    transport.close()
