"""Sweeps: create, list, read, pause or cancel, and claim trials for agents."""

from __future__ import annotations

from typing import Any

import pyarrow.compute as pc
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from lablens.server.auth import CurrentUser, readable_store, writable_store
from lablens.server.paging import PageQuery
from lablens.server.routing import Route
from lablens.store.errors import InvalidInput
from lablens.store.sweep_stopping import hyperband_decision

router = APIRouter(
    prefix="/api/v1/projects/{ws}/{project}/sweeps", tags=["sweeps"], route_class=Route
)


class NewSweep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    config: dict[str, Any]
    name: str | None = None


class SweepChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: str | None = None
    name: str | None = None
    description: str | None = None


class Claim(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent: str | None = None


@router.post("", status_code=201)
def create_sweep(
    ws: str, project: str, body: NewSweep, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Create a sweep from a W&B-style configuration (and the project when missing)."""
    store = writable_store(request, user, ws)
    return store.create_sweep(ws, project, body.config, username=user["username"], name=body.name)


@router.get("")
def list_sweeps(
    ws: str, project: str, request: Request, user: CurrentUser, page: PageQuery
) -> dict[str, Any]:
    """A page of the project's sweeps, newest first."""
    store = readable_store(request, user, ws, project)
    return store.list_sweeps(ws, project, cursor=page.cursor, limit=page.limit)


@router.get("/{sweep_id}")
def get_sweep(
    ws: str, project: str, sweep_id: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """One sweep, with its state and how many trials it has handed out."""
    store = readable_store(request, user, ws, project)
    return store.get_sweep(ws, project, sweep_id)


@router.patch("/{sweep_id}")
def update_sweep(
    ws: str, project: str, sweep_id: str, body: SweepChanges, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Pause (``PAUSED``), resume (``RUNNING``) or cancel (``CANCELED``) a sweep, or rename it."""
    store = writable_store(request, user, ws)
    return store.update_sweep(ws, project, sweep_id, body.model_dump(exclude_unset=True))


@router.post("/{sweep_id}/claim")
def claim(
    ws: str,
    project: str,
    sweep_id: str,
    request: Request,
    user: CurrentUser,
    body: Claim | None = None,
) -> dict[str, Any]:
    """Hand the caller the sweep's next trial, with the run made for it.

    Answers ``{"trial": {"index", "params", "run"}}``, or ``{"trial": null}`` when the sweep has
    no trial left (or is paused or canceled). Trials are handed out under the store's write lock:
    two agents never get the same one.
    """
    store = writable_store(request, user, ws)
    trial = store.claim_trial(
        ws, project, sweep_id, username=user["username"], agent=body.agent if body else None
    )
    return {"trial": trial, "sweep": store.get_sweep(ws, project, sweep_id)}


@router.get("/{sweep_id}/stop")
def should_stop(
    ws: str,
    project: str,
    sweep_id: str,
    request: Request,
    user: CurrentUser,
    run: str = Query(..., description="the id of one of the sweep's runs"),
    step: int | None = Query(None, ge=0, description="answer once the server has this step"),
) -> dict[str, Any]:
    """Whether a running run of the sweep should stop now, by the configuration's
    ``early_terminate`` (W&B's hyperband brackets), judged afresh from the metric histories of
    the sweep's runs.

    Answers ``{"stop", "iteration", "bracket", "value", "threshold", "pending"}``: ``stop`` is
    false without ``early_terminate``, for a run that is not running, and before the run's first
    bracket. With ``step``, ``pending`` is true (and ``stop`` false) while the server has not yet
    received the run's points up to that step: the client asks again.
    """
    store = readable_store(request, user, ws, project)
    sweep = store.get_sweep(ws, project, sweep_id)
    target = store.get_run(ws, project, run)
    if target["sweep"] != sweep_id:
        raise InvalidInput(f"run {run!r} is not a run of sweep {sweep_id!r}", field="run")
    config = sweep["config"]
    spec = config.get("early_terminate")
    answer: dict[str, Any] = {"stop": False, "iteration": 0, "bracket": None, "value": None}
    answer |= {"threshold": None, "pending": False}
    if step is not None and target["last_history_step"] < step:
        return answer | {"pending": True}
    if not spec or target["state"] != "RUNNING":
        return answer
    metric = config["metric"]["name"]
    table = store.history(ws, project, None, keys=[metric], filters={"sweep": sweep_id})
    points = sorted(
        zip(
            table.column("run_id").to_pylist(),
            table.column("step").to_pylist(),
            pc.cast(table.column("value"), "float64").to_pylist(),
            strict=True,
        )
    )
    histories: dict[str, list[float]] = {}
    for run_id, _, value in points:
        histories.setdefault(run_id, []).append(value)
    decision = hyperband_decision(
        spec,
        config["metric"].get("goal", "minimize"),
        histories.get(run, []),
        list(histories.values()),
    )
    return answer | decision.as_json()
