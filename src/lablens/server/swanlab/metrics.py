"""SwanLab's metric routes (its "house" service): sampled scalar series, their statistics,
summaries, the list of keys, and the full-resolution CSV export with its download link.

The client names a project by its ``cuid`` (here the path ``workspace/project``) and a run by
its id; every answer is read from the store's history when asked. The export is stateless too:
its ``cosKey`` encodes what to export, and the download link reads the points afresh, checking
the caller's access again.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import io
import json
import math
import statistics
from collections import defaultdict
from typing import Any

import pyarrow as pa
from fastapi import APIRouter, Body, Query, Request, Response

from lablens.server.auth import readable_store
from lablens.server.swanlab.session import SwanlabUser
from lablens.server.swanlab.wire import SwanlabError, SwanlabRoute, as_object, bad_request
from lablens.store.base import Store

router = APIRouter(prefix="/api", route_class=SwanlabRoute, tags=["swanlab"])

#: The most points of a sampled series, as SwanLab caps ``num``.
MAX_SAMPLES = 1500
#: Where export files live in the client's eyes: ``cosKey`` is this and a token.
EXPORT_PREFIX = "exports/"
X_TYPES = ("step", "time", "relative_time", "timestamp")
#: SwanLab's prefix of system metrics (CPU, memory, GPU) among a run's keys.
SYSTEM_PREFIX = "__swanlab__."


# -- reading the request -------------------------------------------------------------------------


def project_of(value: Any, where: str) -> tuple[str, str]:
    """``workspace, project`` from a SwanLab project id (our ``workspace/project``)."""
    if not isinstance(value, str) or value.count("/") != 1 or "" in value.split("/"):
        raise bad_request(f"{where} must be a project id 'workspace/project', got {value!r}")
    ws, project = value.split("/")
    return ws, project


def _columns(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``(run id, key)`` pairs of ``columns``, in order."""
    columns = body.get("columns")
    if not isinstance(columns, list) or not columns:
        raise bad_request("columns must be a non-empty list of {experimentId, key}")
    pairs = []
    for i, col in enumerate(columns):
        if not isinstance(col, dict):
            raise bad_request(f"columns[{i}] must be an object {{experimentId, key}}")
        run_id, key = col.get("experimentId"), col.get("key")
        if not isinstance(run_id, str) or not run_id:
            raise bad_request(f"columns[{i}].experimentId must be a run id")
        if not isinstance(key, str) or not key:
            raise bad_request(f"columns[{i}].key must be a non-empty string")
        pairs.append((run_id, key))
    return pairs


