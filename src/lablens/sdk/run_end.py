"""How a run ends: ``run.finish()``, the ``with`` block, and the exit hook's finish.

Finishing stops the run's threads, writes the final state to the run's log after what is still
queued, and sends all of it as one request (the last points, the summary, the exit code and the
state), retrying until the flush timeout; when ``finish()`` returns, the server has stored it.
What cannot be sent in time stays in the log for ``lablens sync``. A run the server refused
(its creation travels with its first records: a missing workspace, one the key may not write)
raises that refusal here.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import warnings
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from lablens.sdk import live_runs

if TYPE_CHECKING:
    from lablens.sdk.console import ConsoleCapture
    from lablens.sdk.sender import Sender
    from lablens.sdk.settings import Settings
    from lablens.sdk.system import SystemMonitor
    from lablens.sdk.wal import WriteAheadLog
    from lablens.transport import Transport

__all__ = ["EXIT_CODES", "FinishesOnExit", "RunEnding"]

# Exit codes sent with the final state when none is given.
EXIT_CODES = {"FINISHED": 0, "CRASHED": 1, "ABORTED": 130}  # 130 = 128 + SIGINT, as shells do


class FinishesOnExit:
    """``with`` a run: it ends FINISHED, ABORTED on Ctrl-C, CRASHED on another exception."""

    def _finish(self, state: str, exit_code: int | None) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self._finish("FINISHED", None)
        elif issubclass(exc_type, KeyboardInterrupt):
            self._finish("ABORTED", None)
        else:
            self._finish("CRASHED", None)


class RunEnding(FinishesOnExit):
    """``finish()`` and the context manager of the SDK's ``Run``. A mixin, so ``runs.py`` stays
    the size of one resource."""

    if TYPE_CHECKING:
        id: str
        path: str
        host: str | None
        offline: bool
        dir: Path
        settings: Settings
        _state: str
        _closed: bool
        _finish_lock: threading.Lock
        _api_path: str
        _transport: Transport
        _sender: Sender
        _wal: WriteAheadLog
        _system: SystemMonitor | None
        _console: ConsoleCapture | None
        _card: Any

    @property
    def state(self) -> str:
        """``"running"``, or how it ended: ``"finished"``, ``"crashed"`` or ``"aborted"``."""
        return self._state

    def finish(self, exit_code: int | None = None, *, timeout: float | None = None) -> None:
        """Send everything still queued, mark the run finished, and stop its threads.

        Safe to call twice; the second call does nothing. At interpreter exit, runs still open
        are finished this way (``CRASHED`` after an uncaught exception, ``ABORTED`` after
        Ctrl-C).

        Args:
            exit_code: the script's exit code; anything but 0 marks the run ``CRASHED``.
            timeout: seconds to keep trying to reach the server (default
                ``settings.flush_timeout``, 60). What is still unsent then stays in the run's log
                under ``run.dir``, and a warning says to upload it with ``lablens sync``.

        Raises:
            lablens.errors.ApiError: the server refused the run itself, which ``init()`` did
                not wait for: ``NotFound`` (a missing workspace), ``PermissionDenied`` (a
                workspace the key may not write), ``Conflict`` (a run with this ``id`` exists),
                ``Unauthorized`` (a wrong or revoked key). The message names it. The run's
                threads are stopped and its log kept.

        Warns:
            RuntimeWarning: when the server refused points (they are lost, and counted), or
                when data is left for ``lablens sync``.
        """
        state = "FINISHED" if not exit_code else "CRASHED"
        self._finish(state, exit_code, timeout=timeout)

    def _finish(self, state: str, exit_code: int | None, *, timeout: float | None = None) -> None:
        with self._finish_lock:
            if self._closed:
                return
            self._closed = True
        if exit_code is None:
            exit_code = EXIT_CODES[state]
        timeout = self.settings.flush_timeout if timeout is None else timeout
        if self._system is not None:
            self._system.stop()
        if self._console is not None:
            self._console.stop()
        self._sender.end(state, exit_code, dt.datetime.now(dt.UTC).isoformat())
        self._sender.close(timeout)
        unsent = self._sender.unsent or (not self.offline and not self._sender.end_sent)
        fatal = self._sender.fatal
        self._wal.close()
        self._state = state.lower()
        live_runs.forget(self)
        card = self._card
        if card is not None:
            # The notebook's card becomes the run's summary; a terminal gets its last line
            # (for an offline run, with the command that uploads it).
            try:
                card.finish(points=self._wal.points)
            except Exception as exc:  # showing it must not fail the finish
                print(f"lablens: could not show how run {self.path} ended: {exc}", file=sys.stderr)
        elif self.offline and not self.settings.silent:
            print(
                f"lablens: offline run {self.id} ({self._wal.points:,} points) is kept in "
                f"{self.dir}; upload it with: lablens sync {self.dir}",
                file=sys.stderr,
            )
        if fatal is not None:
            raise fatal
        if unsent and not self.offline:
            points = self._sender.unsent_points
            what = f"{points:,} points and the run's last updates" if points else "its last updates"
            warnings.warn(
                f"lablens: the server at {self.host} could not be reached in {timeout:g}s; "
                f"{what} are kept in the run's log {self._wal.path}; upload them with: "
                f"lablens sync {self.dir}",
                RuntimeWarning,
                stacklevel=3,
            )
        if self._sender.dropped_points:
            warnings.warn(
                f"lablens: the server refused {self._sender.dropped_points:,} points of run "
                f"{self.path}; they are lost (see the warnings logged above)",
                RuntimeWarning,
                stacklevel=3,
            )
