"""Sweep configurations: checking them, the grid's order, random draws within their bounds."""

from __future__ import annotations

import itertools

import pytest

from lablens.store.errors import InvalidInput
from lablens.store.sweeps import plan, trial_params


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
        ({"method": "bayes", "parameters": {"a": {"value": 1}}}, "config.method"),
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
