"""Training the demo's models into a lablens server: ``build_demo()``.

Each run trains an ``MLPClassifier`` on scikit-learn's bundled digits (no download) epoch by
epoch, logging every epoch through the SDK, then its weights and its validation predictions as
artifacts. ``make demo`` and the tests share it, so the data the tests check is the data a user
sees.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from lablens.demo.grid import SWEEP_NAME, demo_configs, demo_sweep, in_sweep, run_name, tags

__all__ = ["DATASET", "DEMO_PROJECT", "MODEL", "PREDICTIONS", "Diverged", "build_demo"]

DEMO_PROJECT = "digits-mlp"
# The artifacts each run makes and reads: the data set it used, the weights it trained (a version
# per run; "best" moves to the most accurate) and its predictions on the validation set.
DATASET, MODEL, PREDICTIONS = "digits", "mlp", "val-predictions"


class Diverged(RuntimeError):
    """A model's weights became non-finite: the training broke down (the demo makes one do so).

    Attributes:
        epoch: the epoch in which it happened.
    """

    def __init__(self, message: str, epoch: int) -> None:
        super().__init__(message)
        self.epoch = epoch


@dataclass
class _Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    classes: np.ndarray
    val_images: np.ndarray  # the validation digits as 8x8 grayscale, ink dark on white


def _load_digits(val_fraction: float = 0.25) -> _Data:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=val_fraction, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(x_train)
    images = (255 - np.clip(x_val * 16, 0, 255)).astype(np.uint8).reshape(-1, 8, 8)
    return _Data(
        scaler.transform(x_train), y_train, scaler.transform(x_val), y_val, np.unique(y), images
    )


def _loss_and_acc(proba: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    # sklearn.metrics.log_loss and accuracy_score, without their input checks, which cost more
    # than the training epoch itself on data this small. Same clipping as log_loss.
    eps = np.finfo(proba.dtype).eps
    picked = np.clip(proba[np.arange(len(y)), y], eps, 1.0)
    return float(-np.log(picked).mean()), float((proba.argmax(axis=1) == y).mean())


def _media_epochs(epochs: int) -> set[int]:
    """The epochs that log media: the first, every tenth of the run, and the last (with 5
    epochs, each one), so the media panel's step slider has several stops."""
    every = max(math.ceil(epochs / 10), 1)
    return {1, epochs, *range(every, epochs + 1, every)}


def _media(model: Any, proba: np.ndarray, data: _Data) -> dict[str, Any]:
    """What an epoch logs beside its numbers: up to 8 misclassified validation digits (enlarged
    to 32x32, captioned ``pred 3 / true 5``), the confusion matrix as a table, and a histogram
    of the first layer's weights."""
    from lablens.sdk.media import Histogram, Image
    from lablens.sdk.media_table import Table

    predicted = proba.argmax(axis=1)
    media: dict[str, Any] = {}
    wrong = np.flatnonzero(predicted != data.y_val)[:8]
    if len(wrong):
        media["val/misclassified"] = [
            # Nearest-neighbour enlargement: each pixel a 4x4 block, sharp at any zoom.
            Image(
                np.kron(data.val_images[i], np.ones((4, 4), dtype=np.uint8)),
                caption=f"pred {predicted[i]} / true {data.y_val[i]}",
            )
            for i in wrong
        ]
    k = len(data.classes)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (data.y_val, predicted), 1)
    media["val/confusion"] = Table(
        columns=["true", *(f"p{c}" for c in data.classes)],
        data=[[int(c), *row] for c, row in zip(data.classes, confusion.tolist(), strict=True)],
    )
    media["weights/layer1"] = Histogram(model.coefs_[0], num_bins=32)
    return media


def _train(run: Any, config: Mapping[str, Any], data: _Data) -> Any:
    """Train one model epoch by epoch, logging each epoch; raise ``Diverged`` if it blows up.

    At a few epochs (``_media_epochs``) it also logs media: misclassified digits as images
    (``val/misclassified``), the confusion matrix (``val/confusion``) and the first layer's
    weights as a histogram (``weights/layer1``).

    Returns the trained ``MLPClassifier``.
    """
    media_at = _media_epochs(config["epochs"])
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
            val_proba = model.predict_proba(data.x_val)
            val_loss, val_acc = _loss_and_acc(val_proba, data.y_val)
            row = {
                "train/loss": train_loss,
                "train/acc": train_acc,
                "val/loss": val_loss,
                "val/acc": val_acc,
            }
            if epoch in media_at:
                row.update(_media(model, val_proba, data))
            run.log(row, step=epoch)
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


