"""The files of an artifact version: its manifest, each entry, and downloading them checked.

Every stored file is named in the manifest by its path, size and sha256; a download is written
beside its final name, its sha256 compared with the manifest, and only then renamed, so neither
a cut connection nor a corrupted transfer leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lablens import _artifact_names as rules
from lablens.api._artifact_paths import artifact_route, file_route
from lablens.api._attrs import Attrs
from lablens.api.paging import Paginator
from lablens.errors import LablensError

if TYPE_CHECKING:
    from lablens.api.api import Api
    from lablens.api.artifacts import Artifact

__all__ = ["ArtifactFiles", "ArtifactManifest", "ArtifactManifestEntry"]

_CHUNK = 1 << 20


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The sha256 of a local file, hex, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def local_target(root: str | os.PathLike[str], path: str) -> Path:
    """Where a manifest path lands under ``root``; never outside it, whatever the manifest says."""
    try:
        rules.check_path(path)
    except ValueError as exc:
        raise LablensError(f"the server sent an unsafe path: {exc}") from None
    return Path(root) / path


class ArtifactManifestEntry(Attrs):
    """One file of an artifact version: a path, the sha256 and size of its content, or a
    reference to content kept elsewhere.

    Get one with ``artifact.get_entry("model.npz")``, or iterate ``artifact.files()``.

    Example:
        >>> entry = api.artifact("alice/mnist/mlp:latest").get_entry("model.npz")
        >>> entry.path, entry.size, entry.digest
        >>> entry.download(root="weights")
    """

    path: str
    """The file's path inside the artifact, e.g. ``weights/model.npz``."""
    digest: str | None
    """The sha256 of its content, hex (``None`` for a reference without one)."""
    size: int | None
    """Its size in bytes (``None`` for a reference without one)."""
    ref: str | None
    """For a reference, the URI it points to (``s3://...``, ``file://...``); else ``None``."""
    mimetype: str | None
    """The content type, e.g. ``application/vnd.apache.parquet``."""

    def __init__(
        self,
        api: Api | None,
        attrs: dict[str, Any] | None = None,
        *,
        artifact: Artifact | None = None,
    ) -> None:
        self._artifact = artifact
        super().__init__(api, attrs)  # type: ignore[arg-type]

    def _load(self, data: dict[str, Any]) -> None:
        self.path = data.get("path") or ""
        self.digest = data.get("digest")
        size = data.get("size")
        self.size = None if size is None else int(size)
        self.ref = data.get("ref")
        self.mimetype = data.get("mimetype")

    @property
    def name(self) -> str:
        """The path, under the name W&B's files use."""
        return self.path

    @property
    def is_reference(self) -> bool:
        """Whether the content is kept elsewhere (only its URI is stored)."""
        return self.ref is not None

    def ref_target(self) -> str | None:
        """The URI a reference points to, as W&B's ``ref_target()``; ``None`` for a file."""
        return self.ref

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
        if not skip_cache and target.is_file() and self.digest and sha256_of(target) == self.digest:
            return str(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        h = hashlib.sha256()
        response = self._api.client.request("GET", self._route(), stream=True)
        try:
            with response, partial.open("wb") as out:
                for chunk in response.iter_content(_CHUNK):
                    h.update(chunk)
                    out.write(chunk)
            if self.digest and h.hexdigest() != self.digest:
                raise LablensError(
                    f"{self.path}: the downloaded content has sha256 {h.hexdigest()}, not"
                    f" {self.digest} as the manifest says; nothing was written"
                )
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return str(target)

    def __repr__(self) -> str:
        if self.ref is not None:
            return f"<ArtifactManifestEntry {self.path} -> {self.ref}>"
        return f"<ArtifactManifestEntry {self.path} ({self.size} bytes)>"


class ArtifactManifest:
    """Every file of an artifact version: ``entries`` maps each path to its entry.

    Example:
        >>> manifest = api.artifact("alice/mnist/mlp:v3").manifest
        >>> len(manifest), list(manifest.entries)
    """

    def __init__(self, entries: dict[str, ArtifactManifestEntry], digest: str | None = None):
        #: Each path in the artifact to its ``ArtifactManifestEntry``, sorted by path.
        self.entries = entries
        #: The digest of the whole version (sha256 over its entries).
        self.digest = digest

    def get_entry_by_path(self, path: str) -> ArtifactManifestEntry | None:
        """The entry at ``path``, or ``None``."""
        return self.entries.get(path)

    def to_manifest_json(self) -> dict[str, Any]:
        """The manifest as JSON: ``{"digest", "contents": {path: {digest, size, ref}}}``."""
        return {
            "digest": self.digest,
            "contents": {
                p: {
                    k: v
                    for k, v in (("digest", e.digest), ("size", e.size), ("ref", e.ref))
                    if v is not None
                }
                for p, e in self.entries.items()
            },
        }

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[ArtifactManifestEntry]:
        return iter(self.entries.values())

    def __repr__(self) -> str:
        return f"<ArtifactManifest {len(self.entries)} files>"


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
