"""JupyterLab on the demo's notebook, in the background until Ctrl-C; its URL is printed last."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import requests

from lablens._settings import LOCAL_HOST, free_port, stop_process
from lablens.demo.notebook import REPO_ROOT

__all__ = ["jupyter_lab", "lab_command"]


def lab_command(notebook: Path, port: int, token: str) -> list[str]:
    """The ``jupyter lab`` command line: on ``port`` of the loopback, with ``token``, no browser
    (the demo prints the URL to open as its last line)."""
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        str(notebook.relative_to(REPO_ROOT)),
        "--no-browser",
        f"--ServerApp.ip={LOCAL_HOST}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers often run as root, where JupyterLab refuses to start without this flag.
        command.append("--allow-root")
    return command


def _wait_ready(proc: subprocess.Popen, url: str, token: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").splitlines()[-15:]
            raise RuntimeError("\n".join(["JupyterLab exited; its log ends:", *tail]))
        try:
            if requests.get(f"{url}/api/status", params={"token": token}, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"JupyterLab did not answer at {url} within {timeout:.0f}s (log {log})")


def jupyter_lab(notebook: Path, env: Mapping[str, str], log: Path) -> int:
    """Run JupyterLab on ``notebook`` until it exits or Ctrl-C; print the URL to open last.

    JupyterLab's own output goes to ``log``, so the terminal keeps only the demo's lines.
    """
    port, token = free_port(), secrets.token_hex(24)
    base = f"http://{LOCAL_HOST}:{port}"
    with open(log, "ab") as out:
        # Its own session, so Ctrl-C reaches only this process, which then stops JupyterLab
        # (no "Shutdown this Jupyter server (y/[n])?" prompt).
        proc = subprocess.Popen(
            lab_command(notebook, port, token),
            cwd=REPO_ROOT,
            env=dict(env),
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _wait_ready(proc, base, token, log, timeout=120)
        rel = notebook.relative_to(REPO_ROOT).as_posix()
        print(f"lablens demo: JupyterLab runs (log {log}); Ctrl-C stops it. Open:")
        print(f"{base}/lab/tree/{rel}?token={token}", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        print("\nlablens demo: stopping JupyterLab ...")
        return 0
    finally:
        stop_process(proc)
