"""A run's history as ``wandb.Api`` reads it: ``history`` (whole rows, sampled or a step range,
the pages of ``scan_history``), ``events`` (system metrics), ``sampledHistory`` (rows of chosen
keys) and ``parquetHistory`` (no exported files: every step is live, so the client asks
``history``/``sampledHistory`` for its pages).

A row is ``_step``, ``_timestamp`` (the latest time of its points), ``_runtime`` (that time less
the run's start) and each key logged at that step, as ``lablens.Api`` builds it. Sampling is the
store's, which keeps each bucket's first, last, min and max point: a spike survives.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from ariadne import ObjectType
from graphql import GraphQLResolveInfo

from lablens.server.wandb.projects import store_and_user
from lablens.store.errors import InvalidInput

run_type = ObjectType("Run")

#: The keys every row has, computed rather than logged.
BUILTIN = ("_step", "_timestamp", "_runtime")

#: W&B's default number of samples.
DEFAULT_SAMPLES = 500


def _started(run: dict[str, Any]) -> float:
    iso = run.get("created_at")
    if not iso:
        return math.nan
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def rows_of(table: pa.Table, started: float) -> list[dict[str, Any]]:
    """Long-form points (``key step timestamp value``) as W&B rows, one per step, in order."""
    cols = table.select(["key", "step", "timestamp", "value"]).to_pydict()
    by_step: dict[int, list[Any]] = {}
    for key, step, ts, value in zip(
        cols["key"], cols["step"], cols["timestamp"], cols["value"], strict=True
    ):
        row = by_step.get(step)
        if row is None:
            by_step[step] = [ts, {key: value}]
        else:
            if ts > row[0]:
                row[0] = ts
            row[1][key] = value
    out = []
    for step in sorted(by_step):
        ts, values = by_step[step]
        row = {"_step": step, "_timestamp": ts, "_runtime": ts - started}
        row.update(values)
        out.append(row)
    return out


def _read(
    info: GraphQLResolveInfo,
    run: dict[str, Any],
    *,
    keys: Sequence[str] | None = None,
    samples: int | None = None,
    min_step: int | None = None,
    max_step: int | None = None,
    stream: str = "default",
) -> list[dict[str, Any]]:
    """The run's rows; ``max_step`` inclusive, ``samples`` per key as the store samples."""
    if samples is not None and samples < 1:
        raise InvalidInput(f"samples must be a positive integer, not {samples}", field="samples")
    if min_step is not None and max_step is not None:
        if max_step < min_step:
            return []
        # A range with no more steps than samples holds no more rows: read it whole, exactly.
        if samples is not None and max_step - min_step + 1 <= samples:
            samples = None
    store, _ = store_and_user(info)
    stored = run["_run"]
    table = store.history(
        stored["entity"],
        stored["project"],
        [stored["id"]],
        keys=list(keys) if keys is not None else None,
        samples=samples,
        min_step=max(min_step, 0) if min_step is not None else None,
        max_step=max_step,
        stream=stream,
    )
    return rows_of(table, _started(stored))


def _json_rows(rows: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(row, allow_nan=True, separators=(",", ":")) for row in rows]


@run_type.field("history")
def resolve_history(
    run: dict[str, Any],
    info: GraphQLResolveInfo,
    samples: int | None = None,
    minStep: int | None = None,
    maxStep: int | None = None,
) -> list[str]:
    # W&B's maxStep is exclusive; the store's bound is inclusive.
    last = maxStep - 1 if maxStep is not None else None
    return _json_rows(_read(info, run, samples=samples, min_step=minStep, max_step=last))


@run_type.field("events")
def resolve_events(run: dict[str, Any], info: GraphQLResolveInfo, samples: int | None = None):
    return _json_rows(_read(info, run, samples=samples, stream="system"))


def _finite(value: Any) -> Any:
    # sampledHistory's rows travel as JSON values, which have no NaN: W&B's strings stand in.
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def thin_rows(rows: list[dict[str, Any]], keys: Sequence[str], samples: int) -> list[dict]:
    """At most about ``samples`` rows: per bucket of consecutive rows its first and last, and
    the rows of each key's min and max, so spikes survive."""
    if len(rows) <= samples:
        return rows
    per_bucket = 2 + 2 * max(1, len(keys))
    buckets = max(1, samples // per_bucket)
    keep: set[int] = set()
    for b in range(buckets):
        lo = b * len(rows) // buckets
        hi = (b + 1) * len(rows) // buckets
        if lo >= hi:
            continue
        keep.update((lo, hi - 1))
        for k in keys:
            idx = range(lo, hi)
            keep.add(min(idx, key=lambda i: rows[i][k]))
            keep.add(max(idx, key=lambda i: rows[i][k]))
    return [rows[i] for i in sorted(keep)]


def _spec(raw: Any) -> dict[str, Any]:
    spec = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(spec, dict):
        raise InvalidInput("each sampledHistory spec must be a JSON object", field="specs")
    keys = spec.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise InvalidInput("a sampledHistory spec needs 'keys', a list of names", field="keys")
    for name in ("samples", "minStep", "maxStep"):
        value = spec.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise InvalidInput(f"'{name}' must be a number", field=name)
    return spec


def sampled(info: GraphQLResolveInfo, run: dict[str, Any], raw: Any) -> list[dict[str, Any]]:
    """One spec's rows: only the rows holding every key asked for, each with just those keys."""
    spec = _spec(raw)
    keys = list(dict.fromkeys(spec["keys"]))
    samples = int(spec.get("samples") or DEFAULT_SAMPLES)
    lo = int(spec["minStep"]) if spec.get("minStep") is not None else None
    hi = int(spec["maxStep"]) if spec.get("maxStep") is not None else None  # inclusive
    data_keys = [k for k in keys if k not in BUILTIN]
    if len(data_keys) == 1:
        # One series: the store samples it, keeping its spikes, as lablens.Api's history does.
        rows = _read(info, run, keys=data_keys, samples=samples, min_step=lo, max_step=hi)
    else:
        rows = _read(info, run, keys=data_keys or None, min_step=lo, max_step=hi)
        rows = [r for r in rows if all(k in r for k in data_keys)]
        rows = thin_rows(rows, data_keys, samples)
    return [{k: _finite(r[k]) for k in keys if k in r} for r in rows]


@run_type.field("sampledHistory")
def resolve_sampled_history(
    run: dict[str, Any], info: GraphQLResolveInfo, specs: list[Any]
) -> list[list[dict[str, Any]]]:
    return [sampled(info, run, spec) for spec in specs]


@run_type.field("parquetHistory")
def resolve_parquet_history(*_: Any, **__: Any) -> dict[str, Any]:
    # No parquet exports: an empty answer makes the client read every step live.
    return {"parquetUrls": [], "liveData": []}


BINDABLES = [run_type]
