"""The signed-in user, other users, passwords and API keys."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from lablens.server import passwords
from lablens.server.auth import CurrentUser, require_admin, store_of
from lablens.server.paging import whole_page
from lablens.server.problems import Problem, problem
from lablens.server.ratelimit import LoginLimiter
from lablens.server.routing import Route
from lablens.store.errors import NotFound
from lablens.store.limits import LIMITS
from lablens.store.names import check_account_name

router = APIRouter(prefix="/api/v1", tags=["users"], route_class=Route)


class NewKey(BaseModel):
    name: str | None = None
    #: days until the key stops working; leave out for a key that lasts until revoked.
    expires_in_days: float | None = Field(None, gt=0, le=36_500)


def _expiry(days: float | None) -> dt.timedelta | None:
    return dt.timedelta(days=days) if days else None


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str | None = None
    name: str | None = None
    email: str | None = None
    is_admin: bool = False
    password: str | None = None


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str
    password: str
    name: str | None = None


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str
    old_password: str | None = None


def _check_password(password: str, field: str = "password") -> None:
    if len(password) < passwords.MIN_LENGTH:
        raise Problem(
            400,
            "bad_request",
            f"a password needs at least {passwords.MIN_LENGTH} characters",
            field=field,
        )


def _username_from_email(store: Any, email: str) -> str:
    """W&B's ``create_user(email)``: the part before the @, made unique with a number."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", email.split("@")[0]).strip("-.") or "user"
    base = base[: LIMITS.max_name_length - 6]
    taken = {u["username"].lower() for u in store.list_users(base)}
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base}{n}"
    return name


def _visible(user: dict[str, Any], viewer: dict[str, Any]) -> dict[str, Any]:
    """What ``viewer`` may see of ``user``: everything for themself and admins; for others no
    email, and only the teams they share."""
    is_self = user["username"] == viewer["username"]
    out = {**user, "is_self": is_self}
    if not (is_self or viewer["is_admin"]):
        out["email"] = None
        out["teams"] = sorted(set(user.get("teams", [])) & set(viewer.get("teams", [])))
    return out


def _viewer_out(request: Request, user: dict[str, Any]) -> dict[str, Any]:
    full = store_of(request).get_user(user["username"])
    return {**full, "default_entity": full["username"], "is_self": True}


@router.get("/viewer")
def viewer(request: Request, user: CurrentUser) -> dict[str, Any]:
    """The signed-in user, with ``default_entity`` (their own workspace) and ``user_agent``,
    the ``User-Agent`` this request came with (what the client says it is)."""
    return {**_viewer_out(request, user), "user_agent": request.headers.get("user-agent")}


@router.put("/viewer/password", status_code=204)
async def set_password(body: NewPassword, request: Request, user: CurrentUser) -> Response:
    """Set the signed-in user's password; ``old_password`` must match when one is set."""
    store = store_of(request)
    _check_password(body.password)
    _, stored = store.password_hash(user["username"]) or (None, None)
    if stored and not await run_in_threadpool(
        passwords.verify_password, body.old_password or "", stored
    ):
        raise Problem(403, "permission_denied", "the old password is wrong", field="old_password")
    hashed = await run_in_threadpool(passwords.hash_password, body.password)
    store.set_password(user["username"], hashed)
    return Response(status_code=204)


def _limiter(request: Request) -> LoginLimiter:
    app_state = request.app.state
    if getattr(app_state, "login_limiter", None) is None:
        app_state.login_limiter = LoginLimiter(LIMITS.login_rate)
    return app_state.login_limiter


@router.post("/login", status_code=201, response_model=None)
async def login(body: Login, request: Request) -> dict[str, Any] | Response:
    """Trade a username (or email) and password for a new API key; needs no key.

    A wrong username and a wrong password get the same 401 after the same work. After
    ``LIMITS.login_rate`` failures in a minute for a username, or from one client address, the
    next tries are 429 with ``Retry-After`` until the oldest failure is a minute old. The key
    expires after ``LIMITS.login_key_days`` days (``expires_at`` in the answer).
    """
    store = store_of(request)
    limiter = _limiter(request)
    user_key = "user:" + body.username.casefold()
    keys = [user_key, "addr:" + (request.client.host if request.client else "?")]
    if (wait := limiter.retry_after(keys)) is not None:
        limit = LIMITS.login_rate
        message = (
            f"too many failed logins (limit {limit} a minute per username and per address);"
            f" try again in {wait} s"
        )
        answer = problem(
            429,
            "too_many_requests",
            message,
            errors=[{"field": "username", "message": message, "limit": limit}],
        )
        answer.headers["Retry-After"] = str(wait)
        return answer
    found = store.password_hash(body.username)
    username, stored = found if found else (None, None)
    ok = await run_in_threadpool(passwords.verify_password, body.password, stored)
    if not ok or username is None:
        limiter.failed(keys)
        raise Problem(401, "unauthorized", "wrong username or password")
    limiter.succeeded(user_key)
    key = store.create_api_key(
        username, name=body.name or "login", expires_in=_expiry(LIMITS.login_key_days)
    )
    return {
        "username": username,
        "id": key["id"],
        "api_key": key["key"],
        "created_at": key["created_at"],
        "expires_at": key["expires_at"],
    }


