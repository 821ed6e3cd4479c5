"""The history reads of a panel grid and the buffers its points travel to the page in.

Every panel is read in one ``Runs.histories(format="long")`` call per project of the runs drawn
(one request for all the panels). The points go to the page as two Float64 buffers, x and y,
the series one after the other; a small JSON index says whose each slice is, so the page never
parses numbers out of text. A series whose x values are those of an earlier series (the runs
of a grid mostly log every metric at the same steps) names that series instead of repeating
them, which halves what travels to the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lablens.contract.names import BUILTIN_X
from lablens.widgets._call import NONE, ApiCall, api_call

__all__ = ["Packed", "append", "history_call", "new_points", "pack", "runs_call"]


def runs_call(project: str, ids: Sequence[str]) -> ApiCall:
    """``api.runs(project, filters={"id": {"$in": ids}})``: the runs drawn, read once for their
    names, states and groups; the history call goes on from it."""
    return api_call("runs", project, filters={"id": {"$in": list(ids)}})


def history_call(
    project: str,
    ids: Sequence[str],
    *,
    keys: Sequence[str] | None,
    x_axis: str,
    samples: int | None,
    min_step: int | None = None,
) -> ApiCall:
    """``api.runs(project, filters=<ids>).histories(..., format="long")``: every panel's points
    (``keys`` ``None``: every metric), or, with ``min_step``, only what came since.
    ``samples=None`` reads every point, and the call says so (``histories()`` samples to 500
    when it is not given)."""
    return runs_call(project, ids).then(
        "histories",
        samples=NONE if samples is None else samples,
        keys=list(keys) if keys else None,
        x_axis=x_axis,
        format="long",
        min_step=min_step,
    )


def x_values(frame: pd.DataFrame, x_axis: str) -> np.ndarray:
    """The x of each point of a long history frame, as float64 (times in seconds)."""
    if x_axis not in frame.columns:
        return np.full(len(frame), np.nan)
    return frame[x_axis].to_numpy(dtype=np.float64, na_value=np.nan)


@dataclass
class Packed:
    """Points ready to send: the index of the series and the two buffers."""

    series: list[dict[str, Any]] = field(default_factory=list)
    """One entry per (run, metric): ``{"run": path, "key": key, "n": points}``, in buffer order;
    ``"x": i`` when its x values are those of series ``i`` (and not in ``x`` again)."""
    x: bytes = b""
    """The series' x values, float64 little-endian, one series after the other (a series
    sharing an earlier one's leaves them out)."""
    y: bytes = b""
    """Every series' y values, as ``x``."""

    @property
    def points(self) -> int:
        """How many points the buffers hold."""
        return sum(int(s["n"]) for s in self.series)


def pack(frames: dict[str, pd.DataFrame], x_axis: str) -> Packed:
    """The points of long history frames (one per project) as series and buffers.

    Args:
        frames: ``{"entity/project": frame}``, each frame what a history call returned.
        x_axis: the column holding x (``_step``, ``_timestamp``, ``_runtime`` or a metric).

    Returns:
        A ``Packed``; points whose x is not a number are left out (a line cannot place them),
        a NaN y is kept (a gap in the line).
    """
    series: list[dict[str, Any]] = []
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    seen: dict[bytes, int] = {}  # x values (as bytes) -> the first series that has them
    for project, frame in frames.items():
        if frame.empty:
            continue
        x = x_values(frame, x_axis).astype("<f8", copy=False)
        y = frame["value"].to_numpy(dtype=np.float64, na_value=np.nan).astype("<f8", copy=False)
        # Rows come grouped by run and key, x ascending: each series is a stretch of rows.
        bounds, runs, keys = _stretches(frame)
        # Mostly every x is a number and each series' x rise: y then goes as it is, whole.
        ordered = _ascending(x, bounds)
        like_first = _like_first(x, bounds) if ordered else None
        first = len(series)
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            sx, sy = x[a:b], y[a:b]
            if not ordered:
                keep = np.isfinite(sx)
                if x_axis not in BUILTIN_X and not keep.all():
                    sx, sy = sx[keep], sy[keep]
                order = np.argsort(sx, kind="stable")
                sx, sy = sx[order], sy[order]
                ys.append(sy)
            entry: dict[str, Any] = {"run": f"{project}/{runs[i]}", "key": keys[i], "n": len(sx)}
            if i and like_first is not None and like_first[i]:
                entry["x"] = series[first].get("x", first)
            else:
                raw = sx.tobytes()
                if raw in seen:
                    entry["x"] = seen[raw]
                else:
                    seen[raw] = len(series)
                    xs.append(sx)
            series.append(entry)
        if ordered:
            ys.append(y)
    if not series:
        return Packed()
    return Packed(series, _joined(xs), _joined(ys))


