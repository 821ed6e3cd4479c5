"""``Registry`` and ``Registries``: an organization's curated collections of artifact versions
(W&B's Registry), and the lists across registries of their collections and versions.

A registry ``model`` of organization ``acme`` is the project ``acme/wandb-registry-model``
(``lablens.contract.registries``): its collections are ``ArtifactCollection`` objects, its
versions ``Artifact`` objects (links to versions logged in projects), so everything artifacts
do (aliases, ``download()``, ``save()``) works there as anywhere.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from lablens.api._attrs import Attrs, html_table
from lablens.api.artifact_collections import ArtifactCollection
from lablens.api.artifacts import Artifact
from lablens.api.paging import Paginator
from lablens.contract.registries import REGISTRY_QUERY, registry_route
from lablens.contract.routes import quote_segment
from lablens.errors import UsageError

if TYPE_CHECKING:
    from lablens.api.api import Api

__all__ = ["Registries", "Registry", "RegistryCollections", "RegistryVersions"]


class Registry(Attrs):
    """A registry: an organization's collection of artifact collections, each holding versions
    linked from projects (``artifact.link("wandb-registry-model/digits")``).

    Get one with ``api.registry("model", organization="acme")``, make one with
    ``api.create_registry()``, list them with ``api.registries()``. ``description``,
    ``visibility``, ``artifact_types`` (only added to) and ``allow_all_artifact_types`` are
    editable: change them and call ``save()``.

    Example:
        >>> registry = api.registry("model", organization="acme")
        >>> registry.full_name, registry.visibility, registry.artifact_types
        >>> [c.name for c in registry.collections()]
        >>> [v.qualified_name for v in registry.versions(filter={"alias": "production"})]
    """

    id: Any
    """The server's id of the registry (its project's)."""
    name: str
    """The registry's name, without the ``wandb-registry-`` prefix, e.g. ``model``."""
    full_name: str
    """The name with the prefix, e.g. ``wandb-registry-model``: its project's name."""
    organization: str
    """The organization (workspace) it belongs to."""
    entity: str
    """The workspace of its project: the organization."""
    description: str | None
    """What the registry holds; editable."""
    visibility: str
    """``organization`` (every member of the organization reads it) or ``restricted`` (only
    the members listed); editable."""
    artifact_types: list[str]
    """The artifact types it accepts (``allow_all_artifact_types`` false); add to it and
    ``save()``: a type accepted cannot be removed."""
    allow_all_artifact_types: bool
    """Whether it accepts artifacts of every type; editable."""
    created_at: str | None
    """When it was made, ISO 8601 UTC."""
    updated_at: str | None
    """When it last changed, ISO 8601 UTC."""

    def _load(self, data: dict[str, Any]) -> None:
        self.id = data.get("id")
        self.name = data.get("name") or ""
        self.full_name = data.get("full_name") or ""
        self.organization = data.get("organization") or ""
        self.entity = data.get("entity") or self.organization
        self.description = data.get("description")
        self.visibility = data.get("visibility") or "organization"
        self.artifact_types = list(data.get("artifact_types") or [])
        self.allow_all_artifact_types = bool(data.get("allow_all_artifact_types", True))
        self.created_at = data.get("created_at")
        self.updated_at = data.get("updated_at")

    @property
    def path(self) -> list[str]:
        """``[organization, full_name]``: the project its versions live in (W&B's ``path``)."""
        return [self.organization, self.full_name]

    @property
    def role(self) -> str | None:
        """Your role in the registry: ``admin``, ``member`` (links versions into it) or
        ``viewer`` (reads it)."""
        return self._attrs.get("role")

    def _route(self) -> str:
        return registry_route(self.organization, self.name)

    def collections(
        self,
        filter: dict[str, Any] | None = None,  # noqa: A002 - W&B's name
        per_page: int = 50,
    ) -> RegistryCollections:
        """The registry's collections, by name.

        Args:
            filter: a MongoDB-style filter on ``name``, ``tag``, ``type``, ``description``,
                ``created_at`` and ``updated_at``.
            per_page: collections per request.

        Returns:
            A lazy ``RegistryCollections`` of ``ArtifactCollection``.

        Raises:
            BadRequest: the filter is malformed (``.field`` names the bad part).

        Example:
            >>> registry.collections(filter={"name": {"$regex": "digit"}})
        """
        return RegistryCollections(
            self._api, self.organization, registry=self.name, filter=filter, per_page=per_page
        )

    def versions(
        self,
        filter: dict[str, Any] | None = None,  # noqa: A002 - W&B's name
        per_page: int = 50,
    ) -> RegistryVersions:
        """The versions linked into the registry's collections, newest first in each.

        Args:
            filter: a MongoDB-style filter on ``tag``, ``alias``, ``version``, ``created_at``,
                ``updated_at`` and ``metadata.<key>``.
            per_page: versions per request.

        Returns:
            A lazy ``RegistryVersions`` of ``Artifact``.

        Example:
            >>> [v.qualified_name for v in registry.versions(filter={"alias": "production"})]
        """
        return RegistryVersions(
            self._api, self.organization, registry=self.name, filter=filter, per_page=per_page
        )

    def load(self) -> Registry:
        """Read the registry again from the server, dropping unsaved changes.

        Returns:
            The registry.
        """
        self._attrs = dict(self._api.client.get_json(self._route()))
        self._load(self._attrs)
        return self

    def save(self) -> Registry:
        """Write ``description``, ``visibility``, ``artifact_types`` and
        ``allow_all_artifact_types`` to the server (the registry's admins).

        Returns:
            The registry, as the server now holds it.

        Raises:
            BadRequest: an artifact type would be removed, or a value is not allowed.
            PermissionDenied: you do not administer the registry.
            UsageError: ``name`` was changed; a registry cannot be renamed here.

        Example:
            >>> registry.artifact_types.append("dataset")
            >>> registry.description = "models and their data"
            >>> registry.save()
        """
        if self.name != self._attrs.get("name"):
            raise UsageError("a registry cannot be renamed; make a new one and link into it")
        body = {
            "description": self.description,
            "visibility": self.visibility,
            "artifact_types": list(self.artifact_types),
            "allow_all_artifact_types": self.allow_all_artifact_types,
        }
        self._attrs = dict(self._api.client.patch_json(self._route(), body))
        self._load(self._attrs)
        return self

    def delete(self) -> None:
        """Delete the registry with its collections of links; the versions linked stay in
        their projects.

        Raises:
            PermissionDenied: you do not administer the registry.
        """
        self._api.client.delete(self._route())

    # -- members --------------------------------------------------------------------------

    def members(self) -> list[dict[str, Any]]:
        """The users and teams the registry lists: ``{"kind": "user"|"team", "name", "role"}``.

        Example:
            >>> registry.members()
            [{'kind': 'user', 'name': 'alice', 'role': 'admin'}]
        """
        return list(self._api.client.get_json(f"{self._route()}/members").get("items", []))

    def user_members(self) -> list[dict[str, Any]]:
        """The users the registry lists, with their roles."""
        return [m for m in self.members() if m["kind"] == "user"]

    def team_members(self) -> list[dict[str, Any]]:
        """The teams the registry lists, with their roles."""
        return [m for m in self.members() if m["kind"] == "team"]

    def add_members(self, *members: Any, role: str = "member") -> Registry:
        """List users or teams in the registry, each with ``role`` (``admin``, ``member``,
        ``viewer``); listed already, the new role. In a ``restricted`` registry only those
        listed (and the organization's owners) read it.

        Args:
            members: usernames, ``User`` or ``Team`` objects, or ``"team:NAME"``.
            role: their role.

        Returns:
            The registry.

        Example:
            >>> registry.add_members("bob", api.team("vision"), role="viewer")
        """
        for member in members:
            kind, name = _member(member)
            self._api.client.post_json(
                f"{self._route()}/members", {"name": name, "kind": kind, "role": role}
            )
        return self

    def update_member(self, member: Any, role: str) -> Registry:
        """Give a listed user or team another role (as ``add_members``)."""
        return self.add_members(member, role=role)

    def remove_members(self, *members: Any) -> Registry:
        """Take users or teams off the registry's list.

        Raises:
            NotFound: one of them is not listed.
        """
        for member in members:
            kind, name = _member(member)
            self._api.client.delete(f"{self._route()}/members/{kind}/{quote_segment(name)}")
        return self

    def __repr__(self) -> str:
        return f"<Registry {self.organization}/{self.name} ({self.visibility})>"

    def _repr_html_(self) -> str:
        types = "all" if self.allow_all_artifact_types else ", ".join(self.artifact_types)
        return html_table(
            [
                ("organization", self.organization),
                ("visibility", self.visibility),
                ("artifact types", types),
                ("description", self.description),
                ("created_at", self.created_at),
            ],
            title=f"Registry {self.full_name}",
        )


