"""API-key authentication and the access rules every route applies."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from lablens.server.problems import Problem
from lablens.store.base import Store


def store_of(request: Request) -> Store:
    """The store the app was built with."""
    return request.app.state.store


def current_user(request: Request) -> dict[str, Any]:
    """The user whose key the request carries; 401 without a key or with a wrong one.

    Every route but ``/health`` depends on this. Keys are looked up by hash on each request,
    so a revoked key stops working at once.
    """
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Problem(401, "unauthorized", "an API key is required: send 'Authorization: Bearer"
                      " <key>' (lablens login stores one)")
    user = store_of(request).user_for_key(key.strip())
    if user is None:
        raise Problem(401, "unauthorized", "the API key is wrong or was revoked")
    return user


def can_read_project(store: Store, user: dict[str, Any], workspace: str, project: str) -> None:
    """Members (and admins) read everything of a workspace; others only PUBLIC projects.

    A private project answers 404 to outsiders, so its existence does not leak.
    """
    if user["is_admin"] or store.role(workspace, user["username"]):
        return
    info = store.get_project(workspace, project)
    if info["visibility"] != "PUBLIC":
        raise Problem(404, "project_not_found", f"project not found: {workspace}/{project}",
                      path=f"{workspace}/{project}")


def can_write(store: Store, user: dict[str, Any], workspace: str) -> None:
    """Only members of a workspace (and admins) write into it."""
    if user["is_admin"] or store.role(workspace, user["username"]):
        return
    store.get_workspace(workspace)
    raise Problem(403, "permission_denied",
                  f"{user['username']} is not a member of workspace {workspace}")
