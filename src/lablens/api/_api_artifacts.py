"""The artifact methods of ``Api``, as the W&B public API names them. A part of ``Api`` (see
``_api_part.py``); each method builds a route, calls the transport, and returns a
resource from ``artifacts.py`` or ``artifact_collections.py``."""

from __future__ import annotations

import warnings

from lablens.api._api_part import ApiPart
from lablens.api._artifact_paths import ArtifactPath, collection_route, parse_artifact_name
from lablens.api.artifact_collections import (
    ArtifactCollection,
    ArtifactCollections,
    ArtifactType,
    ArtifactTypes,
)
from lablens.api.artifacts import Artifact, Artifacts
from lablens.contract.routes import project_route, quote_segment
from lablens.errors import ArtifactNotFound, LablensError, UsageError


class ApiArtifacts(ApiPart):
    """``Api.artifact()``, ``artifacts()``, ``artifact_type(s)()``, ``artifact_collection(s)()``
    and the ``..._exists()`` checks."""

    def _artifact_path(self, name: str, what: str = "artifact name") -> ArtifactPath:
        return parse_artifact_name(
            name, lambda: self.default_entity, lambda: self.settings.get("project"), what=what
        )

    def _project_arg(self, project: str | None) -> tuple[str, str]:
        """``project`` as a name or ``entity/project`` path; by default the overrides' project,
        else ``uncategorized`` (W&B)."""
        given = project or self.settings.get("project") or "uncategorized"
        parts = given.strip("/").split("/")
        if len(parts) == 2 and all(parts):
            return parts[0], parts[1]
        if len(parts) == 1 and parts[0]:
            entity = self.default_entity
            if not entity:
                raise UsageError(f"project {given!r} has no entity and the Api has none")
            return entity, parts[0]
        raise UsageError(f"malformed project {project!r}: expected 'entity/project' or 'project'")

    def artifact(self, name: str, type: str | None = None) -> Artifact:  # noqa: A002 - W&B's
        """Return a single artifact by parsing path in the form ``entity/project/name:version``.

        Args:
            name: an artifact name, e.g. ``mlp:v3`` or ``mlp:latest``. May be prefixed with
                ``project/`` or ``entity/project/``; without an entity the ``Api``'s default
                entity is used, without a project ``overrides["project"]`` (else
                ``uncategorized``). The part after ``:`` is a version (``v3``), an alias
                (``latest``, ``best``) or a digest; without one, ``latest``.
            type: the type of artifact to fetch; checked when given.

        Returns:
            An ``Artifact`` object.

        Raises:
            ValueError: the artifact name is not specified, or ``type`` is given and does not
                match the type of the fetched artifact (a ``UsageError``).
            ArtifactNotFound: there is no such artifact version.

        Example:
            >>> model = api.artifact("alice/mnist/mlp:best", type="model")
            >>> model.download()
        """
        path = self._artifact_path(name)
        route = (
            f"{collection_route(path.entity, path.project, path.name)}/versions/"
            f"{quote_segment(path.version or 'latest')}"
        )
        artifact = Artifact.from_json(self._api, self._transport.get_json(route))
        if type is not None and artifact.type != type:
            raise UsageError(
                f"artifact {artifact.qualified_name} has type {artifact.type!r}, not {type!r}"
            )
        return artifact

    def artifacts(
        self,
        type_name: str,
        name: str,
        per_page: int | None = 50,
        tags: list[str] | None = None,
    ) -> Artifacts:
        """Return an ``Artifacts`` collection from the given parameters.

        Args:
            type_name: the type of artifacts to fetch.
            name: an artifact collection name. May be prefixed with ``entity/project/``.
            per_page: sets the page size for query pagination. None will use the default
                size. Usually there is no reason to change this.
            tags: only return artifacts with all of these tags.

        Returns:
            An iterable ``Artifacts`` object, newest version first.

        Raises:
            UsageError: the name is malformed or names a version.

        Example:
            >>> for artifact in api.artifacts("model", "alice/mnist/mlp"):
            ...     print(artifact.version, artifact.aliases)
        """
        path = self._artifact_path(name, "artifact collection name")
        if path.version:
            raise UsageError(f"{name!r} names a version; artifacts() takes a collection name")
        return Artifacts(
            self._api,
            path.entity,
            path.project,
            path.name,
            type_name,
            per_page=per_page or 50,
            tags=tags,
        )

    def artifact_versions(self, type_name: str, name: str, per_page: int = 50) -> Artifacts:
        """Deprecated, use ``artifacts(type_name, name)`` instead.

        Warns:
            DeprecationWarning: always.
        """
        warnings.warn(
            "Api.artifact_versions() is deprecated; use Api.artifacts(type_name, name) instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.artifacts(type_name, name, per_page=per_page)

    def artifact_type(self, type_name: str, project: str | None = None) -> ArtifactType:
        """Return the matching ``ArtifactType``.

        Args:
            type_name: the name of the artifact type to retrieve.
            project: if given, a project name or path to filter on.

        Returns:
            An ``ArtifactType`` object.

        Raises:
            ArtifactNotFound: the project has no artifact of that type.

        Example:
            >>> api.artifact_type("model", "alice/mnist").collections()
        """
        entity, proj = self._project_arg(project)
        data = self._transport.get_json(
            f"{project_route(entity, proj)}/artifact_types/{quote_segment(type_name)}"
        )
        return ArtifactType.from_json(self._api, data)

    def artifact_types(self, project: str | None = None) -> ArtifactTypes:
        """Return a collection of matching artifact types.

        Args:
            project: if given, a project name or path to filter on.

        Returns:
            An iterable ``ArtifactTypes`` object.

        Example:
            >>> [t.name for t in api.artifact_types("alice/mnist")]
        """
        entity, proj = self._project_arg(project)
        return ArtifactTypes(self._api, entity, proj)

    def artifact_collection(self, type_name: str, name: str) -> ArtifactCollection:
        """Return a single artifact collection by type and parsing path in the form
        ``entity/project/name``.

        Args:
            type_name: the type of artifact collection to fetch.
            name: an artifact collection name. May be prefixed with ``entity/project/``.

        Returns:
            An ``ArtifactCollection`` object.

        Raises:
            ArtifactNotFound: there is no collection of that name and type.

        Example:
            >>> collection = api.artifact_collection("model", "alice/mnist/mlp")
            >>> collection.aliases
        """
        path = self._artifact_path(name, "artifact collection name")
        data = self._transport.get_json(
            collection_route(path.entity, path.project, path.name), params={"type": type_name}
        )
        return ArtifactCollection.from_json(self._api, data)

    def artifact_collections(
        self,
        project_name: str,
        type_name: str,
        per_page: int | None = 50,
    ) -> ArtifactCollections:
        """Return a collection of matching artifact collections.

        Args:
            project_name: the name (or ``entity/project`` path) of the project to filter on.
            type_name: the name of the artifact type to filter on.
            per_page: sets the page size for query pagination. None will use the default
                size. Usually there is no reason to change this.

        Returns:
            An iterable ``ArtifactCollections`` object.

        Example:
            >>> [c.name for c in api.artifact_collections("alice/mnist", "model")]
        """
        entity, proj = self._project_arg(project_name)
        return ArtifactCollections(self._api, entity, proj, type_name, per_page or 50)

    def artifact_exists(self, name: str, type: str | None = None) -> bool:  # noqa: A002
        """Return whether an artifact version exists within a specified project and entity.

        Args:
            name: an artifact name, ``entity/project/name:version`` or shorter (see
                ``artifact()``); without an entity or project the defaults are used.
            type: the type of artifact.

        Returns:
            True if the artifact version exists, False otherwise.

        Example:
            >>> api.artifact_exists("alice/mnist/mlp:v3")
        """
        try:
            self.artifact(name, type=type)
        except (ArtifactNotFound, UsageError):
            return False
        except LablensError as exc:
            # A project or workspace that does not exist holds no artifact either.
            if getattr(exc, "status", None) == 404:
                return False
            raise
        return True

    def artifact_collection_exists(self, name: str, type: str) -> bool:  # noqa: A002
        """Return whether an artifact collection exists within a specified project and entity.

        Args:
            name: an artifact collection name, optionally prefixed with ``entity/project/``.
            type: the type of artifact collection.

        Returns:
            True if the artifact collection exists, False otherwise.

        Example:
            >>> api.artifact_collection_exists("alice/mnist/mlp", "model")
        """
        try:
            self.artifact_collection(type, name)
        except (ArtifactNotFound, UsageError):
            return False
        except LablensError as exc:
            if getattr(exc, "status", None) == 404:
                return False
            raise
        return True
