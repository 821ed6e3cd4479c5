"""What ``swanlab.init()`` / ``swanlab.log()`` / ``swanlab.finish()`` send: the project and the
experiment it creates (or resumes), config and environment, scalar points and console lines, the
run's end state, and, when resuming, the last step of each key. Media posts are kept by
``media.py``.

A run logged this way is an ordinary lablens run. SwanLab's system metrics (keys under
``__swanlab__.``) go to the ``system`` point stream as ``system.<rest>``
(``metrics.stream_key``). A retried batch of points or lines is stored once: its batch id is a
digest of its content.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pyarrow as pa
from fastapi import APIRouter, Body, Request, Response

from lablens.server.auth import readable_store, writable_store
from lablens.server.swanlab import shapes
from lablens.server.swanlab.media import keep_media
from lablens.server.swanlab.metrics import project_of, stream_key
from lablens.server.swanlab.session import SwanlabUser
from lablens.server.swanlab.wire import SwanlabRoute, as_object, bad_request, metric_step, seconds
from lablens.store.errors import NotFound

router = APIRouter(prefix="/api", route_class=SwanlabRoute, tags=["swanlab"])

STATES = ("FINISHED", "CRASHED", "ABORTED")


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"{name} must be a string, got {type(value).__name__}")
    return value or None


@router.post("/projects/{ws}")
def create_project(
    ws: str, request: Request, response: Response, user: SwanlabUser, raw: Any = Body(None)
) -> dict[str, Any]:
    """Create a project (201), or answer the one of that name (200)."""
    body = as_object(raw)
    name = _text(body, "name")
    if not name:
        raise bad_request("name is required")
    visibility = body.get("visibility", "PRIVATE")
    if visibility not in ("PUBLIC", "PRIVATE"):
        raise bad_request(f"visibility must be PUBLIC or PRIVATE, got {visibility!r}")
    store = writable_store(request, user, ws)
    try:
        store.get_project(ws, name)
        existed = True
    except NotFound:
        existed = False
    project = store.create_project(ws, name, visibility=visibility, exist_ok=True)
    response.status_code = 200 if existed else 201
    return shapes.project(project, "OWNER")


@router.post("/projects/{ws}/{project}/series")
def define_series(
    ws: str, project: str, request: Request, user: SwanlabUser, raw: Any = Body(None)
):
    """The client's column definitions; our keys come from the points themselves, so they are
    checked and kept nowhere."""
    body = as_object(raw)
    series = body.get("series")
    if not isinstance(series, list) or any(
        not isinstance(c, dict) or not isinstance(c.get("key"), str) for c in series
    ):
        raise bad_request("series must be a list of {key, type}")
    writable_store(request, user, ws).get_project(ws, project)
    return {"count": len(series)}


@router.post("/project/{ws}/{project}/experiment")
def start_experiment(
    ws: str,
    project: str,
    request: Request,
    response: Response,
    user: SwanlabUser,
    raw: Any = Body(None),
) -> dict[str, Any]:
    """Create a run (201), or resume the one whose id is ``cuid`` (200)."""
    body = as_object(raw)
    labels = body.get("labels") or []
    if not isinstance(labels, list) or any(
        not isinstance(label, dict) or not isinstance(label.get("name"), str) for label in labels
    ):
        raise bad_request("labels must be a list of {name}")
    run_id = _text(body, "cuid")
    data = {
        "id": run_id,
        "name": _text(body, "name"),
        "notes": _text(body, "description"),
        "tags": [label["name"] for label in labels],
        "group": _text(body, "cluster"),
        "job_type": _text(body, "job"),
        "resume": "allow" if run_id else "never",
    }
    store = writable_store(request, user, ws)
    run, created = store.create_run(ws, project, data, username=user["username"])
    response.status_code = 201 if created else 200
    return {
        "cuid": run["id"],
        "slug": run["id"],
        "name": run.get("name") or run["id"],
        "createdAt": run.get("created_at") or "",
    }


def _config(content: Any) -> dict[str, Any]:
    """SwanLab's config ``{key: {value, sort, desc}}`` as plain ``{key: value}``."""
    if not isinstance(content, dict):
        raise bad_request("config must be an object")
    if content and all(isinstance(v, dict) and "value" in v for v in content.values()):
        return {k: v["value"] for k, v in content.items()}
    return content


@router.put("/project/{ws}/{project}/runs/{run_id}/profile")
def put_profile(
    ws: str, project: str, run_id: str, request: Request, user: SwanlabUser, raw: Any = Body(None)
) -> dict[str, Any]:
    """Set the run's ``config``, ``metadata``, ``requirements`` or ``conda``."""
    body = as_object(raw)
    changes: dict[str, Any] = {}
    if "config" in body:
        changes["config"] = _config(body["config"])
    if "metadata" in body:
        if not isinstance(body["metadata"], dict):
            raise bad_request("metadata must be an object")
        changes["metadata"] = body["metadata"]
    for name in ("requirements", "conda"):
        if name in body:
            changes[name] = _text(body, name) or ""
    if not changes:
        raise bad_request("the profile needs one of config, metadata, requirements, conda")
    store = writable_store(request, user, ws)
    if "config" in changes:
        # A resumed run posts only what it was given this time (often nothing): merged, as
        # ``config.update()``, so the keys of the first session stay.
        before = store.get_run(ws, project, run_id).get("config") or {}
        changes["config"] = {**before, **changes["config"]}
    store.update_run(ws, project, run_id, changes)
    return {"updated": sorted(changes)}


