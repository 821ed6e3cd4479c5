"""Sweeps: create, list, read, pause or cancel, and claim trials for agents."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict

from lablens.server.auth import can_read_project, can_write, current_user, store_of

router = APIRouter(prefix="/api/v1/projects/{ws}/{project}/sweeps", tags=["sweeps"])


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
    ws: str, project: str, body: NewSweep, request: Request, user: dict = Depends(current_user)
) -> dict[str, Any]:
    """Create a sweep from a W&B-style configuration (and the project when missing)."""
    store = store_of(request)
    can_write(store, user, ws)
    return store.create_sweep(ws, project, body.config, username=user["username"], name=body.name)


@router.get("")
def list_sweeps(
    ws: str,
    project: str,
    request: Request,
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=1000),
    user: dict = Depends(current_user),
) -> dict[str, Any]:
    """A page of the project's sweeps, newest first."""
    store = store_of(request)
    can_read_project(store, user, ws, project)
    return store.list_sweeps(ws, project, cursor=cursor, limit=limit)


@router.get("/{sweep_id}")
def get_sweep(
    ws: str, project: str, sweep_id: str, request: Request, user: dict = Depends(current_user)
) -> dict[str, Any]:
    """One sweep, with its state and how many trials it has handed out."""
    store = store_of(request)
    can_read_project(store, user, ws, project)
    return store.get_sweep(ws, project, sweep_id)


@router.patch("/{sweep_id}")
def update_sweep(
    ws: str,
    project: str,
    sweep_id: str,
    body: SweepChanges,
    request: Request,
    user: dict = Depends(current_user),
) -> dict[str, Any]:
    """Pause (``PAUSED``), resume (``RUNNING``) or cancel (``CANCELED``) a sweep, or rename it."""
    store = store_of(request)
    can_write(store, user, ws)
    return store.update_sweep(ws, project, sweep_id, body.model_dump(exclude_unset=True))


@router.post("/{sweep_id}/claim")
def claim(
    ws: str,
    project: str,
    sweep_id: str,
    request: Request,
    body: Claim | None = None,
    user: dict = Depends(current_user),
) -> dict[str, Any]:
    """Hand the caller the sweep's next trial, with the run made for it.

    Answers ``{"trial": {"index", "params", "run"}}``, or ``{"trial": null}`` when the sweep has
    no trial left (or is paused or canceled). Trials are handed out under the store's write lock:
    two agents never get the same one.
    """
    store = store_of(request)
    can_write(store, user, ws)
    trial = store.claim_trial(
        ws, project, sweep_id, username=user["username"], agent=body.agent if body else None
    )
    return {"trial": trial, "sweep": store.get_sweep(ws, project, sweep_id)}
