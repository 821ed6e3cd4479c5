"""The runs of this process not finished yet, and the exit hook that finishes them.

``init()`` registers each run it starts and ``Run.finish()`` forgets it, so both ``lifecycle.py``
and ``runs.py`` use this module and neither imports the other. Runs still open when the
interpreter exits are finished by an ``atexit`` handler: ``CRASHED`` if an exception ended the
program, ``ABORTED`` on Ctrl-C, else ``FINISHED``. A chained ``sys.excepthook`` tells which, since
``atexit`` alone cannot.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from types import TracebackType
from typing import Any, Protocol

__all__ = ["LiveRun", "current_run", "forget", "register"]


class LiveRun(Protocol):
    """What the registry needs of a run: its path, the process that made it, its finish."""

    path: str
    _pid: int

    def _finish(self, state: str, exit_code: int | None) -> Any: ...


_lock = threading.Lock()
_open: list[Any] = []
_exit_state: str | None = None
_hooks_installed = False


def current_run() -> Any:
    """The run started last by ``init()`` and not finished yet, or ``None``."""
    with _lock:
        return _open[-1] if _open else None


def register(run: LiveRun) -> None:
    """Hold ``run`` until it finishes; the first run installs the exit hooks."""
    global _hooks_installed
    with _lock:
        _open.append(run)
        if not _hooks_installed:
            _hooks_installed = True
            _previous = sys.excepthook

            def excepthook(
                exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
            ) -> None:
                global _exit_state
                _exit_state = "ABORTED" if issubclass(exc_type, KeyboardInterrupt) else "CRASHED"
                _previous(exc_type, exc, tb)

            sys.excepthook = excepthook
            atexit.register(_at_exit)


def forget(run: LiveRun) -> None:
    """Drop a finished run."""
    with _lock:
        if run in _open:
            _open.remove(run)


def _at_exit() -> None:
    state = _exit_state or "FINISHED"
    with _lock:
        runs = [r for r in reversed(_open) if r._pid == os.getpid()]  # not a fork's parent runs
    for run in runs:
        try:
            run._finish(state, None)
        except Exception as exc:  # the next run must still be finished
            print(f"lablens: could not finish run {run.path}: {exc}", file=sys.stderr)
