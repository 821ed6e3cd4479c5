"""An artifact's contents: its manifest, one file or table read back, and its local copy
(downloading its files into a directory, replacing a directory's contents with them, verifying a
directory against the manifest).

A part of ``Artifact`` (``artifacts.py``), which is the resource itself: names, metadata,
lineage and changes. Each file is fetched and checked by its manifest entry
(``artifact_files.py``).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from lablens.api.artifact_files import ArtifactManifest, local_target, sha256_of

if TYPE_CHECKING:
    import pandas as pd

    from lablens.api.artifact_files import ArtifactFiles, ArtifactManifestEntry

__all__ = ["ARTIFACT_DIR", "ArtifactContents"]

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


class ArtifactContents:
    """``Artifact.manifest``, ``get_entry()``, ``get_path()``, ``get()``, ``download()``,
    ``checkout()``, ``file()`` and ``verify()``."""

    if TYPE_CHECKING:
        name: str
        digest: str | None
        file_count: int
        _manifest: ArtifactManifest | None

        @property
        def qualified_name(self) -> str: ...

        def _need_logged(self, what: str) -> None: ...

        def files(self, names: list[str] | None = None, per_page: int = 50) -> ArtifactFiles: ...

    @property
    def manifest(self) -> ArtifactManifest:
        """Every file of the version (read from the server once): ``manifest.entries`` maps
        each path to its ``ArtifactManifestEntry``."""
        if self._manifest is None:
            self._need_logged("manifest")
            entries = {e.path: e for e in self.files(per_page=10000)}
            self._manifest = ArtifactManifest(entries, self.digest)
        return self._manifest

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

    # -- the local copy ---------------------------------------------------------------

    def _default_root(self) -> str:
        return os.path.join(".", ARTIFACT_DIR, self.name)

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
