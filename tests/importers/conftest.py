"""The importers' tests write real data with the real libraries, offline, inside each test.

Nothing here may reach a network: W&B and SwanLab run offline, MLflow writes to a sqlite file
under the test's tmp_path, and every library's telemetry is off.
"""

from __future__ import annotations

import os
import tempfile

import pytest

os.environ.update(
    {
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "WANDB_CONSOLE": "off",
        "WANDB_DISABLE_GIT": "true",
        "WANDB_DISABLE_CODE": "true",
        "WANDB_ERROR_REPORTING": "false",
        "WANDB_X_DISABLE_STATS": "true",
        "SWANLAB_MODE": "offline",
        "SWANLAB_ROOT": tempfile.mkdtemp(prefix="swanlab-root-"),
        "MLFLOW_TRACKING_URI": "sqlite:///" + os.path.join(tempfile.mkdtemp(), "unused.db"),
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        "DO_NOT_TRACK": "1",
        "DISABLE_MLFLOW_INTEGRATION": "TRUE",
    }
)

# The third-party writers deprecate things among themselves (sqlalchemy under mlflow, protobuf
# under tensorboard); those are theirs to fix, not errors of ours.
_THEIR_WARNINGS = [
    "ignore::DeprecationWarning",
    "ignore::PendingDeprecationWarning",
    "ignore::FutureWarning",
    "ignore:.*:UserWarning:mlflow",
    "ignore:.*:UserWarning:swanlab",
    "ignore:.*:UserWarning:wandb",
    "ignore::ResourceWarning",
]


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            for spec in _THEIR_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))
