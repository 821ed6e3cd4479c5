"""SwanLab's account routes: workspaces (``/api/group/{username}``,
``/api/user/{username}/groups``), the signed-in user's profile (``/api/user/profile``) and the
self-hosted admin's users, listed and created (``/api/self_hosted/info``,
``/api/self_hosted/users``)."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Body, Query, Request

from lablens.server import passwords
from lablens.server.auth import store_of
from lablens.server.swanlab import shapes
from lablens.server.swanlab.session import SwanlabUser
from lablens.server.swanlab.wire import SwanlabError, SwanlabRoute, as_object, bad_request
from lablens.store.errors import NotFound
from lablens.store.names import check_account_name

router = APIRouter(prefix="/api", route_class=SwanlabRoute, tags=["swanlab"])


@router.get("/group/{username}")
def get_workspace(username: str, request: Request, user: SwanlabUser) -> dict[str, Any]:
    """One workspace (a user's own or a team), with the signed-in user's role in it."""
    data = store_of(request).get_workspace(username, viewer=user["username"])
    if user["is_admin"] and not data.get("role"):
        data["role"] = "OWNER"
    return shapes.workspace(data)


@router.get("/user/profile")
def user_profile(request: Request, user: SwanlabUser) -> dict[str, Any]:
    """The signed-in user's profile."""
    return shapes.user_profile(store_of(request).get_user(user["username"]))


@router.get("/user/{username}/groups")
def list_workspaces(username: str, request: Request, user: SwanlabUser) -> list[dict[str, Any]]:
    """The workspaces a user belongs to, personal first: one's own, or anyone's for an admin."""
    if username != user["username"] and not user["is_admin"]:
        raise SwanlabError(
            403, "permission_denied", f"only admins can list the workspaces of {username}"
        )
    store = store_of(request)
    store.get_user(username)
    return [shapes.workspace(w) for w in store.list_workspaces(username)]


@router.get("/self_hosted/info")
def self_hosted_info(user: SwanlabUser) -> dict[str, Any]:
    """What SwanLab's client checks before an admin action: ``root`` is a server admin."""
    return {
        "enabled": True,
        "expired": False,
        "root": bool(user["is_admin"]),
        "plan": "free",
        "seats": 0,
    }


@router.get("/self_hosted/users")
def list_users(
    request: Request,
    user: SwanlabUser,
    page: int = Query(1, ge=1),
    size: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    """A page of every user (admins only)."""
    if not user["is_admin"]:
        raise SwanlabError(403, "permission_denied", "only admins can list users")
    users = store_of(request).list_users()
    chunk = users[(page - 1) * size : page * size]
    return {
        "list": [
            {
                "username": u["username"],
                "name": u.get("name") or "",
                "email": u.get("email") or "",
                "isAdmin": bool(u.get("is_admin")),
                "createdAt": u.get("created_at") or "",
                "teams": list(u.get("teams") or []),
            }
            for u in chunk
        ],
        "total": len(users),
        "size": size,
        "page": page,
        "pages": max(1, math.ceil(len(users) / size)),
    }


@router.post("/self_hosted/users", status_code=201)
def create_users(user: SwanlabUser, request: Request, raw: Any = Body(None)) -> dict[str, Any]:
    """Create users ``{users: [{username, password}]}`` (admins only), each with its personal
    workspace; all are checked before any is made."""
    if not user["is_admin"]:
        raise SwanlabError(403, "permission_denied", "only admins can create users")
    body = as_object(raw)
    wanted = body.get("users")
    if not isinstance(wanted, list) or not wanted:
        raise bad_request("users must be a non-empty list of {username, password}")
    store = store_of(request)
    for i, item in enumerate(wanted):
        where = f"users[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("username"), str):
            raise bad_request(f"{where}.username must be a string")
        password = item.get("password")
        if not isinstance(password, str) or len(password) < passwords.MIN_LENGTH:
            raise bad_request(
                f"{where}.password must be a string of at least {passwords.MIN_LENGTH} characters"
            )
        check_account_name(item["username"], f"{where}.username")
        try:
            store.get_user(item["username"])
        except NotFound:
            continue
        raise SwanlabError(409, "conflict", f"{where}.username: {item['username']!r} is taken")
    made = []
    for item in wanted:
        hashed = passwords.hash_password(item["password"])
        made.append(store.create_user(item["username"], password_hash=hashed)["username"])
    return {"users": made}