@router.get("/users")
def list_users(request: Request, user: CurrentUser, search: str | None = None) -> dict[str, Any]:
    """Every user, or those whose username or email contains ``search`` (admins only)."""
    require_admin(user, "list users")
    items = store_of(request).list_users(search)
    for item in items:
        item["is_self"] = item["username"] == user["username"]
    return whole_page(items)


@router.post("/users", status_code=201)
async def create_user(body: NewUser, request: Request, user: CurrentUser) -> dict[str, Any]:
    """Create a user with its personal workspace and a first API key (admins only).

    ``username`` may be left out when ``email`` is given (W&B's ``create_user(email)``): it is
    then the part of the email before the ``@``. ``password`` lets the user sign in with
    ``lablens login --username``.
    """
    require_admin(user, "create users")
    store = store_of(request)
    username = body.username
    if username is None and body.email:
        username = _username_from_email(store, body.email)
    if not username:
        raise Problem(400, "bad_request", "give a username or an email", field="username")
    check_account_name(username, "username")  # before the password is hashed
    if body.password is not None:
        _check_password(body.password)
    hashed = (
        await run_in_threadpool(passwords.hash_password, body.password)
        if body.password is not None
        else None
    )
    created = store.create_user(
        username, name=body.name, email=body.email, is_admin=body.is_admin, password_hash=hashed
    )
    # The new user's first key, shown once: hand it to them so they can sign in.
    key = store.create_api_key(username, name="first key")
    return {**created, "is_self": False, "api_key": key["key"]}


@router.get("/users/{username}")
def get_user(username: str, request: Request, user: CurrentUser) -> dict[str, Any]:
    """One user by username or email; others' email and private teams are not shown."""
    store = store_of(request)
    found = store.get_user(username)
    if (
        not user["is_admin"]
        and found["username"] != user["username"]
        and found["email"]
        and username == found["email"]
    ):
        # Looking a user up by email would tell non-admins who owns an address.
        raise NotFound("user", username)
    return _visible(found, store.get_user(user["username"]))


def _self_or_admin(user: dict[str, Any], username: str, request: Request) -> str:
    target = store_of(request).get_user(username)["username"]
    if target != user["username"] and not user["is_admin"]:
        raise Problem(403, "permission_denied", "only admins manage other users' API keys")
    return target


@router.get("/viewer/api_keys")
def list_keys(request: Request, user: CurrentUser) -> dict[str, Any]:
    """The signed-in user's keys (ids and names, never the keys)."""
    items = store_of(request).list_api_keys(user["username"])
    return whole_page(items)


@router.post("/viewer/api_keys", status_code=201)
def create_key(request: Request, user: CurrentUser, body: NewKey | None = None) -> dict[str, Any]:
    """Make a new key; the answer is the only time it is shown.

    ``expires_in_days`` ends it after that many days; without it, it lasts until revoked.
    """
    return store_of(request).create_api_key(
        user["username"],
        name=body.name if body else None,
        expires_in=_expiry(body.expires_in_days if body else None),
    )


@router.delete("/viewer/api_keys/{id_or_key}", status_code=204)
def delete_key(id_or_key: str, request: Request, user: CurrentUser) -> Response:
    """Revoke a key, named by its id or the key itself; it stops working at once."""
    store_of(request).delete_api_key(user["username"], id_or_key)
    return Response(status_code=204)


@router.get("/users/{username}/api_keys")
def list_user_keys(username: str, request: Request, user: CurrentUser) -> dict[str, Any]:
    """A user's keys (ids and names); admins, or the user themself."""
    target = _self_or_admin(user, username, request)
    items = store_of(request).list_api_keys(target)
    return whole_page(items)


@router.post("/users/{username}/api_keys", status_code=201)
def create_user_key(
    username: str, request: Request, user: CurrentUser, body: NewKey | None = None
) -> dict[str, Any]:
    """Make a key for a user (admins, or the user themself); shown only in this answer."""
    target = _self_or_admin(user, username, request)
    return store_of(request).create_api_key(
        target,
        name=body.name if body else None,
        expires_in=_expiry(body.expires_in_days if body else None),
    )


@router.delete("/users/{username}/api_keys/{id_or_key}", status_code=204)
def delete_user_key(username: str, id_or_key: str, request: Request, user: CurrentUser) -> Response:
    """Revoke a user's key (admins, or the user themself); it stops working at once."""
    target = _self_or_admin(user, username, request)
    store_of(request).delete_api_key(target, id_or_key)
    return Response(status_code=204)
