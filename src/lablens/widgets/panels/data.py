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
        x = x_values(frame, x_axis)
        y = frame["value"].to_numpy(dtype=np.float64, na_value=np.nan)
        # Rows come grouped by run and key, steps ascending: cut where either changes.
        run, run_names = _codes(frame["run_id"])
        key, key_names = _codes(frame["key"])
        cuts = np.flatnonzero((run[1:] != run[:-1]) | (key[1:] != key[:-1])) + 1
        bounds = [0, *cuts.tolist(), len(frame)]
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            sx, sy = x[a:b], y[a:b]
            keep = np.isfinite(sx)
            if x_axis not in BUILTIN_X and not keep.all():
                sx, sy = sx[keep], sy[keep]
            order = np.argsort(sx, kind="stable")
            sx, sy = sx[order], sy[order]
            rid, name = run_names[run[a]], key_names[key[a]]
            entry: dict[str, Any] = {"run": f"{project}/{rid}", "key": name, "n": len(sx)}
            raw = sx.astype("<f8").tobytes()
            if raw in seen:
                entry["x"] = seen[raw]
            else:
                seen[raw] = len(series)
                xs.append(sx)
            series.append(entry)
            ys.append(sy)
    if not series:
        return Packed()
    return Packed(
        series,
        np.concatenate(xs).astype("<f8").tobytes() if xs else b"",
        np.concatenate(ys).astype("<f8").tobytes(),
    )


def _codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """A string column as integer codes and the strings they stand for (Arrow-backed strings
    turn into Python objects slowly; their dictionary encoding is fast)."""
    try:
        encoded = pc.dictionary_encode(pa.array(column.array))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        codes, names = pd.factorize(column)
        return np.asarray(codes), [str(n) for n in names]
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return (
        encoded.indices.to_numpy(zero_copy_only=False),
        [str(n) for n in encoded.dictionary.to_pylist()],
    )


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
