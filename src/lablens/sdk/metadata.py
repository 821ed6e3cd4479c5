"""What a run records about where it ran: machine, Python, git, command line, packages.

Everything here is collected once per process and cached, so ``lablens.init()`` stays fast;
``conda()`` (the slow one) runs off the caller's thread.
"""

from __future__ import annotations

import datetime
import functools
import getpass
import importlib.metadata
import os
import platform
import shutil
import socket
import subprocess
import sys
from typing import Any

import psutil


def _output(argv: list[str], timeout: float) -> str | None:
    """What a command printed, or ``None`` when it failed, printed nothing or took too long."""
    try:
        out = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 and out.stdout.strip() else None


def _git(*args: str, timeout: float = 2.0) -> str | None:
    out = _output(["git", *args], timeout)
    return out.strip() if out is not None else None


@functools.cache
def git_info() -> dict[str, str]:
    """``{"commit", "branch", "remote"}`` of the git checkout in the current directory, if any.

    Missing parts (no remote, a detached head, no git at all) are left out; outside a repository
    the dict is empty.
    """
    # One call for the commit and the branch: `git` costs a few milliseconds per start.
    head = _git("rev-parse", "HEAD", "--abbrev-ref", "HEAD")
    if not head:
        return {}
    info: dict[str, str] = {}
    lines = head.splitlines()
    info["commit"] = lines[0]
    if len(lines) > 1 and lines[1] != "HEAD":
        info["branch"] = lines[1]
    remote = _git("config", "--get", "remote.origin.url")
    if remote:
        info["remote"] = remote
    return info


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


@functools.cache
def _machine() -> dict[str, Any]:
    return {
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "host": socket.gethostname(),
        "cpu_count": psutil.cpu_count(logical=False),
        "cpu_count_logical": psutil.cpu_count(logical=True),
        "cpu_model": _cpu_model(),
        "memory": {"total": psutil.virtual_memory().total},
        "executable": sys.executable,
    }


def collect() -> dict[str, Any]:
    """The metadata of the run this process starts now.

    Returns:
        ``{"os", "python", "python_implementation", "host", "cpu_count", "cpu_count_logical",
        "cpu_model", "memory": {"total"}, "executable", "args", "program", "root", "startedAt",
        "git": {"commit", "branch", "remote"}, "conda_env", "username"}``; a part that cannot be
        found is ``None`` (``git`` is ``{}`` outside a repository).
    """
    try:
        username: str | None = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry, as in some containers
        username = None
    main = sys.modules.get("__main__")
    program = getattr(main, "__file__", None) if main is not None else None
    return {
        **_machine(),
        "args": list(sys.argv[1:]),
        "program": program or (sys.argv[0] if sys.argv and sys.argv[0] else None),
        "root": os.getcwd(),
        "startedAt": datetime.datetime.now(datetime.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "git": git_info(),
        "conda_env": os.environ.get("CONDA_DEFAULT_ENV"),
        "username": username,
    }


@functools.cache
def requirements() -> str:
    """The installed distributions as ``name==version`` lines, sorted, like ``pip freeze``."""
    found: set[str] = set()
    for dist in importlib.metadata.distributions():
        name, version = _name_version(dist)
        if name:
            found.add(f"{name}=={version}")
    return "\n".join(sorted(found, key=str.lower))


def _name_version(dist: importlib.metadata.Distribution) -> tuple[str | None, str | None]:
    """A distribution's ``Name`` and ``Version``, read from the head of its metadata.

    ``dist.metadata`` parses the whole file with the email parser, long description included:
    ~0.1-0.4 s for a few hundred distributions, which the first ``init()`` of a process paid.
    Both fields are single-line headers before the first blank line.
    """
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    name = version = None
    for line in text.splitlines():
        if not line:
            break  # the end of the headers
        if line.startswith("Name:"):
            name = line[5:].strip()
        elif line.startswith("Version:"):
            version = line[8:].strip()
        if name and version:
            break
    return name, version


def in_conda() -> bool:
    """Whether ``conda()`` can have an answer: a conda environment is active and ``conda`` is
    on the PATH (outside one, no thread is started to ask)."""
    return bool(os.environ.get("CONDA_PREFIX")) and shutil.which("conda") is not None


@functools.cache
def conda(timeout: float = 15.0) -> str | None:
    """``conda env export`` of the active environment, or ``None`` outside conda.

    Runs only when ``CONDA_PREFIX`` is set and ``conda`` is on the PATH, and gives up after
    ``timeout`` seconds (``conda`` can be slow to start).
    """
    prefix = os.environ.get("CONDA_PREFIX")
    exe = shutil.which("conda")
    if not prefix or not exe:
        return None
    return _output([exe, "env", "export", "--prefix", prefix], timeout)
