"""The console copy: what the script prints goes on to the terminal, ``output.log`` and the server.

``sys.stdout`` and ``sys.stderr`` are replaced by thin proxies that pass every write on to the
stream they replaced, then hand the text to the run. Output written straight to the file
descriptors (by C code or child processes) is not seen; that keeps this simple and safe.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

# Lines waiting for the sender, at most this many; beyond it the oldest are dropped (and counted),
# so a chatty script cannot fill the memory while the server is away.
MAX_PENDING_LINES = 100_000


class _Proxy:
    """Stands in for ``sys.stdout`` or ``sys.stderr``; every other attribute is the original's."""

    def __init__(self, stream: IO[str], name: str, sink: Callable[[str, str], None]) -> None:
        self._lablens_stream = stream
        self._lablens_name = name
        self._lablens_sink: Callable[[str, str], None] | None = sink

    def write(self, text: str) -> int:
        n = self._lablens_stream.write(text)
        sink = self._lablens_sink
        if sink is not None and text:
            # A failed copy must never break a print().
            with contextlib.suppress(Exception):
                sink(self._lablens_name, text)
        return n

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._lablens_stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lablens_stream, name)


class ConsoleCapture:
    """Copies stdout and stderr into ``path`` and into lines for the server, until ``stop()``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None
        self._lock = threading.Lock()
        self._partial = {"stdout": "", "stderr": ""}
        self._lines: list[dict[str, Any]] = []
        self.dropped = 0
        self._proxies: dict[str, _Proxy] = {}

    def start(self) -> None:
        """Put the proxies in place of ``sys.stdout`` and ``sys.stderr``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if stream is None:  # pythonw, some services: nothing to copy
                continue
            proxy = _Proxy(stream, name, self._write)
            self._proxies[name] = proxy
            setattr(sys, name, proxy)

    def stop(self) -> None:
        """Put the original streams back and keep the last unfinished line."""
        for name, proxy in self._proxies.items():
            proxy._lablens_sink = None
            # Someone may have wrapped our proxy in turn; then it stays, passing writes through.
            if getattr(sys, name) is proxy:
                setattr(sys, name, proxy._lablens_stream)
        self._proxies.clear()
        with self._lock:
            for stream, rest in self._partial.items():
                if rest:
                    self._add_line(stream, rest)
                    self._partial[stream] = ""
            if self._file is not None:
                self._file.close()
                self._file = None

    def _write(self, stream: str, text: str) -> None:
        with self._lock:
            if self._file is not None:
                self._file.write(text)
                if "\n" in text:
                    self._file.flush()
            text = self._partial[stream] + text
            *lines, self._partial[stream] = text.split("\n")
            for line in lines:
                self._add_line(stream, line)

    def _add_line(self, stream: str, line: str) -> None:
        self._lines.append({"ts": time.time(), "stream": stream, "line": line.rstrip("\r")})
        if len(self._lines) > MAX_PENDING_LINES:
            excess = len(self._lines) - MAX_PENDING_LINES
            del self._lines[:excess]
            self.dropped += excess

    def take(self) -> list[dict[str, Any]]:
        """The lines completed since the last call."""
        with self._lock:
            lines, self._lines = self._lines, []
        return lines
