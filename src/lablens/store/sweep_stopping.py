"""Early termination of a sweep's runs: W&B's ``early_terminate: {type: hyperband, ...}``.

W&B's rule, as its docs describe it: *brackets* are iteration counts, an iteration being one
logged value of the sweep's metric. They are ``min_iter, min_iter*eta, min_iter*eta**2, ...``,
or, given ``max_iter`` and ``s``, ``max_iter/eta**s, ..., max_iter/eta`` (rounded down). When a
running run has reached a bracket, its metric is compared with every sweep run's value at that
iteration: the run stops when even its best value so far (``strict: true``: its value at the
bracket) is worse than the value a ``1/eta`` share of the runs reached there. So a run that
is the best so far at a bracket always goes on, and about ``1 - 1/eta`` of the others stop.

optuna's ``HyperbandPruner`` runs another algorithm (it deals each trial to one bracket of
successive halving when the trial starts, and needs a study kept between requests); the
rule above is what a W&B sweep configuration asks for, so it is written here, a pure function
of the runs' histories, evaluated afresh each time a run asks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lablens.store.errors import InvalidInput

__all__ = ["StopDecision", "brackets", "check_early_terminate", "hyperband_decision"]

_KEYS = {"type", "min_iter", "max_iter", "s", "eta", "strict"}
MAX_BRACKET = 10**9


def _positive_int(spec: Mapping[str, Any], key: str, field: str, low: int = 1) -> int:
    value = spec[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_BRACKET:
        raise InvalidInput(
            f"{key} must be an integer from {low} to {MAX_BRACKET}", f"{field}.{key}"
        )
    return value


def check_early_terminate(spec: Any, metric: Any, field: str) -> None:
    """Check an ``early_terminate`` section; ``InvalidInput`` names the bad part."""
    if not isinstance(spec, Mapping):
        raise InvalidInput("early_terminate must be an object", field=field)
    if spec.get("type") != "hyperband":
        raise InvalidInput("early_terminate type must be 'hyperband'", field=f"{field}.type")
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise InvalidInput(f"unknown key {unknown[0]!r}", field=f"{field}.{unknown[0]}")
    if metric is None:
        raise InvalidInput("early termination needs the sweep's metric", field=field)
    if "eta" in spec:
        _positive_int(spec, "eta", field, low=2)
    if "strict" in spec and not isinstance(spec["strict"], bool):
        raise InvalidInput("strict must be true or false", field=f"{field}.strict")
    if "max_iter" in spec:
        _positive_int(spec, "max_iter", field)
        if "s" in spec:
            _positive_int(spec, "s", field)
    elif "min_iter" in spec:
        _positive_int(spec, "min_iter", field)
    else:
        raise InvalidInput("hyperband needs min_iter, or max_iter and s", field=field)
    if not brackets(spec):
        raise InvalidInput(
            "no bracket: max_iter / eta is below 1; raise max_iter or lower eta", field=field
        )


def brackets(spec: Mapping[str, Any]) -> list[int]:
    """The iteration counts at which runs are judged, ascending (W&B's defaults: eta 3, s 0)."""
    eta = int(spec.get("eta", 3))
    if "max_iter" in spec:
        out, band = [], float(spec["max_iter"])
        for _ in range(int(spec.get("s", 0))):
            band /= eta
            if band < 1:
                break
            out.append(int(band))
        return sorted(out)
    out, band = [], int(spec["min_iter"])
    while band <= MAX_BRACKET:
        out.append(band)
        band *= eta
    return out


@dataclass(frozen=True)
class StopDecision:
    """Whether a run should stop, at which bracket, and the numbers that decided it."""

    stop: bool
    iteration: int
    bracket: int | None = None
    value: float | None = None
    threshold: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "stop": self.stop,
            "iteration": self.iteration,
            "bracket": self.bracket,
            "value": self.value,
            "threshold": self.threshold,
        }


def hyperband_decision(
    spec: Mapping[str, Any],
    goal: str,
    run_history: Sequence[float],
    all_histories: Sequence[Sequence[float]],
) -> StopDecision:
    """Whether a running run whose metric went ``run_history`` (in step order) should stop.

    ``all_histories`` are the metric histories of every run of the sweep (this one included).
    Non-finite values are left out, as W&B does. For ``maximize`` the values are negated, so
    lower is better below.
    """
    sign = -1.0 if goal == "maximize" else 1.0

    def clean(history: Sequence[float]) -> list[float]:
        return [sign * v for v in history if v is not None and math.isfinite(v)]

    mine = clean(run_history)
    everyone = [h for h in (clean(h) for h in all_histories) if h]
    reached = [b for b in brackets(spec) if b <= len(mine)]
    if not reached:
        return StopDecision(False, len(mine))
    bracket = reached[-1]
    at_bracket = sorted(h[bracket - 1] for h in everyone if len(h) >= bracket)
    threshold = at_bracket[int(len(at_bracket) / int(spec.get("eta", 3)))]
    value = mine[bracket - 1] if spec.get("strict") else min(mine)
    return StopDecision(value > threshold, len(mine), bracket, sign * value, sign * threshold)
