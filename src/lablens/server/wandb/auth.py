"""Who a W&B client is: ``wandb`` sends HTTP Basic ``api:<key>``; the key is a lablens key."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import Depends, Request

from lablens.server.auth import store_of
from lablens.server.problems import Problem


def key_of(request: Request) -> str | None:
    """The API key a request carries: Basic ``<any user>:<key>`` (W&B) or ``Bearer <key>``."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, _, key = decoded.partition(":")
        return key.strip() or None
    return None


def wandb_user(request: Request) -> dict[str, Any]:
    """The user whose key a W&B client sent; 401 naming the problem otherwise."""
    key = key_of(request)
    if key is None:
        raise Problem(
            401,
            "unauthorized",
            "an API key is required: W&B clients send it as HTTP Basic 'api:<key>'"
            " (set WANDB_API_KEY to a lablens key)",
            field="authorization",
        )
    user = store_of(request).user_for_key(key)
    if user is None:
        raise Problem(
            401, "unauthorized", "the API key is wrong or was revoked", field="authorization"
        )
    if user.pop("key_expired", False):
        raise Problem(
            401, "expired", "the API key has expired: make a new key", field="authorization"
        )
    return user


#: The W&B client's user, as a route's parameter.
WandbUser = Annotated[dict, Depends(wandb_user)]
