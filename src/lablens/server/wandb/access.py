"""Where a W&B client writes: its entity (a lablens workspace) checked for the user, and run ids.

W&B names a run three ways: its ``name`` (the 8-character id, our run id), its ``displayName``
(our run name) and an opaque storage ``id`` that some mutations (``upsertBucket(id:)``) carry
alone. The storage id is ``Run:v1:<run>:<project>:<entity>`` in base64, as W&B makes it, so it
names the run without a lookup table; project names never hold ``:``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from lablens.server.auth import role_in
from lablens.store.base import Store

#: The project W&B writes into when a script names none.
DEFAULT_PROJECT = "uncategorized"


class WandbError(Exception):
    """A W&B request that cannot be answered; its message is the GraphQL error's (``status``
    is the HTTP status a plain route answers with)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def entity_for(user: dict[str, Any], entity: str | None) -> str:
    """The workspace a request means: ``entity``, or the user's own when it names none."""
    return entity or user["username"]


def check_writable(store: Store, user: dict[str, Any], entity: str) -> None:
    """Refuse, naming entity and user, a user who may not write into ``entity``."""
    if role_in(store, user, entity):
        return
    # A missing workspace and a foreign one answer alike, so names do not leak.
    raise WandbError(
        f"permission denied: user {user['username']!r} may not write into entity {entity!r}"
        " (it does not exist or the user is not a member)",
        status=403,
    )


def storage_id(entity: str, project: str, run_id: str) -> str:
    """The opaque W&B storage id of a run."""
    return base64.b64encode(f"Run:v1:{run_id}:{project}:{entity}".encode()).decode()


def parse_storage_id(value: str) -> tuple[str, str, str]:
    """``(entity, project, run_id)`` of a storage id made by :func:`storage_id`."""
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    kind, _, rest = text.partition(":v1:")
    # Entity and project never hold ':', a run id may: split from the right.
    parts = rest.rsplit(":", 2)
    if kind != "Run" or len(parts) != 3 or not all(parts):
        raise WandbError(f"id {value!r} is not a run id of this server")
    run_id, project, entity = parts
    return entity, project, run_id