def _by_run(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = defaultdict(list)
    for run_id, key in pairs:
        if key not in keys[run_id]:
            keys[run_id].append(key)
    return keys


def _experiments(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(workspace, project, run id)`` of each of ``experiments``."""
    experiments = body.get("experiments")
    if not isinstance(experiments, list) or not experiments:
        raise bad_request("experiments must be a non-empty list of {projectId, experimentId}")
    out = []
    for i, ref in enumerate(experiments):
        if not isinstance(ref, dict):
            raise bad_request(f"experiments[{i}] must be an object {{projectId, experimentId}}")
        ws, project = project_of(ref.get("projectId"), f"experiments[{i}].projectId")
        run_id = ref.get("experimentId")
        if not isinstance(run_id, str) or not run_id:
            raise bad_request(f"experiments[{i}].experimentId must be a run id")
        out.append((ws, project, run_id))
    return out


def _keys_list(value: Any, where: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or any(not isinstance(k, str) or not k for k in value):
        raise bad_request(f"{where} must be a list of non-empty strings")
    return value


# -- reading the store ---------------------------------------------------------------------------

Point = tuple[int, float, float]  # step, timestamp (s), value


def _series(table: pa.Table) -> dict[str, list[Point]]:
    """The points of a one-run history table, per key, by step."""
    keys = table.column("key").to_pylist()
    steps = table.column("step").to_pylist()
    stamps = table.column("timestamp").to_pylist()
    values = table.column("value").to_pylist()
    out: dict[str, list[Point]] = defaultdict(list)
    for k, s, t, v in zip(keys, steps, stamps, values, strict=True):
        out[k].append((s, t, v))
    for points in out.values():
        points.sort(key=lambda p: p[0])
    return out


def _started(table: pa.Table, run_id: str) -> float:
    meta = table.schema.metadata or {}
    return float(json.loads(meta.get(b"started", b"{}")).get(run_id) or 0.0)


def stream_key(key: str) -> tuple[str, str]:
    """Our point stream and key for a SwanLab key: ``__swanlab__.<rest>`` is a system metric,
    ``system.<rest>`` in the ``system`` stream; every other key is a logged one."""
    if key.startswith(SYSTEM_PREFIX):
        return "system", "system." + key[len(SYSTEM_PREFIX) :]
    return "default", key


def swanlab_system_key(key: str) -> str:
    """SwanLab's name of one of our system metrics (``system.cpu`` -> ``__swanlab__.cpu``)."""
    return SYSTEM_PREFIX + (key[len("system.") :] if key.startswith("system.") else key)


def _read(
    store: Store, ws: str, project: str, run_id: str, keys: list[str], samples: int | None = None
) -> tuple[dict[str, list[Point]], float]:
    """Each SwanLab key's points (at most ``samples`` a series), and the run's start."""
    by_stream: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        stream, ours = stream_key(key)
        by_stream[stream].append(ours)
    out: dict[str, list[Point]] = {}
    started = 0.0
    for stream, ours in by_stream.items():
        table = store.history(ws, project, [run_id], keys=ours, samples=samples, stream=stream)
        started = _started(table, run_id) or started
        for key, points in _series(table).items():
            out[key if stream == "default" else swanlab_system_key(key)] = points
    return out, started


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None or not math.isfinite(seconds) else round(seconds * 1000)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _statistic(fn: Any, values: list[float]) -> float | None:
    """``fn(values)``, or ``None`` when it does not fit a float (JSON carries finite ones only)."""
    try:
        out = fn(values)
    except (OverflowError, ValueError):
        return None
    return out if _finite(out) else None


# -- sampled series and their statistics ---------------------------------------------------------


@router.post("/house/metrics/scalar")
def scalar(request: Request, user: SwanlabUser, raw: Any = Body(None)) -> list[dict[str, Any]]:
    """Each column's points, at most ``num`` per series (each bucket's first, last, min and max
    kept, so spikes survive); ``index`` is the step, the time (ms), the time since the run's
    start (ms) or, with ``xKey``, that metric's value at the point's step. Points whose value
    is not finite are left out, as JSON cannot carry them."""
    body = as_object(raw)
    ws, project = project_of(body.get("projectId"), "projectId")
    pairs = _columns(body)
    num = body.get("num", MAX_SAMPLES)
    if not isinstance(num, int) or isinstance(num, bool) or not 1 <= num <= MAX_SAMPLES:
        raise bad_request(f"num must be an integer from 1 to {MAX_SAMPLES}, got {num!r}")
    x_type = body.get("xType", "step")
    if x_type not in X_TYPES:
        raise bad_request(f"xType must be one of {', '.join(X_TYPES)}, got {x_type!r}")
    x_key = body.get("xKey") or None
    if x_key is not None and not isinstance(x_key, str):
        raise bad_request("xKey must be a metric key")
    store = readable_store(request, user, ws, project)
    answers: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run_id, keys in _by_run(pairs).items():
        store.get_run(ws, project, run_id)
        if x_key:
            # Against another metric: both logged ones (the store reads them at shared steps).
            for key in [*keys, x_key]:
                if stream_key(key)[0] != "default":
                    raise bad_request(f"xKey: {key!r} is a system metric; plot logged ones only")
            table = store.history(
                ws,
                project,
                [run_id],
                keys=[*keys, x_key],
                samples=num,
                x_axis="metric",
                x_key=x_key,
            )
            series, started = _series(table), _started(table, run_id)
        else:
            series, started = _read(store, ws, project, run_id, keys, samples=num)
        x_at = {s: v for s, _, v in series.get(x_key, [])} if x_key else {}
        for key in keys:
            points = []
            for step, ts, value in series.get(key, []):
                if not _finite(value):
                    continue
                if x_key:
                    if step not in x_at or not _finite(x_at[step]):
                        continue
                    index: Any = x_at[step]
                elif x_type in ("time", "timestamp"):
                    index = _ms(ts)
                elif x_type == "relative_time":
                    index = _ms(ts - started) if ts is not None else None
                else:
                    index = step
                point: dict[str, Any] = {"index": index, "data": value, "timestamp": _ms(ts)}
                if x_key:
                    point["step"] = step
                points.append(point)
            answers[(run_id, key)] = points
    return [
        {
            "projectId": f"{ws}/{project}",
            "experimentId": run_id,
            "key": key,
            "metrics": answers[(run_id, key)],
        }
        for run_id, key in pairs
    ]


def _stats(points: list[Point], x_type: str) -> dict[str, Any]:
    """min, max, avg, median and latest of one series' finite values."""
    finite = [p for p in points if _finite(p[2])]
    if not finite:
        return {}

    def at(p: Point) -> dict[str, Any]:
        return {"index": _ms(p[1]) if x_type == "timestamp" else p[0], "data": p[2]}

    values = [p[2] for p in finite]
    return {
        "min": at(min(finite, key=lambda p: p[2])),
        "max": at(max(finite, key=lambda p: p[2])),
        "avg": {"data": _statistic(statistics.fmean, values)},
        "median": {"data": _statistic(statistics.median, values)},
        "latest": at(finite[-1]),
    }


@router.post("/house/metrics/scalar/value")
def scalar_values(
    request: Request, user: SwanlabUser, raw: Any = Body(None)
) -> list[dict[str, Any]]:
    """Each column's min, max, avg, median and latest over all its points; ``index`` is the
    step (``xType`` ``step``) or the time in ms (``timestamp``)."""
    body = as_object(raw)
    ws, project = project_of(body.get("projectId"), "projectId")
    pairs = _columns(body)
    x_type = body.get("xType", "step")
    if x_type not in X_TYPES:
        raise bad_request(f"xType must be one of {', '.join(X_TYPES)}, got {x_type!r}")
    store = readable_store(request, user, ws, project)
    out = []
    for run_id, keys in _by_run(pairs).items():
        store.get_run(ws, project, run_id)
        series, _ = _read(store, ws, project, run_id, keys)
        for key in keys:
            out.append({"experimentId": run_id, "key": key, **_stats(series.get(key, []), x_type)})
    return out


@router.post("/house/metrics/summaries")
def summaries(
    request: Request, user: SwanlabUser, raw: Any = Body(None)
) -> dict[str, dict[str, Any]]:
    """Per run, per key: the latest ``step`` and ``value``, ``min``, ``max``, ``avg``,
    ``median``, ``stdDev`` and ``minMax``; every logged key when ``keys`` is absent."""
    body = as_object(raw)
    wanted = _keys_list(body.get("keys"), "keys")
    out: dict[str, dict[str, Any]] = {}
    for ws, project, run_id in _experiments(body):
        store = readable_store(request, user, ws, project)
        run = store.get_run(ws, project, run_id)
        keys = wanted if wanted is not None else sorted(run.get("history_keys") or {})
        series = _read(store, ws, project, run_id, keys)[0] if keys else {}
        per_key: dict[str, Any] = {}
        for key in keys:
            points = series.get(key, [])
            values = [p[2] for p in points if _finite(p[2])]
            if not values:
                continue
            lo, hi = min(values), max(values)
            per_key[key] = {
                "step": points[-1][0],
                "value": points[-1][2] if _finite(points[-1][2]) else None,
                "min": lo,
                "max": hi,
                "minMax": [lo, hi],
                "avg": _statistic(statistics.fmean, values),
                "median": _statistic(statistics.median, values),
                "stdDev": _statistic(statistics.pstdev, values),
            }
        out[run_id] = per_key
    return out


# -- keys ----------------------------------------------------------------------------------------


def _run_keys(request: Request, user: dict[str, Any], body: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for ws, project, run_id in _experiments(body):
        store: Store = readable_store(request, user, ws, project)
        run = store.get_run(ws, project, run_id)
        system = {swanlab_system_key(k) for k in run.get("system_metrics") or {}}
        out[run_id] = set(run.get("history_keys") or {}) | system
    return out


@router.post("/house/metrics/scalar/keys")
def scalar_keys(request: Request, user: SwanlabUser, raw: Any = Body(None)) -> dict[str, Any]:
    """The scalar keys the runs logged, sorted, ``limit`` a page from ``cursor`` (an offset)."""
    body = as_object(raw)
    limit = body.get("limit", 2000)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise bad_request(f"limit must be a positive integer, got {limit!r}")
    cursor = body.get("cursor") or "0"
    if not isinstance(cursor, str) or not cursor.isdigit():
        raise bad_request(f"cursor must be one this route answered, got {cursor!r}")
    keys = sorted(set().union(*_run_keys(request, user, body).values()))
    start = int(cursor)
    page = keys[start : start + limit]
    more = start + limit < len(keys)
    return {"keys": page, "hasMore": more, "nextCursor": str(start + limit) if more else ""}


@router.post("/house/metrics/media/keys")
def media_keys(request: Request, user: SwanlabUser, raw: Any = Body(None)) -> dict[str, Any]:
    """Media keys: lablens keeps scalar metrics only, so there are none."""
    _run_keys(request, user, as_object(raw))
    return {"keys": [], "hasMore": False, "nextCursor": ""}


@router.post("/house/metrics/scalar/availability")
def scalar_availability(
    request: Request, user: SwanlabUser, raw: Any = Body(None)
) -> dict[str, list[str]]:
    """For each key, the runs that logged it."""
    body = as_object(raw)
    keys = _keys_list(body.get("keys"), "keys") or []
    run_keys = _run_keys(request, user, body)
    return {k: [r for r, have in run_keys.items() if k in have] for k in keys}


# -- the full-resolution export ------------------------------------------------------------------


def _token(ws: str, project: str, columns: list[tuple[str, str, str]]) -> str:
    doc = json.dumps({"w": ws, "p": project, "c": columns}, separators=(",", ":"))
    return base64.urlsafe_b64encode(doc.encode()).decode().rstrip("=")


def _untoken(token: str) -> tuple[str, str, list[tuple[str, str, str]]]:
    try:
        doc = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        columns = [(str(r), str(k), str(n)) for r, k, n in doc["c"]]
        return str(doc["w"]), str(doc["p"]), columns
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise SwanlabError(404, "not_found", f"no such export: {token!r}") from None


@router.post("/house/metrics/scalar/export")
def scalar_export(request: Request, user: SwanlabUser, raw: Any = Body(None)) -> dict[str, Any]:
    """An export of every point of the columns, as a ``cosKey`` to ask a download link for."""
    body = as_object(raw)
    ws, project = project_of(body.get("projectId"), "projectId")
    pairs = _columns(body)
    names = [str(c.get("experimentName") or c["experimentId"]) for c in body["columns"]]
    store = readable_store(request, user, ws, project)
    for run_id in _by_run(pairs):
        store.get_run(ws, project, run_id)
    columns = [(r, k, n) for (r, k), n in zip(pairs, names, strict=True)]
    return {"cosKey": EXPORT_PREFIX + _token(ws, project, columns)}


@router.post("/files/presigned/get")
def presigned_files(request: Request, user: SwanlabUser, raw: Any = Body(None)) -> dict[str, Any]:
    """Download links of exports (``paths`` are ``cosKey`` answers)."""
    body = as_object(raw)
    paths = _keys_list(body.get("paths"), "paths") or []
    base = str(request.base_url).rstrip("/")
    urls = []
    for i, path in enumerate(paths):
        if not path.startswith(EXPORT_PREFIX):
            raise bad_request(f"paths[{i}] is not an export this server made: {path!r}")
        _untoken(path[len(EXPORT_PREFIX) :])
        urls.append(f"{base}/api/files/{path}")
    return {"urls": urls}


@router.post("/resources/presigned/get")
def presigned_resources(user: SwanlabUser, raw: Any = Body(None)) -> dict[str, Any]:
    """Media download links: lablens keeps no media, so there are none."""
    as_object(raw)
    return {"urls": []}


@router.get("/files/exports/{token}")
def download_export(token: str, request: Request, user: SwanlabUser) -> Response:
    """The export as CSV: ``step`` and, per column, ``<name>-<key>_step`` (the value, as
    SwanLab names it) and ``<name>-<key>_timestamp`` (ms); one row per step, ascending."""
    ws, project, columns = _untoken(token)
    store = readable_store(request, user, ws, project)
    cells: dict[int, dict[int, tuple[float, int | None]]] = defaultdict(dict)
    for run_id, keys in _by_run([(r, k) for r, k, _ in columns]).items():
        series, _ = _read(store, ws, project, run_id, keys)
        for i, (r, k, _) in enumerate(columns):
            if r != run_id:
                continue
            for step, ts, value in series.get(k, []):
                cells[step][i] = (value, _ms(ts))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["step"]
    for _, k, n in columns:
        header += [f"{n}-{k}_step", f"{n}-{k}_timestamp"]
    writer.writerow(header)
    for step in sorted(cells):
        row: list[Any] = [step]
        for i in range(len(columns)):
            value, ms = cells[step].get(i, (None, None))
            row += ["" if value is None else repr(float(value)), "" if ms is None else ms]
        writer.writerow(row)
    return Response(out.getvalue(), media_type="text/csv")


# -- media and logs ------------------------------------------------------------------------------


@router.post("/house/metrics/media")
def media(request: Request, user: SwanlabUser, raw: Any = Body(None)) -> dict[str, Any]:
    """Media of a step: lablens keeps no media, so there are none."""
    body = as_object(raw)
    ws, project = project_of(body.get("projectId"), "projectId")
    readable_store(request, user, ws, project)
    return {"steps": [], "metrics": []}


@router.post("/house/metrics/f_media")
def media_all(request: Request, user: SwanlabUser, raw: Any = Body(None)) -> list[Any]:
    """Every step's media: none, as above."""
    body = as_object(raw)
    ws, project = project_of(body.get("projectId"), "projectId")
    readable_store(request, user, ws, project)
    return []


_LEVELS = {"DEBUG": 0, "INFO": 1, "WARN": 2, "ERROR": 3}


def _iso(seconds: Any) -> str:
    """A console line's time (seconds since the epoch) as ISO 8601 UTC with milliseconds."""
    if not _finite(seconds):
        return ""
    try:
        when = dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, ValueError, OSError):  # past what a datetime holds
        return ""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


@router.get("/house/metrics/log")
def logs(
    request: Request,
    user: SwanlabUser,
    projectId: str = Query(...),  # noqa: N803 - SwanLab's parameter name
    experimentId: str = Query(...),  # noqa: N803
    size: int = Query(1000, ge=1, le=10_000),
    epoch: int = Query(0, ge=0),
    level: str = "INFO",
) -> dict[str, Any]:
    """The run's console lines at ``level`` or above (stdout is INFO, stderr ERROR), ``size``
    lines from shard ``epoch``; ``count`` is how many match in all."""
    if level not in _LEVELS:
        raise bad_request(f"level must be one of {', '.join(_LEVELS)}, got {level!r}")
    ws, project = project_of(projectId, "projectId")
    store = readable_store(request, user, ws, project)
    lines = []
    for n, line in enumerate(store.read_console(ws, project, experimentId)):
        line_level = "ERROR" if line.get("stream") == "stderr" else "INFO"
        if _LEVELS[line_level] >= _LEVELS[level]:
            lines.append(
                {
                    "epoch": n + 1,
                    "level": line_level,
                    "message": line.get("line") or "",
                    "timestamp": _iso(line.get("ts")),
                }
            )
    return {"logs": lines[epoch * size : (epoch + 1) * size], "count": len(lines)}