@router.put("/project/{ws}/{project}/runs/{run_id}/state")
def put_state(
    ws: str, project: str, run_id: str, request: Request, user: SwanlabUser, raw: Any = Body(None)
) -> dict[str, Any]:
    """End the run: ``FINISHED``, ``CRASHED`` or ``ABORTED``."""
    body = as_object(raw)
    state = body.get("state")
    if state not in STATES:
        raise bad_request(f"state must be one of {', '.join(STATES)}, got {state!r}")
    store = writable_store(request, user, ws)
    run = store.update_run(ws, project, run_id, {"state": state})
    return {"state": run["state"]}


def _batch_id(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]


def _scalars(metrics: list[Any]) -> dict[str, pa.Table]:
    """The points of a scalar batch, per stream."""
    rows: dict[str, tuple[list, list, list, list]] = {}
    for i, m in enumerate(metrics):
        where = f"metrics[{i}]"
        step = metric_step(m, where)
        value = m.get("data")
        if isinstance(value, str) and value.lower() in ("nan", "inf", "-inf"):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad_request(f"{where}.data must be a number or 'nan'")
        stream, key = stream_key(m["key"])
        keys, steps, stamps, values = rows.setdefault(stream, ([], [], [], []))
        keys.append(key)
        steps.append(step)
        stamps.append(seconds(m.get("create_time"), f"{where}.create_time"))
        values.append(float(value))
    return {
        stream: pa.table(
            {
                "key": pa.array(k, pa.string()),
                "step": pa.array(s, pa.int64()),
                "timestamp": pa.array(t, pa.float64()),
                "value": pa.array(v, pa.float64()),
            }
        )
        for stream, (k, s, t, v) in rows.items()
    }


def _lines(metrics: list[Any]) -> list[dict[str, Any]]:
    lines = []
    for i, m in enumerate(metrics):
        where = f"metrics[{i}]"
        if not isinstance(m, dict) or not isinstance(m.get("message"), str):
            raise bad_request(f"{where}.message must be a string")
        level = m.get("level", "INFO")
        if level not in ("INFO", "ERROR", "WARN", "DEBUG"):
            raise bad_request(f"{where}.level must be INFO or ERROR, got {level!r}")
        lines.append(
            {
                "line": m["message"],
                "stream": "stderr" if level == "ERROR" else "stdout",
                "ts": seconds(m.get("create_time"), f"{where}.create_time"),
            }
        )
    return lines


@router.post("/house/metrics")
def upload_metrics(request: Request, user: SwanlabUser, raw: Any = Body(None)) -> dict[str, Any]:
    """A batch of ``scalar`` points, ``log`` lines or ``media`` items of one run."""
    body = as_object(raw)
    ws, project = project_of(body.get("projectId"), "projectId")
    run_id = _text(body, "experimentId")
    if not run_id:
        raise bad_request("experimentId is required")
    kind, metrics = body.get("type"), body.get("metrics")
    if not isinstance(metrics, list):
        raise bad_request("metrics must be a list")
    store = writable_store(request, user, ws)
    batch = _batch_id(body)
    if kind == "scalar":
        tables = _scalars(metrics)
        store.get_run(ws, project, run_id)
        stored = 0
        for stream, table in tables.items():
            answer = store.append_points(
                ws, project, run_id, table, stream=stream, batch_id=f"{batch}-{stream}"
            )
            stored += int(answer.get("stored", table.num_rows) or 0)
        return {"stored": stored}
    if kind == "log":
        lines = _lines(metrics)
        if not lines:
            return {"stored": 0}
        return {
            "stored": store.append_console(ws, project, run_id, lines, batch_id=batch)["stored"]
        }
    if kind == "media":
        return keep_media(store, (ws, project, run_id), metrics, user["username"])
    raise bad_request(f"type must be scalar, log or media, got {kind!r}")


@router.post("/house/experiments/{run_id}/heartbeat")
def heartbeat(run_id: str, user: SwanlabUser) -> dict[str, Any]:
    """Answered, and nothing more: the heartbeat names no project, so it cannot find its run
    without a lookup by id alone, which the store has not. A run's points keep it alive."""
    return {"ok": True}


@router.get("/house/metrics/summaries/{ws}/{project}/{run_id}")
def resume_summary(
    ws: str, project: str, run_id: str, request: Request, user: SwanlabUser
) -> dict[str, Any]:
    """For a resumed run: each key's last step, and the number of console lines so far."""
    store = readable_store(request, user, ws, project)
    run = store.get_run(ws, project, run_id)
    scalar = [
        {"key": key, "step": int(info.get("last_step", -1))}
        for key, info in sorted((run.get("history_keys") or {}).items())
    ]
    lines = len(store.read_console(ws, project, run_id))
    return {"scalar": scalar, "media": [], "log": [{"key": "log", "step": lines}] if lines else []}
