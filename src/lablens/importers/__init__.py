"""Bring runs in from other tools: TensorBoard event files, MLflow tracking stores, W&B offline
run directories and SwanLab logs.

Each source has a module with one function, ``import_``::

    from lablens.importers import mlflow, swanlab, tensorboard, wandb

    tensorboard.import_("runs/", project="mnist")          # also Api.sync_tensorboard()
    mlflow.import_("sqlite:///mlflow.db")
    wandb.import_("wandb/")
    swanlab.import_("swanlog/")

Every ``import_`` also takes ``entity`` (the workspace; by default the signed-in user's),
``api`` (the client to write through; by default ``lablens.Api()``) and ``progress`` (show
progress bars of runs and points on stderr), and returns an ``ImportReport``. From a shell:
``lablens import tensorboard|mlflow|wandb|swanlab PATH [--project P] [--entity E]``.

Each ``import_`` is also registered by its source name in the entry-point group
``lablens.importers`` (``pyproject.toml``): that is how ``Api.sync_tensorboard()`` finds its
importer, since the api layer below the importers never imports them.

Imported data takes the same path as logged data: HTTP to the server, points as Arrow batches
with batch ids. Importing the same source again adds only what is new, and an
interrupted import resumes where it stopped; every run keeps where it came from in
``run.metadata["source"]``. A broken or half-written source file is reported, with its path, in
the returned ``ImportReport`` and skipped; everything readable still comes in.
"""

from lablens.importers._writer import ImportReport, Problem

SOURCES = ("tensorboard", "mlflow", "wandb", "swanlab")

__all__ = ["SOURCES", "ImportReport", "Problem"]
