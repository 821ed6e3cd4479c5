"""Turning what ``run.log()`` is given into flat ``{key: number}`` dicts, or a clear error.

The common case (a flat dict of Python numbers with keys seen before) never comes here: ``Run.log``
checks it with two C-level set operations and appends it as it is. Everything else (nested dicts,
numpy and torch scalars, new keys) is checked and converted here, once per call.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from lablens.contract.flatten import flatten as flat_dict
from lablens.errors import UsageError
from lablens.sdk.media import as_media, numbers_histogram

#: How deep logged data, a config or a summary may nest (dicts and lists): the server's default
#: ``LABLENS_MAX_DEPTH``. The SDK cannot read the server's settings, so it keeps its own copy and
#: refuses deeper data at the call, naming the key path, before anything is sent.
MAX_DEPTH = 32


class InvalidValue(UsageError, TypeError):
    """A value that cannot be logged; ``field`` names its key.

    It is a ``TypeError`` (what Python raises for a value of the wrong type) and a
    ``lablens.errors.UsageError``, so either ``except`` catches it.
    """


# Types whose values go into the buffer unchanged: numpy converts them all to float64 in one call.
PLAIN_TYPES: frozenset[type] = frozenset(
    {
        float,
        int,
        bool,
        np.float64,
        np.float32,
        np.float16,
        np.int64,
        np.int32,
        np.int16,
        np.int8,
        np.uint64,
        np.uint32,
        np.uint16,
        np.uint8,
        np.bool_,
    }
)


def _type_name(value: Any) -> str:
    cls = type(value)
    name = cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name}"


def to_number(key: str, value: Any) -> float | int | bool:
    """The number a loggable value stands for; raise ``InvalidValue`` naming ``key`` otherwise.

    Loggable: ``int``, ``float``, ``bool``, numpy numbers, 0-d numpy arrays of numbers, and
    scalar tensors (anything whose ``.item()`` returns a number, as torch, jax and tf give).
    """
    if type(value) in PLAIN_TYPES:
        return value
    if isinstance(value, (numbers.Real, np.number, np.bool_)):
        return _real(key, value)
    if isinstance(value, np.ndarray):
        if value.ndim == 0 and (np.issubdtype(value.dtype, np.number) or value.dtype == bool):
            return _real(key, value.item())
        raise InvalidValue(
            f"run.log: value of {key!r} is a numpy array of shape {value.shape} and dtype "
            f"{value.dtype}; only numbers (or 0-d arrays of numbers) can be logged",
            field=key,
        )
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)):
        try:
            number = item()
        except Exception as exc:  # a tensor with more than one element, say
            raise InvalidValue(
                f"run.log: value of {key!r} is {_type_name(value)} whose .item() failed ({exc}); "
                "only numbers (or one-element tensors) can be logged",
                field=key,
            ) from exc
        if isinstance(number, (numbers.Real, np.number, np.bool_)):
            return _real(key, number)
        raise InvalidValue(
            f"run.log: value of {key!r} is {_type_name(value)} whose .item() is "
            f"{_type_name(number)}; only numbers can be logged",
            field=key,
        )
    raise InvalidValue(
        f"run.log: value of {key!r} is {_type_name(value)}; only numbers, media (lablens.Image, "
        "Table, Histogram, Audio, Text, Html, Video, plotly figures, or a list of them), "
        "strings, DataFrames and arrays or lists of numbers (logged as histograms) can be logged",
        field=key,
    )


def _real(key: str, value: Any) -> float | int | bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        value = int(value)
        try:
            float(value)
        except OverflowError:
            # Too large for a float64 point: keep its sign and magnitude class, as numpy would.
            return math.inf if value > 0 else -math.inf
        return value
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidValue(
            f"run.log: value of {key!r} is {_type_name(value)} that is not a real number",
            field=key,
        ) from exc


def flatten_metrics(
    data: Any, *, caller: str = "run.log", media: dict[str, list[Any]] | None = None
) -> dict[str, float | int | bool]:
    """Flatten nested dicts with dots and turn every value into a plain number.

    ``{"train": {"loss": 1}}`` becomes ``{"train.loss": 1}``. Raises ``TypeError`` when ``data``
    is not a mapping, and ``InvalidValue`` (a ``TypeError``) naming the first bad key.

    With ``media`` (a dict to fill), media values (``lablens.Image``..., a plotly figure, or a
    non-empty list of them: a gallery) go there as ``{key: [media, ...]}`` instead.
    """
    if not isinstance(data, Mapping):
        raise InvalidValue(
            f"{caller}: data must be a dict of {{name: number}}, not {_type_name(data)}"
        )
    out: dict[str, float | int | bool] = {}
    _flatten_into(out, "", data, caller, 1, media)
    return out


def _as_gallery(value: Any) -> list[Any] | None:
    """``value`` as a list of media (one item, or a gallery), or None when it is not media."""
    if isinstance(value, (list, tuple)):
        if not value:
            return None
        histogram = numbers_histogram(value)
        if histogram is not None:
            return [histogram]
        items = [as_media(v) for v in value]
        return items if all(i is not None for i in items) else None
    one = as_media(value)
    return None if one is None else [one]


def _flatten_into(
    out: dict[str, Any],
    prefix: str,
    data: Mapping[Any, Any],
    caller: str,
    depth: int,
    media: dict[str, list[Any]] | None = None,
) -> None:
    for key, value in data.items():
        if type(key) is str and key and type(value) in PLAIN_TYPES:
            # The usual value, checked first: a call that logs an image beside its numbers
            # comes here for all of them.
            out[prefix + key] = value
            continue
        if not isinstance(key, str):
            where = f" under {prefix[:-1]!r}" if prefix else ""
            raise InvalidValue(
                f"{caller}: key {key!r}{where} is {_type_name(key)}; keys must be strings",
                field=prefix + str(key),
            )
        if not key:
            raise InvalidValue(f"{caller}: a key is empty{_under(prefix)}", field=prefix + key)
        name = prefix + key
        if isinstance(value, Mapping):
            if depth >= MAX_DEPTH:
                raise too_deep(caller, name)
            _flatten_into(out, name + ".", value, caller, depth + 1, media)
        elif media is not None and (gallery := _as_gallery(value)):
            media[name] = gallery
        else:
            out[name] = to_number(name, value)


def _under(prefix: str) -> str:
    return f" under {prefix[:-1]!r}" if prefix else ""


def too_deep(caller: str, path: str) -> UsageError:
    """The error for data nested deeper than ``MAX_DEPTH`` at ``path``."""
    shown = path if len(path) <= 300 else path[:150] + "..." + path[-150:]
    return UsageError(
        f"{caller}: {shown} is nested deeper than {MAX_DEPTH} levels, the most lablens keeps;"
        " flatten it or store it as a file",
        field=path,
    )


def flatten(
    data: Mapping[str, Any], prefix: str = "", *, caller: str = "summary"
) -> dict[str, Any]:
    """Flatten nested dicts with dots, leaving the values as they are (for summaries).

    Raises:
        lablens.errors.UsageError: ``data`` nests deeper than ``MAX_DEPTH`` levels.
    """
    return flat_dict(
        data, prefix, max_depth=MAX_DEPTH, too_deep=lambda path: too_deep(caller, path)
    )
