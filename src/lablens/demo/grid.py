"""The demo's grid of runs: the config, name and tags of each model ``build_demo()`` trains.

A grid of hidden sizes x L2 penalties x learning rates, with two deliberately bad settings mixed
in, so the run table, the filters and the charts have something to show. The grid is also a
lablens sweep (``demo_sweep()``): its runs are the sweep's trials, in the sweep's order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["SWEEP_NAME", "demo_configs", "demo_sweep", "in_sweep", "run_name", "tags"]

_HIDDEN = ([64], [128], [64, 32])
_LRS = (0.001, 0.003, 0.01)
_ALPHAS = (1e-4, 1e-2)
# Two deliberately bad settings, placed early so a small demo still shows them: a learning rate
# too small to learn in time (finishes, poor summary) and plain SGD at lr=2, which diverges and
# makes the run CRASHED. The first three runs are always good ones.
_SLOW = {"model": {"hidden": [64]}, "optim": {"name": "adam", "lr": 1e-5, "alpha": 1e-4}}
_DIVERGING = {"model": {"hidden": [64]}, "optim": {"name": "sgd", "lr": 2.0, "alpha": 1e-4}}
_BAD_AT = {3: _SLOW, 7: _DIVERGING}
SWEEP_NAME = "demo-grid"


def demo_sweep() -> dict[str, Any]:
    """The sweep configuration of the demo's grid (W&B's form, method ``grid``).

    Its trials, in order, are the grid's runs of ``demo_configs()`` with seed 0 (the bad
    settings are runs of their own, outside the sweep): hidden sizes vary slowest, then the L2
    penalty, then the learning rate, as a grid sweep walks its parameters (the last fastest).

    Example:
        >>> demo_sweep()["parameters"]["optim"]["parameters"]["lr"]
        {'values': [0.001, 0.003, 0.01]}
    """
    return {
        "name": SWEEP_NAME,
        "description": "the demo's grid: hidden sizes x L2 penalties x learning rates",
        "method": "grid",
        "metric": {"name": "val/acc", "goal": "maximize"},
        "parameters": {
            "model": {"parameters": {"hidden": {"values": [list(h) for h in _HIDDEN]}}},
            "optim": {
                "parameters": {
                    "alpha": {"values": list(_ALPHAS)},
                    "lr": {"values": list(_LRS)},
                }
            },
        },
    }


def in_sweep(config: Mapping[str, Any]) -> bool:
    """Whether a config of ``demo_configs()`` is one of ``demo_sweep()``'s trials."""
    o = config["optim"]
    return (
        not config.get("seed")
        and o["name"] == "adam"
        and o["lr"] in _LRS
        and o["alpha"] in _ALPHAS
        and tuple(config["model"]["hidden"]) in {tuple(h) for h in _HIDDEN}
    )


def demo_configs(runs: int = 20, epochs: int = 100) -> list[dict[str, Any]]:
    """The config of each demo run, in training order.

    A grid of hidden sizes x L2 penalties x learning rates (18 runs, the trials of
    ``demo_sweep()`` in its order) with two bad settings mixed in; past 20 runs the grid
    repeats with a new seed.

    Args:
        runs: how many configs.
        epochs: epochs per run (recorded in the config).

    Returns:
        Nested dicts such as ``{"model": {"hidden": [64, 32], "activation": "relu"},
        "optim": {"name": "adam", "lr": 0.01, "alpha": 0.0001}, "batch_size": 64,
        "epochs": 100, "seed": 0, "data": {"name": "digits", "val_fraction": 0.25}}``.

    Example:
        >>> [c["optim"]["lr"] for c in demo_configs(3)]
        [0.001, 0.003, 0.01]
    """
    grid = [
        {"model": {"hidden": list(h)}, "optim": {"name": "adam", "lr": lr, "alpha": a}}
        for h in _HIDDEN
        for a in _ALPHAS
        for lr in _LRS
    ]
    for i in sorted(_BAD_AT):
        grid.insert(i, _BAD_AT[i])
    configs = []
    for i in range(runs):
        base = grid[i % len(grid)]
        configs.append(
            {
                "model": {"hidden": list(base["model"]["hidden"]), "activation": "relu"},
                "optim": dict(base["optim"]),
                "batch_size": 64,
                "epochs": epochs,
                "seed": i // len(grid),
                "data": {"name": "digits", "val_fraction": 0.25},
            }
        )
    return configs


def run_name(config: Mapping[str, Any]) -> str:
    """A readable run name, e.g. ``mlp-64x32-adam-lr0.01-a0.0001``."""
    hidden = "x".join(str(h) for h in config["model"]["hidden"])
    o = config["optim"]
    name = f"mlp-{hidden}-{o['name']}-lr{o['lr']:g}-a{o['alpha']:g}"
    return name if not config.get("seed") else f"{name}-s{config['seed']}"


def tags(config: Mapping[str, Any]) -> list[str]:
    o = config["optim"]
    tags = ["demo", o["name"], "deep" if len(config["model"]["hidden"]) > 1 else "shallow"]
    if o["name"] == "sgd" or o["lr"] < 1e-4:
        tags.append("bad-setting")
    return tags
