"""The quickstart notebook the demo opens, and executing a notebook without JupyterLab.

``lablens demo --headless`` and the notebook tests execute notebooks with ``execute_notebook``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["QUICKSTART", "REPO_ROOT", "execute_notebook"]

# The repository root when running from a checkout (src layout): notebooks/ lives there.
REPO_ROOT = Path(__file__).resolve().parents[3]
QUICKSTART = REPO_ROOT / "notebooks" / "quickstart.ipynb"


def execute_notebook(path: Path, env: Mapping[str, str], *, timeout: int = 600) -> Any:
    """Execute a notebook in a fresh ``python3`` kernel of this Python, with ``env``.

    Args:
        path: the ``.ipynb`` file; it runs in its own directory and is not modified.
        env: the kernel's whole environment (e.g. ``os.environ`` plus ``LABLENS_HOST``).
        timeout: seconds allowed per cell.

    Returns:
        The executed ``nbformat`` notebook, with outputs.

    Raises:
        nbclient.exceptions.CellExecutionError: a cell raised; the message holds the traceback.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    client.execute(env=dict(env))
    return nb
