"""JupyterLab on the demo's notebook, until it exits or Ctrl-C."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from lablens._settings import stop_process
from lablens.demo.notebook import REPO_ROOT

__all__ = ["jupyter_lab"]


def jupyter_lab(notebook: Path, env: Mapping[str, str]) -> int:
    """Run JupyterLab on ``notebook`` until it exits or Ctrl-C."""
    command = [sys.executable, "-m", "jupyter", "lab", str(notebook.relative_to(REPO_ROOT))]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers often run as root, where JupyterLab refuses to start without this flag.
        command.append("--allow-root")
    # Its own session, so Ctrl-C reaches only this process, which then stops JupyterLab (no
    # "Shutdown this Jupyter server (y/[n])?" prompt) and the server, in that order.
    proc = subprocess.Popen(command, cwd=REPO_ROOT, env=dict(env), start_new_session=True)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        print("\nlablens demo: stopping JupyterLab and the server ...")
        return 0
    finally:
        stop_process(proc)
