"""What run.log() accepts, how it flattens it, and how it names a bad value."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from lablens.errors import UsageError
from lablens.sdk._flatten import InvalidValue, flatten, flatten_metrics, to_number


class FakeTensor:
    """What torch, jax and tf scalars look like to run.log(): an .item() giving a number."""

    def __init__(self, *values: float) -> None:
        self.values = values

    def item(self) -> float:
        if len(self.values) != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.values[0]


def test_flatten_metrics_joins_nested_keys_with_dots():
    data = {"train": {"loss": 1, "acc": {"top1": 0.5}}, "lr": 0.1}
    assert flatten_metrics(data) == {"train.loss": 1, "train.acc.top1": 0.5, "lr": 0.1}


def test_flatten_metrics_keeps_nan_and_infinities():
    out = flatten_metrics({"a": math.nan, "b": math.inf, "c": -math.inf, "d": np.float32("nan")})
    assert math.isnan(out["a"]) and math.isnan(out["d"])
    assert out["b"] == math.inf and out["c"] == -math.inf


def test_numpy_numbers_zero_d_arrays_and_tensors_become_numbers():
    out = flatten_metrics(
        {
            "i": np.int64(3),
            "f": np.float16(0.5),
            "b": np.bool_(True),
            "arr": np.array(2.5),
            "iarr": np.array(7, dtype=np.int32),
            "t": FakeTensor(1.25),
            "frac": Fraction(1, 4),
        }
    )
    assert out == {"i": 3, "f": 0.5, "b": True, "arr": 2.5, "iarr": 7, "t": 1.25, "frac": 0.25}


def test_a_string_value_is_refused_naming_its_key():
    with pytest.raises(TypeError) as info:
        flatten_metrics({"train": {"img": "cat.png", "loss": 1.0}})
    assert str(info.value).startswith(
        "run.log: value of 'train.img' is a str; only numbers, media (lablens.Image, "
    )
    assert info.value.field == "train.img"
    assert isinstance(info.value, UsageError)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, "a NoneType"),
        ([1, 2], "a list"),
        (np.zeros(3), "numpy array of shape (3,)"),
        (np.array("x"), "numpy array of shape ()"),
        (FakeTensor(1.0, 2.0), ".item() failed"),
        (object(), "an object"),
        (b"x", "a bytes"),
        (1 + 2j, "a complex"),
    ],
)
def test_values_that_are_not_numbers_are_refused(value, words):
    with pytest.raises(InvalidValue, match="'m'") as info:
        to_number("m", value)
    assert words in str(info.value)


def test_non_string_keys_are_refused():
    with pytest.raises(InvalidValue, match="keys must be strings"):
        flatten_metrics({1: 2.0})
    with pytest.raises(InvalidValue, match="under 'a'"):
        flatten_metrics({"a": {2: 2.0}})


def test_data_must_be_a_mapping():
    with pytest.raises(TypeError, match="data must be a dict"):
        flatten_metrics([("loss", 1.0)])


def test_an_int_beyond_float64_becomes_an_infinity_of_its_sign():
    assert to_number("big", np.array(1)) == 1
    assert flatten_metrics({"n": FakeTensor(10**400)})["n"] == math.inf


def test_flatten_leaves_summary_values_as_they_are():
    assert flatten({"best": {"acc": 0.9, "tag": "x"}, "empty": {}}) == {
        "best.acc": 0.9,
        "best.tag": "x",
        "empty": {},
    }
