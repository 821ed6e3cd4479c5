"""Runs: create, query, the run table, read, update, delete."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from lablens.contract.arrow import ARROW, ipc_bytes
from lablens.server.auth import CurrentUser, readable_store, writable_store
from lablens.server.routing import Route

#: The largest offset or limit of a run table (DuckDB's signed 64-bit LIMIT/OFFSET).
MAX_ROWS = 2**63 - 1

router = APIRouter(prefix="/api/v1/projects/{ws}/{project}", tags=["runs"], route_class=Route)


class NewRun(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    name: str | None = None
    notes: str | None = None
    config: dict[str, Any] | None = None
    tags: list[str] | None = None
    group: str | None = None
    job_type: str | None = None
    host: str | None = None
    metadata: dict[str, Any] | None = None
    requirements: str | None = None
    conda: str | None = None
    resume: str | bool | None = None
    created_at: dt.datetime | None = None


class RunQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filters: Any = None
    order: str | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=1000)
    include_sweeps: bool = True


class RunTableQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filters: Any = None
    order: str | None = None
    columns: list[str] | None = None
    # One page of rows for a table view that can jump anywhere; the whole table without them.
    offset: int = Field(0, ge=0, le=MAX_ROWS)
    limit: int | None = Field(None, ge=1, le=MAX_ROWS)


class RunChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    notes: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    group: str | None = None
    job_type: str | None = None
    config: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    state: str | None = None
    # A process's exit status, as the 32-bit column keeps it.
    exit_code: int | None = Field(None, ge=-(2**31), le=2**31 - 1)
    finished_at: dt.datetime | None = None
    heartbeat: bool | None = None
    metadata: dict[str, Any] | None = None
    requirements: str | None = None
    conda: str | None = None
    show: bool | None = None


@router.post("/runs", status_code=201)
def create_run(
    ws: str, project: str, body: NewRun, request: Request, user: CurrentUser, response: Response
) -> dict[str, Any]:
    """Create a run (and its project when missing), or resume one by id."""
    store = writable_store(request, user, ws)
    run, created = store.create_run(ws, project, body.model_dump(), username=user["username"])
    response.status_code = 201 if created else 200
    return run


@router.post("/runs/query")
def query_runs(
    ws: str, project: str, body: RunQuery, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """A page of the runs matching MongoDB-style ``filters``, in ``order``."""
    store = readable_store(request, user, ws, project)
    filters = body.filters
    if filters is not None and not body.include_sweeps:
        filters = {"$and": [filters, {"sweep": {"$exists": False}}]}
    elif not body.include_sweeps:
        filters = {"sweep": {"$exists": False}}
    return store.query_runs(
        ws, project, filters=filters, order=body.order, cursor=body.cursor, limit=body.limit
    )


@router.post("/runs/table", response_class=Response, responses={200: {"content": {ARROW: {}}}})
def runs_table(
    ws: str, project: str, body: RunTableQuery, request: Request, user: CurrentUser
) -> Response:
    """Every matching run (or the page ``offset``/``limit``) as one Arrow row each, config and
    summary flattened into columns; schema metadata ``total`` counts the matching runs."""
    store = readable_store(request, user, ws, project)
    table = store.runs_table(
        ws,
        project,
        filters=body.filters,
        order=body.order,
        columns=body.columns,
        offset=body.offset,
        limit=body.limit,
    )
    batches = iter(table)
    first = next(batches, None)
    second = next(batches, None)
    if second is None:
        # One batch is the whole answer (every narrow table of up to a million runs): sent with
        # its length, as fast as a table answer was before streaming.
        one = [first] if first is not None else []
        return Response(ipc_bytes(table.schema, one), media_type=ARROW)
    return StreamingResponse(
        _ipc_stream(table.schema, itertools.chain([first, second], batches)), media_type=ARROW
    )


#: The end-of-stream marker of the Arrow IPC stream format.
_IPC_EOS = b"\xff\xff\xff\xff\x00\x00\x00\x00"


def _ipc_stream(schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> Iterator[bytes]:
    """The Arrow IPC stream of ``batches``, a message per batch as it comes, so a wide table is
    never held whole (as a table and again as bytes) by the server."""
    yield schema.serialize().to_pybytes()
    for batch in batches:
        yield batch.serialize().to_pybytes()
    yield _IPC_EOS


@router.get("/runs/{run_id}")
def get_run(
    ws: str, project: str, run_id: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """One run."""
    store = readable_store(request, user, ws, project)
    return store.get_run(ws, project, run_id)


@router.patch("/runs/{run_id}")
def update_run(
    ws: str, project: str, run_id: str, body: RunChanges, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Change a run: the fields given are set; ``summary`` is merged; ``state`` finishes it."""
    store = writable_store(request, user, ws)
    changes = body.model_dump(exclude_unset=True)
    events = request.app.state.automations
    before = events.state_before(ws, project, run_id, changes)  # None unless watched
    run = store.update_run(ws, project, run_id, changes)
    events.run_changed(ws, project, before, run, user["username"])
    return run


@router.delete("/runs/{run_id}", status_code=204)
def delete_run(ws: str, project: str, run_id: str, request: Request, user: CurrentUser) -> Response:
    """Delete a run with its points, files and console lines."""
    store = writable_store(request, user, ws)
    store.delete_run(ws, project, run_id)
    return Response(status_code=204)
