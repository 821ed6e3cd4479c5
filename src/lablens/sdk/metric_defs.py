"""``run.define_metric()``: a metric's x axis and the summary kept of it, as in W&B.

A definition names one metric (``"val/acc"``) or many with a glob (``"val/*"``). What it does:

- ``summary="max"`` (or ``"min"``, ``"mean"``, ``"first"``, ``"last"``, several as ``"min,max"``)
  keeps that aggregate of the metric in the run's summary under ``<key>.<aggregate>``
  (``val/acc.max``): W&B's ``summary["val/acc"]["max"]``, flattened with a dot as every nested
  summary value is. The plain key keeps the last value, as always.
- ``step_metric="epoch"`` says which metric is the x axis of this one. With ``step_sync`` (the
  default), a ``log()`` of the metric without ``epoch`` gets ``epoch``'s last value added, so the
  two always share steps and the history can be read against it
  (``Api().run(path).history(x_axis="epoch")``).
- Every definition is recorded in the run's metadata under ``"metrics"``, so readers (the Api,
  the widgets) can choose each metric's x axis.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lablens import errors as E

__all__ = ["GOALS", "SUMMARIES", "MetricDefinition", "MetricDefinitions"]

#: The aggregates ``summary=`` may ask for.
SUMMARIES = ("min", "max", "mean", "first", "last")
#: What ``goal=`` may be.
GOALS = ("minimize", "maximize")


@dataclass(frozen=True)
class MetricDefinition:
    """One ``define_metric()``: what it names and what it asks for.

    Attributes:
        name: the metric's key, or a glob (``"val/*"``) naming many.
        step_metric: the metric that is this one's x axis, or ``None`` (the run's step).
        step_sync: whether a ``log()`` of this metric without ``step_metric`` gets the step
            metric's last value added.
        summary: the aggregates kept in the summary, e.g. ``("max",)``.
        goal: ``"minimize"`` or ``"maximize"``, or ``None``; recorded for readers.
        hidden: whether readers should leave the metric out of default views; recorded.
    """

    name: str
    step_metric: str | None = None
    step_sync: bool = True
    summary: tuple[str, ...] = ()
    goal: str | None = None
    hidden: bool = False

    def as_json(self) -> dict[str, Any]:
        """The definition as the run's metadata records it."""
        out: dict[str, Any] = {}
        if self.step_metric is not None:
            out["step_metric"] = self.step_metric
            out["step_sync"] = self.step_sync
        if self.summary:
            out["summary"] = list(self.summary)
        if self.goal is not None:
            out["goal"] = self.goal
        if self.hidden:
            out["hidden"] = True
        return out


def parse_definition(
    name: Any,
    step_metric: Any = None,
    step_sync: Any = None,
    summary: Any = None,
    goal: Any = None,
    hidden: Any = None,
) -> MetricDefinition:
    """Check ``define_metric()``'s arguments; a bad one is a ``UsageError`` naming it."""
    if not isinstance(name, str) or not name:
        raise E.UsageError(
            f"define_metric: name must be a non-empty str, not {name!r}", field="name"
        )
    if step_metric is not None and (not isinstance(step_metric, str) or not step_metric):
        raise E.UsageError(
            f"define_metric: step_metric must be a metric's name (a str), not {step_metric!r}",
            field="step_metric",
        )
    if step_metric is not None and _is_glob(step_metric):
        raise E.UsageError(
            f"define_metric: step_metric must be one metric, not a glob ({step_metric!r})",
            field="step_metric",
        )
    aggregates = _summaries(summary)
    if goal is not None and goal not in GOALS:
        raise E.UsageError(
            f"define_metric: goal must be 'minimize' or 'maximize', not {goal!r}", field="goal"
        )
    return MetricDefinition(
        name=name,
        step_metric=step_metric,
        step_sync=True if step_sync is None else bool(step_sync),
        summary=aggregates,
        goal=goal,
        hidden=bool(hidden),
    )


