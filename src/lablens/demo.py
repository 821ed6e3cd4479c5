"""The demo: train small real models into a lablens server, then open the quickstart notebook.

``build_demo()`` trains a grid of ``MLPClassifier`` on scikit-learn's bundled digits (no download)
epoch by epoch and logs every epoch through the SDK, then each trained model's weights and its
validation predictions as artifacts. ``make demo`` and the tests share it, so the data the tests
check is the data a user sees.

``main()`` is ``lablens demo``: it starts a server on a free loopback port over ``--data``, builds
the demo data once (a data dir that already holds it is reused), then opens JupyterLab on
``notebooks/quickstart.ipynb``, or with ``--headless`` executes that notebook and exits.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lablens import _settings

__all__ = ["DEMO_PROJECT", "build_demo", "demo_configs", "execute_notebook", "main"]

DEMO_PROJECT = "digits-mlp"
# The artifacts each run makes and reads: the data set it used, the weights it trained (a version
# per run; "best" moves to the most accurate) and its predictions on the validation set.
DATASET, MODEL, PREDICTIONS = "digits", "mlp", "val-predictions"
DEFAULT_DATA = "demo-data"
# The repository root when running from a checkout (src layout): notebooks/ lives there.
REPO_ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = REPO_ROOT / "notebooks" / "quickstart.ipynb"

_HIDDEN = ([64], [128], [64, 32])
_LRS = (0.001, 0.003, 0.01)
_ALPHAS = (1e-4, 1e-2)
# Two deliberately bad settings, placed early so a small demo still shows them: a learning rate
# too small to learn in time (finishes, poor summary) and plain SGD at lr=2, which diverges and
# makes the run CRASHED. The first three runs are always good ones.
_SLOW = {"model": {"hidden": [64]}, "optim": {"name": "adam", "lr": 1e-5, "alpha": 1e-4}}
_DIVERGING = {"model": {"hidden": [64]}, "optim": {"name": "sgd", "lr": 2.0, "alpha": 1e-4}}
_BAD_AT = {3: _SLOW, 7: _DIVERGING}


class Diverged(RuntimeError):
    """A model's weights became non-finite: the training broke down (the demo makes one do so).

    Attributes:
        epoch: the epoch in which it happened.
    """

    def __init__(self, message: str, epoch: int) -> None:
        super().__init__(message)
        self.epoch = epoch


def demo_configs(runs: int = 20, epochs: int = 100) -> list[dict[str, Any]]:
    """The config of each demo run, in training order.

    A grid of hidden sizes x learning rates x L2 penalties (18 runs) with two bad settings mixed
    in; past 20 runs the grid repeats with a new seed.

    Args:
        runs: how many configs.
        epochs: epochs per run (recorded in the config).

    Returns:
        Nested dicts such as ``{"model": {"hidden": [64, 32], "activation": "relu"},
        "optim": {"name": "adam", "lr": 0.01, "alpha": 0.0001}, "batch_size": 64,
        "epochs": 100, "seed": 0, "data": {"name": "digits", "val_fraction": 0.25}}``.

    Example:
        >>> [c["optim"]["lr"] for c in demo_configs(3)]
        [0.001, 0.003, 0.01]
    """
    grid = [
        {"model": {"hidden": list(h)}, "optim": {"name": "adam", "lr": lr, "alpha": a}}
        for a in _ALPHAS
        for h in _HIDDEN
        for lr in _LRS
    ]
    for i in sorted(_BAD_AT):
        grid.insert(i, _BAD_AT[i])
    configs = []
    for i in range(runs):
        base = grid[i % len(grid)]
        configs.append(
            {
                "model": {"hidden": list(base["model"]["hidden"]), "activation": "relu"},
                "optim": dict(base["optim"]),
                "batch_size": 64,
                "epochs": epochs,
                "seed": i // len(grid),
                "data": {"name": "digits", "val_fraction": 0.25},
            }
        )
    return configs


def run_name(config: Mapping[str, Any]) -> str:
    """A readable run name, e.g. ``mlp-64x32-adam-lr0.01-a0.0001``."""
    hidden = "x".join(str(h) for h in config["model"]["hidden"])
    o = config["optim"]
    name = f"mlp-{hidden}-{o['name']}-lr{o['lr']:g}-a{o['alpha']:g}"
    return name if not config.get("seed") else f"{name}-s{config['seed']}"


def _tags(config: Mapping[str, Any]) -> list[str]:
    o = config["optim"]
    tags = ["demo", o["name"], "deep" if len(config["model"]["hidden"]) > 1 else "shallow"]
    if o["name"] == "sgd" or o["lr"] < 1e-4:
        tags.append("bad-setting")
    return tags


@dataclass
class _Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    classes: np.ndarray


def _load_digits(val_fraction: float = 0.25) -> _Data:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=val_fraction, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(x_train)
    return _Data(scaler.transform(x_train), y_train, scaler.transform(x_val), y_val, np.unique(y))


def _loss_and_acc(proba: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    # sklearn.metrics.log_loss and accuracy_score, without their input checks, which cost more
    # than the training epoch itself on data this small. Same clipping as log_loss.
    eps = np.finfo(proba.dtype).eps
    picked = np.clip(proba[np.arange(len(y)), y], eps, 1.0)
    return float(-np.log(picked).mean()), float((proba.argmax(axis=1) == y).mean())


def _train(run: Any, config: Mapping[str, Any], data: _Data) -> Any:
    """Train one model epoch by epoch, logging each epoch; raise ``Diverged`` if it blows up.

    Returns the trained ``MLPClassifier``.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    optim = config["optim"]
    model = MLPClassifier(
        hidden_layer_sizes=tuple(config["model"]["hidden"]),
        activation=config["model"]["activation"],
        solver=optim["name"],
        learning_rate_init=optim["lr"],
        alpha=optim["alpha"],
        batch_size=config["batch_size"],
        random_state=config["seed"],
    )
    best_acc, best_epoch = -math.inf, 0
    # Overflows of a diverging model are expected here, not worth a warning (and pytest turns
    # warnings into errors).
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        for epoch in range(1, config["epochs"] + 1):
            try:
                model.partial_fit(data.x_train, data.y_train, classes=data.classes)
            except ValueError as exc:  # "Solver produced non-finite parameter weights"
                run.summary["diverged_at_epoch"] = epoch
                raise Diverged(f"{run_name(config)}: epoch {epoch}: {exc}", epoch) from exc
            train_loss, train_acc = _loss_and_acc(model.predict_proba(data.x_train), data.y_train)
            val_loss, val_acc = _loss_and_acc(model.predict_proba(data.x_val), data.y_val)
            run.log(
                {
                    "train/loss": train_loss,
                    "train/acc": train_acc,
                    "val/loss": val_loss,
                    "val/acc": val_acc,
                },
                step=epoch,
            )
            if val_acc > best_acc:
                best_acc, best_epoch = val_acc, epoch
    run.summary.update({"best/val_acc": best_acc, "best/epoch": best_epoch})
    return model


