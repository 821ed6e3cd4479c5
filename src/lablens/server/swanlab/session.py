"""SwanLab's sign-in: ``POST /api/login/api_key`` with the key in ``authorization``, and the
``sid`` cookie every later request carries.

The session is the API key itself: the server keeps no session table, and each request looks the
key up again, so a revoked key stops working at once. ``expiredAt`` is only what the client
needs to see to not sign in again before each request; the key's own expiry still applies.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from lablens.server.auth import store_of
from lablens.server.swanlab.wire import SwanlabError, SwanlabRoute

router = APIRouter(prefix="/api", route_class=SwanlabRoute, tags=["swanlab"])

#: How far ahead the answered ``expiredAt`` lies; the client signs in again a week before it.
SESSION_DAYS = 30


def _user_for(request: Request, key: str | None) -> dict[str, Any]:
    if not key:
        raise SwanlabError(
            401,
            "unauthorized",
            "no session: sign in with POST /api/login/api_key (the lablens API key in"
            " 'authorization'), then send the 'sid' cookie it answers",
        )
    user = store_of(request).user_for_key(key)
    if user is None:
        raise SwanlabError(401, "unauthorized", "the API key is wrong or was revoked")
    if user.pop("key_expired", False):
        raise SwanlabError(401, "expired", "the API key has expired: make a new key")
    return user


def _key_of(request: Request) -> str | None:
    """The key a request carries: the ``sid`` cookie, else ``authorization`` (bare or Bearer)."""
    sid = request.cookies.get("sid", "").strip()
    if sid:
        return sid
    header = request.headers.get("authorization", "").strip()
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    return header or None


def swanlab_user(request: Request) -> dict[str, Any]:
    """The signed-in user of a SwanLab request; 401 naming the problem otherwise."""
    return _user_for(request, _key_of(request))


#: The SwanLab client's user, as a route's parameter.
SwanlabUser = Annotated[dict, Depends(swanlab_user)]


@router.post("/login/api_key")
def login_api_key(request: Request) -> dict[str, Any]:
    """Sign in with a lablens API key sent as ``authorization: <key>``."""
    header = request.headers.get("authorization", "").strip()
    scheme, _, rest = header.partition(" ")
    key = rest.strip() if scheme.lower() == "bearer" else header
    user = _user_for(request, key or None)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=SESSION_DAYS)
    return {
        "sid": key,
        "expiredAt": expires.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expires.microsecond // 1000:03d}Z",
        "userInfo": {"username": user["username"], "name": user.get("name") or ""},
    }