def _member(member: Any) -> tuple[str, str]:
    """``(kind, name)`` of a member as given: a username, ``team:NAME``, a ``User`` or
    ``Team``."""
    from lablens.api.teams import Team

    if isinstance(member, Team):
        return "team", member.name
    if isinstance(member, str):
        if member.startswith("team:"):
            return "team", member[len("team:") :]
        return "user", member.removeprefix("user:")
    name = getattr(member, "username", None)
    if isinstance(name, str):
        return "user", name
    raise UsageError(f"a registry member is a username, a User or a Team, not {member!r}")


class _Query(Paginator[Any]):
    """A paged query of registries, or of their collections or versions."""

    _route = REGISTRY_QUERY

    def __init__(
        self,
        api: Api,
        organization: str | None = None,
        *,
        registry: str | None = None,
        registry_filter: dict[str, Any] | None = None,
        collection_filter: dict[str, Any] | None = None,
        filter: dict[str, Any] | None = None,  # noqa: A002 - W&B's name
        per_page: int = 50,
    ) -> None:
        super().__init__(api, per_page)
        for name, value in (
            ("filter", filter),
            ("registry_filter", registry_filter),
            ("collection_filter", collection_filter),
        ):
            if value is not None and not isinstance(value, dict):
                raise UsageError(f"{name} must be a dict, not {type(value).__name__}")
        self.organization = organization
        self.registry = registry
        self.registry_filter = registry_filter
        self.collection_filter = collection_filter
        self.filter = filter

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        body = {
            "organization": self.organization,
            "registry": self.registry,
            "registry_filter": self.registry_filter,
            "collection_filter": self.collection_filter,
            "filter": self.filter,
            "cursor": cursor,
            "limit": limit,
        }
        return self._api.client.post_json(
            self._route, {k: v for k, v in body.items() if v is not None}
        )

    def _where(self) -> str:
        where = self.organization or "every organization"
        return f"{where}/{self.registry}" if self.registry else where