def _dataset_artifact(val_fraction: float = 0.25) -> Any:
    """The digits as a ``dataset`` artifact: one table, pixels, label and split.

    Built the same way each time, so its content, and thus its version, is the same: every run
    uses ``digits:v0``.
    """
    import pandas as pd
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from lablens.sdk.artifacts import Artifact

    x, y = load_digits(return_X_y=True)
    _, val_idx = train_test_split(
        np.arange(len(y)), test_size=val_fraction, stratify=y, random_state=0
    )
    table = pd.DataFrame(x.astype(np.int8), columns=[f"pixel_{i}" for i in range(x.shape[1])])
    table["label"] = y.astype(np.int8)
    table["split"] = "train"
    table.loc[val_idx, "split"] = "val"
    artifact = Artifact(
        DATASET,
        "dataset",
        description="scikit-learn's digits: 8x8 images of handwritten digits, 0 to 16 per pixel",
        metadata={"rows": len(table), "val_fraction": val_fraction, "classes": 10},
    )
    artifact.add(table, "digits")
    return artifact


def _log_artifacts(
    run: Any, config: Mapping[str, Any], model: Any, data: _Data, best_so_far: float
) -> float:
    """Log the model's weights (``model``) and its validation predictions (``predictions``).

    The weights take the alias ``best`` when they beat ``best_so_far``; returns the new best.
    """
    import pandas as pd

    from lablens.sdk.artifacts import Artifact

    with np.errstate(all="ignore"):
        proba = model.predict_proba(data.x_val)
    predicted = proba.argmax(axis=1)
    val_acc = float((predicted == data.y_val).mean())
    facts = {
        "run": run_name(config),
        "hidden": list(config["model"]["hidden"]),
        "optimizer": config["optim"]["name"],
        "lr": config["optim"]["lr"],
        "alpha": config["optim"]["alpha"],
        "epochs": config["epochs"],
        "val_acc": val_acc,
    }
    weights = Artifact(MODEL, "model", description="MLPClassifier weights", metadata=facts)
    with weights.new_file("weights.npz", mode="xb") as f:
        layers = {f"coef_{i}": c for i, c in enumerate(model.coefs_)}
        layers.update({f"intercept_{i}": b for i, b in enumerate(model.intercepts_)})
        np.savez(f, **layers)
    with weights.new_file("config.json") as f:
        json.dump(config, f, indent=2)
    best = val_acc > best_so_far
    run.log_artifact(weights, aliases=["best"] if best else None, tags=[config["optim"]["name"]])

    table = pd.DataFrame(
        {
            "label": data.y_val,
            "predicted": predicted,
            "confidence": proba.max(axis=1),
            "correct": predicted == data.y_val,
        }
    )
    for digit in range(proba.shape[1]):
        table[f"p_{digit}"] = proba[:, digit]
    predictions = Artifact(
        PREDICTIONS,
        "predictions",
        description="the model's predictions on the validation set, with class probabilities",
        metadata={"run": run_name(config), "rows": len(table), "accuracy": val_acc},
    )
    predictions.add(table, "predictions")
    run.log_artifact(predictions)
    return max(val_acc, best_so_far)


