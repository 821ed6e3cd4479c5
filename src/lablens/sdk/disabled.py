"""``init(mode="disabled")``: a run whose calls do nothing and need no server, as W&B's.

Training code keeps its ``init()``, ``log()``, ``config`` and ``finish()`` calls and runs without
a server, writing nothing anywhere: handy in tests and quick experiments. ``config`` and
``summary`` still hold what is set, so code that reads them back works.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lablens.sdk import live_runs
from lablens.sdk.config import Config, Summary
from lablens.sdk.metric_defs import MetricDefinition, parse_definition
from lablens.sdk.run_end import FinishesOnExit

__all__ = ["DisabledRun"]


class DisabledRun(FinishesOnExit):
    """What ``init(mode="disabled")`` returns: a ``Run`` whose calls do nothing.

    It has the attributes of a ``Run`` (``id``, ``name``, ``project``, ``config``, ``summary``,
    ``step``...); ``log()``, ``define_metric()``, ``finish()`` and any other method of a run
    do nothing (``log()`` still counts steps). Nothing is sent or written.

    Example:
        >>> run = lablens.init(project="mnist", mode="disabled")
        >>> run.log({"loss": 0.5})  # does nothing
        >>> run.finish()
    """

    disabled = True
    offline = False
    host: str | None = None
    url: str | None = None

    def __init__(
        self,
        *,
        id: str,  # noqa: A002 - W&B's name
        project: str,
        name: str | None = None,
        entity: str | None = None,
        config: Mapping[str, Any] | None = None,
        tags: tuple[str, ...] = (),
        group: str | None = None,
        job_type: str | None = None,
        notes: str | None = None,
    ) -> None:
        self.id = id
        self.project = project
        self.name = name or id
        self.entity = entity
        self.tags = tags
        self.group = group
        self.job_type = job_type
        self.notes = notes
        self.path = f"{entity or '-'}/{project}/{id}"
        self.dir = Path(os.devnull)
        self.config = Config(config or {})
        self.summary = Summary()
        self.start_time = time.time()
        self._state = "running"
        self._step = 0
        self._pid = os.getpid()

    @property
    def state(self) -> str:
        """``"running"`` until ``finish()``, then ``"finished"``."""
        return self._state

    @property
    def step(self) -> int:
        """The step the next ``log()`` would record at."""
        return self._step

    def log(
        self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None
    ) -> None:
        """Do nothing but count the step, as ``Run.log`` would."""
        if step is None:
            if commit is not False:
                self._step += 1
        elif isinstance(step, int) and step >= self._step:
            self._step = step + 1 if commit else step

    def define_metric(
        self,
        name: str,
        step_metric: str | None = None,
        step_sync: bool | None = None,
        hidden: bool | None = None,
        summary: str | None = None,
        goal: str | None = None,
    ) -> MetricDefinition:
        """Check the arguments as ``Run.define_metric`` does, and keep nothing."""
        return parse_definition(name, step_metric, step_sync, summary, goal, hidden)

    def finish(self, exit_code: int | None = None, *, timeout: float | None = None) -> None:
        """Mark it finished (or crashed, with a non-zero ``exit_code``); nothing is sent."""
        self._finish("FINISHED" if not exit_code else "CRASHED", exit_code)

    def _finish(self, state: str, exit_code: int | None, *, timeout: float | None = None) -> None:
        if self._state == "running":
            self._state = state.lower()
        live_runs.forget(self)

    def __getattr__(self, name: str) -> Any:
        # Any other method of a run (log_artifact, use_artifact, save, ...) does nothing, as
        # W&B's disabled run.
        if name.startswith("_"):
            raise AttributeError(name)

        def nothing(*args: Any, **kwargs: Any) -> None:
            return None

        return nothing

    def __repr__(self) -> str:
        return f"<Run {self.path} {self._state} (disabled)>"