class Registries(_Query):
    """The registries you may read, by organization and name; returned by
    ``api.registries()``. Its ``collections()`` and ``versions()`` search those registries'
    collections and versions.

    Example:
        >>> [r.name for r in api.registries(filter={"name": {"$regex": "model"}})]
        >>> api.registries().versions(filter={"alias": "production"})
    """

    def _convert(self, item: dict[str, Any]) -> Registry:
        return Registry.from_json(self._api, item)

    def collections(
        self,
        filter: dict[str, Any] | None = None,  # noqa: A002 - W&B's name
        per_page: int = 50,
    ) -> RegistryCollections:
        """The collections of these registries matching ``filter`` (``name``, ``tag``,
        ``type``, ``description``, ``created_at``, ``updated_at``)."""
        return RegistryCollections(
            self._api,
            self.organization,
            registry_filter=self.filter,
            filter=filter,
            per_page=per_page,
        )

    def versions(
        self,
        filter: dict[str, Any] | None = None,  # noqa: A002 - W&B's name
        per_page: int = 50,
    ) -> RegistryVersions:
        """The versions in these registries matching ``filter`` (``tag``, ``alias``,
        ``version``, ``created_at``, ``updated_at``, ``metadata.<key>``)."""
        return RegistryVersions(
            self._api,
            self.organization,
            registry_filter=self.filter,
            filter=filter,
            per_page=per_page,
        )

    def __repr__(self) -> str:
        return f"<Registries {self._where()}>"

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (r.organization, r.name, r.visibility, r.description or "")
            )
            + "</tr>"
            for r in self[:20]
        )
        head = "".join(f"<th>{h}</th>" for h in ("organization", "name", "visibility", "about"))
        return (
            f"<div class='lablens'><b>Registries</b> ({len(self)})"
            f"<table><tr>{head}</tr>{rows}</table></div>"
        )


class RegistryCollections(_Query):
    """Collections of registries, by organization, registry and name: ``ArtifactCollection``
    objects. Returned by ``Registry.collections()`` and ``Registries.collections()``.

    Example:
        >>> [c.name for c in api.registry("model", organization="acme").collections()]
    """

    _route = f"{REGISTRY_QUERY}/collections"

    def _convert(self, item: dict[str, Any]) -> ArtifactCollection:
        return ArtifactCollection.from_json(self._api, item)

    def __repr__(self) -> str:
        return f"<RegistryCollections {self._where()}>"


class RegistryVersions(_Query):
    """Versions in registries' collections, newest first in each collection: ``Artifact``
    objects (links to versions logged in projects). Returned by ``Registry.versions()`` and
    ``Registries.versions()``.

    Example:
        >>> [v.qualified_name for v in api.registries().versions(filter={"alias": "prod"})]
    """

    _route = f"{REGISTRY_QUERY}/versions"

    def _convert(self, item: dict[str, Any]) -> Artifact:
        return Artifact.from_json(self._api, item)

    def __repr__(self) -> str:
        return f"<RegistryVersions {self._where()}>"
