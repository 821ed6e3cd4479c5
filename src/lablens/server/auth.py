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

from typing import Annotated, Any

from fastapi import Depends, Request

from lablens.contract.registries import is_registry_project, registry_name
from lablens.server.problems import Problem
from lablens.store.base import Store


def store_of(request: Request) -> Store:
    """The store the app was built with."""
    return request.app.state.store


def current_user(request: Request) -> dict[str, Any]:
    """The user whose key the request carries; 401 without a key or with a wrong one.

    Every route but ``/health`` and ``/api/v1/login`` depends on this. Keys are looked up by hash
    on each request, so a revoked key stops working at once.
    """
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Problem(
            401,
            "unauthorized",
            "an API key is required: send 'Authorization: Bearer <key>' (lablens login stores one)",
        )
    user = store_of(request).user_for_key(key.strip())
    if user is None:
        raise Problem(401, "unauthorized", "the API key is wrong or was revoked")
    if user.pop("key_expired", False):
        raise Problem(
            401,
            "expired",
            "the API key has expired: sign in again (lablens login) or make a new key",
        )
    return user


#: The signed-in user, as a route's parameter: ``user: CurrentUser``.
CurrentUser = Annotated[dict, Depends(current_user)]


def role_in(store: Store, user: dict[str, Any], workspace: str) -> str | None:
    """The user's role in a workspace: ``OWNER`` (admins too), ``MEMBER`` or ``None``."""
    if user["is_admin"]:
        return "OWNER"
    return store.role(workspace, user["username"])


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
    info = store.get_project(workspace, project)
    if info["visibility"] != "PUBLIC":
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
