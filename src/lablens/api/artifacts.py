"""``Artifact``: one stored version of a dataset, model or result, with its files and lineage.

Also ``Artifacts``, the versions of a collection. Its contents (the manifest, reading a file or
table, downloading into a directory and verifying a local copy) are in ``artifact_contents.py``,
each file in ``artifact_files.py``, types and collections in ``artifact_collections.py``, what a
run logged or used in ``run_artifacts.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lablens.api._attrs import Attrs, html_table
from lablens.api.artifact_contents import ArtifactContents
from lablens.api.artifact_display import size_text, versions_html
from lablens.api.artifact_files import ArtifactFiles, ArtifactManifest
from lablens.api.paging import Paginator
from lablens.contract.artifact_paths import (
    LinkedVersion,
    artifact_route,
    collection_route,
)
from lablens.contract.registries import link_body
from lablens.contract.routes import run_route
from lablens.errors import UsageError
from lablens.transport import decode_floats

if TYPE_CHECKING:
    from lablens.api.api import Api
    from lablens.api.artifact_collections import ArtifactCollection
    from lablens.api.run import Run

__all__ = ["Artifact", "Artifacts"]


class Artifact(ArtifactContents, LinkedVersion, Attrs):
    """A version of an artifact: a versioned set of files (a dataset, a model, predictions)
    with its metadata, aliases and lineage.

    Get one with ``api.artifact("alice/mnist/mlp:latest")``, from ``run.logged_artifacts()``, or
    by logging a ``lablens.Artifact`` with ``run.log_artifact()``. ``description``,
    ``metadata``, ``aliases`` and ``tags`` are editable: change them and call ``save()``.

    Example:
        >>> artifact = api.artifact("alice/mnist/mlp:latest", type="model")
        >>> artifact.version, artifact.aliases, artifact.size, artifact.file_count
        >>> root = artifact.download()
        >>> artifact.verify(root)
        >>> artifact.logged_by(), artifact.used_by()
    """

    id: str | None
    """The version's id on the server."""
    entity: str
    """The workspace of its project."""
    project: str
    """The name of its project."""
    name: str
    """The artifact's name with its version, e.g. ``mlp:v3``: stable, to fetch it again."""
    version: str | None
    """``v0``, ``v1``, ... in its collection."""
    type: str
    """Its type, e.g. ``model``, ``dataset``."""
    state: str
    """``COMMITTED`` for a stored version (``PENDING`` for one not logged yet)."""
    digest: str | None
    """The sha256 of its manifest: equal digests mean equal contents."""
    size: int
    """The total size of its files in bytes, references of known size included (as W&B)."""
    file_count: int
    """How many files it has (references included)."""
    created_at: str | None
    """When the version was logged, ISO 8601 UTC."""
    updated_at: str | None
    """When it last changed, ISO 8601 UTC."""
    description: str | None
    """What it is; editable."""
    metadata: dict[str, Any]
    """Free-form facts about it (accuracy, row counts ...); editable."""
    aliases: list[str]
    """Names pointing at this version in its collection (``latest``, ``best``); editable.

    ``latest`` is kept by the server on the newest version: adding or removing it does nothing.
    """
    tags: list[str]
    """The version's tags; editable."""

    def _load(self, data: dict[str, Any]) -> None:
        self.id = data.get("id")
        self.entity = data.get("entity") or ""
        self.project = data.get("project") or ""
        self.name = data.get("name") or ""
        self.version = data.get("version")
        self.type = data.get("type") or ""
        self.state = data.get("state") or "COMMITTED"
        self.digest = data.get("digest")
        self.size = int(data.get("size") or 0)
        self.file_count = int(data.get("file_count") or 0)
        self.created_at = data.get("created_at")
        self.updated_at = data.get("updated_at")
        self.description = data.get("description")
        self.metadata = decode_floats(dict(data.get("metadata") or {}))
        self.aliases = list(data.get("aliases") or [])
        self.tags = list(data.get("tags") or [])
        self._collection_name = (data.get("collection") or {}).get("name") or (
            self.name.partition(":")[0]
        )
        self._manifest: ArtifactManifest | None = None
        self._collection: ArtifactCollection | None = None

    # -- names ----------------------------------------------------------------------------

    @property
    def qualified_name(self) -> str:
        """``entity/project/name:version``: the full name, for ``api.artifact()``."""
        return f"{self.entity}/{self.project}/{self.name}"

    @property
    def source_name(self) -> str:
        """For a link, the name of the version it points to; else ``name``."""
        source = self._attrs.get("source")
        return f"{source['collection']}:{source['version']}" if source else self.name

    @property
    def url(self) -> str:
        """The version's address in a browser."""
        return (
            f"{self._api.host}/{self.entity}/{self.project}/artifacts/{self.type}/"
            f"{self._collection_name}/{self.version}"
        )

    @property
    def collection(self) -> ArtifactCollection:
        """The collection the version belongs to (read from the server once)."""
        self._need_logged("collection")
        if self._collection is None:
            from lablens.api.artifact_collections import ArtifactCollection

            data = self._api.client.get_json(
                collection_route(self.entity, self.project, self._collection_name)
            )
            self._collection = ArtifactCollection.from_json(self._api, data)
        return self._collection

    def _route(self) -> str:
        return artifact_route(self.entity, self.project, self.id or "")

    def _need_logged(self, what: str) -> None:
        if not self.id:
            raise UsageError(
                f"{what}: artifact {self.name!r} is not logged yet;"
                " log it with run.log_artifact() first"
            )

    # -- files ----------------------------------------------------------------------------

    def files(self, names: list[str] | None = None, per_page: int = 50) -> ArtifactFiles:
        """The version's files, by path.

        Args:
            names: only files with these paths; ``None`` for all.
            per_page: files per request.

        Returns:
            A lazy ``ArtifactFiles`` of ``ArtifactManifestEntry``.

        Example:
            >>> [(f.path, f.size) for f in artifact.files()]
        """
        self._need_logged("files")
        return ArtifactFiles(self._api, self, names, per_page)

    # -- lineage --------------------------------------------------------------------------

    def logged_by(self) -> Run | None:
        """The run that logged this version, or ``None`` (logged outside a run, or that run
        was deleted).

        Example:
            >>> run = api.artifact("alice/mnist/mlp:latest").logged_by()
            >>> run.config
        """
        self._need_logged("logged_by")
        by = self._attrs.get("logged_by")
        if not by:
            return None
        from lablens.api.run import Run

        return Run.from_json(
            self._api, self._api.client.get_json(run_route(by["entity"], by["project"], by["id"]))
        )

    def used_by(self) -> list[Run]:
        """The runs that used this version (``run.use_artifact()``), in the order they did.

        Example:
            >>> [run.name for run in api.artifact("alice/mnist/digits:v0").used_by()]
        """
        self._need_logged("used_by")
        from lablens.api.run import Run

        page = self._api.client.get_json(f"{self._route()}/used_by")
        return [Run.from_json(self._api, r) for r in page.get("items", [])]

    # -- changes --------------------------------------------------------------------------

    def _reload(self, data: dict[str, Any]) -> None:
        self._attrs = dict(data)
        self._load(self._attrs)

    def save(self) -> Artifact:
        """Persists artifact changes to the server: ``description``, ``metadata``, ``aliases``
        and ``tags``.

        An alias that another version of the collection holds moves to this one.

        Returns:
            The artifact, as the server now holds it.

        Raises:
            BadRequest: an alias or tag is not allowed (``.field`` names it).

        Example:
            >>> artifact.aliases.append("best")
            >>> artifact.metadata["val_acc"] = 0.97
            >>> artifact.save()
        """
        self._need_logged("save")
        body = {
            "description": self.description,
            "metadata": self.metadata,
            "aliases": list(self.aliases),
            "tags": list(self.tags),
        }
        self._reload(self._api.client.patch_json(self._route(), body))
        return self

    def delete(self, delete_aliases: bool = False) -> None:
        """Delete this version.

        Args:
            delete_aliases: also delete its aliases. Without it, a version that has aliases
                (the newest one always has ``latest``) is not deleted.

        Raises:
            Conflict: the version has aliases and ``delete_aliases`` is false, or it is linked.

        Example:
            >>> api.artifact("alice/mnist/mlp:v0").delete()
            >>> api.artifact("alice/mnist/mlp:latest").delete(delete_aliases=True)
        """
        self._need_logged("delete")
        self._api.client.request(
            "DELETE", self._route(), params={"delete_aliases": str(bool(delete_aliases)).lower()}
        )

    def link(self, target_path: str, aliases: list[str] | None = None) -> Artifact:
        """Link this version into another collection (made if missing), without copying it.

        The link is a new version of the target collection that shows this one's files and
        lineage; it takes ``latest`` there, and ``aliases``.

        Args:
            target_path: ``entity/project/name``, ``project/name`` or ``name`` (this project);
                into a registry ``ORG/wandb-registry-NAME/collection``, or without ``ORG/``
                when one organization of yours has a registry of that name.
            aliases: aliases for the link in the target collection.

        Returns:
            The link, an ``Artifact``.

        Raises:
            Conflict: the target holds logged versions, or has another type.

        Example:
            >>> api.artifact("alice/mnist/mlp:v3").link("alice/model-registry/digits",
            ...                                           aliases=["production"])
        """
        self._need_logged("link")
        body = link_body(target_path, self.entity, self.project, aliases)
        data = self._api.client.post_json(f"{self._route()}/links", body)
        return Artifact.from_json(self._api, data)

    def wait(self, timeout: float | None = None) -> Artifact:
        """Return at once: a logged version is already committed (W&B waits for uploads)."""
        return self

    # -- display --------------------------------------------------------------------------

    def __repr__(self) -> str:
        if not self.id:
            return f"<Artifact {self.name} ({self.type}, not logged)>"
        return f"<Artifact {self.qualified_name} ({self.type})>"

    def _repr_html_(self) -> str:
        by = self._attrs.get("logged_by") or {}
        return html_table(
            [
                ("type", self.type),
                ("version", self.version),
                ("aliases", ", ".join(self.aliases)),
                ("tags", ", ".join(self.tags)),
                ("size", size_text(self.size)),
                ("files", self.file_count),
                ("description", self.description),
                ("metadata", self.metadata),
                ("logged_by", by.get("path")),
                ("created_at", self.created_at),
                ("digest", self.digest),
            ],
            title=f"Artifact {self.qualified_name if self.id else self.name}",
        )


