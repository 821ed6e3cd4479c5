"""Sweep configurations: checking them, the grid's order, random draws within their bounds."""

from __future__ import annotations

import itertools

import pytest

from lablens.store.errors import InvalidInput
from lablens.store.sweep_stopping import brackets, hyperband_decision
from lablens.store.sweeps import PastTrial, plan, trial_params


def test_grid_walks_the_product_last_parameter_fastest():
    p = plan(
        {
            "method": "grid",
            "parameters": {
                "lr": {"values": [0.1, 0.01]},
                "opt": {"parameters": {"name": {"values": ["a", "b"]}}},
                "epochs": {"value": 3},
                "layers": {"distribution": "int_uniform", "min": 1, "max": 3},
            },
        }
    )
    assert p.expected_run_count == 2 * 2 * 1 * 3
    got = [trial_params(p, i, seed=0) for i in range(p.expected_run_count)]
    want = [
        {"lr": lr, "opt": {"name": n}, "epochs": 3, "layers": k}
        for lr, n, k in itertools.product([0.1, 0.01], ["a", "b"], [1, 2, 3])
    ]
    assert got == want
    with pytest.raises(IndexError):
        trial_params(p, 12, seed=0)


def test_grid_q_uniform_and_run_cap():
    p = plan(
        {
            "method": "grid",
            "run_cap": 2,
            "parameters": {"d": {"distribution": "q_uniform", "min": 0.1, "max": 0.3, "q": 0.1}},
        }
    )
    assert p.expected_run_count == 2
    assert [trial_params(p, i, 0)["d"] for i in range(3)] == [0.1, 0.2, 0.3]


def test_random_draws_stay_in_bounds_and_repeat_with_the_seed():
    p = plan(
        {
            "method": "random",
            "parameters": {
                "u": {"min": 0.5, "max": 1.5},
                "k": {"min": 2, "max": 4},
                "lv": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-2},
                "lu": {"distribution": "log_uniform", "min": -2, "max": 0},
                "qn": {"distribution": "q_normal", "mu": 10, "sigma": 2, "q": 2},
                "c": {"values": ["x", "y"], "probabilities": [1, 0]},
                "inv": {"distribution": "inv_log_uniform_values", "min": 2, "max": 4},
            },
        }
    )
    assert p.expected_run_count is None
    draws = [trial_params(p, i, seed=7) for i in range(200)]
    assert draws == [trial_params(p, i, seed=7) for i in range(200)]
    assert draws != [trial_params(p, i, seed=8) for i in range(200)]
    for d in draws:
        assert 0.5 <= d["u"] <= 1.5 and d["k"] in (2, 3, 4) and 1e-4 <= d["lv"] <= 1e-2
        assert 0.13 < d["lu"] <= 1.0 and d["qn"] % 2 == 0 and d["c"] == "x"
        assert 2 <= d["inv"] <= 4
    assert len({d["u"] for d in draws}) == 200


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ([], "config"),
        ({"method": "bayes", "parameters": {"a": {"value": 1}}}, "config.metric"),
        ({"method": "grid"}, "config.parameters"),
        ({"method": "grid", "parameters": {"a": {"min": 0.0, "max": 1.0}}}, "config.parameters.a"),
        (
            {
                "method": "grid",
                "parameters": {"o": {"parameters": {"b": {"min": 0.0, "max": 1.0}}}},
            },
            "config.parameters.o.parameters.b",
        ),
        ({"method": "random", "parameters": {"a": {"values": 3}}}, "config.parameters.a.values"),
        (
            {"method": "random", "parameters": {"a": {"min": 2, "max": 1}}},
            "config.parameters.a.min",
        ),
        (
            {
                "method": "random",
                "parameters": {"a": {"distribution": "log_uniform_values", "min": 0, "max": 1}},
            },
            "config.parameters.a.min",
        ),
        (
            {"method": "random", "parameters": {"a": {"value": 1, "colour": 2}}},
            "config.parameters.a.colour",
        ),
        ({"method": "random", "parameters": {"a.b": {"value": 1}}}, "config.parameters.a.b"),
        (
            {"method": "random", "parameters": {"a": {"values": [1, 2], "probabilities": [1]}}},
            "config.parameters.a.probabilities",
        ),
        ({"method": "random", "run_cap": 0, "parameters": {"a": {"value": 1}}}, "config.run_cap"),
        (
            {
                "method": "random",
                "metric": {"name": "x", "goal": "up"},
                "parameters": {"a": {"value": 1}},
            },
            "config.metric.goal",
        ),
        (
            {
                "method": "grid",
                "parameters": {f"p{i}": {"values": list(range(10))} for i in range(6)},
            },
            "config.parameters",
        ),
    ],
)
def test_bad_configs_name_the_bad_part(config, field):
    with pytest.raises(InvalidInput) as err:
        plan(config)
    assert err.value.field == field


# --- bayes ---------------------------------------------------------------------------------------

