"""The projects ``wandb.Api`` reads: ``project``, ``models``/``projects`` of an entity,
and the fields of ``User`` its fragments ask for (``deletedAt``, ``apiKeys``, ``teams``).

A W&B entity is a lablens workspace. A project the viewer may not read (a PRIVATE project of a
workspace they are not in) is ``null``, as a project that does not exist: its existence does not
leak, and the client says "Could not find project".
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from ariadne import ObjectType, QueryType
from graphql import GraphQLResolveInfo

from lablens.contract.registries import is_registry_project
from lablens.server.auth import registry_reader, role_in
from lablens.server.problems import Problem
from lablens.server.wandb.connections import connection
from lablens.store.base import Store
from lablens.store.errors import NotFound

query = QueryType()
project_type = ObjectType("Project")
user_type = ObjectType("User")

#: The most items one page of a W&B connection holds (the store's own page limit).
MAX_PAGE = 1000


def wandb_id(kind: str, *parts: str) -> str:
    """An opaque W&B-style node id: base64 of ``Kind:v1:part:...``."""
    return base64.b64encode(":".join([kind, "v1", *parts]).encode()).decode()


def wandb_time(iso: str | None) -> str | None:
    """Our ISO time (``2026-01-02T03:04:05.678Z``) as W&B writes times: UTC, whole seconds,
    no zone (``2026-01-02T03:04:05``)."""
    if not iso:
        return None
    when = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.replace(microsecond=0).isoformat()


def page_size(first: int | None, default: int = 50) -> int:
    """A connection's ``first`` as a page size the store takes (1 to ``MAX_PAGE``)."""
    if first is None:
        return default
    return max(1, min(int(first), MAX_PAGE))


def store_and_user(info: GraphQLResolveInfo) -> tuple[Store, dict[str, Any]]:
    """The store and the signed-in user of the request being answered."""
    return info.context["store"], info.context["user"]


def readable_project(
    info: GraphQLResolveInfo, entity: str | None, name: str | None
) -> dict[str, Any] | None:
    """The store's project, or ``None`` when it is missing or the viewer may not read it."""
    store, user = store_and_user(info)
    entity = entity or user["username"]
    if not name:
        return None
    try:
        project = store.get_project(entity, name)
        role = role_in(store, user, entity)
    except NotFound:
        return None
    if is_registry_project(name):
        # A registry's project: its own rule (restricted ones only to those listed).
        try:
            registry_reader(store, user, entity, name)
        except (Problem, NotFound):
            return None
    elif role is None and project.get("visibility") != "PUBLIC":
        return None
    return project_node(project, writable=role is not None)


def project_node(project: dict[str, Any], *, writable: bool) -> dict[str, Any]:
    """A store project as the ``Project`` type answers it."""
    return {
        "id": wandb_id("Project", project["name"], project["entity"]),
        "internalId": str(project["id"]),
        "name": project["name"],
        "entityName": project["entity"],
        "description": project.get("description"),
        "createdAt": wandb_time(project.get("created_at")),
        "updatedAt": wandb_time(project.get("updated_at")),
        "isBenchmark": False,
        "readOnly": not writable,
        "access": project.get("visibility"),
        "_project": project,
    }


def user_node(store: Store, username: str | None) -> dict[str, Any] | None:
    """A lablens user as W&B's ``User``; ``None`` when there is no such user (a team)."""
    if not username:
        return None
    try:
        user = store.get_user(username)
    except NotFound:
        return None
    return {
        "id": wandb_id("User", user["username"]),
        "name": user.get("name") or user["username"],
        "username": user["username"],
        "email": user.get("email"),
        "entity": user["username"],
        "admin": bool(user.get("is_admin")),
        "flags": "{}",
    }


@query.field("project")
def resolve_project(
    _: Any, info: GraphQLResolveInfo, name: str | None = None, entityName: str | None = None
) -> dict[str, Any] | None:
    return readable_project(info, entityName, name)


@query.field("models")
@query.field("projects")
def resolve_projects(
    _: Any,
    info: GraphQLResolveInfo,
    entityName: str | None = None,
    after: str | None = None,
    first: int | None = None,
    order: str | None = None,
) -> dict[str, Any] | None:
    store, user = store_and_user(info)
    entity = entityName or user["username"]
    viewer = None if user["is_admin"] else user["username"]
    try:
        page = store.list_projects(
            entity, cursor=after or None, limit=page_size(first), viewer=viewer
        )
    except NotFound:
        return None
    writable = role_in(store, user, entity) is not None
    nodes = [project_node(p, writable=writable) for p in page["items"]]
    return connection(nodes, page, after, total=False)


@project_type.field("user")
def resolve_project_user(project: dict[str, Any], info: GraphQLResolveInfo) -> Any:
    store, _ = store_and_user(info)
    return user_node(store, project["entityName"])


@user_type.field("deletedAt")
def resolve_deleted_at(*_: Any) -> None:
    return None


def _is_viewer(user: dict[str, Any], info: GraphQLResolveInfo) -> bool:
    return user.get("username") == info.context["user"]["username"]


@user_type.field("apiKeys")
def resolve_api_keys(user: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    """The viewer's own keys (names, never the keys); nobody else's."""
    if not _is_viewer(user, info):
        return {"edges": []}
    store, _ = store_and_user(info)
    keys = store.list_api_keys(user["username"])
    return {
        "edges": [
            {"node": {"id": k["id"], "name": k.get("name") or "", "description": None}}
            for k in keys
        ]
    }


@user_type.field("teams")
def resolve_teams(user: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    """The TEAM workspaces the viewer belongs to; another user's are not shown."""
    if not _is_viewer(user, info):
        return {"edges": []}
    store, _ = store_and_user(info)
    teams = [
        w for w in store.list_workspaces(user["username"]) if w.get("workspace_type") == "TEAM"
    ]
    return {
        "edges": [
            {"node": {"id": wandb_id("Entity", w["username"]), "name": w["username"]}}
            for w in teams
        ]
    }


BINDABLES = [query, project_type, user_type]
