"""Workspaces and the projects in them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from lablens.contract.fields import run_field_types
from lablens.server.auth import (
    CurrentUser,
    can_own,
    can_read_project,
    can_write,
    readable_store,
    store_of,
    writable_store,
)
from lablens.server.paging import whole_page
from lablens.server.routing import Route

router = APIRouter(prefix="/api/v1", tags=["workspaces", "projects"], route_class=Route)


class NewProject(BaseModel):
    #: the rule is the store's (store/names.py), so a project made by logging a run keeps it too.
    name: str
    description: str | None = None
    labels: list[str] = []
    visibility: str = "PRIVATE"
    exist_ok: bool = False


class ProjectChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str | None = None
    labels: list[str] | None = None
    visibility: str | None = None


@router.get("/workspaces")
def list_workspaces(request: Request, user: CurrentUser) -> dict[str, Any]:
    """The workspaces the signed-in user belongs to, personal first."""
    items = store_of(request).list_workspaces(user["username"])
    return whole_page(items)


@router.get("/workspaces/{ws}")
def get_workspace(ws: str, request: Request, user: CurrentUser) -> dict[str, Any]:
    """One workspace, with the signed-in user's role in it."""
    return store_of(request).get_workspace(ws, viewer=user["username"])


@router.get("/workspaces/{ws}/projects")
def list_projects(
    ws: str,
    request: Request,
    user: CurrentUser,
    sort: str | None = None,
    search: str | None = None,
    cursor: str | None = None,
    limit: int = Query(200, ge=1, le=1000),
) -> dict[str, Any]:
    """A page of the workspace's projects (only PUBLIC ones for non-members)."""
    viewer = None if user["is_admin"] else user["username"]
    return store_of(request).list_projects(
        ws, sort=sort, search=search, cursor=cursor, limit=limit, viewer=viewer
    )


@router.post("/workspaces/{ws}/projects", status_code=201)
def create_project(
    ws: str, body: NewProject, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Create a project (members only); ``exist_ok`` returns an existing one instead of 409."""
    store = writable_store(request, user, ws)
    return store.create_project(
        ws,
        body.name,
        description=body.description,
        labels=body.labels,
        visibility=body.visibility,
        exist_ok=body.exist_ok,
    )


@router.get("/projects/{ws}/{project}")
def get_project(ws: str, project: str, request: Request, user: CurrentUser) -> dict[str, Any]:
    """One project with its run count."""
    store = readable_store(request, user, ws, project)
    return store.get_project(ws, project)


@router.get("/projects/{ws}/{project}/fields")
def project_fields(ws: str, project: str, request: Request, user: CurrentUser) -> dict[str, Any]:
    """The project's fields: the plain run fields of the catalogue, the config and summary keys."""
    store = readable_store(request, user, ws, project)
    return {"run": run_field_types(), **store.project_fields(ws, project)}


@router.patch("/projects/{ws}/{project}")
def update_project(
    ws: str, project: str, body: ProjectChanges, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Change a project's description or labels (members), or its visibility (owners)."""
    store = store_of(request)
    changes = body.model_dump(exclude_unset=True)
    can_read_project(store, user, ws, project)
    current = store.get_project(ws, project)["visibility"]
    if str(changes.get("visibility") or current).upper() != current:
        can_own(store, user, ws, "change a project's visibility", project)
    else:
        can_write(store, user, ws)
    return store.update_project(ws, project, changes)


@router.delete("/projects/{ws}/{project}", status_code=204)
def delete_project(ws: str, project: str, request: Request, user: CurrentUser) -> Response:
    """Delete a project with its runs, sweeps and reports (owners only)."""
    store = store_of(request)
    can_own(store, user, ws, "delete projects", project)
    store.delete_project(ws, project)
    return Response(status_code=204)
