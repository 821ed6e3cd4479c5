"""Metric points in, history out."""

from __future__ import annotations

import json
import math
from typing import Any

import pyarrow as pa
from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from lablens.contract.arrow import ARROW, ipc_to_table, table_to_ipc
from lablens.contract.names import PointStream, WireXAxis
from lablens.server.auth import CurrentUser, readable_store, writable_store
from lablens.server.problems import Problem
from lablens.server.routing import Route
from lablens.store.points import MAX_STEP

router = APIRouter(prefix="/api/v1/projects/{ws}/{project}", tags=["history"], route_class=Route)

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class HistoryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    runs: list[str] | None = Field(None, min_length=1)
    filters: Any = None
    order: str | None = None
    keys: list[str] | None = None
    samples: int | None = Field(None, ge=1)
    min_step: int | None = None
    max_step: int | None = None
    min_x: float | None = None
    max_x: float | None = None
    stream: PointStream = "default"
    x_axis: WireXAxis = "step"
    x_key: str | None = None


def _number(value: Any) -> float | None:
    """A JSON number as a double, or ``None`` when it is not one (or too large for one)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer past 1.8e308
        return None


def _rows_to_table(body: Any) -> pa.Table:
    """JSON rows ``{"rows": [{"step", "timestamp", "data": {key: number}}]}`` to points.

    A bad row is a 400 naming it (``rows[3].step``), before anything is stored.
    """
    if not isinstance(body, dict) or not isinstance(body.get("rows"), list):
        raise Problem(
            400, "bad_request", "expected {'rows': [{'step', 'timestamp', 'data'}]}", field="rows"
        )
    keys: list[str] = []
    steps: list[int] = []
    times: list[float] = []
    values: list[float] = []
    for i, row in enumerate(body["rows"]):
        if not isinstance(row, dict) or not isinstance(row.get("data"), dict):
            raise Problem(
                400, "bad_request", "each row needs a 'data' object", field=f"rows[{i}].data"
            )
        step = row.get("step")
        if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= MAX_STEP:
            raise Problem(
                400,
                "bad_request",
                f"step must be an integer from 0 to {MAX_STEP:,}",
                field=f"rows[{i}].step",
            )
        ts = _number(row.get("timestamp"))
        if ts is None or not math.isfinite(ts):
            raise Problem(
                400,
                "bad_request",
                "timestamp must be a finite number (seconds since the epoch)",
                field=f"rows[{i}].timestamp",
            )
        for key, value in row["data"].items():
            if isinstance(value, str) and value in _NONFINITE:
                value = _NONFINITE[value]
            number = _number(value)
            if number is None:
                if isinstance(value, int) and not isinstance(value, bool):
                    why = "an integer too large for a double (at most about 1.8e308)"
                else:
                    why = f"{type(value).__name__}; only numbers can be logged"
                raise Problem(
                    400,
                    "bad_request",
                    f"the value of {key!r} is {why}",
                    field=f"rows[{i}].data.{key}",
                )
            keys.append(key)
            steps.append(step)
            times.append(ts)
            values.append(number)
    return pa.table(
        {
            "key": pa.array(keys, pa.string()),
            "step": pa.array(steps, pa.int64()),
            "timestamp": pa.array(times, pa.float64()),
            "value": pa.array(values, pa.float64()),
        }
    )


@router.post("/runs/{run_id}/points")
async def append_points(
    ws: str,
    project: str,
    run_id: str,
    request: Request,
    user: CurrentUser,
    stream: str = Query("default"),
    batch_id: str | None = Header(None, alias="X-Lablens-Batch-Id"),
) -> dict[str, Any]:
    """Store a batch of points: an Arrow IPC stream, or JSON rows.

    A batch id already stored for this run is acknowledged and stores nothing, so a client
    may retry a batch without duplicating a point.
    """
    store = writable_store(request, user, ws)
    raw = await request.body()
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(ARROW):
        try:
            table = ipc_to_table(raw)
        except (pa.ArrowInvalid, OSError) as exc:
            raise Problem(
                400, "bad_request", f"the body is not an Arrow IPC stream: {exc}", field="body"
            ) from exc
    elif ctype.startswith("application/json"):
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise Problem(400, "bad_request", f"the body is not JSON: {exc}", field="body") from exc
        except RecursionError:
            raise Problem(
                400,
                "bad_request",
                "the body is not JSON rows: it is nested too deeply",
                field="body",
            ) from None
        table = _rows_to_table(body)
    else:
        raise Problem(
            415, "bad_request", f"send points as {ARROW} or application/json", field="content-type"
        )
    from starlette.concurrency import run_in_threadpool

    stored = await run_in_threadpool(
        store.append_points, ws, project, run_id, table, stream=stream, batch_id=batch_id
    )
    # Metric thresholds: a dict lookup unless the project has an automation watching metrics.
    request.app.state.automations.points_logged(
        ws, project, run_id, table, stream, user["username"]
    )
    return stored


@router.post("/history", response_class=Response, responses={200: {"content": {ARROW: {}}}})
def history(
    ws: str, project: str, body: HistoryQuery, request: Request, user: CurrentUser
) -> Response:
    """Points of many runs in one answer, long form ``run_id key step timestamp value``
    (the schema metadata ``started`` maps each run id to its start, seconds since the epoch,
    and ``names`` to its display name).

    The runs are ``runs`` (ids), or every run that ``filters`` matches, in ``order``.

    ``min_x``/``max_x`` cut an ``x_axis`` range before sampling: ``step``, ``timestamp``,
    ``runtime`` (seconds since the run's start) or ``metric`` with ``x_key``, the metric whose
    value must lie in the range (every key is then read at those steps only).

    With ``samples``, each series keeps every bucket's first, last, min and max points.
    """
    store = readable_store(request, user, ws, project)
    table = store.history(
        ws,
        project,
        body.runs,
        keys=body.keys,
        samples=body.samples,
        min_step=body.min_step,
        max_step=body.max_step,
        min_x=body.min_x,
        max_x=body.max_x,
        stream=body.stream,
        x_axis=body.x_axis,
        x_key=body.x_key,
        filters=body.filters,
        order=body.order,
    )
    return Response(table_to_ipc(table), media_type=ARROW)
