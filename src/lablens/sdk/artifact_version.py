"""A ``lablens.Artifact`` once logged (or returned by ``run.use_artifact``): the stored version.

It speaks to the server over HTTP (``lablens.transport``) with the routes of the client contract,
as the ``Api``'s ``Artifact`` does, without importing the ``Api``: its files (``manifest``,
``get_entry``), a checked local copy (``download``, ``checkout``, ``verify``, ``file``) and the
changes training code makes (``save``, ``link``, ``delete``). Lineage (``logged_by``,
``used_by``) and tables (``get``) are the ``Api``'s: ``lablens.Api().artifact(a.qualified_name)``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from lablens.contract.artifact_paths import (
    LinkedVersion,
    artifact_route,
    file_route,
)
from lablens.contract.manifest import (
    CHUNK,
    ArtifactManifest,
    ManifestEntry,
    is_current,
    local_target,
    prune_copy,
    verify_copy,
    write_checked,
)
from lablens.contract.registries import link_body
from lablens.errors import UsageError
from lablens.transport import decode_floats

if TYPE_CHECKING:
    from lablens.sdk.artifacts import Artifact
    from lablens.transport import Transport

__all__ = ["StoredVersion"]

# Where download() puts an artifact when no root is given, as W&B does.
ARTIFACT_DIR = "artifacts"


class StoredVersion(LinkedVersion):
    """The stored-version half of ``lablens.Artifact``. A mixin, so ``artifacts.py`` stays the
    size of one resource."""

    _http: Transport | None
    _attrs: dict[str, Any]
    _manifest: ArtifactManifest | None

    def _load(self, data: dict[str, Any]) -> None:
        self._attrs = dict(data)
        self.id: str | None = data.get("id")
        self.entity: str = data.get("entity") or ""
        self.project: str = data.get("project") or ""
        self.name: str = data.get("name") or ""
        self.version: str | None = data.get("version")
        self.type: str = data.get("type") or ""
        self.state: str = data.get("state") or "COMMITTED"
        self.digest: str | None = data.get("digest")
        self.size = int(data.get("size") or 0)
        self.file_count = int(data.get("file_count") or 0)
        self.created_at: str | None = data.get("created_at")
        self.updated_at: str | None = data.get("updated_at")
        self.description: str | None = data.get("description")
        self.metadata: dict[str, Any] = decode_floats(dict(data.get("metadata") or {}))
        self.aliases: list[str] = list(data.get("aliases") or [])
        self.tags: list[str] = list(data.get("tags") or [])
        self._manifest = None

    @classmethod
    def _stored(cls, http: Transport, data: dict[str, Any]) -> Artifact:
        """The stored version the server answered, as a ``lablens.Artifact``."""
        artifact = cls.__new__(cls)
        artifact._staged = {}
        artifact._http = http
        artifact._load(data)
        return artifact  # type: ignore[return-value]

    # -- names ----------------------------------------------------------------------------

    @property
    def qualified_name(self) -> str:
        """``entity/project/name:version``: the full name, for ``api.artifact()``."""
        return f"{self.entity}/{self.project}/{self.name}"

    def _route(self) -> str:
        return artifact_route(self.entity, self.project, self.id or "")

    def _need_logged(self, what: str) -> Transport:
        if not self.id or self._http is None:
            raise UsageError(
                f"{what}: artifact {self.name!r} is not logged yet;"
                " log it with run.log_artifact() first"
            )
        return self._http

    def _default_root(self) -> str:
        return os.path.join(".", ARTIFACT_DIR, self.name)

    # -- files ----------------------------------------------------------------------------

    def _stored_manifest(self) -> ArtifactManifest:
        """Every file of the stored version, read from the server once."""
        if self._manifest is None:
            http = self._need_logged("manifest")
            entries: dict[str, ManifestEntry] = {}
            params: dict[str, Any] = {"limit": 10000}
            while True:  # pages of {"items", "next"}, as every list of the server
                page = http.get_json(f"{self._route()}/files", params=params)
                items = page.get("items") or []
                entries.update((item["path"], ManifestEntry(item)) for item in items)
                if not page.get("next") or not items:
                    break
                params["cursor"] = page["next"]
            self._manifest = ArtifactManifest(entries, self.digest)
        return self._manifest

    def _download_entry(self, entry: ManifestEntry, root: str, skip_cache: bool | None) -> str:
        target = local_target(root, entry.path)
        if not skip_cache and is_current(target, entry):
            return str(target)
        http = self._need_logged("download")
        route = file_route(self.entity, self.project, self.id or "", entry.path)
        with http.request("GET", route, stream=True) as response:
            write_checked(response.iter_content(CHUNK), target, entry)
        return str(target)

    def download(
        self,
        root: str | os.PathLike[str] | None = None,
        allow_missing_references: bool = False,
        skip_cache: bool | None = None,
        path_prefix: str | None = None,
    ) -> str:
        """Download the artifact's files into ``root``, each checked against its sha256.

        Files already there with the right content are not fetched again.

        Args:
            root: the directory; by default ``./artifacts/<name>/``, as W&B.
            allow_missing_references: accepted for W&B; references are never downloaded.
            skip_cache: download every file even when the local copy is already right.
            path_prefix: only the files whose path starts with this.

        Returns:
            The path to the downloaded contents.

        Example:
            >>> root = run.use_artifact("digits:latest").download()
        """
        self._need_logged("download")
        root = str(root) if root is not None else self._default_root()
        os.makedirs(root, exist_ok=True)
        for entry in self._stored_manifest():
            if entry.ref is None and (not path_prefix or entry.path.startswith(path_prefix)):
                self._download_entry(entry, root, skip_cache)
        return root

    def checkout(self, root: str | os.PathLike[str] | None = None) -> str:
        """Replace the contents of ``root`` with the artifact's files.

        Warning: every file in ``root`` that is not in the artifact is deleted.

        Returns:
            The path of the checked out contents.
        """
        self._need_logged("checkout")
        root = str(root) if root is not None else self._default_root()
        prune_copy(root, {e.path for e in self._stored_manifest()})
        return self.download(root)

    def file(self, root: str | os.PathLike[str] | None = None) -> str:
        """Download a single file artifact into ``root``; returns the file's path.

        Raises:
            ValueError: the artifact has more than one file (or none).
        """
        self._need_logged("file")
        if self.file_count != 1:
            raise ValueError(
                f"artifact {self.qualified_name} has {self.file_count} files;"
                " file() is for an artifact of one file: use download()"
            )
        root = str(root) if root is not None else self._default_root()
        return self._download_entry(next(iter(self._stored_manifest())), root, None)

    def verify(self, root: str | os.PathLike[str] | None = None) -> None:
        """Verify that a downloaded copy matches the artifact's manifest (references aside).

        Raises:
            ValueError: the message names every file missing, changed, or not in the artifact.
        """
        self._need_logged("verify")
        root = str(root) if root is not None else self._default_root()
        verify_copy(self._stored_manifest(), root, self.qualified_name)

    # -- changes --------------------------------------------------------------------------

    def save(self) -> Artifact:
        """Save changes of ``description``, ``metadata``, ``aliases`` and ``tags``.

        Returns:
            The artifact, as the server now holds it.
        """
        http = self._need_logged("save")
        body = {
            "description": self.description,
            "metadata": self.metadata,
            "aliases": list(self.aliases),
            "tags": list(self.tags),
        }
        self._load(http.patch_json(self._route(), body))
        return self  # type: ignore[return-value]

    def delete(self, delete_aliases: bool = False) -> None:
        """Delete this version (with ``delete_aliases``, even when it has aliases).

        Raises:
            Conflict: the version has aliases and ``delete_aliases`` is false, or it is linked.
        """
        http = self._need_logged("delete")
        params = {"delete_aliases": str(bool(delete_aliases)).lower()}
        http.request("DELETE", self._route(), params=params)

    def link(self, target_path: str, aliases: list[str] | None = None) -> Artifact:
        """Link this version into another collection (made if missing), without copying it.

        Args:
            target_path: ``entity/project/name``, ``project/name`` or ``name`` (this project).
            aliases: aliases for the link in the target collection.

        Returns:
            The link, a version of the target collection.

        Raises:
            Conflict: the target holds logged versions, or has another type.
        """
        http = self._need_logged("link")
        body = link_body(target_path, self.entity, self.project, aliases)
        return self._stored(http, http.post_json(f"{self._route()}/links", body))

    def wait(self, timeout: float | None = None) -> Artifact:
        """Return at once: a logged version is already committed (W&B waits for uploads)."""
        return self  # type: ignore[return-value]
