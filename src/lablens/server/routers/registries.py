"""Registries: made, listed, read, changed, deleted, their members, and their collections and
versions across registries (``store/common/registries.py`` says what a registry is).

Who may do what (``auth.registry_reader``; the rule itself is ``store/registry_values``):
OWNERs of the organization (workspace) make registries; reading one needs a role in it
(everyone of the organization for an ``organization`` registry, the members listed for a
``restricted`` one; others get 404); its ``admin``s change and delete it and its members. The
versions inside are read and linked through the artifact routes of its project
(``/api/v1/projects/{org}/wandb-registry-{name}/...``), under the same rule.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from lablens.contract.registries import (
    MemberKind,
    RegistryRole,
    RegistryVisibility,
    is_registry_project,
    registry_name,
    registry_project,
)
from lablens.server.auth import (
    CurrentUser,
    can_own,
    registry_admin,
    registry_reader,
    store_of,
)
from lablens.server.problems import Problem
from lablens.server.routing import Route
from lablens.store.base import Store

router = APIRouter(prefix="/api/v1/registries", tags=["registries"], route_class=Route)


class NewRegistry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organization: str
    name: str
    visibility: RegistryVisibility
    description: str | None = None
    artifact_types: list[str] | None = None


class RegistryChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: Any = None
    visibility: RegistryVisibility | None = None
    artifact_types: list[str] | None = None
    allow_all_artifact_types: bool | None = None


class NewMember(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    kind: MemberKind = "user"
    role: RegistryRole = "member"


class Query(BaseModel):
    """A query of registries, or of their collections or versions: ``organization`` (default:
    every organization of the caller), ``registry`` (one registry of it), and MongoDB-style
    filters of each level."""

    model_config = ConfigDict(extra="forbid")
    organization: str | None = None
    registry: str | None = None
    registry_filter: Any = None
    collection_filter: Any = None
    filter: Any = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=1000)


def _viewer(user: dict[str, Any]) -> str | None:
    """Whose access a list checks: ``None`` for a server admin, who reads every registry."""
    return None if user["is_admin"] else user["username"]


def registry_organization(store: Store, user: dict[str, Any], project: str) -> str | None:
    """The organization of the registry ``project`` names, when the caller left it out (W&B's
    ``wandb-registry-model/digits``): the one organization with a registry of that name the
    caller may read. ``None`` for a project that is no registry's."""
    if not is_registry_project(project):
        return None
    name = registry_name(project)
    found = store.list_registries(viewer=_viewer(user), filter={"name": name}, limit=2)["items"]
    if not found:
        raise Problem(404, "registry_not_found", f"registry not found: {project}", path=project)
    if len(found) > 1:
        orgs = ", ".join(r["organization"] for r in found)
        raise Problem(
            400,
            "bad_request",
            f"registry {name} is in several organizations ({orgs}): name one, as"
            f" 'ORG/{project}/COLLECTION'",
            field="entity",
        )
    return found[0]["organization"]


# -- lists -------------------------------------------------------------------------------------


@router.post("/query")
def query_registries(body: Query, request: Request, user: CurrentUser) -> dict[str, Any]:
    """A page of the registries the caller may read, matching ``filter`` (``name``,
    ``description``, ``visibility``, ``created_at``, ``updated_at``), by organization and
    name."""
    store = store_of(request)
    return store.list_registries(
        organization=body.organization,
        viewer=_viewer(user),
        filter=body.filter,
        cursor=body.cursor,
        limit=body.limit,
    )


@router.post("/query/collections")
def query_registry_collections(body: Query, request: Request, user: CurrentUser) -> dict[str, Any]:
    """A page of the collections of the registries the caller may read (``registry``: of one;
    ``registry_filter``: of those matching), matching ``filter`` (``name``, ``tag``, ``type``,
    ``description``, ``created_at``, ``updated_at``)."""
    store = store_of(request)
    _check_one(store, user, body)
    return store.list_registry_collections(
        organization=body.organization,
        registry=body.registry,
        viewer=_viewer(user),
        registry_filter=body.registry_filter,
        filter=body.filter,
        cursor=body.cursor,
        limit=body.limit,
    )


