"""``Artifact``: one stored version of a dataset, model or result, with its files and lineage.

Also ``Artifacts``, the versions of a collection. The files themselves are in
``artifact_files.py``, types and collections in ``artifact_collections.py``, what a run logged or
used in ``run_artifacts.py``.
"""

from __future__ import annotations

import html
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lablens.api._artifact_paths import artifact_route, collection_route, parse_artifact_name
from lablens.api._attrs import Attrs, html_table
from lablens.api.artifact_files import (
    ArtifactFiles,
    ArtifactManifest,
    ArtifactManifestEntry,
    local_target,
    sha256_of,
)
from lablens.api.paging import Paginator
from lablens.contract.routes import run_route
from lablens.errors import UsageError
from lablens.transport import decode_floats

if TYPE_CHECKING:
    import pandas as pd

    from lablens.api.api import Api
    from lablens.api.artifact_collections import ArtifactCollection
    from lablens.api.runs import Run

__all__ = ["Artifact", "Artifacts"]

# Where download() puts an artifact when no root is given, as W&B does.
ARTIFACT_DIR = "artifacts"


def _local_files(root: str) -> list[str]:
    """Every file under ``root``, as ``/``-separated paths relative to it."""
    out = []
    for dirpath, _, filenames in os.walk(root):
        for filename in filenames:
            rel = os.path.relpath(os.path.join(dirpath, filename), root)
            out.append(Path(rel).as_posix())
    return out


def _size(n: int | None) -> str:
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(n)


