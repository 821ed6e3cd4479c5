"""Sweep configurations (W&B's form): checking them, and the parameters of trial number ``i``.

A configuration is::

    {"method": "grid" | "random" | "bayes",
     "metric": {"name": "val/acc", "goal": "maximize"},        # bayes needs it; best_run()
     "parameters": {
         "lr": {"values": [0.001, 0.01, 0.1]},
         "epochs": {"value": 10},
         "dropout": {"min": 0.1, "max": 0.5},                  # uniform (random only)
         "wd": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-2},
         "optim": {"parameters": {"name": {"values": ["adam", "sgd"]}}},   # nested
     },
     "run_cap": 20,                                            # optional
     "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 3},   # optional
     "seed": 7,                                                # optional; lablens's own
     "name": "lr-search", "description": "..."}                # optional

Trials are a pure function of the configuration, a seed and the trial's index, so the server
hands out trial ``i`` by counting, under a lock (the embedded store's write lock, a lock on
the sweep's row in PostgreSQL), and no trial is ever given twice:

- ``grid`` walks the product of every parameter's values, the last parameter varying fastest;
  only discrete parameters (``value``, ``values``, ``int_uniform``, ``q_uniform``) can be in one.
- ``random`` draws each parameter from its distribution with a generator seeded by
  ``(seed, index)``, so the same sweep gives the same trials wherever it is replayed.
- ``bayes`` asks optuna's TPE sampler, fed with the trials handed out before and their runs'
  metric (``sweep_bayes``); the claim reads them under the same lock.

``early_terminate`` (W&B's hyperband) is checked here; the rule is in ``sweep_stopping``.

Every mistake raises :class:`~lablens.store.errors.InvalidInput` naming the bad part
(``config.parameters.lr.values``). The changes a sweep takes, its row and its JSON, the same
for every engine, are in ``sweep_values``.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lablens.store.errors import InvalidInput
from lablens.store.sweep_bayes import PastTrial, suggest
from lablens.store.sweep_stopping import check_early_terminate

__all__ = ["METHODS", "PastTrial", "SweepPlan", "plan", "trial_params"]

METHODS = ("grid", "random", "bayes")
MAX_SEED = 2**62
SWEEP_STATES = ("RUNNING", "PAUSED", "CANCELED")
GOALS = ("minimize", "maximize")
MAX_GRID = 100_000
# ``run_cap`` is kept in a 32-bit column.
MAX_RUN_CAP = 2**31 - 1
# exp() of more than this overflows a float.
_LOG_MAX = math.log(sys.float_info.max)
# random.gauss never strays further than ~8.6 sigmas: Box-Muller over 53-bit uniforms.
_GAUSS_REACH = 9.0
DISTRIBUTIONS = (
    "constant",
    "categorical",
    "int_uniform",
    "uniform",
    "q_uniform",
    "log_uniform",
    "log_uniform_values",
    "q_log_uniform",
    "q_log_uniform_values",
    "inv_log_uniform",
    "inv_log_uniform_values",
    "normal",
    "q_normal",
    "log_normal",
    "q_log_normal",
)
#: The distributions bayes searches: the bounded ones (optuna has no unbounded range to
#: search, so the normal family is refused, naming the parameter).
BAYES_DISTRIBUTIONS = tuple(d for d in DISTRIBUTIONS if "normal" not in d)
_DISCRETE = ("constant", "categorical", "int_uniform", "q_uniform")
_SPEC_KEYS = {
    "value",
    "values",
    "probabilities",
    "distribution",
    "min",
    "max",
    "mu",
    "sigma",
    "q",
    "parameters",
}


@dataclass(frozen=True)
class Param:
    """One leaf parameter: where it goes in the run's config and how it is drawn."""

    path: tuple[str, ...]
    distribution: str
    spec: Mapping[str, Any]

    def grid_size(self) -> float:
        """How many values the parameter has in a grid, without listing them (``inf`` if
        past counting)."""
        d, s = self.distribution, self.spec
        if d == "constant":
            return 1
        if d == "categorical":
            return len(s["values"])
        if d == "int_uniform":
            return int(s["max"]) - int(s["min"]) + 1
        steps = (float(s["max"]) - float(s["min"])) / float(s.get("q", 1.0))
        return math.floor(steps + 1e-9) + 1 if math.isfinite(steps) else math.inf

    def grid_values(self) -> list[Any]:
        d, s = self.distribution, self.spec
        if d == "constant":
            return [s["value"]]
        if d == "categorical":
            return list(s["values"])
        if d == "int_uniform":
            return list(range(int(s["min"]), int(s["max"]) + 1))
        q = float(s.get("q", 1.0))
        n = int(math.floor((float(s["max"]) - float(s["min"])) / q + 1e-9)) + 1
        return [_round_q(float(s["min"]) + i * q, q) for i in range(n)]

    def draw(self, rng: random.Random) -> Any:
        d, s = self.distribution, self.spec
        if d == "constant":
            return s["value"]
        if d == "categorical":
            values = list(s["values"])
            weights = s.get("probabilities")
            return rng.choices(values, weights=weights)[0] if weights else rng.choice(values)
        if d == "int_uniform":
            return rng.randint(int(s["min"]), int(s["max"]))
        q = float(s["q"]) if "q" in s else None
        if d in ("uniform", "q_uniform"):
            x = rng.uniform(float(s["min"]), float(s["max"]))
        elif d in ("log_uniform", "q_log_uniform"):
            x = math.exp(rng.uniform(float(s["min"]), float(s["max"])))
        elif d in ("log_uniform_values", "q_log_uniform_values"):
            x = math.exp(rng.uniform(math.log(float(s["min"])), math.log(float(s["max"]))))
        elif d == "inv_log_uniform":
            x = 1.0 / math.exp(rng.uniform(float(s["min"]), float(s["max"])))
        elif d == "inv_log_uniform_values":
            x = 1.0 / math.exp(
                rng.uniform(math.log(1.0 / float(s["max"])), math.log(1.0 / float(s["min"])))
            )
        elif d in ("normal", "q_normal"):
            x = rng.gauss(float(s.get("mu", 0.0)), float(s.get("sigma", 1.0)))
        else:  # log_normal, q_log_normal
            x = math.exp(rng.gauss(float(s.get("mu", 0.0)), float(s.get("sigma", 1.0))))
        if d.startswith("q_"):
            return _round_q(x, q or 1.0)
        return x


