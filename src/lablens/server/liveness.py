"""The server's liveness watch: RUNNING runs that stopped sending heartbeats become CRASHED.

A training process killed with SIGKILL (or by the OOM killer, or with its node) cannot say it
ended; its run would stay RUNNING forever. This thread checks a few times per
``LABLENS_HEARTBEAT_TIMEOUT`` (``LIMITS.heartbeat_timeout``, 300 s by default) and marks the runs
silent for longer ``CRASHED``. A run marked so by mistake (a network partition, not a death) is
set back to ``RUNNING`` by its own SDK at its next heartbeat, as W&B does.
"""

from __future__ import annotations

import logging
import threading

from lablens.store.base import Store
from lablens.store.limits import LIMITS

log = logging.getLogger("lablens.server")

#: checks per timeout: a dead run is marked CRASHED at most a quarter timeout late.
CHECKS_PER_TIMEOUT = 4


class LivenessWatch:
    """A daemon thread calling ``store.crash_silent_runs`` until ``stop()``."""

    def __init__(self, store: Store, timeout: float | None = None) -> None:
        self.store = store
        self.timeout = LIMITS.heartbeat_timeout if timeout is None else timeout
        self.interval = min(60.0, max(0.25, self.timeout / CHECKS_PER_TIMEOUT))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lablens-liveness", daemon=True)

    def start(self) -> LivenessWatch:
        """Start checking; returns itself."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop checking (waits for a check under way)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def check(self) -> int:
        """One check: mark the silent runs; how many were marked."""
        marked = self.store.crash_silent_runs(self.timeout)
        if marked:
            log.warning(
                "marked %d run(s) CRASHED: no heartbeat for %gs (LABLENS_HEARTBEAT_TIMEOUT)",
                marked,
                self.timeout,
            )
        return marked

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # a failed check (a busy or closing store) must not end the watch
                log.warning("the liveness check failed", exc_info=True)
