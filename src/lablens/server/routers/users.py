"""The signed-in user, other users, and API keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from lablens.server.auth import current_user, store_of
from lablens.server.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["users"])


class NewKey(BaseModel):
    name: str | None = None


class NewUser(BaseModel):
    username: str
    name: str | None = None
    email: str | None = None
    is_admin: bool = False


def _viewer_out(request: Request, user: dict[str, Any]) -> dict[str, Any]:
    full = store_of(request).get_user(user["username"])
    return {**full, "default_entity": full["username"], "is_self": True}


@router.get("/viewer")
def viewer(request: Request, user: dict = Depends(current_user)) -> dict[str, Any]:
    """The signed-in user, with ``default_entity`` (their own workspace)."""
    return _viewer_out(request, user)


@router.get("/users")
def list_users(request: Request, user: dict = Depends(current_user)) -> dict[str, Any]:
    """Every user (admins only)."""
    if not user["is_admin"]:
        raise Problem(403, "permission_denied", "only admins can list users")
    items = store_of(request).list_users()
    for item in items:
        item["is_self"] = item["username"] == user["username"]
    return {"items": items, "total": len(items), "next": None}


@router.post("/users", status_code=201)
def create_user(body: NewUser, request: Request,
                user: dict = Depends(current_user)) -> dict[str, Any]:
    """Create a user with its personal workspace and a first API key (admins only)."""
    if not user["is_admin"]:
        raise Problem(403, "permission_denied", "only admins can create users")
    if not body.username or "/" in body.username:
        raise Problem(400, "bad_request", "username must be non-empty, without '/'",
                      field="username")
    store = store_of(request)
    created = store.create_user(body.username, name=body.name, email=body.email,
                                is_admin=body.is_admin)
    # The new user's first key, shown once: hand it to them so they can sign in.
    key = store.create_api_key(body.username, name="first key")
    return {**created, "is_self": False, "api_key": key["key"]}


@router.get("/users/{username}")
def get_user(username: str, request: Request,
             user: dict = Depends(current_user)) -> dict[str, Any]:
    """One user by username or email."""
    found = store_of(request).get_user(username)
    return {**found, "is_self": found["username"] == user["username"]}


@router.get("/viewer/api_keys")
def list_keys(request: Request, user: dict = Depends(current_user)) -> dict[str, Any]:
    """The signed-in user's keys (ids and names, never the keys)."""
    items = store_of(request).list_api_keys(user["username"])
    return {"items": items, "total": len(items), "next": None}


@router.post("/viewer/api_keys", status_code=201)
def create_key(request: Request, body: NewKey | None = None,
               user: dict = Depends(current_user)) -> dict[str, Any]:
    """Make a new key; the answer is the only time it is shown."""
    return store_of(request).create_api_key(user["username"], name=body.name if body else None)


@router.delete("/viewer/api_keys/{id_or_key}", status_code=204)
def delete_key(id_or_key: str, request: Request, user: dict = Depends(current_user)) -> Response:
    """Revoke a key, named by its id or the key itself; it stops working at once."""
    store_of(request).delete_api_key(user["username"], id_or_key)
    return Response(status_code=204)