@router.post("/query/versions")
def query_registry_versions(body: Query, request: Request, user: CurrentUser) -> dict[str, Any]:
    """A page of the versions in those registries' collections (``collection_filter``: of the
    collections matching) matching ``filter`` (``tag``, ``alias``, ``version``, ``created_at``,
    ``updated_at``, ``metadata.<key>``)."""
    store = store_of(request)
    _check_one(store, user, body)
    return store.list_registry_versions(
        organization=body.organization,
        registry=body.registry,
        viewer=_viewer(user),
        registry_filter=body.registry_filter,
        collection_filter=body.collection_filter,
        filter=body.filter,
        cursor=body.cursor,
        limit=body.limit,
    )


def _check_one(store: Store, user: dict[str, Any], body: Query) -> None:
    """One registry asked for: 404 unless the caller may read it (not an empty list)."""
    if body.registry is not None:
        if body.organization is None:
            raise Problem(
                400, "bad_request", "registry needs its organization", field="organization"
            )
        registry_reader(store, user, body.organization, registry_project(body.registry))


# -- one registry ------------------------------------------------------------------------------


@router.post("", status_code=201)
def create_registry(body: NewRegistry, request: Request, user: CurrentUser) -> dict[str, Any]:
    """Make a registry in the workspace ``organization`` (its OWNERs and server admins)."""
    store = store_of(request)
    can_own(store, user, body.organization, "create registries")
    registry = store.create_registry(
        body.organization,
        body.name,
        visibility=body.visibility,
        description=body.description,
        artifact_types=body.artifact_types,
        username=user["username"],
    )
    return {**registry, "role": "admin"}


@router.get("/{org}/{name}")
def get_registry(org: str, name: str, request: Request, user: CurrentUser) -> dict[str, Any]:
    """One registry, with the caller's ``role`` in it."""
    store = store_of(request)
    role = registry_reader(store, user, org, registry_project(name))
    return {**store.get_registry(org, name), "role": role}


@router.patch("/{org}/{name}")
def update_registry(
    org: str, name: str, body: RegistryChanges, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Change ``description``, ``visibility``, ``artifact_types`` (only added to) or
    ``allow_all_artifact_types`` (the registry's admins)."""
    store = store_of(request)
    registry_admin(store, user, org, registry_project(name))
    changed = store.update_registry(org, name, body.model_dump(exclude_unset=True))
    return {**changed, "role": registry_reader(store, user, org, registry_project(name))}


@router.delete("/{org}/{name}", status_code=204)
def delete_registry(org: str, name: str, request: Request, user: CurrentUser) -> Response:
    """Delete the registry with its collections of links (the registry's admins)."""
    store = store_of(request)
    registry_admin(store, user, org, registry_project(name))
    store.delete_registry(org, name)
    return Response(status_code=204)


# -- members -----------------------------------------------------------------------------------


@router.get("/{org}/{name}/members")
def list_registry_members(
    org: str, name: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """The users and teams the registry lists, with their roles."""
    store = store_of(request)
    registry_reader(store, user, org, registry_project(name))
    items = store.list_registry_members(org, name)
    return {"items": items, "total": len(items), "next": None}


@router.post("/{org}/{name}/members", status_code=201)
def add_registry_member(
    org: str, name: str, body: NewMember, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """List a user or a team (``kind``) with ``role``; listed already, the new role."""
    store = store_of(request)
    registry_admin(store, user, org, registry_project(name))
    return store.add_registry_member(org, name, body.name, kind=body.kind, role=body.role)


@router.delete("/{org}/{name}/members/{kind}/{member}", status_code=204)
def remove_registry_member(
    org: str, name: str, kind: MemberKind, member: str, request: Request, user: CurrentUser
) -> Response:
    """Take a user or a team off the registry's list."""
    store = store_of(request)
    registry_admin(store, user, org, registry_project(name))
    store.remove_registry_member(org, name, member, kind=kind)
    return Response(status_code=204)
