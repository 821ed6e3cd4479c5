"""The registry methods of ``Api``: ``registries()``, ``registry()`` and ``create_registry()``,
as W&B names them. A part of ``Api`` (see ``_api_part.py``); each builds a route, calls the
transport, and returns a resource from ``registries.py``.

An *organization* is a workspace (a team's, or your own); without one, ``registries()`` lists
those of every workspace you belong to, and ``registry()`` finds the one workspace holding a
registry of that name you may read.
"""

from __future__ import annotations

from typing import Any

from lablens.api._api_part import ApiPart
from lablens.api.registries import Registries, Registry
from lablens.contract.registries import REGISTRIES, registry_name, registry_route
from lablens.errors import RegistryNotFound, UsageError


class ApiRegistries(ApiPart):
    """``Api.registries()``, ``registry()`` and ``create_registry()``."""

    def _organization(self, organization: str | None) -> str | None:
        return organization or self.settings.get("organization")

    def registries(
        self,
        organization: str | None = None,
        filter: dict[str, Any] | None = None,  # noqa: A002 - W&B's name
    ) -> Registries:
        """Returns a lazy iterator of ``Registry`` objects.

        Use the iterator to search and filter registries, collections, or artifact versions
        across your organization's registry.

        Args:
            organization: the organization (workspace) of the registries to fetch. If not
                specified, ``overrides["organization"]``, else every organization you belong to.
            filter: MongoDB-style filter to apply to each object in the lazy registry iterator.
                Fields available to filter for registries are ``name``, ``description``,
                ``visibility``, ``created_at``, ``updated_at``; for collections (``.collections()``)
                ``name``, ``tag``, ``type``, ``description``, ``created_at``, ``updated_at``; for
                versions (``.versions()``) ``tag``, ``alias``, ``version``, ``created_at``,
                ``updated_at``, ``metadata.<key>``.

        Returns:
            A lazy ``Registries`` of ``Registry`` objects.

        Raises:
            BadRequest: the filter is malformed (``.field`` names the bad part).

        Example:
            >>> [r.name for r in api.registries(filter={"name": {"$regex": "model"}})]
            >>> api.registries().versions(filter={"alias": "production"})
        """
        return Registries(self._api, self._organization(organization), filter=filter)

    def registry(self, name: str, organization: str | None = None) -> Registry:
        """Return a registry given a registry name.

        Args:
            name: the name of the registry, without the ``wandb-registry-`` prefix (given with
                it, it is taken off).
            organization: the organization (workspace) of the registry. If not specified,
                ``overrides["organization"]``, else the one organization you belong to that
                has a registry of that name.

        Returns:
            A ``Registry``.

        Raises:
            RegistryNotFound: there is no such registry, or you may not read it.
            UsageError: no organization was given and several have a registry of that name.

        Example:
            >>> registry = api.registry("model", organization="acme")
        """
        name = registry_name(name)
        org = self._organization(organization)
        if org is None:
            found = list(Registries(self._api, filter={"name": name}))
            if not found:
                raise RegistryNotFound(
                    f"registry not found: {name}", status=404, code="registry_not_found"
                )
            if len(found) > 1:
                orgs = ", ".join(r.organization for r in found)
                raise UsageError(
                    f"registry {name!r} is in several organizations ({orgs}): pass organization="
                )
            return found[0]
        return Registry.from_json(self._api, self._transport.get_json(registry_route(org, name)))

    def create_registry(
        self,
        name: str,
        visibility: str,
        organization: str | None = None,
        description: str | None = None,
        artifact_types: list[str] | None = None,
    ) -> Registry:
        """Create a new registry.

        Args:
            name: the name of the registry. Name must be unique within the organization.
            visibility: the visibility of the registry. ``organization``: anyone in the
                organization can view this registry (and link versions into it); you can edit
                their roles later with ``Registry.add_members()``. ``restricted``: only
                invited members (``Registry.add_members()``) and the organization's owners can
                access it.
            organization: the organization (workspace) of the registry; by default
                ``overrides["organization"]``, else the Api's default entity. You must be an
                OWNER of it.
            description: the description of the registry.
            artifact_types: the accepted artifact types of the registry. A type is no more
                than 128 characters and does not include ``/`` or ``:``. If not specified, all
                types are accepted. Allowed types added to the registry cannot be removed
                later.

        Returns:
            The new ``Registry``.

        Raises:
            Conflict: the organization has a registry of that name.
            PermissionDenied: you are no OWNER of the organization.
            BadRequest: a name, visibility or type is not allowed (``.field`` names it).

        Example:
            >>> api.create_registry("model", "restricted", organization="acme",
            ...                     artifact_types=["model"])
        """
        org = self._organization(organization) or self.default_entity
        body = {
            "organization": org,
            "name": registry_name(name),
            "visibility": visibility,
            "description": description,
            "artifact_types": list(artifact_types) if artifact_types is not None else None,
        }
        return Registry.from_json(self._api, self._transport.post_json(REGISTRIES, body))
