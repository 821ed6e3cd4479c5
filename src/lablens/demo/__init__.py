"""The demo: train small real models into a lablens server, then open the quickstart notebook.

``build_demo()`` trains a grid of ``MLPClassifier`` on scikit-learn's bundled digits (no download)
epoch by epoch and logs every epoch through the SDK, then each trained model's weights and its
validation predictions as artifacts. ``make demo`` and the tests share it, so the data the tests
check is the data a user sees.

``main()`` is ``lablens demo``: it starts a server on a free loopback port over ``--data``, builds
the demo data once (a data dir that already holds it is reused), then opens JupyterLab on
``notebooks/quickstart.ipynb``, or with ``--headless`` executes that notebook and exits.

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

DEFAULT_DATA = "demo-data"


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(args: argparse.Namespace) -> int:
    """``lablens demo``: build the demo data if needed, then open (or execute) the quickstart.

    Starts a server over ``args.data`` on a free loopback port, trains ``args.runs`` models unless
    the data dir already holds that many ended runs, then runs JupyterLab on the quickstart
    notebook until Ctrl-C, or with ``args.headless`` executes the notebook. The server is
    stopped at the end; the data stays.

    Args:
        args: ``data`` (data dir, default ``demo-data``), ``runs``, ``epochs``, ``headless``.

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
        print("\nlablens demo: interrupted; the server is stopped")
        return 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _demo(args: argparse.Namespace) -> int:
    data_dir = Path(args.data or DEFAULT_DATA).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    with demo_server(data_dir, log_path) as (url, api_key):
        print(f"lablens demo: server {url} (log {log_path}), data dir {data_dir}")
        done = finished_run_names(url, api_key, DEMO_PROJECT)
        if len(done) >= args.runs:
            print(f"lablens demo: {DEMO_PROJECT} already holds {len(done)} runs; not training")
        else:
            start = time.perf_counter()
            ids = build_demo(url, api_key, runs=args.runs, epochs=args.epochs, skip=set(done))
            print(
                f"lablens demo: trained {len(ids)} models of {args.epochs} epochs"
                f" in {time.perf_counter() - start:.1f}s"
            )
        stored = len(finished_run_names(url, api_key, DEMO_PROJECT))
        env = {**os.environ, "LABLENS_HOST": url}
        if api_key:
            # Set as well, so a LABLENS_API_KEY of another server in the caller's environment
            # cannot shadow the demo server's key.
            env["LABLENS_API_KEY"] = api_key
        if not args.headless:
            print(
                f"lablens demo: {stored} runs in {DEMO_PROJECT}; opening JupyterLab on"
                f" {QUICKSTART.relative_to(REPO_ROOT)}. Ctrl-C stops JupyterLab and the server."
            )
            code = jupyter_lab(QUICKSTART, env)
        else:
            from nbclient.exceptions import CellExecutionError

            start = time.perf_counter()
            try:
                execute_notebook(QUICKSTART, env)
            except CellExecutionError as exc:
                print(f"lablens demo: {QUICKSTART.name} FAILED:\n{exc}")
                code = 1
            else:
                print(
                    f"lablens demo: {stored} runs stored in {DEMO_PROJECT};"
                    f" {QUICKSTART.name} executed OK in {time.perf_counter() - start:.1f}s"
                )
                code = 0
        print(f"lablens demo: stopping the server {url}; the data stays in {data_dir}")
    return code
