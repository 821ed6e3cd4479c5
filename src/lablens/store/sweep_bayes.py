"""Bayesian search for ``method: bayes`` sweeps: the next trial's parameters, suggested by
optuna's TPE sampler from the trials the sweep handed out before.

Nothing is kept between claims: each claim rebuilds an in-memory optuna study from the sweep's
trials as the store holds them (their parameters, their run's state and metric), asks it for
one trial, and forgets it. The claim runs under the sweep's lock (see ``common/sweeps.py``), so
the study it builds is the whole truth and several servers on one database stay exactly-once.
Trials still running are given to the sampler as running (``constant_liar``), so agents that
claim while others train are steered away from the points already being tried.

Each W&B distribution becomes an optuna one over the same values:

- ``categorical``: the index of a value (any JSON value can be one), ``probabilities`` unused;
- ``int_uniform``: an integer range; ``q_uniform``: the index of a point of its grid;
- ``uniform``: a float range; ``log_uniform_values``, ``inv_log_uniform_values`` and their
  ``log_uniform``/``inv_log_uniform`` forms (bounds given as exponents): a float range on a log
  scale (the inverse of a log-uniform draw is log-uniform too);
- ``q_log_uniform(_values)``: on a log scale, then rounded to a multiple of ``q``;
- ``constant``: not searched.

``normal`` and its variants have no bounds for TPE to search in: ``plan()`` refuses them in a
bayes sweep.
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lablens.store.sweeps import Param, SweepPlan

__all__ = ["PastTrial", "suggest"]


# The smallest positive bound of a log range (exp() of a very negative exponent is 0).
_TINY = 1e-300


@dataclass(frozen=True)
class PastTrial:
    """A trial the sweep handed out: its parameters (nested, as the run's config got them),
    its run's state and the run's value of the sweep's metric (``None``: not logged)."""

    params: dict[str, Any]
    state: str
    value: float | None


def _name(param: Param) -> str:
    return ".".join(param.path)


def _log_bounds(param: Param) -> tuple[float, float]:
    d, s = param.distribution, param.spec
    lo, hi = float(s["min"]), float(s["max"])
    if d in ("log_uniform", "q_log_uniform"):
        lo, hi = math.exp(lo), math.exp(hi)
    elif d == "inv_log_uniform":
        lo, hi = math.exp(-hi), math.exp(-lo)
    return max(lo, _TINY), max(hi, _TINY)


def _distribution(param: Param) -> Any:
    """The optuna distribution ``param`` is searched in (``None`` for a constant)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    d, s = param.distribution, param.spec
    if d == "constant":
        return None
    if d == "categorical":
        return CategoricalDistribution(tuple(range(len(s["values"]))))
    if d == "int_uniform":
        return IntDistribution(int(s["min"]), int(s["max"]))
    if d == "q_uniform":
        return IntDistribution(0, len(param.grid_values()) - 1)
    if d == "uniform":
        return FloatDistribution(float(s["min"]), float(s["max"]))
    lo, hi = _log_bounds(param)
    return FloatDistribution(lo, hi, log=True)


def _to_config(param: Param, x: Any) -> Any:
    """The value a run's config gets for the optuna value ``x``."""
    from lablens.store.sweeps import _round_q

    d, s = param.distribution, param.spec
    if d == "categorical":
        return s["values"][x]
    if d == "q_uniform":
        return param.grid_values()[x]
    if d in ("q_log_uniform", "q_log_uniform_values"):
        return _round_q(x, float(s.get("q", 1.0)))
    return x


def _from_config(param: Param, value: Any, dist: Any) -> Any:
    """The optuna value of a config value a trial had, or ``None`` when it is not one of the
    distribution's (the trial is then not shown to the sampler)."""
    d = param.distribution
    if d == "categorical":
        values = param.spec["values"]
        return values.index(value) if value in values else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    if d == "q_uniform":
        grid = param.grid_values()
        return min(range(len(grid)), key=lambda i: abs(grid[i] - value))
    if d == "int_uniform":
        return int(value) if dist.low <= value <= dist.high else None
    # A q_ value rounded past a bound is the bound, as far as the sampler is concerned.
    return min(max(float(value), dist.low), dist.high)


def _lookup(params: dict[str, Any], path: Sequence[str]) -> Any:
    node: Any = params
    for part in path:
        if not isinstance(node, dict) or part not in node:
            raise KeyError(part)
        node = node[part]
    return node


def suggest(sweep_plan: SweepPlan, past: Sequence[PastTrial], seed: int, index: int) -> list[Any]:
    """The values of trial ``index``'s parameters, one per ``sweep_plan.params``, in order.

    ``past`` are the sweep's trials handed out so far; ``seed`` and ``index`` seed the sampler,
    so a sweep replayed with the same results suggests the same trials.
    """
    import optuna
    from optuna.trial import TrialState, create_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    metric = sweep_plan.metric or {}
    direction = "maximize" if metric.get("goal") == "maximize" else "minimize"
    dists = {_name(p): _distribution(p) for p in sweep_plan.params}
    searched = {name: dist for name, dist in dists.items() if dist is not None}
    sampler_seed = random.Random(f"lablens-bayes:{seed}:{index}").getrandbits(32)
    with warnings.catch_warnings():
        # constant_liar is marked experimental; its behaviour is what this module wants.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=sampler_seed, constant_liar=True)
    study = optuna.create_study(direction=direction, sampler=sampler)
    for trial in past:
        state, value = _state(trial)
        if state is None:
            continue
        params = {}
        for p in sweep_plan.params:
            name = _name(p)
            if name not in searched:
                continue
            try:
                x = _from_config(p, _lookup(trial.params, p.path), searched[name])
            except KeyError:
                x = None
            if x is None:
                break
            params[name] = x
        else:
            study.add_trial(
                create_trial(
                    params=params,
                    distributions=searched,
                    value=value if state == TrialState.COMPLETE else None,
                    state=state,
                )
            )
    asked = study.ask(searched)
    return [
        p.spec["value"] if dists[_name(p)] is None else _to_config(p, asked.params[_name(p)])
        for p in sweep_plan.params
    ]


def _state(trial: PastTrial) -> tuple[Any, float | None]:
    """How the sampler sees a past trial: running, complete with its value, or failed."""
    from optuna.trial import TrialState

    if trial.state == "RUNNING":
        return TrialState.RUNNING, None
    value = trial.value
    if trial.state == "FINISHED" and value is not None and math.isfinite(value):
        return TrialState.COMPLETE, value
    # Crashed, aborted, or finished without a finite value of the metric.
    return TrialState.FAIL, None