def _best_logged(host: str, api_key: str | None, project: str) -> float:
    """The validation accuracy of the model that holds ``best``, or -inf when there is none."""
    from lablens.api import Api
    from lablens.errors import NotFound

    api = Api(host=host, api_key=api_key)
    try:
        return float(api.artifact(f"{project}/{MODEL}:best").metadata.get("val_acc", -math.inf))
    except NotFound:
        return -math.inf


def build_demo(
    host: str,
    api_key: str | None = None,
    *,
    runs: int = 20,
    epochs: int = 100,
    project: str = DEMO_PROJECT,
    progress: bool = True,
    skip: Collection[str] = (),
) -> list[str]:
    """Train ``runs`` small neural networks on the digits data set, logging each into ``host``.

    Each run is an ``MLPClassifier`` from ``demo_configs()``, trained with ``partial_fit`` one
    epoch at a time and logging ``train/loss``, ``train/acc``, ``val/loss`` (log loss) and
    ``val/acc`` at step = epoch. Its config is the nested grid entry; it is tagged ``demo``, the
    optimizer, ``shallow``/``deep`` (and ``bad-setting``), grouped by architecture (``h64x32``)
    and has job type ``train``. The run at lr=2 with plain SGD diverges and ends ``CRASHED``.
    20 runs of 100 epochs take 20 to 30 seconds on two idle cores.

    Artifacts: every run uses the ``dataset`` artifact ``digits`` (one table of pixels, labels
    and split; the same ``v0`` for all), and each run that finishes logs its weights as a
    version of the ``model`` artifact ``mlp`` (``weights.npz`` with the layers' coefficients and
    intercepts, ``config.json``; metadata with the hyperparameters and ``val_acc``; the alias
    ``best`` moves to the most accurate) and its validation predictions as a version of the
    ``predictions`` artifact ``val-predictions`` (a table: label, predicted, confidence,
    correct, and a probability per class).

    Args:
        host: the server's address, e.g. ``http://127.0.0.1:8123``.
        api_key: its API key; default ``LABLENS_API_KEY`` or the key stored for ``host``.
        runs: how many models to train.
        epochs: epochs per model.
        project: the project to log into (created if missing).
        progress: show a progress bar over the runs (on stderr).
        skip: names of runs not to train again (``lablens demo`` passes the ones already stored).

    Returns:
        The ids of the runs created, in training order.

    Example:
        >>> ids = build_demo("http://127.0.0.1:8123", runs=4, epochs=5, progress=False)
        >>> len(ids)
        4
    """
    from threadpoolctl import threadpool_limits
    from tqdm.auto import tqdm

    from lablens.sdk import init

    data = _load_digits()
    configs = [c for c in demo_configs(runs, epochs) if run_name(c) not in skip]
    ids: list[str] = []
    dataset = _dataset_artifact()
    best = _best_logged(host, api_key, project) if configs else -math.inf
    # The console copy would only capture the progress bar; system metrics are of no interest
    # for runs that last a second.
    settings = {"console": False, "system_interval": 0}
    # One BLAS thread: the matrices are tiny, and more threads only contend for the cores.
    with (
        threadpool_limits(1),
        tqdm(configs, desc="training", unit="run", disable=not progress) as bar,
    ):
        for config in bar:
            name = run_name(config)
            bar.set_postfix_str(name)
            try:
                with init(
                    project=project,
                    name=name,
                    config=config,
                    tags=_tags(config),
                    group="h" + "x".join(str(h) for h in config["model"]["hidden"]),
                    job_type="train",
                    host=host,
                    api_key=api_key,
                    settings=settings,
                ) as run:
                    ids.append(run.id)
                    run.use_artifact(dataset)
                    model = _train(run, config, data)
                    best = _log_artifacts(run, config, model, data, best)
            except Diverged as exc:
                if progress:
                    bar.write(f"{name} diverged at epoch {exc.epoch}, as intended: it is CRASHED")
    return ids