def _summaries(summary: Any) -> tuple[str, ...]:
    if summary is None:
        return ()
    if isinstance(summary, str):
        items: Iterable[Any] = [s.strip() for s in summary.split(",") if s.strip()]
    elif isinstance(summary, (list, tuple)):
        items = summary
    else:
        items = [summary]
    out: list[str] = []
    for item in items:
        if item not in SUMMARIES:
            raise E.UsageError(
                f"define_metric: summary must be one of {', '.join(map(repr, SUMMARIES))} "
                f"(or several, comma-separated), not {item!r}",
                field="summary",
            )
        if item not in out:
            out.append(item)
    return tuple(out)


def _is_glob(name: str) -> bool:
    return any(c in name for c in "*?[")


class _Aggregate:
    """The running aggregates of one metric."""

    __slots__ = ("count", "first", "last", "max", "min", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.first: Any = None
        self.last: Any = None

    def add(self, value: Any, wanted: tuple[str, ...]) -> dict[str, Any]:
        """Take one value; return the aggregates among ``wanted`` that changed."""
        changed: dict[str, Any] = {}
        number = float(value)
        if self.first is None:
            self.first = value
            if "first" in wanted:
                changed["first"] = value
        if "last" in wanted and value != self.last:
            changed["last"] = value
        self.last = value
        if math.isnan(number):  # NaN is kept as a value, but is no minimum, maximum or mean
            return changed
        if number < self.min:
            self.min = number
            if "min" in wanted:
                changed["min"] = value
        if number > self.max:
            self.max = number
            if "max" in wanted:
                changed["max"] = value
        if math.isfinite(number):
            self.count += 1
            self.total += number
            if "mean" in wanted:
                changed["mean"] = self.total / self.count
        return changed


class MetricDefinitions:
    """A run's definitions, and the aggregates they ask it to keep."""

    def __init__(self) -> None:
        self._exact: dict[str, MetricDefinition] = {}
        self._globs: dict[str, MetricDefinition] = {}
        self._matches: dict[str, MetricDefinition | None] = {}
        self._aggregates: dict[str, _Aggregate] = {}

    def add(self, definition: MetricDefinition) -> None:
        """Add (or replace) the definition of ``definition.name``."""
        target = self._globs if _is_glob(definition.name) else self._exact
        target[definition.name] = definition
        self._matches.clear()

    def match(self, key: str) -> MetricDefinition | None:
        """The definition that applies to ``key``: its own, else the last glob defined that
        matches it."""
        try:
            return self._matches[key]
        except KeyError:
            pass
        found = self._exact.get(key)
        if found is None:
            for pattern, definition in reversed(self._globs.items()):
                if fnmatch.fnmatchcase(key, pattern):
                    found = definition
                    break
        self._matches[key] = found
        return found

    def as_json(self) -> dict[str, dict[str, Any]]:
        """Every definition, by name, as the run's metadata records them."""
        return {name: d.as_json() for name, d in {**self._exact, **self._globs}.items()}

    def observe(
        self, data: dict[str, Any], last: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """What one ``log()`` becomes: ``data`` with the step metrics it syncs added (from
        ``last``, the last logged values), and the summary aggregates that changed."""
        extra: dict[str, Any] = {}
        summary: dict[str, Any] = {}
        for key, value in data.items():
            definition = self.match(key)
            if definition is None:
                continue
            step_metric = definition.step_metric
            if (
                step_metric is not None
                and definition.step_sync
                and step_metric not in data
                and step_metric in last
            ):
                extra[step_metric] = last[step_metric]
            if definition.summary:
                aggregate = self._aggregates.get(key)
                if aggregate is None:
                    aggregate = self._aggregates[key] = _Aggregate()
                for name, result in aggregate.add(value, definition.summary).items():
                    summary[f"{key}.{name}"] = result
        if extra:
            data = {**data, **extra}
        return data, summary
