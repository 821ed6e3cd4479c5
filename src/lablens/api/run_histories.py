"""The metric history of many runs in one request: what ``Runs.histories()`` reads, and the forms
it answers in (rows as dicts, pandas, polars, or long form for plots).

A collection already read whole asks for its runs by id; any other asks the server to pick the
runs by the collection's filters and order, so a project of any size takes one request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa

from lablens.api import _frames as F
from lablens.api.history import fetch_history
from lablens.contract.names import BUILTIN_X, PointStream
from lablens.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from lablens.api.runs import Runs

__all__ = ["FORMATS", "HistoryFormat", "RunsHistory", "check_format", "read", "shape"]

#: The forms ``Runs.histories()`` answers in.
HistoryFormat = Literal["default", "pandas", "polars", "long"]
FORMATS: tuple[str, ...] = ("default", "pandas", "polars", "long")


@dataclass
class RunsHistory:
    """The history route's answer for many runs, with what shaping it needs to know."""

    table: pa.Table
    """The points in long form: ``run_id key step timestamp value``."""
    ids: list[str] = field(default_factory=list)
    """The runs, in the collection's order."""
    created: dict[str, float] = field(default_factory=dict)
    """When each run started (seconds since the epoch), for ``_runtime``."""
    names: dict[str, str | None] = field(default_factory=dict)
    """Each run's display name (``None`` when it has none)."""


def check_format(format: str) -> None:  # noqa: A002 - W&B's name
    """Refuse a ``format`` that ``histories()`` does not answer in."""
    if format not in FORMATS:
        raise UsageError(
            f"format must be 'default', 'pandas', 'polars' or 'long', not {format!r}",
            field="format",
        )


def keys_to_fetch(
    keys: Sequence[str] | str | None, x_axis: str
) -> tuple[list[str] | None, list[str] | None]:
    """The keys asked for as a list, and the keys to read: those plus a metric ``x_axis``."""
    keys = [keys] if isinstance(keys, str) else (list(keys) if keys is not None else None)
    fetch = keys
    if keys is not None and x_axis not in BUILTIN_X and x_axis not in keys:
        fetch = [*keys, x_axis]
    return keys, fetch


def read(
    runs: Runs,
    fetch: list[str] | None,
    *,
    samples: int | None,
    stream: PointStream,
    window: dict[str, Any],
) -> RunsHistory:
    """Read the points of every run of ``runs`` in one request to the history route.

    Args:
        runs: the collection; read whole, its runs are asked for by id, else the server picks
            them by its filters and order.
        fetch: the keys to read; ``None`` for all.
        samples: at most this many points per run and metric; ``None`` for every point.
        stream: ``default`` or ``system``.
        window: the x axis and range, as ``history.x_window()`` gives them.
    """
    if runs.objects and not runs.more:
        found = _read_loaded(runs, fetch, samples=samples, stream=stream, window=window)
    else:
        table = fetch_history(
            runs._api,
            runs.entity,
            runs.project,
            None,
            keys=fetch,
            samples=samples,
            stream=stream,
            filters=runs.filters,
            order=runs.order,
            **window,
        )
        found = RunsHistory(table, *_runs_of(table))
    if not found.ids:
        found.table = pa.table({"run_id": pa.array([], pa.string())})
    return found


def _read_loaded(
    runs: Runs,
    fetch: list[str] | None,
    *,
    samples: int | None,
    stream: PointStream,
    window: dict[str, Any],
) -> RunsHistory:
    """Read the points of the runs a collection has already read, by id."""
    ids = [r.id for r in runs.objects]
    created = {r.id: F.epoch_seconds(r.created_at) for r in runs.objects}
    if not ids:
        return RunsHistory(pa.table({"run_id": pa.array([], pa.string())}))
    table = fetch_history(
        runs._api,
        runs.entity,
        runs.project,
        ids,
        keys=fetch,
        samples=samples,
        stream=stream,
        **window,
    )
    # The server's starts are exact (created_at as text stops at milliseconds), so _runtime
    # matches the range the server cut.
    _, started, names = _runs_of(table)
    created.update(started)
    return RunsHistory(table, ids, created, names)


def _runs_of(table: pa.Table) -> tuple[list[str], dict[str, float], dict[str, str | None]]:
    """The runs of a history answer in order, when each was created (for ``_runtime``) and
    each one's display name."""
    column = table.column("run_id").combine_chunks()
    ids = [str(v) for v in column.dictionary.to_pylist()]
    meta = table.schema.metadata or {}
    started = json.loads(meta.get(b"started", b"{}"))
    names = json.loads(meta.get(b"names", b"{}"))
    return (
        ids,
        {rid: float(started[rid]) for rid in ids if rid in started},
        {rid: names.get(rid) for rid in ids},
    )


def shape(
    found: RunsHistory,
    keys: list[str] | None,
    fetch: list[str] | None,
    x_axis: str,
    format: HistoryFormat,  # noqa: A002 - W&B's name
) -> list[dict[str, Any]] | pd.DataFrame | Any:
    """The history in the form ``format`` names, runs in the collection's order.

    ``long`` is one row per point (``run_id key _step _timestamp _runtime value``); the others
    one row per (run, step) with a column per key. The pandas forms carry
    ``attrs["run_names"]``, each run id's display name, for legends.
    """
    run_names = {rid: found.names.get(rid) for rid in found.ids}
    if format == "long":
        frame = F.long_frame(found.table, keys, x_axis, found.created, found.ids)
        frame.attrs["run_names"] = run_names
        return frame
    wide = _wide_in_order(found, fetch, x_axis)
    if format == "pandas":
        frame = F.wandb_frame(wide, found.created, with_run_id=True)
        frame.attrs["run_names"] = run_names
        return frame
    if format == "polars":
        return F.polars_frame(wide, found.created, with_run_id=True)
    return F.records(wide, found.created, with_run_id=True)


def _wide_in_order(found: RunsHistory, fetch: list[str] | None, x_axis: str) -> F.Wide:
    """One row per (run, step), the runs in the collection's order, steps ascending; for a
    metric ``x_axis``, only the rows where it was logged."""
    wide = F.pivot(found.table, fetch)
    if x_axis not in BUILTIN_X:
        wide = wide.take(wide.present_mask(x_axis))
    rank = {run_id: i for i, run_id in enumerate(found.ids)}
    code_rank = np.array([rank.get(r, len(found.ids)) for r in wide.run_ids], dtype=np.int64)
    if len(wide) and not np.all(np.diff(code_rank) > 0):
        # Rows come grouped by run in the server's order; put the runs in this collection's
        # order. A stable sort keeps the steps ascending inside each run.
        wide = wide.take(np.argsort(code_rank[wide.run_codes], kind="stable"))
    return wide
