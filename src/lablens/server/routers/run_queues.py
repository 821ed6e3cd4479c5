"""Run queues of a workspace (W&B's launch queues), their items, and the claims of agents.

A queue and its items belong to a workspace: its members make, read and drain them (admins
too); anyone else is refused. An agent claims the next item (``POST .../claim``), which makes
the item's run, then heartbeats it and reports its end; the store hands each item out once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from lablens.server.auth import CurrentUser, writable_store
from lablens.server.paging import PageQuery
from lablens.server.routing import Route

router = APIRouter(
    prefix="/api/v1/workspaces/{ws}/run-queues", tags=["run queues"], route_class=Route
)


class NewQueue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Any = None
    type: Any = None
    prioritization_mode: Any = None
    config: Any = None
    template_variables: Any = None
    external_links: Any = None


class NewItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: Any = None
    job: Any = None
    job_id: Any = None
    config: Any = None
    template_variables: Any = None
    priority: Any = None


class Claim(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent: str
    project: str | None = None


class Heartbeat(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent: str
    running: bool = False


class End(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent: str
    state: Any = None
    exit_code: Any = None
    error: Any = None


@router.get("")
def list_run_queues(ws: str, request: Request, user: CurrentUser) -> dict[str, Any]:
    """The workspace's run queues, by name."""
    store = writable_store(request, user, ws)
    return {"items": store.list_run_queues(ws)}


@router.post("", status_code=201)
def create_run_queue(ws: str, body: NewQueue, request: Request, user: CurrentUser) -> dict:
    """Make a run queue; 409 when one of that name exists, 400 naming a bad name or type."""
    store = writable_store(request, user, ws)
    queue, _ = store.put_run_queue(ws, body.model_dump(), username=user["username"], replace=False)
    return queue


@router.put("/{name}")
def upsert_run_queue(
    ws: str, name: str, body: NewQueue, request: Request, user: CurrentUser, response: Response
) -> dict[str, Any]:
    """Make the queue ``name`` or give it these settings (201 when made, 200 when updated)."""
    store = writable_store(request, user, ws)
    data = {**body.model_dump(), "name": name}
    queue, created = store.put_run_queue(ws, data, username=user["username"], replace=True)
    response.status_code = 201 if created else 200
    return queue


@router.get("/{name}")
def get_run_queue(ws: str, name: str, request: Request, user: CurrentUser) -> dict[str, Any]:
    """One run queue, with how many items wait in it."""
    store = writable_store(request, user, ws)
    return store.get_run_queue(ws, name)


@router.delete("/{name}", status_code=204)
def delete_run_queue(ws: str, name: str, request: Request, user: CurrentUser) -> Response:
    """Delete a run queue and its items (the runs they made stay)."""
    store = writable_store(request, user, ws)
    store.delete_run_queue(ws, name)
    return Response(status_code=204)


@router.post("/{name}/items", status_code=201)
def enqueue_run(
    ws: str, name: str, body: NewItem, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Add an item (a job version to run in a project, with its config and priority)."""
    store = writable_store(request, user, ws)
    return store.enqueue_run(ws, name, body.model_dump(), username=user["username"])


@router.get("/{name}/items")
def list_queue_items(
    ws: str,
    name: str,
    request: Request,
    user: CurrentUser,
    page: PageQuery,
    state: str | None = Query(None, description="only items in this state"),
) -> dict[str, Any]:
    """A page of the queue's items, oldest first."""
    store = writable_store(request, user, ws)
    return store.list_queue_items(ws, name, state=state, cursor=page.cursor, limit=page.limit)


@router.get("/{name}/items/{item_id}")
def get_queue_item(
    ws: str, name: str, item_id: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """One item: its state, the run it made, the agent that claimed it, its times."""
    store = writable_store(request, user, ws)
    return store.get_queue_item(ws, name, item_id)


@router.delete("/{name}/items/{item_id}", status_code=204)
def delete_queue_item(
    ws: str, name: str, item_id: str, request: Request, user: CurrentUser
) -> Response:
    """Take an item off the queue; 409 while an agent runs it."""
    store = writable_store(request, user, ws)
    store.delete_queue_item(ws, name, item_id)
    return Response(status_code=204)


@router.post("/{name}/claim")
def claim_queue_item(
    ws: str, name: str, body: Claim, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Hand the agent the next pending item, its run made: ``{"item": {...}}``, or
    ``{"item": null}`` when none waits. No item is handed out twice."""
    store = writable_store(request, user, ws)
    item = store.claim_queue_item(
        ws, name, username=user["username"], agent=body.agent, project=body.project
    )
    return {"item": item}


@router.post("/{name}/items/{item_id}/heartbeat")
def heartbeat_queue_item(
    ws: str, name: str, item_id: str, body: Heartbeat, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """The agent holding the item is alive (``running``: its process started); 409 for an
    agent that does not hold it."""
    store = writable_store(request, user, ws)
    return store.heartbeat_queue_item(ws, name, item_id, agent=body.agent, running=body.running)


@router.post("/{name}/items/{item_id}/end")
def end_queue_item(
    ws: str, name: str, item_id: str, body: End, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Record the item's end (``finished`` or ``failed``, with the exit code)."""
    store = writable_store(request, user, ws)
    return store.end_queue_item(
        ws, name, item_id, body.model_dump(exclude={"agent"}), agent=body.agent
    )
