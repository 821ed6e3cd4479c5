"""Artifact versions: committed, read, changed, deleted, their files, links and lineage.

A version is made in steps, so an interrupted upload leaves no half version: the client uploads
the blobs the server lacks (``routers/blobs.py``), then commits the manifest
(``POST .../artifacts``), which the store writes in one transaction. Types and collections are in
``routers/artifact_collections.py``.
Reads need read access to the project, writes membership of the workspace, as for runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from lablens.server.auth import (
    CurrentUser,
    can_read_project,
    can_write_project,
    readable_store,
    writable_store,
)
from lablens.server.paging import PageQuery, whole_page
from lablens.server.problems import Problem
from lablens.server.routers.blobs import CHUNK
from lablens.server.routers.registries import registry_organization
from lablens.server.routing import Route
from lablens.store.base import Store
from lablens.store.errors import NotFound

router = APIRouter(prefix="/api/v1/projects/{ws}/{project}", tags=["artifacts"], route_class=Route)


class NewArtifact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Any = None
    type: Any = None
    description: Any = None
    metadata: Any = None
    aliases: Any = None
    tags: Any = None
    run_id: str | None = None
    files: Any = None


class ArtifactChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: Any = None
    metadata: Any = None
    aliases: Any = None
    tags: Any = None


class NewLink(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entity: str | None = None
    project: str | None = None
    name: str
    aliases: list[str] | None = None


class Use(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entity: str | None = None
    project: str | None = None
    id: str


def _readable(store: Store, user: dict[str, Any], ws: str, project: str) -> bool:
    try:
        can_read_project(store, user, ws, project)
    except (Problem, NotFound):
        return False
    return True


# -- versions --------------------------------------------------------------------------------


@router.post("/artifacts", status_code=201)
def commit_artifact(
    ws: str,
    project: str,
    body: NewArtifact,
    request: Request,
    user: CurrentUser,
    response: Response,
) -> dict[str, Any]:
    """Commit a version from its manifest (every blob uploaded first); 200 when the same
    content is already a version of the collection, which is then the answer."""
    store = writable_store(request, user, ws)
    artifact, created = store.commit_artifact(
        ws, project, body.model_dump(), username=user["username"]
    )
    response.status_code = 201 if created else 200
    if created:
        request.app.state.automations.artifact_committed(ws, project, artifact, user["username"])
    return artifact


@router.get("/artifacts/{artifact_id}")
def get_artifact(
    ws: str, project: str, artifact_id: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """One version by id."""
    store = readable_store(request, user, ws, project)
    return store.get_artifact_by_id(ws, project, artifact_id)


@router.patch("/artifacts/{artifact_id}")
def update_artifact(
    ws: str,
    project: str,
    artifact_id: str,
    body: ArtifactChanges,
    request: Request,
    user: CurrentUser,
) -> dict[str, Any]:
    """Set ``description``, ``metadata``, ``tags`` or ``aliases`` (the whole list)."""
    store = writable_store(request, user, ws)
    changes = body.model_dump(exclude_unset=True)
    before = (
        store.get_artifact_by_id(ws, project, artifact_id)["aliases"]
        if changes.get("aliases")
        else []
    )
    artifact = store.update_artifact(ws, project, artifact_id, changes)
    added = [a for a in artifact["aliases"] if a not in before and changes.get("aliases")]
    request.app.state.automations.aliases_added(ws, project, artifact, added, user["username"])
    return artifact


@router.delete("/artifacts/{artifact_id}", status_code=204)
def delete_artifact(
    ws: str,
    project: str,
    artifact_id: str,
    request: Request,
    user: CurrentUser,
    delete_aliases: bool = False,
) -> Response:
    """Delete a version; one with aliases only with ``delete_aliases=true``."""
    store = writable_store(request, user, ws)
    store.delete_artifact(ws, project, artifact_id, delete_aliases=delete_aliases)
    return Response(status_code=204)


@router.get("/artifacts/{artifact_id}/files")
def list_artifact_files(
    ws: str,
    project: str,
    artifact_id: str,
    request: Request,
    user: CurrentUser,
    names: list[str] | None = Query(None),
    prefix: str | None = None,
    cursor: str | None = None,
    limit: int = Query(1000, ge=1, le=10000),
) -> dict[str, Any]:
    """A page of the version's manifest: ``{path, digest, size, ref, mimetype}`` by path."""
    store = readable_store(request, user, ws, project)
    return store.list_artifact_files(
        ws, project, artifact_id, names=names, prefix=prefix, cursor=cursor, limit=limit
    )


