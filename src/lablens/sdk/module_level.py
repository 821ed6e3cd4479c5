"""The module-level calls of W&B's style: ``lablens.log()``, ``lablens.define_metric()``,
``lablens.config``, ``lablens.summary`` and ``lablens.run``, each on the current run.

The current run is the one ``init()`` started last and that is not finished yet. Before
``init()`` (or after ``finish()``), ``lablens.run`` is ``None``, and ``log()``,
``define_metric()`` and any use of ``lablens.config`` or ``lablens.summary`` raise a
``UsageError`` that says to call ``lablens.init()`` first, as W&B does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from lablens import errors as E
from lablens.sdk import live_runs
from lablens.sdk.metric_defs import MetricDefinition

__all__ = [
    "PreInit",
    "current_config",
    "current_run",
    "current_summary",
    "define_metric",
    "log",
]


def _current(what: str) -> Any:
    run = live_runs.current_run()
    if run is None:
        raise E.UsageError(f"{what}: there is no run; call lablens.init() first")
    return run


def log(data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
    """Log metrics to the current run: ``run.log()`` of the run ``init()`` started.

    Args:
        data: ``{name: number}``; nested dicts are flattened with dots.
        step: the step to record at; default the run's own counter.
        commit: whether this call ends the step (see ``Run.log``).

    Raises:
        lablens.errors.UsageError: there is no current run (call ``lablens.init()`` first), or
            a bad value (see ``Run.log``).

    Example:
        >>> lablens.init(project="mnist")
        >>> lablens.log({"loss": 0.5})
    """
    _current("lablens.log").log(data, step=step, commit=commit)


def define_metric(
    name: str,
    step_metric: str | None = None,
    step_sync: bool | None = None,
    hidden: bool | None = None,
    summary: str | None = None,
    goal: str | None = None,
) -> MetricDefinition:
    """Define a metric of the current run: its x axis and its summary (see
    ``Run.define_metric``).

    Raises:
        lablens.errors.UsageError: there is no current run (call ``lablens.init()`` first), or
            a bad argument (``.field`` names it).

    Example:
        >>> lablens.init(project="mnist")
        >>> lablens.define_metric("val/*", step_metric="epoch", summary="max")
    """
    return _current("lablens.define_metric").define_metric(
        name,
        step_metric=step_metric,
        step_sync=step_sync,
        hidden=hidden,
        summary=summary,
        goal=goal,
    )


class PreInit:
    """``lablens.config`` or ``lablens.summary`` while there is no run: any use of it raises a
    ``UsageError`` saying to call ``lablens.init()`` first, as W&B's."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _fail(self, use: str = "") -> NoReturn:
        raise E.UsageError(f"lablens.{self._name}{use}: there is no run; call lablens.init() first")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # copy, pickle and doc tools probe these
        self._fail(f".{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        self._fail(f".{name} = ...")

    def __getitem__(self, key: str) -> Any:
        self._fail(f"[{key!r}]")

    def __setitem__(self, key: str, value: Any) -> None:
        self._fail(f"[{key!r}] = ...")

    def __contains__(self, key: object) -> bool:
        self._fail(" (in)")

    def __iter__(self) -> Any:
        self._fail(" (iterated)")

    def __len__(self) -> int:
        self._fail(" (len)")

    def __repr__(self) -> str:
        return f"<lablens.{self._name}: no run yet; call lablens.init() first>"


_PRE_CONFIG = PreInit("config")
_PRE_SUMMARY = PreInit("summary")


def current_run() -> Any:
    """The current run, or ``None``: ``lablens.run``."""
    return live_runs.current_run()


def current_config() -> Any:
    """The current run's ``config``, or a ``PreInit`` that raises on use when there is none."""
    run = live_runs.current_run()
    return run.config if run is not None else _PRE_CONFIG


def current_summary() -> Any:
    """The current run's ``summary``, or a ``PreInit`` that raises on use when there is none."""
    run = live_runs.current_run()
    return run.summary if run is not None else _PRE_SUMMARY