@dataclass(frozen=True)
class SweepPlan:
    """A checked configuration: its method, parameters and how many trials it has."""

    method: str
    params: tuple[Param, ...]
    metric: Mapping[str, Any] | None
    run_cap: int | None
    expected_run_count: int | None
    """The grid's size (capped by ``run_cap``), ``run_cap`` for random; ``None`` if unbounded."""


def _round_q(x: float, q: float) -> float | int:
    value = round(x / q) * q
    if float(q).is_integer():
        return int(round(value))
    # Rounding to q's own decimals keeps 0.1 * 3 from coming out as 0.30000000000000004.
    decimals = max(0, -math.floor(math.log10(abs(q)))) + 6 if q else 6
    return round(value, decimals)


def _number(spec: Mapping[str, Any], key: str, field: str) -> float:
    value = spec.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"{key} must be a finite number", field=f"{field}.{key}")
    return float(value)


def _leaf(path: tuple[str, ...], spec: Any, field: str) -> Param:
    if not isinstance(spec, Mapping):
        raise InvalidInput("a parameter must be an object such as {'values': [...]}", field=field)
    unknown = sorted(set(spec) - _SPEC_KEYS)
    if unknown:
        raise InvalidInput(
            f"unknown key {unknown[0]!r} in a parameter; allowed: {', '.join(sorted(_SPEC_KEYS))}",
            field=f"{field}.{unknown[0]}",
        )
    dist = spec.get("distribution")
    if dist is None:
        if "value" in spec:
            dist = "constant"
        elif "values" in spec:
            dist = "categorical"
        elif "min" in spec and "max" in spec:
            both_int = all(
                isinstance(spec[k], int) and not isinstance(spec[k], bool) for k in ("min", "max")
            )
            dist = "int_uniform" if both_int else "uniform"
        else:
            raise InvalidInput(
                "a parameter needs 'value', 'values', or 'min' and 'max'", field=field
            )
    if dist not in DISTRIBUTIONS:
        raise InvalidInput(
            f"unknown distribution {dist!r}; one of {', '.join(DISTRIBUTIONS)}",
            field=f"{field}.distribution",
        )
    if dist == "constant" and "value" not in spec:
        raise InvalidInput("a constant parameter needs 'value'", field=f"{field}.value")
    if dist == "categorical":
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            raise InvalidInput("values must be a non-empty list", field=f"{field}.values")
        probs = spec.get("probabilities")
        if probs is not None:
            ok = (
                isinstance(probs, list)
                and len(probs) == len(values)
                and all(
                    isinstance(p, (int, float)) and not isinstance(p, bool) and p >= 0
                    for p in probs
                )
                and 0 < sum(probs) < math.inf
            )
            if not ok:
                raise InvalidInput(
                    "probabilities must be as many non-negative numbers as values, not all"
                    " zero, with a finite sum",
                    field=f"{field}.probabilities",
                )
    if dist in (
        "int_uniform",
        "uniform",
        "q_uniform",
        "log_uniform",
        "q_log_uniform",
        "log_uniform_values",
        "q_log_uniform_values",
        "inv_log_uniform",
        "inv_log_uniform_values",
    ):
        lo, hi = _number(spec, "min", field), _number(spec, "max", field)
        if lo > hi:
            raise InvalidInput("min must not be above max", field=f"{field}.min")
        if dist == "int_uniform" and not (lo.is_integer() and hi.is_integer()):
            raise InvalidInput("int_uniform needs integer min and max", field=f"{field}.min")
        if "values" in dist and lo <= 0:
            raise InvalidInput(f"{dist} needs min > 0", field=f"{field}.min")
    if dist in ("normal", "q_normal", "log_normal", "q_log_normal"):
        if "mu" in spec:
            _number(spec, "mu", field)
        if "sigma" in spec and _number(spec, "sigma", field) < 0:
            raise InvalidInput("sigma must not be negative", field=f"{field}.sigma")
    if "q" in spec and _number(spec, "q", field) <= 0:
        raise InvalidInput("q must be positive", field=f"{field}.q")
    reach = _reach(dist, spec, field)
    if "q" in spec and not math.isfinite(reach / float(spec["q"])):
        raise InvalidInput("q is too small for the parameter's range", field=f"{field}.q")
    return Param(path, dist, dict(spec))


