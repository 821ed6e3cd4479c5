"""The files of an artifact version: its manifest, each entry, and downloading them checked.

Every stored file is named in the manifest by its path, size and sha256; a download is written
beside its final name, its sha256 compared with the manifest, and only then renamed, so neither
a cut connection nor a corrupted transfer leaves a file that looks complete. The manifest types
and those checks are the client contract's (``lablens.contract.manifest``), shared with the SDK;
here an entry learns to fetch its content from the server.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lablens import _artifact_names as rules
from lablens.api._artifact_paths import artifact_route, file_route
from lablens.api._attrs import Attrs
from lablens.api.paging import Paginator
from lablens.contract.manifest import (
    CHUNK,
    ArtifactManifest,
    ManifestEntry,
    is_current,
    sha256_of,
    write_checked,
)
from lablens.contract.manifest import local_target as _local_target
from lablens.errors import LablensError

if TYPE_CHECKING:
    from lablens.api.api import Api
    from lablens.api.artifacts import Artifact

# The manifest and the local-copy helpers are the client contract's, shared with the SDK;
# ``local_target`` and ``sha256_of`` are imported from here by the Artifact resource.
__all__ = [
    "ArtifactFiles",
    "ArtifactManifest",
    "ArtifactManifestEntry",
    "local_target",
    "sha256_of",
]


def local_target(root: str | os.PathLike[str], path: str) -> Path:
    """Where a manifest path lands under ``root``; never outside it, whatever the manifest says."""
    return _local_target(root, path, check_path=rules.check_path)


class ArtifactManifestEntry(ManifestEntry, Attrs):
    """One file of an artifact version: a path, the sha256 and size of its content, or a
    reference to content kept elsewhere.

    Get one with ``artifact.get_entry("model.npz")``, or iterate ``artifact.files()``.

    Example:
        >>> entry = api.artifact("alice/mnist/mlp:latest").get_entry("model.npz")
        >>> entry.path, entry.size, entry.digest
        >>> entry.download(root="weights")
    """

    def __init__(
        self,
        api: Api | None,
        attrs: dict[str, Any] | None = None,
        *,
        artifact: Artifact | None = None,
    ) -> None:
        self._artifact = artifact
        Attrs.__init__(self, api, attrs)  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        """The address the content is downloaded from (needs the API key)."""
        return self._api.host + self._route()

    def _route(self) -> str:
        if self._artifact is None or self._api is None:
            raise LablensError(f"{self.path}: this entry belongs to no logged artifact")
        a = self._artifact
        return file_route(a.entity, a.project, a.id, self.path)

    def read(self) -> bytes:
        """The file's content, whole, in memory; for large files use ``download()``.

        Returns:
            The bytes, checked against the manifest's sha256.

        Raises:
            ValueError: the entry is a reference, whose content is not on the server.
            LablensError: what arrived does not match the manifest.

        Example:
            >>> text = artifact.get_entry("README.md").read().decode()
        """
        if self.ref is not None:
            raise ValueError(f"{self.path} is a reference to {self.ref}; it has no stored content")
        data = self._api.client.request("GET", self._route()).content
        if self.digest and hashlib.sha256(data).hexdigest() != self.digest:
            raise LablensError(f"{self.path}: the content received does not match its sha256")
        return data

    def download(
        self, root: str | os.PathLike[str] | None = None, skip_cache: bool | None = None
    ) -> str:
        """Download the file to ``root`` under its path in the artifact.

        A file already there with the right sha256 is kept as it is (pass
        ``skip_cache=True`` to fetch it anyway).

        Args:
            root: the folder; by default the artifact's own (``./artifacts/<name>``).
            skip_cache: download even when the local file is already right.

        Returns:
            The path of the local file.

        Raises:
            ValueError: the entry is a reference, whose content is not on the server.
            LablensError: the downloaded bytes do not match the manifest (nothing is left).

        Example:
            >>> path = artifact.get_entry("model.npz").download("weights")
        """
        if self.ref is not None:
            raise ValueError(f"{self.path} is a reference to {self.ref}; it has no stored content")
        if root is None:
            root = self._artifact._default_root() if self._artifact else "."
        target = local_target(root, self.path)
        if not skip_cache and is_current(target, self):
            return str(target)
        response = self._api.client.request("GET", self._route(), stream=True)
        with response:
            write_checked(response.iter_content(CHUNK), target, self)
        return str(target)


class ArtifactFiles(Paginator[ArtifactManifestEntry]):
    """The files of an artifact version, read lazily page by page, by path.

    Returned by ``artifact.files()``.

    Example:
        >>> for f in api.artifact("alice/mnist/mlp:latest").files():
        ...     print(f.path, f.size)
    """

    def __init__(
        self, api: Api, artifact: Artifact, names: list[str] | None = None, per_page: int = 50
    ) -> None:
        super().__init__(api, per_page)
        self.artifact = artifact
        self.names = list(names or [])

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if self.names:
            params["names"] = self.names
        if cursor:
            params["cursor"] = cursor
        a = self.artifact
        return self._api.client.get_json(
            f"{artifact_route(a.entity, a.project, a.id)}/files", params=params
        )

    def _convert(self, item: dict[str, Any]) -> ArtifactManifestEntry:
        return ArtifactManifestEntry(self._api, item, artifact=self.artifact)

    def __repr__(self) -> str:
        return f"<ArtifactFiles {self.artifact.qualified_name}>"
