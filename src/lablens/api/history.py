"""Metric history: one request for any number of runs and keys, pivoted on the client.

``fetch_history`` asks the history route once; ``_frames`` pivots the long Arrow answer. ``Run``
gets ``metrics()``, ``history()`` and ``scan_history()`` from ``RunHistory`` here.
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lablens.api._frames import (
    empty_swanlab_frame,
    epoch_seconds,
    pivot,
    records,
    swanlab_frame,
    wandb_frame,
)
from lablens.api.media import fetch_media, merge_frame, merge_records
from lablens.contract.names import BUILTIN_X, ROUTE_X
from lablens.contract.names import POINT_STREAMS as STREAMS
from lablens.contract.routes import project_route, run_route
from lablens.errors import UsageError

if TYPE_CHECKING:
    from lablens.api.api import Api
    from lablens.api.run import Run

__all__ = [
    "BUILTIN_X",
    "STREAMS",
    "HistoryScan",
    "RunHistory",
    "UnknownKeyWarning",
    "check_keys",
    "fetch_history",
    "x_window",
]

# A history answer without points (a history of media keys only asks the server nothing).
_EMPTY = pa.table(
    {
        "run_id": pa.array([], pa.string()),
        "key": pa.array([], pa.string()),
        "step": pa.array([], pa.int64()),
        "timestamp": pa.array([], pa.float64()),
        "value": pa.array([], pa.float64()),
    }
)

# How many existing keys an unknown-key message names (closest first).
_KEYS_NAMED = 10


class UnknownKeyWarning(UserWarning):
    """A metric key was asked for that no run logged, so no points came back for it.

    W&B's ``history()`` answers such a key with empty data and says nothing; lablens answers
    the same, and warns, naming the keys that exist, closest first. Make it an error with
    ``warnings.simplefilter("error", UnknownKeyWarning)``.

    Attributes:
        unknown: the keys asked for that were never logged.
        known: the keys that were logged, closest to the first unknown key first.

    Example:
        >>> run.history(keys=["los"])  # warns: no metric 'los' ...; did you mean 'loss'?
    """

    def __init__(self, unknown: Sequence[str], known: Sequence[str], where: str) -> None:
        self.unknown = list(unknown)
        self.known = closest(self.unknown, known)
        super().__init__(unknown_keys_message(self.unknown, self.known, where))


def closest(unknown: Sequence[str], known: Iterable[str]) -> list[str]:
    """``known``, the keys most like the first of ``unknown`` first (the rest by name)."""
    names = sorted(set(known))
    if not unknown or not names:
        return names
    near = difflib.get_close_matches(unknown[0], names, n=len(names), cutoff=0.5)
    return near + [k for k in names if k not in near]


def unknown_keys_message(unknown: Sequence[str], known: Sequence[str], where: str) -> str:
    """``no metric 'los' in <where>; did you mean 'loss'? The metrics logged: loss, acc``."""
    what = "metric" if len(unknown) == 1 else "metrics"
    text = f"no {what} {', '.join(map(repr, unknown))} in {where}"
    if not known:
        return text + "; nothing was logged there"
    near = difflib.get_close_matches(unknown[0], known, n=1, cutoff=0.5)
    text += f"; did you mean {near[0]!r}?" if near else "."
    shown = ", ".join(known[:_KEYS_NAMED])
    more = f" (and {len(known) - _KEYS_NAMED} more)" if len(known) > _KEYS_NAMED else ""
    return f"{text} The metrics logged: {shown}{more}"


def keys_found(table: pa.Table) -> set[str]:
    """The keys that have at least one point in a history answer (long form)."""
    if "key" not in table.column_names:
        return set()
    col = table.column("key")
    if pa.types.is_dictionary(col.type) and col.null_count == 0:
        # Counting the dictionary codes is several times faster than hashing the column.
        found: set[str] = set()
        for chunk in col.chunks:
            if len(chunk.dictionary) == 1 and len(chunk):  # one key: no need to count
                found.add(str(chunk.dictionary[0].as_py()))
                continue
            counts = np.bincount(chunk.indices.to_numpy(), minlength=len(chunk.dictionary))
            found.update(str(chunk.dictionary[int(i)].as_py()) for i in np.flatnonzero(counts))
        return found
    return {str(k) for k in pc.unique(col).to_pylist() if k is not None}


def check_keys(
    asked: Sequence[str] | None,
    found: set[str],
    known: Callable[[], Iterable[str]],
    where: str,
    *,
    stacklevel: int = 3,
) -> None:
    """Warn (``UnknownKeyWarning``) about the keys of ``asked`` that came back without points
    and that ``known()`` (read only then) does not list.

    A key that exists but has no point in the range read is not warned about. ``stacklevel``
    counts from this function (3: the caller of its caller, the user's line).
    """
    if not asked:
        return
    missing = [k for k in dict.fromkeys(asked) if k not in found and k not in BUILTIN_X]
    if not missing:
        return
    names = list(known())
    logged = set(names)
    unknown = [k for k in missing if k not in logged]
    if unknown:
        warnings.warn(UnknownKeyWarning(unknown, names, where), stacklevel=stacklevel)


def fetch_history(
    api: Api,
    entity: str,
    project: str,
    run_ids: Sequence[str] | None,
    *,
    keys: Sequence[str] | None = None,
    samples: int | None = None,
    stream: str = "default",
    min_step: int | None = None,
    max_step: int | None = None,
    min_x: float | None = None,
    max_x: float | None = None,
    x_axis: str = "step",
    x_key: str | None = None,
    filters: dict[str, Any] | None = None,
    order: str | None = None,
) -> pa.Table:
    """Read the points of many runs in one request to the history route.

    Args:
        api: the ``Api`` to send through.
        entity: the workspace of the project.
        project: the project holding the runs.
        run_ids: the runs to read; ``None`` for every run ``filters`` matches, in ``order``.
        keys: only these metrics; ``None`` for all.
        samples: at most this many points per run and metric (each bucket's first, last, min
            and max survive); ``None`` for every point.
        stream: ``default`` for logged metrics, ``system`` for machine metrics.
        min_step: the first step to read, inclusive.
        max_step: the last step to read, inclusive.
        min_x: the smallest ``x_axis`` value to read, inclusive, cut before sampling.
        max_x: the largest ``x_axis`` value to read, inclusive, cut before sampling.
        x_axis: what ``min_x``/``max_x`` measure: ``step``, ``timestamp`` (seconds since the
            epoch), ``runtime`` (seconds since the run started) or ``metric`` (the value of
            ``x_key``; every key is then read only at the steps where ``x_key`` was logged, in
            the range when one is given).
        x_key: the metric of ``x_axis="metric"``.

    Returns:
        An Arrow table in long form: ``run_id key step timestamp value`` (the schema
        metadata ``started`` holds each run's start, for ``_runtime``, and ``names`` its
        display name); the ``run_id`` dictionary lists the runs in order.

    Raises:
        UsageError: ``stream`` or ``samples`` is invalid.
        BadRequest: ``x_axis``, ``x_key``, ``min_x`` or ``max_x`` is invalid (``.field``
            names it).
        RunNotFound: a run does not exist.

    Example:
        >>> table = fetch_history(api, "alice", "mnist", ["3f2a9c1b"], keys=["loss"])
    """
    if stream not in STREAMS:
        raise UsageError(f"stream must be 'default' or 'system', not {stream!r}", field="stream")
    if samples is not None and (not isinstance(samples, int) or samples < 1):
        raise UsageError(f"samples must be a positive integer or None, not {samples!r}")
    body: dict[str, Any] = {"samples": samples, "stream": stream}
    if run_ids is None:
        body["filters"] = filters or {}
        body["order"] = order
    else:
        body["runs"] = list(run_ids)
    if keys is not None:
        body["keys"] = list(keys)
    if min_step is not None:
        body["min_step"] = int(min_step)
    if max_step is not None:
        body["max_step"] = int(max_step)
    # Unranged step and time queries send no x axis: they bucket on the step, which lets the
    # server use its sampling pyramid.
    if min_x is not None or max_x is not None or x_axis == "metric":
        body["x_axis"] = x_axis
        if x_key is not None:
            body["x_key"] = x_key
        if min_x is not None:
            body["min_x"] = float(min_x)
        if max_x is not None:
            body["max_x"] = float(max_x)
    return api.client.post_arrow(f"{project_route(entity, project)}/history", body)


def x_window(x_axis: str, min_x: float | None = None, max_x: float | None = None) -> dict[str, Any]:
    """The ``fetch_history`` arguments for a W&B x axis and an optional range on it.

    Args:
        x_axis: ``_step``, ``_timestamp``, ``_runtime`` or a metric name.
        min_x: the smallest x to read (inclusive), or ``None``.
        max_x: the largest x to read (inclusive), or ``None``.

    Returns:
        ``x_axis``, ``x_key``, ``min_x`` and ``max_x`` as ``fetch_history`` takes them.

    Raises:
        UsageError: ``x_axis`` is not a non-empty string, ``min_x``/``max_x`` is not a finite
            number, or ``min_x`` is above ``max_x`` (``.field`` names it).
    """
    if not isinstance(x_axis, str) or not x_axis:
        raise UsageError(
            f"x_axis must be '_step', '_timestamp', '_runtime' or a metric name, not {x_axis!r}",
            field="x_axis",
        )
    for name, value in (("min_x", min_x), ("max_x", max_x)):
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float, np.number))
            or not (math.isfinite(value))
        ):
            raise UsageError(f"{name} must be a finite number or None, not {value!r}", field=name)
    if min_x is not None and max_x is not None and min_x > max_x:
        raise UsageError(f"min_x ({min_x}) is above max_x ({max_x})", field="min_x")
    route_x = ROUTE_X.get(x_axis, "metric")
    return {
        "x_axis": route_x,
        "x_key": x_axis if route_x == "metric" else None,
        "min_x": min_x,
        "max_x": max_x,
    }


class HistoryScan:
    """Every history row of a run, read in pages of steps: W&B's ``scan_history()``.

    Each page is one request for a range of steps. The range adapts to how densely the run
    logged, so a page holds about ``page_size`` rows whatever the step spacing. Iterating again
    reads again (and sees points logged since).

    Example:
        >>> run = api.run("alice/mnist/3f2a9c1b")
        >>> losses = [row["loss"] for row in run.scan_history(keys=["loss"])]
    """

    def __init__(
        self,
        run: Run,
        keys: Sequence[str] | None = None,
        page_size: int = 1000,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> None:
        if not isinstance(page_size, int) or page_size < 1:
            raise UsageError(f"page_size must be a positive integer, not {page_size!r}")
        self.run = run
        self.keys = list(keys) if keys is not None else None
        self.page_size = page_size
        self.min_step = min_step
        self.max_step = max_step

    def _last_step(self) -> int | None:
        self.run.load(force=True)  # a running run may have logged since it was read
        logged = self.run.history_keys or {}
        needs_media = self.keys is None or any(k not in logged for k in self.keys)
        media = self.run.media_keys() if needs_media else {}
        if self.keys is None:
            self._media: list[str] | None = None if media else []
            steps = [info.get("last_step") for info in media.values()]
            if logged:
                steps.append(self.run.last_history_step)
            return max((s for s in steps if s is not None), default=None)
        self._media = [k for k in self.keys if k in media and k not in logged]
        steps = []
        for k in self.keys:
            info = logged.get(k) or media.get(k)
            if not info:
                return None  # a key never logged: no row has all keys
            steps.append(info.get("last_step"))
        return max((s for s in steps if s is not None), default=None)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        last = self._last_step()
        if last is None:
            return
        # W&B's max_step is exclusive; the server's bounds are inclusive.
        stop = last if self.max_step is None else min(last, self.max_step - 1)
        start = self.min_step
        window = self.page_size
        created = {self.run.id: epoch_seconds(self.run.created_at)}
        while start is None or start <= stop:
            upper = min(stop, (start if start is not None else 0) + window - 1)
            numeric = None if self.keys is None else [k for k in self.keys if k not in self._media]
            table = _EMPTY
            if numeric != []:
                table = fetch_history(
                    self.run._api,
                    self.run.entity,
                    self.run.project,
                    [self.run.id],
                    keys=numeric,
                    samples=None,
                    min_step=start,
                    max_step=upper,
                )
            page = records(pivot(table, numeric), created)
            if self._media != []:
                first = start if start is not None else 0
                items = self.run._media_items(self._media, range(first, upper + 1))
                page = merge_records(page, items, created)
            rows = len(page)
            if self.keys:
                page = [row for row in page if all(k in row for k in self.keys)]
            yield from page
            # Aim the next range at about page_size rows, from this page's density.
            window = window * 2 if rows == 0 else max(1, int(window * self.page_size / rows))
            window = min(window, 2**40)
            start = upper + 1


class RunHistory:
    """The metric methods of ``Run``: SwanLab's ``metrics()``, W&B's ``history()`` and
    ``scan_history()``. A mixin, so ``run.py`` stays one resource's size."""

    if TYPE_CHECKING:
        _api: Api
        id: str
        entity: str
        project: str
        created_at: str | None
        path: str

    def _fetch(self, keys: Sequence[str] | None, **kwargs: Any) -> pa.Table:
        return fetch_history(self._api, self.entity, self.project, [self.id], keys=keys, **kwargs)

    def _check_keys(self, keys: Sequence[str] | None, table: pa.Table) -> None:
        """Warn about asked keys this run never logged (its keys read afresh, only then: a
        running run may have logged them since it was read)."""

        def logged() -> list[str]:
            data = self._api.client.get_json(run_route(self.entity, self.project, self.id))
            return list(data.get("history_keys") or {})

        check_keys(keys, keys_found(table), logged, f"run {self.path}", stacklevel=4)

    def metrics(
        self,
        keys: Sequence[str] | str | None = None,
        x_axis: str = "step",
        sample: int | None = None,
    ) -> pd.DataFrame:
        """The run's metric data as a DataFrame, as SwanLab gives it.

        Args:
            keys: metric names, e.g. ``['loss', 'acc']``. ``None`` gives an empty DataFrame.
            x_axis: ``step``, or a metric name (e.g. ``acc``): that metric becomes the first
                column, and the steps where it was not logged drop out (the index stays
                ``step``), as SwanLab's client does.
            sample: at most this many points per metric, keeping each bucket's first, last,
                min and max; ``None`` gives every point.

        Returns:
            A DataFrame with index ``step``, a column per key and ``<key>_timestamp`` (ms since
            the epoch), after the ``x_axis`` metric's column when there is one. A key not
            logged at a step is NaN there (and so is a logged NaN).

        Raises:
            UsageError: ``sample`` is not a positive integer.

        Warns:
            UnknownKeyWarning: a key the run never logged (a typo): its column is all NaN,
                and the warning names the keys that exist, closest first.

        Example:
            >>> run.metrics(keys=["loss", "acc"])
            >>> run.metrics(keys=["loss"], x_axis="acc", sample=100)
        """
        if not keys:
            return empty_swanlab_frame()
        keys = [keys] if isinstance(keys, str) else list(keys)
        fetch = keys if x_axis == "step" or x_axis in keys else [*keys, x_axis]
        window = {} if x_axis == "step" else x_window(x_axis)
        table = self._fetch(fetch, samples=sample, **window)
        self._check_keys(fetch, table)
        wide = pivot(table, fetch)
        return swanlab_frame(wide, keys, x_axis)

    def history(
        self,
        samples: int | None = 500,
        keys: Sequence[str] | None = None,
        x_axis: str = "_step",
        pandas: bool = True,
        stream: Literal["default", "system"] = "default",
    ) -> pd.DataFrame | list[dict[str, Any]]:
        """Sampled metric history, as W&B's ``Run.history()``.

        Sampling keeps each bucket's first, last, min and max point, so spikes and the final
        value survive (never a random or blind-stride sample).

        Args:
            samples: at most this many points per metric; ``None`` for every point.
            keys: only these metrics; ``None`` for all.
            x_axis: ``_step`` (default), ``_timestamp``, ``_runtime`` or a metric name; with a
                metric, rows without it are dropped.
            pandas: return a DataFrame; ``False`` returns a list of dicts, each holding only the
                keys logged at its step.
            stream: ``default`` for logged metrics, ``system`` for machine metrics.

        Returns:
            A DataFrame with ``_step``, a column per key, ``_timestamp`` (seconds since the
            epoch) and ``_runtime`` (seconds since the run started); or a list of dicts.

        Raises:
            UsageError: ``samples`` or ``stream`` is invalid.

        Warns:
            UnknownKeyWarning: a key the run never logged (a typo such as ``"los"``): W&B
                gives no column for it and says nothing; lablens does the same and warns,
                naming the keys the run logged, closest first.

        Example:
            >>> run.history(keys=["loss", "acc"])
            >>> run.history(samples=None, keys=["loss"])  # every point
            >>> run.history(stream="system")
        """
        keys = [keys] if isinstance(keys, str) else (list(keys) if keys is not None else None)
        media: list[str] | None = []
        if stream == "default" and x_axis in BUILTIN_X:
            media, keys = self._media_split(keys)
        fetch = keys
        if keys is not None and x_axis not in BUILTIN_X and x_axis not in keys:
            fetch = [*keys, x_axis]
        # A metric x axis is sent along: the server then keeps the steps where it was logged,
        # with its value at every step kept for the other keys.
        window = {} if x_axis in BUILTIN_X else x_window(x_axis)
        if fetch == []:  # media keys only
            table = _EMPTY
        else:
            table = self._fetch(fetch, samples=samples, stream=stream, **window)
        if stream == "default":
            self._check_keys(fetch, table)
        wide = pivot(table, fetch)
        if x_axis not in BUILTIN_X:
            wide = wide.take(wide.present_mask(x_axis))
        created = {self.id: epoch_seconds(self.created_at)}
        items = self._media_items(media) if media != [] else []
        if pandas:
            return merge_frame(wandb_frame(wide, created), items, created[self.id])
        return merge_records(records(wide, created), items, created)

    def _media_split(self, keys: list[str] | None) -> tuple[list[str] | None, list[str] | None]:
        """The media keys among ``keys`` (``None``: every one) and the others. The run's media
        keys are read only when a key asked for is not a logged metric."""
        if keys is None:
            return None, None
        logged = getattr(self, "history_keys", None) or {}
        if all(k in logged for k in keys):
            return [], keys
        known = self.media_keys()  # type: ignore[attr-defined]
        media = [k for k in keys if k in known and k not in logged]
        return media, [k for k in keys if k not in media]

    def _media_items(self, keys: list[str] | None, steps: Any = None) -> list[Any]:
        return fetch_media(
            self._api, self.entity, self.project, [self.id], keys, steps, {self.id: self}
        )

    def scan_history(
        self,
        keys: Sequence[str] | None = None,
        page_size: int = 1000,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> HistoryScan:
        """Every history row, unsampled, read page by page (W&B's ``scan_history()``).

        Args:
            keys: only these metrics, and only the rows where all of them were logged.
            page_size: about how many rows each request brings.
            min_step: the first step to read (inclusive).
            max_step: the step to stop before (exclusive, as in W&B).

        Returns:
            An iterable of dicts: ``_step``, ``_timestamp``, ``_runtime`` and the keys logged at
            that step.

        Example:
            >>> losses = [row["loss"] for row in run.scan_history(keys=["loss"])]
        """
        return HistoryScan(self, keys, page_size, min_step, max_step)