def _chunks(f: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := f.read(CHUNK):
            yield chunk
    finally:
        f.close()


@router.get("/artifacts/{artifact_id}/files/{path:path}", response_class=Response)
def get_artifact_file(
    ws: str, project: str, artifact_id: str, path: str, request: Request, user: CurrentUser
) -> Response:
    """A file's bytes; the ``ETag`` is their sha256."""
    store = readable_store(request, user, ws, project)
    entry, content = store.open_artifact_file(ws, project, artifact_id, path)
    return StreamingResponse(
        _chunks(content),
        media_type=entry["mimetype"] or "application/octet-stream",
        headers={"ETag": f'"{entry["digest"]}"', "Content-Length": str(entry["size"])},
    )


@router.get("/artifacts/{artifact_id}/used_by")
def artifact_users(
    ws: str, project: str, artifact_id: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """The runs that used the version (those the caller may read)."""
    store = readable_store(request, user, ws, project)
    runs = [
        r
        for r in store.artifact_users(ws, project, artifact_id)
        if _readable(store, user, r["entity"], r["project"])
    ]
    return whole_page(runs)


@router.post("/artifacts/{artifact_id}/links", status_code=201)
def link_artifact(
    ws: str, project: str, artifact_id: str, body: NewLink, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Link the version into collection ``name`` of project ``entity/project`` (default: this
    one), a collection of links made when missing; the link gets ``latest`` and ``aliases``.
    A registry's project without ``entity``: the organization whose registry of that name the
    caller may read."""
    store = readable_store(request, user, ws, project)
    target_project = body.project or project
    target_ws = body.entity or registry_organization(store, user, target_project) or ws
    can_write_project(store, user, target_ws, target_project)
    return store.link_artifact(
        ws,
        project,
        artifact_id,
        target_workspace=target_ws,
        target_project=target_project,
        target_name=body.name,
        aliases=body.aliases or [],
        username=user["username"],
    )


# -- lineage of runs -------------------------------------------------------------------------


@router.get("/runs/{run_id}/logged_artifacts")
def logged_artifacts(
    ws: str, project: str, run_id: str, request: Request, user: CurrentUser, page: PageQuery
) -> dict[str, Any]:
    """A page of the versions the run logged, oldest first."""
    store = readable_store(request, user, ws, project)
    return store.run_artifacts(ws, project, run_id, cursor=page.cursor, limit=page.limit)


@router.get("/runs/{run_id}/used_artifacts")
def used_artifacts(
    ws: str, project: str, run_id: str, request: Request, user: CurrentUser, page: PageQuery
) -> dict[str, Any]:
    """A page of the versions the run used (those the caller may read)."""
    store = readable_store(request, user, ws, project)
    answer = store.run_artifacts(
        ws, project, run_id, used=True, cursor=page.cursor, limit=page.limit
    )
    answer["items"] = [
        a for a in answer["items"] if _readable(store, user, a["entity"], a["project"])
    ]
    return answer


@router.post("/runs/{run_id}/used_artifacts")
def use_artifact(
    ws: str, project: str, run_id: str, body: Use, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Record that the run used version ``id`` of project ``entity/project`` (default: the
    run's); the answer is that version."""
    store = writable_store(request, user, ws)
    art_ws, art_project = body.entity or ws, body.project or project
    if not _readable(store, user, art_ws, art_project):
        raise Problem(
            404,
            "artifact_not_found",
            f"artifact not found: {art_ws}/{art_project}/{body.id}",
            path=f"{art_ws}/{art_project}/{body.id}",
        )
    return store.use_artifact(
        ws,
        project,
        run_id,
        artifact_workspace=art_ws,
        artifact_project=art_project,
        artifact_id=body.id,
    )