BAYES = {
    "method": "bayes",
    "metric": {"name": "f", "goal": "minimize"},
    "parameters": {
        "x": {"min": -5.0, "max": 5.0},
        "n": {"distribution": "int_uniform", "min": 1, "max": 4},
        "opt": {"values": ["adam", ["sgd", 0.9]]},
        "q": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.25},
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "wd": {"distribution": "q_log_uniform_values", "min": 1e-4, "max": 1e-1, "q": 1e-4},
        "inv": {"distribution": "inv_log_uniform_values", "min": 0.1, "max": 10},
        "nested": {"parameters": {"k": {"value": 3}}},
    },
}


def test_bayes_suggests_values_of_each_distribution():
    p = plan(BAYES)
    past = []
    for i in range(15):
        params = trial_params(p, i, seed=3, past=past)
        assert -5 <= params["x"] <= 5 and params["n"] in (1, 2, 3, 4)
        assert params["opt"] in ("adam", ["sgd", 0.9])
        assert params["q"] in (0, 0.25, 0.5, 0.75, 1.0)
        assert 1e-4 <= params["lr"] <= 1e-1 and 0.1 <= params["inv"] <= 10
        assert round(params["wd"] / 1e-4, 6).is_integer()
        assert params["nested"] == {"k": 3}
        past.append(PastTrial(params, "FINISHED", (params["x"] - 1) ** 2))
    # The same past and seed give the same suggestion: a claim can be replayed.
    assert trial_params(p, 15, seed=3, past=past) == trial_params(p, 15, seed=3, past=past)


def test_bayes_learns_from_finished_trials_only():
    p = plan({**BAYES, "parameters": {"x": {"min": -5.0, "max": 5.0}}})
    xs = [-5 + 10 * i / 19 for i in range(20)]
    good = [PastTrial({"x": x}, "FINISHED", (x - 1.0) ** 2) for x in xs]
    crashed = [PastTrial({"x": -4.0}, "CRASHED", None), PastTrial({"x": "?"}, "FINISHED", 1.0)]
    picks = [trial_params(p, 22 + i, seed=i, past=good + crashed)["x"] for i in range(8)]
    # TPE goes where the good trials were.
    assert sum(abs(x - 1.0) < 0.5 for x in picks) >= 6, picks


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metric": None}, "config.metric"),
        ({"parameters": {"a": {"distribution": "normal"}}}, "config.parameters.a.distribution"),
        ({"seed": -1}, "config.seed"),
        ({"early_terminate": {"type": "median"}}, "config.early_terminate.type"),
        ({"early_terminate": {"type": "hyperband"}}, "config.early_terminate"),
        (
            {"early_terminate": {"type": "hyperband", "min_iter": 0}},
            "config.early_terminate.min_iter",
        ),
        (
            {"early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 1}},
            "config.early_terminate.eta",
        ),
        (
            {"early_terminate": {"type": "hyperband", "max_iter": 2, "s": 1, "eta": 3}},
            "config.early_terminate",
        ),
    ],
)
def test_bad_bayes_and_early_terminate_name_the_part(change, field):
    config = {k: v for k, v in {**BAYES, **change}.items() if v is not None}
    with pytest.raises(InvalidInput) as info:
        plan(config)
    assert info.value.field == field


# --- hyperband -----------------------------------------------------------------------------------


def test_brackets_as_w_and_b_counts_them():
    assert brackets({"min_iter": 3, "eta": 3})[:4] == [3, 9, 27, 81]
    assert brackets({"max_iter": 27, "s": 2, "eta": 3}) == [3, 9]
    assert brackets({"max_iter": 5, "s": 2, "eta": 2}) == [1, 2]


def test_hyperband_stops_runs_worse_than_the_best_share_at_their_bracket():
    spec = {"type": "hyperband", "max_iter": 5, "s": 2, "eta": 2}  # brackets 1 and 2
    runs = {
        "a": [10, 9],
        "b": [10, 10],
        "c": [10, 8, 8],
        "d": [10, 7, 7],
        "e": [10, 6, 6],
    }
    every = list(runs.values())
    # At bracket 2 the values are 9 10 8 7 6; the better half ends at 8.
    b = hyperband_decision(spec, "minimize", runs["b"], every)
    assert (b.stop, b.bracket, b.value, b.threshold) == (True, 2, 10, 8)
    assert not hyperband_decision(spec, "minimize", runs["c"], every).stop  # min 8 is not worse
    assert not hyperband_decision(spec, "minimize", runs["d"], every).stop
    strict = hyperband_decision({**spec, "strict": True}, "minimize", runs["c"], every)
    assert not strict.stop and strict.value == 8
    # Before its first bracket a run is never judged; maximize flips the order.
    assert hyperband_decision(spec, "minimize", [], every).bracket is None
    up = hyperband_decision(spec, "maximize", [-10, -10], [[-10, -v] for v in (9, 10, 8, 7, 6)])
    assert up.stop and up.threshold == -8
