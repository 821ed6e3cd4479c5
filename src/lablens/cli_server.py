"""``lablens server start|stop|status``: the local server that ``init()`` and ``Api()`` start in
the background (``LABLENS_HOME/server.json``), seen and ended from a terminal."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

import requests

from lablens import _settings

__all__ = ["server_start", "server_status", "server_stop"]

_INFO = "server.json"


def _info() -> dict[str, Any]:
    return _settings._read(_settings.home() / _INFO)


def _proc_state(pid: int) -> str | None:
    """The kernel's state letter of ``pid`` (``Z`` for a zombie), ``None`` when it is gone, or
    ``"?"`` where ``/proc`` does not exist and only its existence can be told."""
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            # "pid (comm) S ...": the state follows the last ')', as comm may hold spaces.
            return stat.read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return "?"
    return "?"


def _running(pid: int) -> bool:
    return _proc_state(pid) not in (None, "Z")


def _is_lablens_server(pid: int) -> bool:
    """Whether ``pid`` still runs ``lablens server`` (and not another program that was given
    the same pid after the server ended). Where ``/proc`` is missing, trusts the pid."""
    if not Path("/proc/self/cmdline").exists():
        return True
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    return b"lablens" in argv and b"server" in argv


def _version(url: str) -> str | None:
    with contextlib.suppress(requests.RequestException, ValueError):
        return requests.get(url + "/health", timeout=2).json().get("version")
    return None


def server_status() -> int:
    """Print whether the local server runs: its address, pid, data dir, log and user.

    Returns:
        0 when it runs, 1 when it does not (as ``systemctl status`` tells by its exit code).
    """
    home = _settings.home()
    info = _info()
    url = info.get("url")
    code = 1
    if url and _settings.is_alive(url):
        creds = _settings.stored_credentials(url) or {}
        version = _version(url)
        print(f"The local server runs at {url} (pid {info.get('pid')}, lablens {version}).")
        print(f"  data dir: {info.get('data')}")
        print(f"  log:      {home / 'server.log'}")
        if creds.get("username"):
            print(f"  signed in as {creds['username']} (key in {home / 'credentials'})")
        print("  stop it with: lablens server stop")
        code = 0
    else:
        print(f"No local server runs (LABLENS_HOME {home}).")
        print("  lablens.Api() and lablens.init() start one; so does: lablens server start")
    host = os.environ.get("LABLENS_HOST")
    if host:
        host = _settings.normalize_host(host)
        alive = "answers" if _settings.is_alive(host) else "does not answer"
        print(f"LABLENS_HOST points clients at {host}, which {alive}.")
    return code


def server_start() -> int:
    """Start the local server in the background, as ``lablens.Api()`` does, unless it runs.

    Returns:
        0 once it answers.
    """
    before = _info().get("url")
    running = before is not None and _settings.is_alive(before)
    url = _settings.local_server(start=True)
    info = _info()
    if running:
        print(f"The local server already runs at {url} (pid {info.get('pid')}).")
    else:
        print(f"Started the local server at {url} (pid {info.get('pid')}).")
    print(f"  data dir: {info.get('data')}")
    print(f"  log:      {_settings.home() / 'server.log'}")
    return 0


def server_stop(timeout: float = 20.0) -> int:
    """Stop the local server: SIGTERM, then SIGKILL if it is still there after ``timeout``.

    Its data stays; the next ``lablens.Api()`` or ``lablens.init()`` starts it again.

    Returns:
        0 when it is stopped (or was not running), 1 when it could not be stopped.
    """
    with _settings._locked("server.lock"):
        info = _info()
        url, pid = info.get("url"), info.get("pid")
        path = _settings.home() / _INFO
        if not pid or not _running(pid) or not _is_lablens_server(pid):
            path.unlink(missing_ok=True)
            print(f"No local server runs (LABLENS_HOME {_settings.home()}); nothing to stop.")
            return 0
        try:
            os.kill(pid, signal.SIGTERM)
            if not _wait_gone(pid, timeout):
                os.kill(pid, signal.SIGKILL)
                _wait_gone(pid, 5)
        except ProcessLookupError:
            pass
        except PermissionError:
            print(f"lablens server stop: pid {pid} belongs to another user; not stopped")
            return 1
        if _running(pid):
            print(f"lablens server stop: pid {pid} did not end")
            return 1
        path.unlink(missing_ok=True)
    print(f"Stopped the local server {url} (pid {pid}); its data stays in {info.get('data')}.")
    return 0


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _running(pid):
            return True
        time.sleep(0.05)
    return not _running(pid)
