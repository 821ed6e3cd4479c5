"""How often a password may be guessed: failed logins counted per username and per address.

A login whose username or client address already failed ``LIMITS.login_rate`` times in the last
minute is refused with 429 before its password is even checked, so a guesser learns nothing more
and costs no more hashing; it is refused the same way whether the username exists or not, so the
limit tells nobody which usernames exist. The counts live in this process: servers behind one
load balancer each keep their own.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

WINDOW = 60.0
# Bounds the memory a guesser naming endless usernames from endless addresses can cost.
MAX_TRACKED = 100_000


class LoginLimiter:
    """Failed attempts per key (``user:<name>``, ``addr:<ip>``) in a sliding one-minute window."""

    def __init__(self, rate: int, window: float = WINDOW) -> None:
        self.rate, self.window = rate, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, keys: list[str]) -> int | None:
        """Seconds until a login under these keys may be tried again, or ``None`` if it may now."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is not None and len(times) >= self.rate:
                    # The oldest failure that keeps the count at the limit has to age out.
                    wait = max(wait, times[len(times) - self.rate] + self.window - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, keys: list[str]) -> None:
        """Count a failed login against each key."""
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > MAX_TRACKED:
                for key in list(self._failures):
                    self._recent(key, now)
            for key in keys:
                times = self._failures.setdefault(key, deque())
                times.append(now)
                while len(times) > self.rate:
                    times.popleft()

    def succeeded(self, key: str) -> None:
        """Forget a key's failures (a username that signed in)."""
        with self._lock:
            self._failures.pop(key, None)
