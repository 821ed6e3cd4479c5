"""Artifact types and collections: listed, read, renamed, deleted, and the versions of each.

Reads need read access to the project, writes membership of the workspace, as for runs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from lablens.server.auth import CurrentUser, readable_store, writable_store
from lablens.server.paging import PageQuery, whole_page
from lablens.server.routing import Route

router = APIRouter(prefix="/api/v1/projects/{ws}/{project}", tags=["artifacts"], route_class=Route)


class CollectionChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Any = None
    description: Any = None
    tags: Any = None


@router.get("/artifact_types")
def list_artifact_types(
    ws: str, project: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """The project's artifact types."""
    store = readable_store(request, user, ws, project)
    return whole_page(store.list_artifact_types(ws, project))


@router.get("/artifact_types/{type_name}")
def get_artifact_type(
    ws: str, project: str, type_name: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """One artifact type."""
    store = readable_store(request, user, ws, project)
    return store.get_artifact_type(ws, project, type_name)


@router.get("/artifact_collections")
def list_artifact_collections(
    ws: str,
    project: str,
    request: Request,
    user: CurrentUser,
    page: PageQuery,
    type: str | None = None,  # noqa: A002 - the query's name
) -> dict[str, Any]:
    """A page of the project's collections by name, of one ``type`` if given."""
    store = readable_store(request, user, ws, project)
    return store.list_artifact_collections(
        ws, project, type_name=type, cursor=page.cursor, limit=page.limit
    )


@router.get("/artifact_collections/{name}")
def get_artifact_collection(
    ws: str,
    project: str,
    name: str,
    request: Request,
    user: CurrentUser,
    type: str | None = None,  # noqa: A002 - the query's name
) -> dict[str, Any]:
    """One collection (404 unless of ``type``, if given)."""
    store = readable_store(request, user, ws, project)
    return store.get_artifact_collection(ws, project, name, type_name=type)


@router.patch("/artifact_collections/{name}")
def update_artifact_collection(
    ws: str, project: str, name: str, body: CollectionChanges, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Rename a collection or set its ``description`` or ``tags``."""
    store = writable_store(request, user, ws)
    return store.update_artifact_collection(ws, project, name, body.model_dump(exclude_unset=True))


@router.delete("/artifact_collections/{name}", status_code=204)
def delete_artifact_collection(
    ws: str, project: str, name: str, request: Request, user: CurrentUser
) -> Response:
    """Delete a collection and every version in it."""
    store = writable_store(request, user, ws)
    store.delete_artifact_collection(ws, project, name)
    return Response(status_code=204)


@router.get("/artifact_collections/{name}/versions")
def list_artifacts(
    ws: str,
    project: str,
    name: str,
    request: Request,
    user: CurrentUser,
    page: PageQuery,
    type: str | None = None,  # noqa: A002 - the query's name
    tags: list[str] | None = Query(None),
) -> dict[str, Any]:
    """A page of the collection's versions, newest first; ``tags``: only those with all."""
    store = readable_store(request, user, ws, project)
    return store.list_artifacts(
        ws, project, name, type_name=type, tags=tags, cursor=page.cursor, limit=page.limit
    )


@router.get("/artifact_collections/{name}/versions/{selector}")
def get_artifact_version(
    ws: str,
    project: str,
    name: str,
    selector: str,
    request: Request,
    user: CurrentUser,
    type: str | None = None,  # noqa: A002 - the query's name
) -> dict[str, Any]:
    """One version by ``v3``, an alias such as ``latest``, or its manifest digest."""
    store = readable_store(request, user, ws, project)
    return store.get_artifact(ws, project, name, selector, type_name=type)
