"""Signing in to the pages: a browser sends no API key header, so a small form trades an API key
or a username and password for a session cookie.

Signing in makes an API key of its own for the session (named ``browser session``, ending with
the session), and the cookie names it: ``username:key_id:expires:signature``, HMAC-SHA256
signed with the server's secret (``LABLENS_UPLOAD_SECRET``, see ``server/wandb/signing.py``). The
cookie never holds a key; each request checks the signature, the expiry and that the session's
key still exists, so signing out (or revoking the key, ``lablens key``) ends it at once. The
cookie is HttpOnly and SameSite=Strict (Secure over https). Passwords are rate limited as
``POST /api/v1/login`` is, by the same counters.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import time
from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from lablens.server import passwords
from lablens.server.auth import store_of
from lablens.server.ratelimit import LoginLimiter
from lablens.server.wandb import signing
from lablens.store.errors import NotFound
from lablens.store.limits import LIMITS

__all__ = ["COOKIE", "SESSION_DAYS", "SignInFailed", "page_user", "sign_in", "sign_out"]

COOKIE = "lablens_session"
#: How long a page session lasts.
SESSION_DAYS = 7
_PURPOSE = "lablens-page-session"


class SignInFailed(Exception):
    """A sign-in the form must show again, with this message (and its status)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


def _cookie_value(username: str, key_id: str, expires: int) -> str:
    sig = signing.signature((_PURPOSE, username, key_id), expires)
    return f"{username}:{key_id}:{expires}:{sig}"


def page_user(request: Request) -> dict[str, Any] | None:
    """The user of a page request's session cookie; ``None`` without a valid session."""
    value = request.cookies.get(COOKIE, "")
    parts = value.split(":")
    if len(parts) != 4:
        return None
    username, key_id, expires, sig = parts
    try:
        until = int(expires)
    except ValueError:
        return None
    good = signing.signature((_PURPOSE, username, key_id), until)
    if not hmac.compare_digest(good, sig) or until < time.time():
        return None
    store = store_of(request)
    try:
        keys = store.list_api_keys(username)
        user = store.get_user(username)
    except NotFound:
        return None
    now = dt.datetime.now(dt.UTC).isoformat()
    alive = any(
        k["id"] == key_id and (not k.get("expires_at") or str(k["expires_at"]) > now) for k in keys
    )
    if not alive:
        return None
    user["session_key"] = key_id
    return user


def _limiter(request: Request) -> LoginLimiter:
    # The counters of POST /api/v1/login: a guesser gains nothing by switching to the form.
    state = request.app.state
    if getattr(state, "login_limiter", None) is None:
        state.login_limiter = LoginLimiter(LIMITS.login_rate)
    return state.login_limiter


async def _username_for(request: Request, form: dict[str, str]) -> str:
    """Who the form names: the owner of its API key, or a username whose password matches."""
    store = store_of(request)
    key = form.get("api_key", "").strip()
    if key:
        user = store.user_for_key(key)
        if user is None:
            raise SignInFailed("the API key is wrong or was revoked")
        if user.get("key_expired"):
            raise SignInFailed("the API key has expired: make a new key")
        return user["username"]
    username, password = form.get("username", "").strip(), form.get("password", "")
    if not username or not password:
        raise SignInFailed("give an API key, or a username and a password", status=400)
    limiter = _limiter(request)
    user_key = "user:" + username.casefold()
    counted = [user_key, "addr:" + (request.client.host if request.client else "?")]
    if (wait := limiter.retry_after(counted)) is not None:
        raise SignInFailed(f"too many failed sign-ins; try again in {wait} s", status=429)
    found = store.password_hash(username)
    name, stored = found if found else (None, None)
    ok = await run_in_threadpool(passwords.verify_password, password, stored)
    if not ok or name is None:
        limiter.failed(counted)
        raise SignInFailed("wrong username or password")
    limiter.succeeded(user_key)
    return name


async def sign_in(request: Request, form: dict[str, str], response: Response) -> str:
    """Check the form, make the session's key and set its cookie on ``response``.

    Returns:
        The username signed in.

    Raises:
        SignInFailed: the key, or the username and password, are wrong (the message says which
            fields to give), or too many tries failed.
    """
    username = await _username_for(request, form)
    key = store_of(request).create_api_key(
        username, name="browser session", expires_in=dt.timedelta(days=SESSION_DAYS)
    )
    expires = int(time.time()) + SESSION_DAYS * 86400
    response.set_cookie(
        COOKIE,
        _cookie_value(username, key["id"], expires),
        max_age=SESSION_DAYS * 86400,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return username


def sign_out(request: Request, response: Response) -> None:
    """End the request's session: its key revoked, its cookie cleared."""
    user = page_user(request)
    if user is not None:
        with contextlib.suppress(NotFound):
            store_of(request).delete_api_key(user["username"], user["session_key"])
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
