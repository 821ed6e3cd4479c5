"""``ArtifactType`` and ``ArtifactCollection``: how a project's artifacts are grouped.

A type (``dataset``, ``model``) groups collections; a collection is one artifact name with its
versions ``v0, v1, ...`` (W&B's *artifact sequence*), or, when made by ``Artifact.link()``, a
collection of links to versions logged elsewhere (a *portfolio*).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from lablens.api._attrs import Attrs, html_table
from lablens.api.paging import Paginator
from lablens.contract.artifact_paths import collection_route
from lablens.contract.routes import project_route

if TYPE_CHECKING:
    from lablens.api.api import Api
    from lablens.api.artifacts import Artifacts

__all__ = ["ArtifactCollection", "ArtifactCollections", "ArtifactType", "ArtifactTypes"]


class ArtifactType(Attrs):
    """An artifact type of a project, such as ``dataset`` or ``model``.

    Get one with ``api.artifact_type("model", "alice/mnist")``; list them with
    ``api.artifact_types("alice/mnist")``.

    Example:
        >>> model = api.artifact_type("model", project="alice/mnist")
        >>> [c.name for c in model.collections()]
    """

    id: Any
    """The server's id of the type."""
    name: str
    """The type's name, e.g. ``model``."""
    entity: str
    """The workspace of its project."""
    project: str
    """The name of its project."""
    created_at: str | None
    """When the first artifact of this type was logged, ISO 8601 UTC."""
    collection_count: int
    """How many collections have this type."""

    def _load(self, data: dict[str, Any]) -> None:
        self.id = data.get("id")
        self.name = data.get("name") or ""
        self.entity = data.get("entity") or ""
        self.project = data.get("project") or ""
        self.created_at = data.get("created_at")
        self.collection_count = int(data.get("collection_count") or 0)

    @property
    def type(self) -> str:
        """The type's name (W&B's ``ArtifactType.type``)."""
        return self.name

    def collections(self, per_page: int = 50) -> ArtifactCollections:
        """The collections of this type, as W&B's ``ArtifactType.collections()``.

        Args:
            per_page: collections per request.

        Returns:
            A lazy ``ArtifactCollections``, by name.

        Example:
            >>> for collection in api.artifact_type("model", "alice/mnist").collections():
            ...     print(collection.name, collection.aliases)
        """
        return ArtifactCollections(self._api, self.entity, self.project, self.name, per_page)

    def collection(self, name: str) -> ArtifactCollection:
        """One collection of this type.

        Args:
            name: the collection's name, e.g. ``mlp``.

        Returns:
            The ``ArtifactCollection``.

        Raises:
            ArtifactNotFound: there is no collection of that name and type.

        Example:
            >>> api.artifact_type("model", "alice/mnist").collection("mlp").aliases
        """
        data = self._api.client.get_json(
            collection_route(self.entity, self.project, name), params={"type": self.name}
        )
        return ArtifactCollection.from_json(self._api, data)

    def __repr__(self) -> str:
        return f"<ArtifactType {self.entity}/{self.project} {self.name}>"

    def _repr_html_(self) -> str:
        return html_table(
            [
                ("name", self.name),
                ("project", f"{self.entity}/{self.project}"),
                ("collections", self.collection_count),
                ("created_at", self.created_at),
            ],
            title=f"ArtifactType {self.name}",
        )


class ArtifactTypes(Paginator[ArtifactType]):
    """The artifact types of a project, by name; returned by ``api.artifact_types()``.

    Example:
        >>> [t.name for t in api.artifact_types("alice/mnist")]
        ['dataset', 'model']
    """

    def __init__(self, api: Api, entity: str, project: str, per_page: int = 50) -> None:
        super().__init__(api, per_page)
        self.entity = entity
        self.project = project

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        params = {"cursor": cursor} if cursor else None
        return self._api.client.get_json(
            f"{project_route(self.entity, self.project)}/artifact_types", params=params
        )

    def _convert(self, item: dict[str, Any]) -> ArtifactType:
        return ArtifactType.from_json(self._api, item)

    def __repr__(self) -> str:
        return f"<ArtifactTypes {self.entity}/{self.project}>"