class Artifacts(Paginator[Artifact]):
    """The versions of one collection, newest first, read lazily page by page.

    Returned by ``api.artifacts(type_name, name)`` and ``ArtifactCollection.artifacts()``.

    Example:
        >>> versions = api.artifacts("model", "alice/mnist/mlp")
        >>> len(versions), versions[0].version, versions[0].aliases
    """

    def __init__(
        self,
        api: Api,
        entity: str,
        project: str,
        collection: str,
        type_name: str | None = None,
        *,
        per_page: int = 50,
        tags: list[str] | None = None,
    ) -> None:
        super().__init__(api, per_page)
        self.entity = entity
        self.project = project
        self.collection = collection
        self.type_name = type_name
        self.tags = list(tags or [])

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        route = collection_route(self.entity, self.project, self.collection) + "/versions"
        return self._get_page(route, cursor, limit, type=self.type_name, tags=self.tags)

    def _convert(self, item: dict[str, Any]) -> Artifact:
        return Artifact.from_json(self._api, item)

    def __repr__(self) -> str:
        return f"<Artifacts {self.entity}/{self.project}/{self.collection}>"

    def _repr_html_(self) -> str:
        return versions_html(
            f"{self.entity}/{self.project}/{self.collection}", self[:20], len(self)
        )