def _reach(dist: str, spec: Mapping[str, Any], field: str) -> float:
    """The largest magnitude a draw can take; refuses ranges whose draws overflow a float.

    Checked here, when the sweep is made, so that no trial fails later when it is claimed.
    """
    if dist in ("constant", "categorical"):
        return 0.0
    if dist in ("normal", "q_normal", "log_normal", "q_log_normal"):
        mu, sigma = float(spec.get("mu", 0.0)), float(spec.get("sigma", 1.0))
        spread = abs(mu) + _GAUSS_REACH * sigma
        if dist.endswith("log_normal"):
            if spread > _LOG_MAX:
                raise InvalidInput(
                    f"{dist} draws exp(x): |mu| + {_GAUSS_REACH:g} sigma must be at most"
                    f" {_LOG_MAX:.2f}",
                    field=f"{field}.sigma" if "sigma" in spec else f"{field}.mu",
                )
            return math.exp(spread)
        if not math.isfinite(spread):
            raise InvalidInput("|mu| + 9 sigma must be a finite number", field=f"{field}.sigma")
        return spread
    lo, hi = float(spec["min"]), float(spec["max"])
    if dist in ("log_uniform", "q_log_uniform", "inv_log_uniform"):
        # log_uniform draws exp(x) and inv_log_uniform 1/exp(x), x between min and max.
        low = -_LOG_MAX if dist == "inv_log_uniform" else -math.inf
        if not (low <= lo and hi <= _LOG_MAX):
            raise InvalidInput(
                f"{dist} draws exp(x): min and max must be at most {_LOG_MAX:.2f}"
                + (f" and at least {low:.2f}" if low > -math.inf else ""),
                field=f"{field}.max" if hi > _LOG_MAX else f"{field}.min",
            )
        return math.exp(-lo) if dist == "inv_log_uniform" else math.exp(hi)
    if dist == "inv_log_uniform_values" and not math.isfinite(1.0 / lo):
        raise InvalidInput("1/min must be a finite number", field=f"{field}.min")
    if dist == "inv_log_uniform_values":
        return 1.0 / lo
    if not math.isfinite(hi - lo):
        raise InvalidInput("max - min must be a finite number", field=f"{field}.max")
    return max(abs(lo), abs(hi))


def _params(parameters: Any, prefix: tuple[str, ...], field: str) -> list[Param]:
    if not isinstance(parameters, Mapping) or not parameters:
        raise InvalidInput("parameters must be a non-empty object of parameter names", field=field)
    out: list[Param] = []
    for name, spec in parameters.items():
        if not isinstance(name, str) or not name or "." in name:
            raise InvalidInput(
                f"bad parameter name {name!r}: no dots, not empty", field=f"{field}.{name}"
            )
        if isinstance(spec, Mapping) and "parameters" in spec:
            out += _params(spec["parameters"], (*prefix, name), f"{field}.{name}.parameters")
        else:
            out.append(_leaf((*prefix, name), spec, f"{field}.{name}"))
    return out


