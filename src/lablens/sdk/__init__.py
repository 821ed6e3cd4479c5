"""The logging SDK: ``init()`` a run, ``log()`` metrics, ``finish()``.

Example:
    >>> import lablens
    >>> with lablens.init(project="mnist", config={"lr": 0.01}) as run:
    ...     for step in range(100):
    ...         run.log({"loss": 1 / (step + 1)})

``lablens.sdk.run`` is the current run (the last one started and not finished), or ``None``.
"""

from __future__ import annotations

from typing import Any

from lablens.sdk._flatten import InvalidValue
from lablens.sdk.config import Config, Summary
from lablens.sdk.lifecycle import current_run, finish, init
from lablens.sdk.runs import Run
from lablens.sdk.settings import Settings
from lablens.sdk.sweeps import agent, sweep

__all__ = [
    "Artifact",
    "Config",
    "InvalidValue",
    "Run",
    "Settings",
    "Summary",
    "agent",
    "current_run",
    "finish",
    "init",
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
