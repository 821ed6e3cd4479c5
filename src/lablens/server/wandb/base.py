"""The root resolvers every W&B client needs: ``viewer`` and ``serverInfo``."""

from __future__ import annotations

from typing import Any

from ariadne import QueryType
from graphql import GraphQLResolveInfo

query = QueryType()


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
    return {"latestLocalVersionInfo": None}


BINDABLES = [query]