# -- lablens demo ----------------------------------------------------------------------------


def _finished_run_names(host: str, api_key: str | None, project: str) -> list[str]:
    """Names of the runs in ``project`` that ended (finished, crashed or aborted)."""
    from lablens.api import Api
    from lablens.errors import NotFound

    api = Api(host=host, api_key=api_key)
    try:
        runs = api.runs(
            f"{api.default_entity}/{project}", filters={"state": {"$ne": "RUNNING"}}, per_page=200
        )
        return [run.name for run in runs]
    except NotFound:
        return []


@contextlib.contextmanager
def demo_server(data_dir: Path, log_path: Path) -> Iterator[tuple[str, str | None]]:
    """Run ``lablens server`` over ``data_dir`` on a free loopback port; yield ``(url, key)``.

    The server writes its admin key into ``LABLENS_HOME/credentials`` for its address on each
    start; the key is read from there. The server is stopped on exit.
    """
    port = _settings.free_port()
    url = f"http://{_settings.LOCAL_HOST}:{port}"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lablens",
                "server",
                "--host",
                _settings.LOCAL_HOST,
                "--port",
                str(port),
                "--data",
                str(data_dir),
            ],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            # Its own session: Ctrl-C in the terminal reaches only this process, which stops
            # the server last, after JupyterLab.
            start_new_session=True,
        )
    try:
        try:
            _settings.wait_until_alive(url, timeout=60, proc=proc)
        except Exception:
            tail = log_path.read_text(errors="replace").splitlines()[-15:]
            print("\n".join(["lablens demo: the server did not start; its log ends:", *tail]))
            raise
        creds = _settings.stored_credentials(url) or {}
        yield url, creds.get("api_key")
    finally:
        _stop(proc)


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


def _stop(proc: subprocess.Popen) -> None:
    """Stop a child process: SIGTERM, then SIGKILL if it is still there after 20 seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _jupyter_lab(notebook: Path, env: Mapping[str, str]) -> int:
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
        _stop(proc)


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
        done = _finished_run_names(url, api_key, DEMO_PROJECT)
        if len(done) >= args.runs:
            print(f"lablens demo: {DEMO_PROJECT} already holds {len(done)} runs; not training")
        else:
            start = time.perf_counter()
            ids = build_demo(url, api_key, runs=args.runs, epochs=args.epochs, skip=set(done))
            print(
                f"lablens demo: trained {len(ids)} models of {args.epochs} epochs"
                f" in {time.perf_counter() - start:.1f}s"
            )
        stored = len(_finished_run_names(url, api_key, DEMO_PROJECT))
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
            code = _jupyter_lab(QUICKSTART, env)
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
