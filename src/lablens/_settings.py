"""Where lablens keeps per-user state, and how a client finds its server and key.

Everything lives under ``LABLENS_HOME`` (default ``~/.lablens``):

- ``credentials``: JSON ``{"hosts": {"http://127.0.0.1:8123": {"api_key", "username"}}}``,
  written by a server on its first start and by ``lablens login``;
- ``server.json``: the local server this user started (``url``, ``pid``, ``data``);
- ``data/``: the default data dir of that local server.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from lablens.errors import ConnectionFailed

LOCAL_HOST = "127.0.0.1"


def home() -> Path:
    """The directory of per-user state: ``LABLENS_HOME`` or ``~/.lablens``."""
    return Path(os.environ.get("LABLENS_HOME") or Path.home() / ".lablens")


def normalize_host(host: str) -> str:
    """``127.0.0.1:8000``, ``http://localhost:8000/`` -> ``http://127.0.0.1:8000``."""
    host = host.strip().rstrip("/")
    if "://" not in host:
        host = "http://" + host
    parts = urlsplit(host)
    netloc = parts.netloc.replace("localhost", LOCAL_HOST)
    return f"{parts.scheme}://{netloc}{parts.path}".rstrip("/")


def _write_private(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    # 0600: the file holds API keys.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


@contextlib.contextmanager
def _locked(name: str):
    path = home() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def stored_credentials(host: str) -> dict[str, Any] | None:
    """The stored ``{"api_key", "username"}`` for a server address, if any."""
    return _read(home() / "credentials").get("hosts", {}).get(normalize_host(host))


def store_credentials(host: str, api_key: str, username: str | None = None) -> None:
    """Remember the key for a server address (what ``lablens login`` does)."""
    with _locked("credentials.lock"):
        data = _read(home() / "credentials")
        data.setdefault("hosts", {})[normalize_host(host)] = {
            "api_key": api_key,
            "username": username,
        }
        _write_private(home() / "credentials", data)


def resolve_api_key(host: str, api_key: str | None = None) -> str | None:
    """The key to send: the one given, else ``LABLENS_API_KEY``, else the stored one."""
    if api_key:
        return api_key
    if os.environ.get("LABLENS_API_KEY"):
        return os.environ["LABLENS_API_KEY"]
    creds = stored_credentials(host)
    return creds.get("api_key") if creds else None


def is_alive(url: str, timeout: float = 1.0) -> bool:
    """True when a lablens server answers ``/health`` at ``url``."""
    try:
        r = requests.get(url + "/health", timeout=timeout)
        return r.ok and r.json().get("status") == "ok"
    except (requests.RequestException, ValueError):
        return False


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((LOCAL_HOST, 0))
        return s.getsockname()[1]


def _spawn_detached(argv: list[str], log: Path) -> int:
    """Start a process in its own session that outlives this one; its output goes to ``log``.

    A plain pid rather than a ``Popen``: the child is meant to outlive the object, which
    ``Popen`` would report as a leak.
    """
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        return os.posix_spawn(
            argv[0],
            argv,
            os.environ,
            setsid=True,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, fd, 1),
                (os.POSIX_SPAWN_DUP2, fd, 2),
            ],
        )
    finally:
        os.close(fd)


def _exited(pid: int) -> int | None:
    """The exit code of our child ``pid`` if it has ended, else ``None``."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status) if done else None


def wait_until_alive(
    url: str, timeout: float, proc: subprocess.Popen | None = None, pid: int | None = None
) -> None:
    """Wait for ``/health`` at ``url``; raise ``ConnectionFailed`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_alive(url, timeout=0.5):
            return
        code = proc.poll() if proc is not None else (_exited(pid) if pid else None)
        if code is not None:
            raise ConnectionFailed(f"the lablens server at {url} exited with code {code}")
        time.sleep(0.05)
    raise ConnectionFailed(f"the lablens server at {url} did not start within {timeout:.0f}s")


def server_argv(port: int | str, data_dir: Path | str, host: str = LOCAL_HOST) -> list[str]:
    """The command line of ``lablens server`` on ``host:port`` over ``data_dir``, run by this
    Python (the local server, the demo's, the tests' and the benchmarks' all start this way)."""
    return [
        sys.executable,
        "-m",
        "lablens",
        "server",
        "--host",
        host,
        "--port",
        str(port),
        "--data",
        str(data_dir),
    ]


def stop_process(proc: subprocess.Popen) -> None:
    """Stop a child process: SIGTERM, then SIGKILL if it is still there after 20 seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def local_server(start: bool = True) -> str | None:
    """The URL of this user's local server; start one detached when none runs.

    The server runs on 127.0.0.1 with the data dir ``LABLENS_HOME/data`` and outlives the
    process that started it, as a notebook kernel restart should not stop it.
    """
    with _locked("server.lock"):
        info = _read(home() / "server.json")
        if info.get("url") and is_alive(info["url"]):
            return info["url"]
        if not start:
            return None
        port = free_port()
        url = f"http://{LOCAL_HOST}:{port}"
        data = home() / "data"
        pid = _spawn_detached(
            server_argv(port, data),
            home() / "server.log",
        )
        wait_until_alive(url, timeout=60, pid=pid)
        _write_private(home() / "server.json", {"url": url, "pid": pid, "data": str(data)})
        return url


def resolve_host(host: str | None = None, *, start: bool = True) -> str:
    """The server to talk to: ``host``, else ``LABLENS_HOST``, else the local server."""
    if host:
        return normalize_host(host)
    if os.environ.get("LABLENS_HOST"):
        return normalize_host(os.environ["LABLENS_HOST"])
    url = local_server(start=start)
    if url is None:
        raise ConnectionFailed("no lablens server runs; start one with `lablens server`")
    return url
