"""The root resolvers every W&B client needs: ``viewer``, ``serverInfo`` and ``entity``."""

from __future__ import annotations

from typing import Any

from ariadne import ObjectType, QueryType
from graphql import GraphQLResolveInfo

from lablens.store.errors import NotFound

query = QueryType()
user_type = ObjectType("User")


def context_user(info: GraphQLResolveInfo) -> dict[str, Any]:
    """The signed-in user of the request being answered."""
    return info.context["user"]


@query.field("viewer")
def resolve_viewer(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    user = context_user(info)
    return {
        "id": user["username"],
        "name": user.get("name") or user["username"],
        "username": user["username"],
        "email": user.get("email"),
        "entity": user["username"],
        "admin": bool(user.get("is_admin")),
        "flags": "{}",
    }


@query.field("serverInfo")
def resolve_server_info(*_: Any) -> dict[str, Any]:
    return {"latestLocalVersionInfo": None, "features": []}


@query.field("entity")
def resolve_entity(_: Any, info: GraphQLResolveInfo, name: str) -> dict[str, Any] | None:
    try:
        workspace = info.context["store"].get_workspace(name)
    except NotFound:
        return None
    return {
        "id": workspace["username"],
        "name": workspace["username"],
        "isTeam": workspace["workspace_type"] == "TEAM",
        "organization": None,
    }


@user_type.field("teams")
def resolve_teams(viewer: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    workspaces = info.context["store"].list_workspaces(viewer["username"])
    return {
        "edges": [
            {"node": {"id": w["username"], "name": w["username"]}}
            for w in workspaces
            if w["workspace_type"] == "TEAM"
        ]
    }


BINDABLES = [query, user_type]
