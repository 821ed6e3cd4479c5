"""Run files and console lines."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, Field

from lablens.server.auth import CurrentUser, readable_store, writable_store
from lablens.server.paging import whole_page
from lablens.server.routing import Route

router = APIRouter(
    prefix="/api/v1/projects/{ws}/{project}/runs/{run_id}", tags=["files"], route_class=Route
)


class ConsoleLines(BaseModel):
    # An empty batch is a client's mistake (a flush with nothing to say), refused as such.
    lines: list[dict[str, Any]] = Field(min_length=1)


def _file_out(
    request: Request, ws: str, project: str, run_id: str, f: dict[str, Any]
) -> dict[str, Any]:
    out = {k: f[k] for k in ("name", "size", "md5", "mimetype", "updated_at")}
    base = str(request.base_url).rstrip("/")
    name = quote(f["name"])
    out["url"] = f"{base}/api/v1/projects/{quote(ws)}/{quote(project)}/runs/{run_id}/files/{name}"
    return out


@router.get("/files")
def list_files(
    ws: str,
    project: str,
    run_id: str,
    request: Request,
    user: CurrentUser,
    names: list[str] | None = Query(None),
) -> dict[str, Any]:
    """The run's files (optionally only those named)."""
    store = readable_store(request, user, ws, project)
    items = [
        _file_out(request, ws, project, run_id, f)
        for f in store.list_files(ws, project, run_id, names)
    ]
    return whole_page(items)


@router.put("/files/{name:path}", status_code=201)
async def put_file(
    ws: str, project: str, run_id: str, name: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Store or replace a run file; the body is its bytes."""
    store = writable_store(request, user, ws)
    content = await request.body()
    f = store.put_file(ws, project, run_id, name, content)
    return _file_out(request, ws, project, run_id, f)


@router.get("/files/{name:path}")
def get_file(
    ws: str, project: str, run_id: str, name: str, request: Request, user: CurrentUser
) -> Response:
    """A run file's bytes."""
    store = readable_store(request, user, ws, project)
    info, content = store.read_file(ws, project, run_id, name)
    return Response(content, media_type=info["mimetype"], headers={"ETag": f'"{info["md5"]}"'})


@router.post("/console")
def append_console(
    ws: str,
    project: str,
    run_id: str,
    body: ConsoleLines,
    request: Request,
    user: CurrentUser,
    batch_id: str | None = Header(None, alias="X-Lablens-Batch-Id"),
) -> dict[str, Any]:
    """Store console lines ``{ts, stream, line}``; a batch id already stored stores nothing."""
    store = writable_store(request, user, ws)
    return store.append_console(ws, project, run_id, body.lines, batch_id=batch_id)


@router.get("/console")
def read_console(
    ws: str, project: str, run_id: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """The run's console lines in order."""
    store = readable_store(request, user, ws, project)
    items = store.read_console(ws, project, run_id)
    return whole_page(items)