def _demo_sweep(
    host: str, api_key: str | None, project: str, names: list[str], skip: Collection[str]
) -> tuple[str, dict[str, int]]:
    """The project's demo sweep (made when missing) as its path and the trials still to run,
    ``{run name: trial index}``; ``("", {})`` when the grid's runs cannot be its trials.

    A project that already holds it (``lablens demo`` run again) goes on with the same sweep,
    so the project keeps one sweep whose runs are the grid's. ``names`` are the grid's runs in
    trial order; a trial handed out before is not run again. Runs stored before the demo made
    sweeps (in ``skip``, beyond the trials handed out) would put the trials out of step: then
    the grid is trained without a sweep.
    """
    from lablens.api import Api
    from lablens.errors import NotFound
    from lablens.sdk import sweep

    api = Api(host=host, api_key=api_key)
    try:
        sweeps = list(api.sweeps(f"{api.default_entity}/{project}"))
    except NotFound:  # a new project: made with the sweep
        sweeps = []
    found = next((s for s in sweeps if s.name == SWEEP_NAME), None)
    handed_out = found.run_count if found is not None else 0
    if any(n in skip for n in names[handed_out:]):
        return "", {}
    todo = {n: i for i, n in enumerate(names) if i >= handed_out}
    if not todo:
        return "", {}
    if found is not None:
        return found.path, todo
    return sweep(demo_sweep(), project=project, host=host, api_key=api_key), todo


def _same_trial(run: Any, config: Mapping[str, Any]) -> None:
    """Refuse to train ``config`` in a trial whose parameters are another grid point's."""
    got, want = run.config, config
    if (got["model"]["hidden"], got["optim"]["lr"], got["optim"]["alpha"]) != (
        want["model"]["hidden"],
        want["optim"]["lr"],
        want["optim"]["alpha"],
    ):
        raise RuntimeError(
            f"the demo sweep handed out {dict(got)} for {run_name(config)}: another agent"
            " is running it; train the demo into a project of its own"
        )


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
    The grid's runs are the trials of the grid sweep ``demo-grid`` (``demo_sweep()``: hidden
    sizes x L2 penalties x learning rates, metric ``val/acc``), made in the project through
    ``lablens.sweep()`` and run by ``lablens.agent()``; the two bad settings are runs of their
    own beside it.
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

    from lablens.sdk import agent, init

    data = _load_digits()
    everything = demo_configs(runs, epochs)
    configs = [c for c in everything if run_name(c) not in skip]
    ids: list[str] = []
    # The grid's runs join the sweep as its trials, in the sweep's order (a trial handed out
    # before, by an earlier `lablens demo`, is not trained again).
    grid = [run_name(c) for c in everything if in_sweep(c)]
    sweep_path, trials = _demo_sweep(host, api_key, project, grid, skip) if configs else ("", {})
    if trials:
        configs = [c for c in configs if run_name(c) in trials or not in_sweep(c)]
    dataset = _dataset_artifact()
    best = _best_logged(host, api_key, project) if configs else -math.inf
    # The console copy would only capture the progress bar; system metrics are of no interest
    # for runs that last a second; the progress bar says what the runs' own lines would.
    settings = {"console": False, "system_interval": 0, "silent": True}
    # One BLAS thread: the matrices are tiny, and more threads only contend for the cores.
    with (
        threadpool_limits(1),
        tqdm(configs, desc="training", unit="run", disable=not progress) as bar,
    ):
        for config in bar:
            name = run_name(config)
            bar.set_postfix_str(name)
            failed: list[BaseException] = []

            def train_one(
                config: Mapping[str, Any] = config,
                name: str = name,
                failed: list[BaseException] = failed,
            ) -> None:
                nonlocal best
                try:
                    with init(
                        project=project,
                        name=name,
                        config=config,
                        tags=tags(config),
                        group="h" + "x".join(str(h) for h in config["model"]["hidden"]),
                        job_type="train",
                        host=host,
                        api_key=api_key,
                        settings=settings,
                    ) as run:
                        ids.append(run.id)
                        if name in trials:
                            _same_trial(run, config)
                        run.use_artifact(dataset)
                        model = _train(run, config, data)
                        best = _log_artifacts(run, config, model, data, best)
                except Diverged as exc:
                    if progress:
                        bar.write(
                            f"{name} diverged at epoch {exc.epoch}, as intended: it is CRASHED"
                        )
                except Exception as exc:
                    failed.append(exc)
                    raise

            if name in trials:
                agent(sweep_path, function=train_one, count=1, host=host, api_key=api_key)
                if failed:  # the agent marked the trial CRASHED and went on; the demo stops
                    raise failed[0]
            else:
                train_one()
    return ids
