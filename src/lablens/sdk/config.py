"""``run.config`` and ``run.summary``: dict-likes whose changes the run sends to the server."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import enum
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from lablens.errors import UsageError
from lablens.sdk._flatten import MAX_DEPTH, flatten


def to_json(value: Any, *, path: str = "config") -> Any:
    """A JSON-friendly copy of a config or summary value.

    numpy scalars and arrays become numbers and lists, tuples and sets become lists, paths,
    dates and enums become what they stand for, ``argparse.Namespace`` and dataclasses become
    dicts, and any other object its ``str()`` (as W&B does), so a config never fails to save.

    Raises:
        lablens.errors.UsageError: the value nests deeper than ``MAX_DEPTH`` levels (or holds
            itself); the message and ``.field`` name the key path where it goes too deep.
    """
    return _to_json(value, path, 0)


def _to_json(value: Any, path: str, depth: int) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.ndim > MAX_DEPTH - depth:
            _too_deep(path)
        return value.tolist()
    if isinstance(value, (Mapping, list, tuple, set, frozenset)) and depth >= MAX_DEPTH:
        _too_deep(path)
    if isinstance(value, Mapping):
        return {str(k): _to_json(v, f"{path}.{k}", depth + 1) for k, v in value.items()}
    if isinstance(value, argparse.Namespace):
        return _to_json(vars(value), path, depth)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _to_json(dataclasses.asdict(value), path, depth)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_to_json(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, enum.Enum):
        return _to_json(value.value, path, depth)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    for method in ("item", "tolist"):  # tensors of torch, jax, tf
        fn = getattr(value, method, None)
        if callable(fn):
            try:
                result = fn()
            except Exception:  # noqa: S112 - try the next way, then str()
                continue
            return _to_json(result, path, depth)
    return str(value)


def _item(key: Any, value: Any) -> Any:
    # One value of the config: one level below the config itself.
    return _to_json(value, f"config.{key}", 1)


def _too_deep(path: str) -> None:
    shown = path if len(path) <= 300 else path[:150] + "..." + path[-150:]
    raise UsageError(
        f"{shown} is nested deeper than {MAX_DEPTH} levels, the most a config or summary may"
        " have; flatten it or store it as a file",
        field=path,
    )


def _as_mapping(data: Any, what: str) -> Mapping[str, Any]:
    if data is None:
        return {}
    if isinstance(data, argparse.Namespace):
        return vars(data)
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return dataclasses.asdict(data)
    if isinstance(data, Mapping):
        return data
    raise TypeError(f"{what} must be a dict (or an argparse.Namespace), not {type(data).__name__}")


class Config:
    """The run's hyperparameters: a dict that also allows attribute access.

    Nested dicts stay nested. Every change is sent to the server in the background, as the whole
    config (the server keeps the last one it got).

    Example:
        >>> run.config.update({"lr": 0.01, "data": {"batch_size": 64}})
        >>> run.config.lr, run.config["data"]["batch_size"]
        (0.01, 64)
        >>> run.config.epochs = 10
    """

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        on_change: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        items = (data or {}).items()
        object.__setattr__(self, "_data", {str(k): _item(k, v) for k, v in items})
        object.__setattr__(self, "_on_change", on_change)
        object.__setattr__(self, "_lock", threading.Lock())

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self.as_dict())

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[str(key)] = _item(key, value)
            self._changed()

    def __delitem__(self, key: str) -> None:
        with self._lock:
            del self._data[key]
            self._changed()

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Config):
            return self._data == other._data
        return isinstance(other, Mapping) and self._data == dict(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like dict

    def __repr__(self) -> str:
        return f"Config({self._data!r})"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._data))

    def keys(self):  # noqa: ANN201 - dict's own view types
        return self._data.keys()

    def values(self):  # noqa: ANN201
        return self._data.values()

    def items(self):  # noqa: ANN201
        return self._data.items()

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default``."""
        return self._data.get(key, default)

    def update(self, data: Any = None, /, **kwargs: Any) -> None:
        """Set several keys at once (one request to the server).

        Args:
            data: a dict, an ``argparse.Namespace`` or a dataclass instance.
            **kwargs: more keys.
        """
        given = {**_as_mapping(data, "config.update()"), **kwargs}
        values = {str(key): _item(key, value) for key, value in given.items()}
        with self._lock:
            for key, value in values.items():
                self._data[key] = value
            self._changed()

    def setdefaults(self, data: Mapping[str, Any]) -> None:
        """Set the keys of ``data`` that are not set yet."""
        with self._lock:
            for key, value in data.items():
                self._data.setdefault(str(key), _item(key, value))
            self._changed()

    def as_dict(self) -> dict[str, Any]:
        """A deep copy of the config as a plain dict."""
        return to_json(self._data)


class Summary(Mapping[str, Any]):
    """The run's summary: the last value of each logged key, plus what you set yourself.

    Keys are flat (``{"best": {"acc": 0.9}}`` is stored as ``best.acc``). ``run.log()`` keeps the
    last logged values here as it goes (the server records them on its own). Setting a key
    sends it to the server in the background, where it is merged into the stored summary; a later
    ``run.log()`` of the same key overwrites it, as in W&B.

    Example:
        >>> run.summary["best_accuracy"] = 0.97
        >>> run.summary.update({"test": {"loss": 0.1}})
        >>> run.summary["test.loss"]
        0.1
    """

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        on_update: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._values: dict[str, Any] = flatten(dict(data or {}))
        self._on_update = on_update

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._values))

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Summary({self._values!r})"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"summary has no key {name!r}") from None

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def update(self, data: Any = None, /, **kwargs: Any) -> None:
        """Set several keys at once (one request to the server).

        Args:
            data: a dict; nested dicts are flattened with dots.
            **kwargs: more keys.
        """
        given = {**_as_mapping(data, "summary.update()"), **kwargs}
        flat = {str(k): _to_json(v, f"summary.{k}", 1) for k, v in flatten(given).items()}
        self._values.update(flat)
        if self._on_update is not None and flat:
            self._on_update(flat)

    def _observe(self, data: Mapping[str, Any]) -> None:
        # Called by run.log() for each call: local only, the server keeps its own last values.
        self._values.update(data)
