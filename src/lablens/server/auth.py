"""API-key authentication and the access rules every route applies.

The rules, in one place (``docs/access.md`` tells them to users):

- a server admin may do everything, as if OWNER of every workspace;
- a PRIVATE project is visible only to its workspace's members: to anyone else it answers 404,
  as a project that does not exist, and it never shows in their lists;
- a PUBLIC project is readable by every signed-in user, writable only by members;
- MEMBERs write runs, sweeps and reports; OWNERs also manage members and delete projects;
- a registry's project (``wandb-registry-*``) follows the registry's rule instead
  (``store/registry_values.registry_role``): who may not read the registry gets 404, a
  ``viewer`` of it 403 on a write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from lablens.contract.registries import is_registry_project, registry_name
from lablens.server.problems import Problem
from lablens.store.base import Store

#: What a cache lookup answers when it holds nothing for the key (``None`` is a role).
_MISS = object()


def store_of(request: Request) -> Store:
    """The store the app was built with."""
    return request.app.state.store


class AccessCache:
    """What every request asks before its own work, kept in memory: the user of a key, a
    user's role in a workspace, a project's visibility.

    Each entry is good for one *access epoch* of the store (``Store.access_epoch``), a number
    that every change of who may do what moves in the transaction of the change: a key
    revoked, a member added or removed, a project's visibility changed or the project deleted.
    A request reads the epoch first (on PostgreSQL one indexed one-row read, shared by every
    server of the database; on the embedded store a number in memory, as this process is its
    only writer); a new epoch empties the cache. So a revoked key is refused by the next
    request on every server, and what the cache answers is what the database would have
    answered when the request started. Only what exists is kept (an unknown key, workspace or
    project is asked again), and at most ``LIMIT`` entries a table.
    """

    LIMIT = 50_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._epoch: int | None = None
        self._tables: dict[str, dict[Any, Any]] = {"keys": {}, "roles": {}, "projects": {}}

    def validate(self, epoch: int) -> None:
        """Empty the cache if it was filled under another epoch than ``epoch``."""
        if epoch != self._epoch:
            with self._lock:
                if epoch != self._epoch:
                    for table in self._tables.values():
                        table.clear()
                    self._epoch = epoch

    def get(self, table: str, key: Any, epoch: int) -> Any:
        """The entry, or ``_MISS`` (also when the cache moved to another epoch meanwhile)."""
        if epoch != self._epoch:
            return _MISS
        return self._tables[table].get(key, _MISS)

    def put(self, table: str, key: Any, value: Any, epoch: int) -> None:
        """Keep ``value`` if the cache is still at ``epoch`` (the epoch read before the value
        was): a value read across a change is never kept under the new epoch."""
        with self._lock:
            if epoch != self._epoch:
                return
            entries = self._tables[table]
            if len(entries) >= self.LIMIT:
                entries.clear()
            entries[key] = value


_CACHE_LOCK = threading.Lock()


def access_cache(request: Request) -> AccessCache:
    """The app's ``AccessCache`` (made on first use)."""
    state = request.app.state
    cache = getattr(state, "access_cache", None)
    if cache is None:
        with _CACHE_LOCK:
            cache = getattr(state, "access_cache", None)
            if cache is None:
                cache = state.access_cache = AccessCache()
    return cache


class SignedIn(dict):
    """The signed-in user's JSON (a dict, as routes use it), plus the cache and the epoch its
    request validated, so the access rules below ask the store at most once per request."""

    cache: AccessCache | None = None
    epoch: int = 0


async def current_user(request: Request) -> dict[str, Any]:
    """The user whose key the request carries; 401 without a key or with a wrong one.

    Every route but ``/health`` and ``/api/v1/login`` depends on this. The key's user comes
    from the ``AccessCache`` while the store's access epoch stays the same; revoking a key
    moves the epoch, so a revoked key is refused by the next request, on every server.
    """
    key = _bearer_key(request)
    store = store_of(request)
    if store.access_epoch_in_memory:
        # A known key on the embedded store: memory only, so answered here on the event loop;
        # a worker thread would cost more than the lookup (request_p50).
        user = _signed_in(store, access_cache(request), key, cached_only=True)
        if user is not None:
            return user
    return await run_in_threadpool(_signed_in, store, access_cache(request), key)


