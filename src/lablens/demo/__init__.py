"""The demo: train small real models into a lablens server, then open the quickstart notebook.

``build_demo()`` trains a grid of ``MLPClassifier`` on scikit-learn's bundled digits (no download)
epoch by epoch and logs every epoch through the SDK, then each trained model's weights and its
validation predictions as artifacts. ``make demo`` and the tests share it, so the data the tests
check is the data a user sees.

``main()`` is ``lablens demo``: it trains into the user's default lablens, the server a new
``lablens.Api()`` finds (``LABLENS_HOST``, else the local server of ``LABLENS_HOME``, started in
the background and left running), in the project ``digits-mlp``, once (a project that already
holds the runs is reused); then it opens JupyterLab on ``notebooks/quickstart.ipynb`` and prints
its URL last, or with ``--headless`` executes that notebook and prints where the runs are.
``--data DIR`` instead trains into a server of its own over ``DIR``, stopped at the end.

The parts: ``grid.py`` (the configs of the runs), ``training.py`` (``build_demo``), ``server.py``
(the server process), ``notebook.py`` (executing the quickstart), ``lab.py`` (JupyterLab).
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from pathlib import Path
from typing import Any

from lablens import _settings
from lablens.demo.grid import demo_configs, run_name
from lablens.demo.lab import jupyter_lab
from lablens.demo.notebook import QUICKSTART, REPO_ROOT, execute_notebook
from lablens.demo.server import demo_server, finished_run_names
from lablens.demo.training import (
    DATASET,
    DEMO_PROJECT,
    MODEL,
    PREDICTIONS,
    Diverged,
    build_demo,
)

__all__ = [
    "DATASET",
    "DEMO_PROJECT",
    "MODEL",
    "PREDICTIONS",
    "Diverged",
    "build_demo",
    "demo_configs",
    "demo_server",
    "execute_notebook",
    "main",
    "run_name",
]


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(args: argparse.Namespace) -> int:
    """``lablens demo``: build the demo data if needed, then open (or execute) the quickstart.

    Trains ``args.runs`` models into the project ``digits-mlp`` of the server ``lablens.Api()``
    finds (``LABLENS_HOST``, else the local server, started in the background and left running)
    unless it already holds that many ended runs, then runs JupyterLab on the quickstart notebook
    until Ctrl-C, its URL printed last, or with ``args.headless`` executes the notebook and prints
    where the runs are. With ``args.data``, a server of its own over that data dir is used
    instead, and stopped at the end; the data stays.

    Args:
        args: ``data`` (a data dir of its own, default none), ``runs``, ``epochs``, ``headless``.

    Returns:
        The exit code: 0; 1 when the notebook failed (headless) or cannot be found; 130 when
        interrupted while training or executing.
    """
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("lablens demo needs scikit-learn and JupyterLab: pip install 'lablens[demo]'")
        return 1
    if not QUICKSTART.exists():
        print(f"lablens demo: {QUICKSTART} not found; run it from a checkout of lablens")
        return 1
    # SIGTERM and SIGHUP (a closed terminal) end the demo the way Ctrl-C does, so the server and
    # JupyterLab, which run in sessions of their own, are stopped rather than left behind.
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return _demo(args)
    except KeyboardInterrupt:
        print("\nlablens demo: interrupted")
        return 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _default_server() -> tuple[str, str | None]:
    """The server ``lablens.Api()`` talks to: ``LABLENS_HOST``, else this user's local server,
    started in the background when none runs (it keeps running after the demo)."""
    if os.environ.get("LABLENS_HOST"):
        url = _settings.resolve_host()
        print(f"lablens demo: logging into {url} (LABLENS_HOST)")
    else:
        url = _settings.local_server(start=False)
        if url:
            print(f"lablens demo: logging into your local server {url}")
        else:
            url = _settings.resolve_host()
            print(
                f"lablens demo: started your local server {url} (data {_settings.home() / 'data'});"
                " it keeps running until: lablens server stop"
            )
    return url, _settings.resolve_api_key(url)


def _demo(args: argparse.Namespace) -> int:
    if not args.data:
        url, api_key = _default_server()
        # The kernel finds the server as any new Python process does: through LABLENS_HOME.
        return _train_and_show(args, url, api_key, dict(os.environ), data_dir=None)
    data_dir = Path(args.data).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    with demo_server(data_dir, log_path) as (url, api_key):
        print(f"lablens demo: a server of its own {url} (log {log_path}), data dir {data_dir}")
        env = {**os.environ, "LABLENS_HOST": url}
        if api_key:
            # Set as well, so a LABLENS_API_KEY of another server in the caller's environment
            # cannot shadow the demo server's key.
            env["LABLENS_API_KEY"] = api_key
        return _train_and_show(args, url, api_key, env, data_dir=data_dir)


def _train_and_show(
    args: argparse.Namespace,
    url: str,
    api_key: str | None,
    env: dict[str, str],
    *,
    data_dir: Path | None,
) -> int:
    """Train unless the project holds enough runs, then JupyterLab or (headless) the notebook;
    the last line printed is the URL to open, or where the runs are."""
    from lablens.api import Api

    entity = Api(host=url, api_key=api_key).default_entity
    project = f"{entity}/{DEMO_PROJECT}"
    done = finished_run_names(url, api_key, DEMO_PROJECT)
    if len(done) >= args.runs:
        print(f"lablens demo: {project} already holds {len(done)} runs; not training")
    else:
        start = time.perf_counter()
        ids = build_demo(url, api_key, runs=args.runs, epochs=args.epochs, skip=set(done))
        print(
            f"lablens demo: trained {len(ids)} models of {args.epochs} epochs"
            f" in {time.perf_counter() - start:.1f}s"
        )
    stored = len(finished_run_names(url, api_key, DEMO_PROJECT))
    if not args.headless:
        log = (data_dir or _settings.home()) / "jupyterlab.log"
        print(
            f"lablens demo: {stored} runs in {project}; starting JupyterLab on"
            f" {QUICKSTART.relative_to(REPO_ROOT)} ..."
        )
        return jupyter_lab(QUICKSTART, env, log)
    from nbclient.exceptions import CellExecutionError

    start = time.perf_counter()
    try:
        execute_notebook(QUICKSTART, env)
    except CellExecutionError as exc:
        print(f"lablens demo: {QUICKSTART.name} FAILED:\n{exc}")
        return 1
    print(f"lablens demo: {QUICKSTART.name} executed OK in {time.perf_counter() - start:.1f}s")
    if data_dir is None:
        print(
            f"lablens demo: {stored} runs in {project} on {url}; in a new Python:"
            f" lablens.Api().runs({project!r})"
        )
    else:
        print(
            f"lablens demo: {stored} runs in {project}, kept in {data_dir};"
            f" serve them with: lablens server --data {data_dir}"
        )
    return 0
