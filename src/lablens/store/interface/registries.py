"""The ``Store`` interface's methods for registries: an organization's collections of linked
artifact versions, and who may read them (``store/common/registries.py`` says how they are
kept)."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any


class RegistryStore(abc.ABC):
    """Registries, their members, and their collections and versions across registries."""

    @abc.abstractmethod
    def create_registry(
        self,
        organization: str,
        name: str,
        *,
        visibility: str,
        description: str | None = None,
        artifact_types: Sequence[str] | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """Make registry ``name`` (its project ``wandb-registry-<name>``) in the workspace
        ``organization``; ``username``, its maker, is listed as its ``admin``. No
        ``artifact_types``: every type accepted. ``Conflict`` when the name is taken."""

    @abc.abstractmethod
    def get_registry(self, organization: str, name: str) -> dict[str, Any]:
        """One registry; ``NotFound("registry")`` when absent."""

    @abc.abstractmethod
    def registry_role(self, organization: str, name: str, username: str) -> str | None:
        """The user's role in the registry (``admin``, ``member``, ``viewer``), or ``None``
        when they may not read it (``store/registry_values.registry_role``)."""

    @abc.abstractmethod
    def registry_project_id(self, organization: str, name: str) -> int:
        """The id of the registry's project; ``NotFound("registry")`` when absent."""

    @abc.abstractmethod
    def update_registry(
        self, organization: str, name: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change ``description``, ``visibility``, ``artifact_types`` (only added to) or
        ``allow_all_artifact_types``."""

    @abc.abstractmethod
    def delete_registry(self, organization: str, name: str) -> None:
        """Delete a registry with its collections of links (the versions linked stay)."""

    @abc.abstractmethod
    def list_registry_members(self, organization: str, name: str) -> list[dict[str, Any]]:
        """The members a registry lists: ``{kind: user|team, name, role}``."""

    @abc.abstractmethod
    def add_registry_member(
        self, organization: str, name: str, member: str, *, kind: str = "user", role: str = "member"
    ) -> dict[str, Any]:
        """List a user or a team (``kind``) in a registry with ``role``; listed again, the new
        role."""

    @abc.abstractmethod
    def remove_registry_member(
        self, organization: str, name: str, member: str, *, kind: str = "user"
    ) -> None:
        """Take a user or team off a registry's list; ``NotFound`` when not listed."""

    @abc.abstractmethod
    def list_registries(
        self,
        *,
        organization: str | None = None,
        viewer: str | None = None,
        filter: Any = None,  # noqa: A002 - W&B's name
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """A page of the registries ``viewer`` may read (``None``: all), of one organization
        when given, matching the MongoDB-style ``filter``, by organization and name; each with
        the viewer's ``role``."""

    @abc.abstractmethod
    def list_registry_collections(
        self,
        *,
        organization: str | None = None,
        registry: str | None = None,
        viewer: str | None = None,
        registry_filter: Any = None,
        filter: Any = None,  # noqa: A002 - W&B's name
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """A page of the collections of the registries ``viewer`` may read (of one registry,
        or those matching ``registry_filter``), matching ``filter``."""

    @abc.abstractmethod
    def list_registry_versions(
        self,
        *,
        organization: str | None = None,
        registry: str | None = None,
        viewer: str | None = None,
        registry_filter: Any = None,
        collection_filter: Any = None,
        filter: Any = None,  # noqa: A002 - W&B's name
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """A page of the versions in those registries' collections matching ``filter``,
        newest first within a collection."""
