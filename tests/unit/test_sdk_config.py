"""run.config and run.summary as dict-likes, and what they hand to the sender."""

from __future__ import annotations

import argparse
import enum
import math
from pathlib import Path

import numpy as np
import pytest

from lablens.sdk.config import Config, Summary, to_json
from lablens.sdk.settings import Settings


def test_config_allows_item_and_attribute_access_and_sends_the_whole_config():
    sent = []
    config = Config({"lr": 0.1}, on_change=sent.append)
    config.update({"data": {"bs": 64}}, epochs=3)
    config.dropout = 0.5
    config["lr"] = 0.01
    assert config.lr == 0.01 and config["data"]["bs"] == 64 and config.dropout == 0.5
    assert sent[-1] == {"lr": 0.01, "data": {"bs": 64}, "epochs": 3, "dropout": 0.5}
    assert len(sent) == 3
    assert "lr" in config and len(config) == 4 and dict(config.items())["epochs"] == 3
    del config.dropout
    assert "dropout" not in sent[-1]
    with pytest.raises(AttributeError):
        _ = config.missing


def test_config_sends_copies_not_the_live_dict():
    sent = []
    config = Config({}, on_change=sent.append)
    config.update({"data": {"bs": 64}})
    config["data"]["bs"] = 128  # a change inside a nested dict is not seen (as in W&B)
    assert sent[-1] == {"data": {"bs": 64}}


def test_config_takes_argparse_namespaces():
    config = Config()
    config.update(argparse.Namespace(lr=0.1, layers=(1, 2)))
    assert config.as_dict() == {"lr": 0.1, "layers": [1, 2]}


class Color(enum.Enum):
    RED = "red"


def test_to_json_makes_values_json_friendly():
    assert to_json(
        {
            "np": np.float32(0.5),
            "arr": np.arange(3),
            "path": Path("/tmp/x"),
            "enum": Color.RED,
            "set": {1},
            "obj": object,
        }
    ) == {
        "np": 0.5,
        "arr": [0, 1, 2],
        "path": "/tmp/x",
        "enum": "red",
        "set": [1],
        "obj": str(object),
    }


def test_summary_flattens_merges_and_sends_only_what_changed():
    sent = []
    summary = Summary({"loss": 1.0}, on_update=sent.append)
    summary["best"] = {"acc": 0.9}
    summary.update(val=math.nan)
    assert sent == [{"best.acc": 0.9}, {"val": sent[1]["val"]}]
    assert math.isnan(summary["val"]) and summary["best.acc"] == 0.9 and summary.loss == 1.0
    summary._observe({"loss": 0.5})
    assert summary["loss"] == 0.5 and len(sent) == 2  # logged values stay local


def test_settings_take_a_dict_and_the_environment(monkeypatch):
    monkeypatch.setenv("LABLENS_SYSTEM_INTERVAL", "0.2")
    assert Settings.resolve(None).system_interval == 0.2
    assert Settings.resolve({"batch_points": 10}).batch_points == 10
    with pytest.raises(TypeError, match="unknown setting"):
        Settings.resolve({"nope": 1})