class Artifact(Attrs):
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
    def source_qualified_name(self) -> str:
        """For a link, the qualified name of the version it points to; else ``qualified_name``."""
        source = self._attrs.get("source")
        return source["qualified_name"] if source else self.qualified_name

    @property
    def is_link(self) -> bool:
        """Whether this version is a link (made by ``link()``) to a version logged elsewhere."""
        return bool(self._attrs.get("is_link"))

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

    def _default_root(self) -> str:
        return os.path.join(".", ARTIFACT_DIR, self.name)

    # -- files ----------------------------------------------------------------------------

    @property
    def manifest(self) -> ArtifactManifest:
        """Every file of the version (read from the server once): ``manifest.entries`` maps
        each path to its ``ArtifactManifestEntry``."""
        if self._manifest is None:
            self._need_logged("manifest")
            entries = {e.path: e for e in ArtifactFiles(self._api, self, per_page=10000)}
            self._manifest = ArtifactManifest(entries, self.digest)
        return self._manifest

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

    def get_entry(self, name: str) -> ArtifactManifestEntry:
        """The manifest entry of one file.

        Args:
            name: the file's path inside the artifact.

        Returns:
            The ``ArtifactManifestEntry``.

        Raises:
            KeyError: the artifact has no such file (as in W&B).

        Example:
            >>> artifact.get_entry("model.npz").size
        """
        if self._manifest is not None:
            found = self._manifest.entries.get(name)
        else:
            found = next((e for e in self.files([name], per_page=1) if e.path == name), None)
        if found is None:
            raise KeyError(f"artifact {self.qualified_name} has no file {name!r}")
        return found

    def get_path(self, name: str) -> ArtifactManifestEntry:
        """The entry of one file, as ``get_entry()`` (the older W&B name)."""
        return self.get_entry(name)

    def get(self, name: str) -> pd.DataFrame:
        """A table added with ``Artifact.add(df, name)``, read back as a DataFrame.

        Args:
            name: the name it was added under (``predictions`` or ``predictions.parquet``);
                a ``.csv`` file is read too.

        Returns:
            The table as a pandas DataFrame.

        Raises:
            KeyError: no such table in the artifact.
            ValueError: the file is not a table.

        Example:
            >>> df = api.artifact("alice/mnist/val-predictions:latest").get("predictions")
        """
        import pandas as pd

        path = name
        if not name.endswith((".parquet", ".csv")):
            try:
                self.get_entry(f"{name}.parquet")
                path = f"{name}.parquet"
            except KeyError:
                pass
        data = io.BytesIO(self.get_entry(path).read())
        if path.endswith(".parquet"):
            return pd.read_parquet(data)
        if path.endswith(".csv"):
            return pd.read_csv(data)
        raise ValueError(
            f"{path} is not a table (.parquet or .csv); use"
            f" get_entry({path!r}).download() for other files"
        )

    def download(
        self,
        root: str | os.PathLike[str] | None = None,
        allow_missing_references: bool = False,
        skip_cache: bool | None = None,
        path_prefix: str | None = None,
    ) -> str:
        """Download the artifact's files into ``root``.

        Each file is checked against its sha256 as it arrives and written under its name only
        then; files already there with the right content are not fetched again.

        Args:
            root: directory to download the artifact to; by default
                ``./artifacts/<name>/``, as W&B.
            allow_missing_references: accepted for W&B; references are never downloaded (only
                their URIs are stored).
            skip_cache: download every file even when the local copy is already right.
            path_prefix: only the files whose path starts with this.

        Returns:
            The path to the downloaded contents.

        Example:
            >>> root = api.artifact("alice/mnist/mlp:best").download("weights")
        """
        self._need_logged("download")
        root = str(root) if root is not None else self._default_root()
        os.makedirs(root, exist_ok=True)
        for entry in self.manifest:
            if entry.ref is not None:
                continue
            if path_prefix and not entry.path.startswith(path_prefix):
                continue
            entry.download(root, skip_cache=skip_cache)
        return root

    def checkout(self, root: str | os.PathLike[str] | None = None) -> str:
        """Replace the contents of ``root`` with the artifact's files.

        Warning: every file in ``root`` that is not in the artifact is deleted.

        Args:
            root: the directory; by default ``./artifacts/<name>/``.

        Returns:
            The path of the checked out contents.

        Example:
            >>> artifact.checkout("data/digits")
        """
        self._need_logged("checkout")
        root = str(root) if root is not None else self._default_root()
        keep = {e.path for e in self.manifest}
        for rel in _local_files(root):
            if rel not in keep:
                os.remove(os.path.join(root, rel))
        if os.path.isdir(root):
            for dirpath, _, _ in os.walk(root, topdown=False):
                if dirpath != root and not os.listdir(dirpath):
                    os.rmdir(dirpath)
        return self.download(root)

    def file(self, root: str | os.PathLike[str] | None = None) -> str:
        """Download a single file artifact to dir specified by the ``root``.

        Args:
            root: directory to download the file to; by default ``./artifacts/<name>/``.

        Returns:
            The full path of the downloaded file.

        Raises:
            ValueError: the artifact has more than one file (or none).

        Example:
            >>> path = api.artifact("alice/mnist/config:latest").file()
        """
        self._need_logged("file")
        if self.file_count != 1:
            raise ValueError(
                f"artifact {self.qualified_name} has {self.file_count} files;"
                " file() is for an artifact of one file: use download()"
            )
        entry = next(iter(self.manifest))
        return entry.download(root)

    def verify(self, root: str | os.PathLike[str] | None = None) -> None:
        """Verify that a downloaded copy matches the artifact's manifest.

        All files in the directory are checksummed (sha256) and the checksums are then
        cross-referenced against the artifact's manifest. References are not verified.

        Args:
            root: the directory to verify; by default ``./artifacts/<name>/``.

        Raises:
            ValueError: the verification failed; the message names every file that is
                missing, changed, or not part of the artifact.

        Example:
            >>> root = artifact.download()
            >>> artifact.verify(root)
        """
        self._need_logged("verify")
        root = str(root) if root is not None else self._default_root()
        problems: list[str] = []
        paths = set()
        for entry in self.manifest:
            paths.add(entry.path)
            if entry.ref is not None:
                continue
            local = local_target(root, entry.path)
            if not local.is_file():
                problems.append(f"{entry.path}: missing")
            elif entry.size is not None and local.stat().st_size != entry.size:
                problems.append(
                    f"{entry.path}: changed ({local.stat().st_size} bytes, expected {entry.size})"
                )
            elif sha256_of(local) != entry.digest:
                problems.append(f"{entry.path}: content changed (sha256 differs)")
        problems += [
            f"{rel}: not in the artifact" for rel in _local_files(root) if rel not in paths
        ]
        if problems:
            raise ValueError(
                f"{root} does not match {self.qualified_name}: " + "; ".join(sorted(problems))
            )

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
        from lablens.api.runs import Run

        return Run.from_json(
            self._api, self._api.client.get_json(run_route(by["entity"], by["project"], by["id"]))
        )

    def used_by(self) -> list[Run]:
        """The runs that used this version (``run.use_artifact()``), in the order they did.

        Example:
            >>> [run.name for run in api.artifact("alice/mnist/digits:v0").used_by()]
        """
        self._need_logged("used_by")
        from lablens.api.runs import Run

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
            target_path: ``entity/project/name``, ``project/name`` or ``name`` (this project).
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
        target = parse_artifact_name(target_path, self.entity, self.project, what="link target")
        if target.version:
            raise UsageError(f"link target {target_path!r} must not name a version")
        data = self._api.client.post_json(
            f"{self._route()}/links",
            {
                "entity": target.entity,
                "project": target.project,
                "name": target.name,
                "aliases": list(aliases or []),
            },
        )
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
                ("size", _size(self.size)),
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
        params: dict[str, Any] = {"limit": limit}
        if self.type_name:
            params["type"] = self.type_name
        if self.tags:
            params["tags"] = self.tags
        if cursor:
            params["cursor"] = cursor
        route = collection_route(self.entity, self.project, self.collection) + "/versions"
        return self._api.client.get_json(route, params=params)

    def _convert(self, item: dict[str, Any]) -> Artifact:
        return Artifact.from_json(self._api, item)

    def __repr__(self) -> str:
        return f"<Artifacts {self.entity}/{self.project}/{self.collection}>"

    def _repr_html_(self) -> str:
        return _versions_html(
            f"{self.entity}/{self.project}/{self.collection}", self[:20], len(self)
        )


def _versions_html(title: str, shown: list[Artifact], total: int) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("name", "type", "aliases", "size", "created_at"))
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v or ''))}</td>"
            for v in (a.name, a.type, ", ".join(a.aliases), _size(a.size), a.created_at)
        )
        + "</tr>"
        for a in shown
    )
    more = f"<tr><td colspan=5>… {total - len(shown)} more</td></tr>" if total > len(shown) else ""
    return (
        f"<div class='lablens'><b>Artifacts {html.escape(title)}</b> ({total})"
        f"<table><tr>{head}</tr>{rows}{more}</table></div>"
    )
