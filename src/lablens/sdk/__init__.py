"""The logging SDK: ``init()`` a run, ``log()`` metrics, ``finish()``.

Example:
    >>> import lablens
    >>> with lablens.init(project="mnist", config={"lr": 0.01}) as run:
    ...     for step in range(100):
    ...         run.log({"loss": 1 / (step + 1)})

``lablens.sdk.run`` is the current run (the last one started and not finished), or ``None``;
``log()`` and ``define_metric()`` act on it, as W&B's module-level calls (``lablens.config`` and
``lablens.summary`` are its parts; see ``module_level.py``).
"""

from __future__ import annotations

from typing import Any

from lablens.sdk._flatten import InvalidValue
from lablens.sdk.config import Config, Summary
from lablens.sdk.disabled import DisabledRun
from lablens.sdk.lifecycle import current_run, finish, init
from lablens.sdk.metric_defs import MetricDefinition
from lablens.sdk.module_level import define_metric, log
from lablens.sdk.runs import Run
from lablens.sdk.settings import Settings
from lablens.sdk.sweeps import agent, sweep

__all__ = [
    "Artifact",
    "Config",
    "DisabledRun",
    "InvalidValue",
    "MetricDefinition",
    "Run",
    "Settings",
    "Summary",
    "agent",
    "current_run",
    "define_metric",
    "finish",
    "init",
    "log",
    "run",
    "sweep",
]


def __getattr__(name: str) -> Any:
    # `run` is looked up on each access, so `lablens.sdk.run` is always the current run.
    if name == "run":
        return current_run()
    if name == "Artifact":
        from lablens.sdk.artifacts import Artifact

        return Artifact
    raise AttributeError(f"module 'lablens.sdk' has no attribute {name!r}")
