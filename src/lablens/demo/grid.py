"""The demo's grid of runs: the config, name and tags of each model ``build_demo()`` trains.

A grid of hidden sizes x learning rates x L2 penalties, with two deliberately bad settings mixed
in, so the run table, the filters and the charts have something to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["demo_configs", "run_name", "tags"]

_HIDDEN = ([64], [128], [64, 32])
_LRS = (0.001, 0.003, 0.01)
_ALPHAS = (1e-4, 1e-2)
# Two deliberately bad settings, placed early so a small demo still shows them: a learning rate
# too small to learn in time (finishes, poor summary) and plain SGD at lr=2, which diverges and
# makes the run CRASHED. The first three runs are always good ones.
_SLOW = {"model": {"hidden": [64]}, "optim": {"name": "adam", "lr": 1e-5, "alpha": 1e-4}}
_DIVERGING = {"model": {"hidden": [64]}, "optim": {"name": "sgd", "lr": 2.0, "alpha": 1e-4}}
_BAD_AT = {3: _SLOW, 7: _DIVERGING}


def demo_configs(runs: int = 20, epochs: int = 100) -> list[dict[str, Any]]:
    """The config of each demo run, in training order.

    A grid of hidden sizes x learning rates x L2 penalties (18 runs) with two bad settings mixed
    in; past 20 runs the grid repeats with a new seed.

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
        for a in _ALPHAS
        for h in _HIDDEN
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
