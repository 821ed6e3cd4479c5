"""Traits that take what a user has at hand (a ``Run``, a ``Runs`` collection, a ``Project``, or
their paths) and keep paths; anything else is a ``TypeError`` that names the argument and what it
takes, not a raw traitlets error.

The widgets sync paths to the page and record them in ``code``, so the conversion happens once,
at the boundary: ``MetricChart(runs=[run])`` holds ``["alice/mnist/3f2a9c1b"]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import traitlets as t

from lablens.api import Api, Project, Run, Runs, Workspace

__all__ = [
    "Keys",
    "ProjectPath",
    "RunPaths",
    "api_of",
    "check_api",
    "keys_list",
    "project_path",
    "run_paths",
    "where_path",
]

RUNS_TAKEN = "run paths ('entity/project/run_id'), Run objects or a Runs collection"
PROJECT_TAKEN = "a project path ('entity/project'), a Project or a Runs collection"
WHERE_TAKEN = (
    "a workspace ('alice'), a project path ('alice/mnist'), a run path, a Workspace, a Project,"
    " a Run or a Runs collection"
)


def _kind(value: Any) -> str:
    return (
        f"{type(value).__name__} ({value!r})"
        if isinstance(value, int | float)
        else (type(value).__name__)
    )


def run_paths(value: Any, argument: str) -> list[str]:
    """Run paths from a path, a ``Run``, a ``Runs`` or an iterable of paths and runs.

    Raises:
        TypeError: something else; the message names ``argument`` and what it takes.
    """
    if isinstance(value, str | Run):
        value = [value]
    if isinstance(value, Iterable) and not isinstance(value, dict | bytes):
        paths = []
        for i, item in enumerate(value):
            if isinstance(item, Run):
                paths.append(item.path)
            elif isinstance(item, str):
                paths.append(item)
            else:
                raise TypeError(f"{argument} takes {RUNS_TAKEN}; item {i} is {_kind(item)}")
        return paths
    raise TypeError(f"{argument} takes {RUNS_TAKEN}, not {_kind(value)}")


def project_path(value: Any, argument: str) -> str:
    """A project path from a path, a ``Project`` or a ``Runs`` (its project).

    Raises:
        TypeError: something else; the message names ``argument`` and what it takes.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, Project | Runs):
        return value.path
    hint = (
        " (a Run: pass its project, run.project, or use runs=/selected=)"
        if isinstance(value, Run)
        else ""
    )
    raise TypeError(f"{argument} takes {PROJECT_TAKEN}, not {_kind(value)}{hint}")


def where_path(value: Any, argument: str) -> str:
    """A workspace, project or run path from a path or a ``Workspace``, ``Project``, ``Run`` or
    ``Runs``.

    Raises:
        TypeError: something else; the message names ``argument`` and what it takes.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, Workspace):
        return value.username
    if isinstance(value, Project | Run | Runs):
        return value.path
    raise TypeError(f"{argument} takes {WHERE_TAKEN}, not {_kind(value)}")


def keys_list(value: Any, argument: str) -> list[str]:
    """Metric keys from one key or an iterable of keys."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, dict | bytes):
        keys = list(value)
        for i, key in enumerate(keys):
            if not isinstance(key, str):
                raise TypeError(
                    f"{argument} takes metric names (strings); item {i} is {_kind(key)}"
                )
        return keys
    raise TypeError(f"{argument} takes a metric name or a list of them, not {_kind(value)}")


def api_of(*given: Any) -> Api | None:
    """The ``Api`` of the first lablens resource among ``given`` (or inside a list of them),
    so that a widget given Run objects reads from the server they came from."""
    for value in given:
        if isinstance(value, Run | Runs | Project | Workspace):
            return value._api
        if isinstance(value, list | tuple | np.ndarray):
            for item in value:
                if isinstance(item, Run):
                    return item._api
    return None


def check_api(api: Any, widget: str) -> None:
    """Refuse an ``api`` argument that is not an ``Api`` (a list of runs given first, say)."""
    if api is not None and not isinstance(api, Api):
        raise TypeError(
            f"{widget}(api=...) takes a lablens.Api, not {_kind(api)}; give runs, paths and"
            f" projects by name, e.g. {widget}(runs=...) or {widget}(path=...)"
        )


def _owner(obj: Any, name: str | None) -> str:
    return f"{type(obj).__name__}.{name}"


class RunPaths(t.List):
    """A list of run paths; takes run paths, ``Run`` objects or a ``Runs`` collection."""

    info_text = RUNS_TAKEN

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(t.Unicode(), **kwargs)

    def validate(self, obj: Any, value: Any) -> Any:
        return super().validate(obj, run_paths(value, _owner(obj, self.name)))


class ProjectPath(t.Unicode):
    """A project path; takes a path, a ``Project`` or a ``Runs`` collection."""

    info_text = PROJECT_TAKEN

    def validate(self, obj: Any, value: Any) -> Any:
        return super().validate(obj, project_path(value, _owner(obj, self.name)))


class Keys(t.List):
    """A list of metric names; one name is a list of one."""

    info_text = "metric names"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(t.Unicode(), **kwargs)

    def validate(self, obj: Any, value: Any) -> Any:
        return super().validate(obj, keys_list(value, _owner(obj, self.name)))