def _bearer_key(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Problem(
            401,
            "unauthorized",
            "an API key is required: send 'Authorization: Bearer <key>' (lablens login stores one)",
        )
    return key.strip()


def _signed_in(
    store: Store, cache: AccessCache, key: str, *, cached_only: bool = False
) -> SignedIn | None:
    """The key's user from the cache, else from the store (``None`` instead when
    ``cached_only``); 401 for an unknown, revoked or expired key."""
    epoch = store.access_epoch()
    cache.validate(epoch)
    digest = hashlib.sha256(key.encode()).digest()
    found = cache.get("keys", digest, epoch)
    if found is _MISS:
        if cached_only:
            return None
        found = store.key_owner(key)
        if found is None:
            raise Problem(401, "unauthorized", "the API key is wrong or was revoked")
        cache.put("keys", digest, found, epoch)
    expires = found["key_expires_at"]
    if expires is not None and expires <= dt.datetime.now(dt.UTC):
        raise Problem(
            401,
            "expired",
            "the API key has expired: sign in again (lablens login) or make a new key",
        )
    user = SignedIn((k, v) for k, v in found.items() if k != "key_expires_at")
    user.cache, user.epoch = cache, epoch
    return user


#: The signed-in user, as a route's parameter: ``user: CurrentUser``.
CurrentUser = Annotated[dict, Depends(current_user)]


def role_in(store: Store, user: dict[str, Any], workspace: str) -> str | None:
    """The user's role in a workspace: ``OWNER`` (admins too), ``MEMBER`` or ``None``."""
    if user["is_admin"]:
        return "OWNER"
    cache: AccessCache | None = getattr(user, "cache", None)
    if cache is None:  # a user not signed in through current_user (the compat protocols)
        return store.role(workspace, user["username"])
    key = (workspace, user["username"])
    role = cache.get("roles", key, user.epoch)
    if role is _MISS:
        role = store.role(workspace, user["username"])
        cache.put("roles", key, role, user.epoch)
    return role


def require_admin(user: dict[str, Any], what: str) -> None:
    """403 unless the user is a server admin."""
    if not user["is_admin"]:
        raise Problem(403, "permission_denied", f"only admins can {what}")


def can_read_project(store: Store, user: dict[str, Any], workspace: str, project: str) -> None:
    """Members (and admins) read everything of a workspace; others only PUBLIC projects.

    A private project answers 404 to outsiders, so its existence does not leak. A registry's
    project: those who may read the registry.
    """
    if is_registry_project(project):
        registry_reader(store, user, workspace, project)
        return
    if role_in(store, user, workspace):
        return
    cache: AccessCache | None = getattr(user, "cache", None)
    visibility = _MISS if cache is None else cache.get("projects", (workspace, project), user.epoch)
    if visibility is _MISS:
        visibility = store.get_project(workspace, project)["visibility"]
        if cache is not None:
            cache.put("projects", (workspace, project), visibility, user.epoch)
    if visibility != "PUBLIC":
        raise Problem(
            404,
            "project_not_found",
            f"project not found: {workspace}/{project}",
            path=f"{workspace}/{project}",
        )


def readable_store(request: Request, user: dict[str, Any], workspace: str, project: str) -> Store:
    """The store, once ``can_read_project`` lets the user read the project."""
    store = store_of(request)
    can_read_project(store, user, workspace, project)
    return store


def can_write(store: Store, user: dict[str, Any], workspace: str) -> None:
    """Only members of a workspace (and admins) write into it."""
    if role_in(store, user, workspace):
        return
    store.get_workspace(workspace)
    raise Problem(
        403, "permission_denied", f"{user['username']} is not a member of workspace {workspace}"
    )


def writable_store(request: Request, user: dict[str, Any], workspace: str) -> Store:
    """The store, once ``can_write`` lets the user write into the workspace (into the route's
    project, when it is a registry's: ``can_write_project``)."""
    store = store_of(request)
    can_write_project(store, user, workspace, request.path_params.get("project"))
    return store


def can_write_project(
    store: Store, user: dict[str, Any], workspace: str, project: str | None
) -> None:
    """``can_write``; into a registry's project, the registry's ``admin``s and ``member``s
    only (those who may not read it get its 404)."""
    if is_registry_project(project):
        if registry_reader(store, user, workspace, project) == "viewer":
            raise Problem(
                403,
                "permission_denied",
                f"{user['username']} may only read registry {registry_name(project)} of"
                f" {workspace}",
            )
        return
    can_write(store, user, workspace)


def registry_reader(store: Store, user: dict[str, Any], workspace: str, project: str) -> str:
    """The user's role in the registry of ``project`` (``admin`` for server admins); 404 when
    there is no such registry or the user may not read it, so its existence does not leak."""
    name = registry_name(project)
    role = "admin" if user["is_admin"] else None
    if role is None:
        role = store.registry_role(workspace, name, user["username"])
    else:
        store.registry_project_id(workspace, name)
    if role is None:
        raise Problem(
            404,
            "registry_not_found",
            f"registry not found: {workspace}/{project}",
            path=f"{workspace}/{project}",
        )
    return role


def registry_admin(store: Store, user: dict[str, Any], workspace: str, project: str) -> None:
    """403 unless the user administers the registry (its ``admin``s, the organization's
    OWNERs, server admins); 404 for those who may not read it."""
    if registry_reader(store, user, workspace, project) != "admin":
        raise Problem(
            403,
            "permission_denied",
            f"only admins of registry {registry_name(project)} of {workspace} can change it",
        )


def can_own(
    store: Store, user: dict[str, Any], workspace: str, what: str, project: str | None = None
) -> None:
    """Only OWNERs of a workspace (and admins) may ``what``; outsiders of a private project
    get its 404 first."""
    role = role_in(store, user, workspace)
    if role == "OWNER":
        return
    if role is None and project is not None:
        can_read_project(store, user, workspace, project)
    elif role is None:
        store.get_workspace(workspace)
    raise Problem(403, "permission_denied", f"only owners of {workspace} can {what}")