def plan(config: Any, *, field: str = "config") -> SweepPlan:
    """Check a sweep configuration and work out its trials.

    Raises:
        InvalidInput: a part of the configuration is wrong; ``field`` names it.
    """
    if not isinstance(config, Mapping):
        raise InvalidInput("a sweep configuration must be an object", field=field)
    method = config.get("method")
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}", field=f"{field}.method")
    params = _params(config.get("parameters"), (), f"{field}.parameters")
    metric = config.get("metric")
    if metric is not None:
        if not isinstance(metric, Mapping) or not isinstance(metric.get("name"), str):
            raise InvalidInput(
                "metric must be {'name': ..., 'goal': 'minimize'|'maximize'}",
                field=f"{field}.metric",
            )
        if metric.get("goal", "minimize") not in GOALS:
            raise InvalidInput(
                "goal must be 'minimize' or 'maximize'", field=f"{field}.metric.goal"
            )
    if method == "bayes":
        if metric is None:
            raise InvalidInput(
                "a bayes sweep needs a metric to optimize: {'name': ..., 'goal': ...}",
                field=f"{field}.metric",
            )
        for p in params:
            if p.distribution not in BAYES_DISTRIBUTIONS:
                raise InvalidInput(
                    f"bayes searches bounded distributions ({', '.join(BAYES_DISTRIBUTIONS)});"
                    f" {'.'.join(p.path)} is {p.distribution}",
                    field=f"{field}.parameters.{'.parameters.'.join(p.path)}.distribution",
                )
    if "early_terminate" in config:
        check_early_terminate(config["early_terminate"], metric, f"{field}.early_terminate")
    seed = config.get("seed")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < MAX_SEED
    ):
        raise InvalidInput(
            f"seed must be an integer from 0 to {MAX_SEED - 1}", field=f"{field}.seed"
        )
    run_cap = config.get("run_cap")
    if run_cap is not None and (
        isinstance(run_cap, bool) or not isinstance(run_cap, int) or not 1 <= run_cap <= MAX_RUN_CAP
    ):
        raise InvalidInput(
            f"run_cap must be a positive integer up to {MAX_RUN_CAP}", field=f"{field}.run_cap"
        )
    expected = run_cap
    if method == "grid":
        size = 1
        for p in params:
            if p.distribution not in _DISCRETE:
                raise InvalidInput(
                    f"a grid needs discrete parameters (value, values, int_uniform, q_uniform);"
                    f" {'.'.join(p.path)} is {p.distribution}",
                    field=f"{field}.parameters.{'.parameters.'.join(p.path)}",
                )
            # Counted, not listed: a range of 10^12 values must not be built to be refused.
            size *= p.grid_size()
            if size > MAX_GRID:
                raise InvalidInput(
                    f"the grid has more than {MAX_GRID} trials", field=f"{field}.parameters"
                )
        expected = int(size) if run_cap is None else min(int(size), run_cap)
    return SweepPlan(method, tuple(params), metric, run_cap, expected)


def _nest(pairs: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in pairs:
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def trial_params(
    sweep_plan: SweepPlan, index: int, seed: int, past: list[PastTrial] | None = None
) -> dict[str, Any]:
    """The parameters of trial ``index`` (from 0), nested as the run's config takes them;
    ``past``, the trials handed out before, steer a bayes sweep.

    Raises:
        IndexError: a grid has no trial ``index``.
    """
    if sweep_plan.method == "bayes":
        values = suggest(sweep_plan, past or [], seed, index)
        return _nest([(p.path, v) for p, v in zip(sweep_plan.params, values, strict=True)])
    if sweep_plan.method == "grid":
        grids = [p.grid_values() for p in sweep_plan.params]
        total = math.prod(len(g) for g in grids)
        if not 0 <= index < total:
            raise IndexError(index)
        picks: list[Any] = []
        rest = index
        for values in reversed(grids):  # the last parameter varies fastest
            rest, i = divmod(rest, len(values))
            picks.append(values[i])
        picks.reverse()
        return _nest([(p.path, v) for p, v in zip(sweep_plan.params, picks, strict=True)])
    rng = random.Random(f"lablens-sweep:{seed}:{index}")
    return _nest([(p.path, p.draw(rng)) for p in sweep_plan.params])