def _joined(arrays: list[np.ndarray]) -> bytes:
    """The arrays' bytes one after the other (one copy when there is one array)."""
    if len(arrays) == 1:
        return arrays[0].tobytes()
    return np.concatenate(arrays).tobytes() if arrays else b""


def _ascending(x: np.ndarray, bounds: list[int]) -> bool:
    """Whether every x is a number and each series' x (between ``bounds``) never falls."""
    if not np.isfinite(x).all():
        return False
    falls = x[1:] < x[:-1]
    falls[np.asarray(bounds[1:-1], dtype=np.int64) - 1] = False  # a series may start lower
    return not falls.any()


def _like_first(x: np.ndarray, bounds: list[int]) -> np.ndarray | None:
    """Per series, whether its x values are those of the first series, when every series has
    as many points (the runs of a grid mostly log every metric at the same steps): one
    comparison for all of them. ``None`` when the lengths differ."""
    lengths = np.diff(bounds)
    if not len(lengths) or lengths[0] == 0 or (lengths != lengths[0]).any():
        return None
    rows = x.reshape(len(lengths), int(lengths[0]))
    return np.asarray((rows == rows[0]).all(axis=1))


def _stretches(frame: pd.DataFrame) -> tuple[list[int], list[str], list[str]]:
    """Where the series of a long frame start and end (``0``, the starts, then the length),
    and the run id and key of each: a series is a stretch of rows of one run and key."""
    run_ends, run_names = _runs_of(frame["run_id"])
    key_ends, key_names = _runs_of(frame["key"])
    ends = np.union1d(run_ends, key_ends)
    starts = np.concatenate(([0], ends[:-1]))
    runs = np.searchsorted(run_ends, starts, side="right")
    keys = np.searchsorted(key_ends, starts, side="right")
    return (
        [0, *ends.tolist()],
        [run_names[i] for i in runs.tolist()],
        [key_names[i] for i in keys.tolist()],
    )


def _runs_of(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """A string column's stretches of equal values: where each ends (exclusive) and its
    value. Arrow finds them in one pass (Arrow-backed strings turn into Python objects
    slowly); other columns are compared in numpy."""
    try:
        array = pa.array(column.array)
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        encoded = pc.run_end_encode(array)
        return (
            encoded.run_ends.to_numpy(zero_copy_only=False).astype(np.int64),
            [str(v) for v in encoded.values.to_pylist()],
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        values = column.astype(str).to_numpy()
        ends = np.append(np.flatnonzero(values[1:] != values[:-1]) + 1, len(values))
        return ends.astype(np.int64), [str(values[e - 1]) for e in ends.tolist()]


def new_points(held: pd.DataFrame, tail: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``tail`` (a read from some step on) past what ``held`` has of the same run
    and metric: a step read again (the last one held) is not drawn twice."""
    if tail.empty or held.empty:
        return tail
    last = held.groupby(["run_id", "key"], sort=False)["_step"].max().rename("__last")
    joined = tail[["run_id", "key", "_step"]].join(last, on=["run_id", "key"])
    keep = joined["__last"].isna() | (joined["_step"] > joined["__last"])
    return tail[keep.to_numpy()].reset_index(drop=True)


def append(held: pd.DataFrame, new: pd.DataFrame, run_order: Sequence[str]) -> pd.DataFrame:
    """``held`` and ``new`` as one frame, runs in ``run_order``, then metric, then step."""
    if new.empty:
        return held
    if held.empty:
        return new.reset_index(drop=True)
    both = pd.concat([held, new], ignore_index=True)
    rank = {rid: i for i, rid in enumerate(run_order)}
    both["__r"] = both["run_id"].map(rank).fillna(len(rank))
    both = both.sort_values(["__r", "key", "_step"], kind="stable").drop(columns="__r")
    out = both.reset_index(drop=True)
    out.attrs = dict(held.attrs)
    return out
