"""Accounts as every engine keeps them: API keys (made, hashed), roles, a user's JSON.

Every engine hashes a key the same way, so a data dir moved to another engine keeps its keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from lablens.store import _json
from lablens.store.errors import Conflict, InvalidInput

KEY_PREFIX = "ll_"
# 24 random bytes as 48 hex characters: W&B's client takes a key's part after its first '-' as
# the secret and wants 40+ word characters of it, so a key has no '-' and is long enough.
KEY_BYTES = 24


def hash_key(key: str) -> str:
    """sha256 of an API key: keys are long random strings, so a fast hash is safe."""
    return hashlib.sha256(key.encode()).hexdigest()


def iso_utc(t: dt.datetime) -> str:
    """A time as the ISO 8601 UTC text, with milliseconds, that every row's times travel as."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def user_out(row: dict[str, Any]) -> dict[str, Any]:
    """A user's row (the schema's columns) as its JSON, without its teams."""
    return {
        "username": row["username"],
        "name": row["name"],
        "email": row["email"],
        "is_admin": bool(row["is_admin"]),
        "created_at": row["created_at"],
    }


def workspace_out(row: dict[str, Any], role: str | None) -> dict[str, Any]:
    """A workspace's row (``username``, ``name``, ``workspace_type``, ``created_at`` and its
    ``profile`` as JSON text) as its JSON, with the viewer's ``role`` in it."""
    out = {k: row[k] for k in ("username", "name", "workspace_type", "created_at")}
    out["profile"] = _json.loads(row["profile"]) or {}
    out["role"] = role
    return out


def check_name_free(name: str, taken: str | None) -> None:
    """Refuse to make a user or team ``name`` when ``taken``, the workspace name equal to it
    whatever the case, exists: users and teams share one namespace (``store/names.py``)."""
    if taken is None:
        return
    if taken == name:
        raise Conflict(f"the name {name!r} is already taken")
    raise Conflict(
        f"the name {name!r} is already taken as {taken!r}: names that differ only in case are"
        " one name"
    )


def api_key_out(
    key_id: str, key: str, name: str | None, created_at: dt.datetime, expires_at: dt.datetime | None
) -> dict[str, Any]:
    """A new key as ``Store.create_api_key`` answers it: the only time the key itself is shown."""
    return {
        "id": key_id,
        "key": key,
        "name": name,
        "created_at": iso_utc(created_at),
        "expires_at": iso_utc(expires_at) if expires_at else None,
    }


def new_api_key() -> str:
    """A new API key: ``ll_`` and 48 random hex characters."""
    return KEY_PREFIX + secrets.token_hex(KEY_BYTES)


def new_key_id() -> str:
    """A key's public id: random, so an id shown in lists and logs tells nothing of the key.
    (Keys made before schema 4 keep their ids, which held the key's first 8 characters.)"""
    return secrets.token_hex(6)


#: A member's role in a team workspace.
ROLES = ("OWNER", "MEMBER")


def check_role(role: Any) -> None:
    """Refuse a role other than ``OWNER`` and ``MEMBER``."""
    if role not in ROLES:
        raise InvalidInput("role must be OWNER or MEMBER", field="role")
