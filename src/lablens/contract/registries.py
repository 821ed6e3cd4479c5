"""Registries as client and server name them: the project a registry is, its visibility and the
roles of its members, and the routes of registries.

A registry is an organization's collection of artifact collections, each holding links to
versions logged in ordinary projects (W&B's Registry). In lablens an *organization* is a
workspace (a team's, or a user's own on a single-user server) and a registry ``model`` of it is
the project ``wandb-registry-model`` of that workspace, as W&B names it, so an artifact path such
as ``acme/wandb-registry-model/digits:production`` reads a registry's version with every
artifact call there is.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from lablens.contract.artifact_paths import parse_artifact_name
from lablens.contract.routes import API, quote_segment
from lablens.errors import UsageError

__all__ = [
    "REGISTRY_PREFIX",
    "RegistryRole",
    "RegistryVisibility",
    "is_registry_project",
    "link_body",
    "registry_name",
    "registry_project",
    "registry_route",
]

#: The prefix of a registry's project: registry ``model`` is project ``wandb-registry-model``.
REGISTRY_PREFIX = "wandb-registry-"

#: Who may read a registry: every member of its organization, or only the members listed.
RegistryVisibility = Literal["organization", "restricted"]
VISIBILITIES: tuple[str, ...] = get_args(RegistryVisibility)

#: A listed member's role: ``admin`` edits the registry and its members, ``member`` links
#: versions into it and edits them, ``viewer`` reads it.
RegistryRole = Literal["admin", "member", "viewer"]
ROLES: tuple[str, ...] = get_args(RegistryRole)

#: What a listed member is: a user or a team (every member of the team).
MemberKind = Literal["user", "team"]

#: The route that lists registries (``POST``, a query); ``/collections`` and ``/versions``
#: under it list their collections and versions.
REGISTRY_QUERY = f"{API}/registries/query"
#: The route that makes a registry (``POST``).
REGISTRIES = f"{API}/registries"


def registry_project(name: str) -> str:
    """The project of registry ``name``: ``wandb-registry-<name>`` (a full name is kept)."""
    return name if name.startswith(REGISTRY_PREFIX) else f"{REGISTRY_PREFIX}{name}"


def registry_name(project: str) -> str:
    """The registry's name of its project (``wandb-registry-model`` -> ``model``)."""
    return project[len(REGISTRY_PREFIX) :] if is_registry_project(project) else project


def is_registry_project(project: str | None) -> bool:
    """Whether a project name is a registry's (``wandb-registry-...``)."""
    return bool(project) and project.startswith(REGISTRY_PREFIX) and project != REGISTRY_PREFIX


def registry_route(organization: str, name: str) -> str:
    """``/api/v1/registries/{organization}/{name}`` (``name`` without the prefix)."""
    return f"{REGISTRIES}/{quote_segment(organization)}/{quote_segment(registry_name(name))}"


def link_body(
    target_path: str, entity: str, project: str, aliases: list[str] | None
) -> dict[str, Any]:
    """The body of a link request (``POST .../artifacts/{id}/links``) to ``target_path``
    (``entity/project/name``, ``project/name`` or ``name``), from an artifact of
    ``entity/project``. A registry's path without its organization
    (``wandb-registry-model/digits``, W&B's form) leaves ``entity`` out: the server finds the
    organization whose registry the caller may read.

    Raises:
        UsageError: the path is malformed or names a version.
    """
    target = parse_artifact_name(target_path, entity, project, what="link target")
    if target.version:
        raise UsageError(f"link target {target_path!r} must not name a version")
    given = target_path.strip().partition(":")[0].count("/") == 2
    return {
        "entity": target.entity if given or not is_registry_project(target.project) else None,
        "project": target.project,
        "name": target.name,
        "aliases": list(aliases or []),
    }
