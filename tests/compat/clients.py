"""The real ``wandb`` and ``swanlab`` packages, each in its own venv under ``.compat/`` (made by
``make compat``), driven as child processes against a real lablens server.

Their venvs are separate from ours so that their pinned dependencies never meet lablens's.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Resolved: the client scripts run in other working directories.
COMPAT_DIR = Path(os.environ.get("LABLENS_COMPAT_DIR", ROOT / ".compat")).resolve()


def client_python(name: str) -> Path:
    """The python of the venv that holds the client ``name`` (``wandb`` or ``swanlab``)."""
    python = COMPAT_DIR / name / "bin" / "python"
    if not python.exists():
        raise RuntimeError(f"{python} is missing: `make compat` makes the {name} venv")
    return python


def run_client(
    name: str,
    script: str,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """Run ``script`` (dedented) with the client's python; its output captured as text.

    The environment is ours with the client's own settings removed, plus ``env``.
    """
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SWANLAB_", "LABLENS_"))
    }
    return subprocess.run(
        [str(client_python(name)), "-c", textwrap.dedent(script)],
        env={**base, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def client_json(
    name: str,
    script: str,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
) -> Any:
    """Run ``script``, which prints one JSON document as its last line, and return it.

    A failing script raises with its output, so a test names what the client said.
    """
    done = run_client(name, script, env=env, cwd=cwd, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(
            f"{name} script exited {done.returncode}\n--- stdout\n{done.stdout[-4000:]}"
            f"\n--- stderr\n{done.stderr[-8000:]}"
        )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])