class ArtifactCollection(Attrs):
    """One artifact name in a project and its versions ``v0, v1, ...``.

    Get one with ``api.artifact_collection("model", "alice/mnist/mlp")`` or from
    ``artifact.collection``. ``name``, ``description`` and ``tags`` are editable: change them and
    call ``save()``.

    Example:
        >>> collection = api.artifact_collection("model", "alice/mnist/mlp")
        >>> collection.aliases, [a.version for a in collection.artifacts()]
        >>> collection.description = "MLPs on digits"
        >>> collection.save()
    """

    id: Any
    """The server's id of the collection."""
    name: str
    """The collection's name (the artifact name without version); editable."""
    type: str
    """Its artifact type, e.g. ``model``."""
    entity: str
    """The workspace of its project."""
    project: str
    """The name of its project."""
    description: str | None
    """What the collection holds; editable."""
    tags: list[str]
    """The collection's tags; editable."""
    aliases: list[str]
    """Every alias held by one of its versions, e.g. ``['best', 'latest']``."""
    version_count: int
    """How many versions it holds."""
    created_at: str | None
    """When its first version was logged, ISO 8601 UTC."""
    updated_at: str | None
    """When it last changed, ISO 8601 UTC."""

    def _load(self, data: dict[str, Any]) -> None:
        self.id = data.get("id")
        self.name = data.get("name") or ""
        self._saved_name = self.name
        self.type = data.get("type") or ""
        self.entity = data.get("entity") or ""
        self.project = data.get("project") or ""
        self.description = data.get("description")
        self.tags = list(data.get("tags") or [])
        self.aliases = list(data.get("aliases") or [])
        self.version_count = int(data.get("version_count") or 0)
        self.created_at = data.get("created_at")
        self.updated_at = data.get("updated_at")

    @property
    def path(self) -> str:
        """``entity/project/name``."""
        return f"{self.entity}/{self.project}/{self._saved_name}"

    def is_sequence(self) -> bool:
        """Whether it holds logged versions (``True``) rather than links (a portfolio)."""
        return self._attrs.get("kind", "sequence") == "sequence"

    def _route(self) -> str:
        return collection_route(self.entity, self.project, self._saved_name)

    def artifacts(self, per_page: int = 50, tags: list[str] | None = None) -> Artifacts:
        """The collection's versions, newest first.

        Args:
            per_page: versions per request.
            tags: only versions having all of these tags.

        Returns:
            A lazy ``Artifacts`` collection.

        Example:
            >>> [a.version for a in api.artifact_collection("model", "alice/mnist/mlp").artifacts()]
            ['v2', 'v1', 'v0']
        """
        from lablens.api.artifacts import Artifacts

        return Artifacts(
            self._api,
            self.entity,
            self.project,
            self._saved_name,
            self.type,
            per_page=per_page,
            tags=tags,
        )

    def versions(self, per_page: int = 50) -> Artifacts:
        """The versions, as ``artifacts()`` (the older W&B name)."""
        return self.artifacts(per_page=per_page)

    def save(self) -> ArtifactCollection:
        """Write ``name``, ``description`` and ``tags`` to the server.

        Returns:
            The collection, as the server now holds it.

        Raises:
            Conflict: the new name is taken in the project.
            BadRequest: a name or tag is not allowed (``.field`` names it).

        Example:
            >>> collection.tags.append("digits")
            >>> collection.save()
        """
        body: dict[str, Any] = {"description": self.description, "tags": list(self.tags)}
        if self.name != self._saved_name:
            body["name"] = self.name
        data = self._api.client.patch_json(self._route(), body)
        self._attrs = dict(data)
        self._load(self._attrs)
        return self

    def delete(self) -> None:
        """Delete the collection and every version in it.

        Raises:
            Conflict: one of its versions is linked elsewhere; delete the link first.

        Example:
            >>> api.artifact_collection("model", "alice/mnist/old-mlp").delete()
        """
        self._api.client.delete(self._route())

    def __repr__(self) -> str:
        return f"<ArtifactCollection {self.path} ({self.type})>"

    def _repr_html_(self) -> str:
        return html_table(
            [
                ("type", self.type),
                ("versions", self.version_count),
                ("aliases", ", ".join(self.aliases)),
                ("tags", ", ".join(self.tags)),
                ("description", self.description),
                ("created_at", self.created_at),
                ("updated_at", self.updated_at),
            ],
            title=f"ArtifactCollection {self.path}",
        )


class ArtifactCollections(Paginator[ArtifactCollection]):
    """The collections of a project (of one type, if given), by name.

    Returned by ``api.artifact_collections()`` and ``ArtifactType.collections()``.

    Example:
        >>> [c.name for c in api.artifact_collections("alice/mnist", "model")]
    """

    def __init__(
        self, api: Api, entity: str, project: str, type_name: str | None = None, per_page: int = 50
    ) -> None:
        super().__init__(api, per_page)
        self.entity = entity
        self.project = project
        self.type_name = type_name

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        route = f"{project_route(self.entity, self.project)}/artifact_collections"
        return self._get_page(route, cursor, limit, type=self.type_name)

    def _convert(self, item: dict[str, Any]) -> ArtifactCollection:
        return ArtifactCollection.from_json(self._api, item)

    def __repr__(self) -> str:
        kind = f" {self.type_name}" if self.type_name else ""
        return f"<ArtifactCollections {self.entity}/{self.project}{kind}>"

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (c.name, c.type, c.version_count, ", ".join(c.aliases))
            )
            + "</tr>"
            for c in self[:20]
        )
        head = "".join(f"<th>{h}</th>" for h in ("name", "type", "versions", "aliases"))
        title = html.escape(f"{self.entity}/{self.project}")
        return (
            f"<div class='lablens'><b>Artifact collections {title}</b> ({len(self)})"
            f"<table><tr>{head}</tr>{rows}</table></div>"
        )
