"""Filling a ``lablens.Artifact`` before it is logged: ``add_file``, ``add_dir``, ``add``,
``add_reference``, ``new_file``, ``remove``.

Each added file becomes a manifest entry (``lablens.contract.manifest``) with its sha256 and
size, plus where its bytes are read from when logging: a copy in the artifact's own temporary
folder (``policy="mutable"``, tables, ``new_file``) or the file itself (``"immutable"``).
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import shutil
import tempfile
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from lablens import _artifact_names as rules
from lablens.contract.manifest import ManifestEntry, hash_file
from lablens.errors import UsageError

__all__ = ["ArtifactContents"]

PARQUET = "application/vnd.apache.parquet"


@dataclass
class Staged:
    """A file of an artifact being built: its entry, and where its bytes are read from when
    uploading (``None`` for a reference)."""

    entry: ManifestEntry
    local: Path | None = None


def checked(check: Any, value: Any, field: str) -> Any:
    """``check(value)``, its ``ValueError`` turned into a ``UsageError`` naming ``field``."""
    try:
        return check(value)
    except ValueError as exc:
        raise UsageError(str(exc), field=field) from None


def _entry(path: str, digest: str | None, size: int | None, **more: str | None) -> ManifestEntry:
    return ManifestEntry({"path": path, "digest": digest, "size": size, **more})


class ArtifactContents:
    """The ``add`` methods of ``lablens.Artifact``. A mixin, so ``artifacts.py`` stays the size
    of one resource."""

    if TYPE_CHECKING:
        id: str | None
        name: str
        qualified_name: str

    _staged: dict[str, Staged]
    _staging: Path | None = None
    _cleanup: weakref.finalize | None = None

    def _writable(self, what: str) -> None:
        if self.id:
            raise UsageError(
                f"{what}: artifact {self.qualified_name} is logged and cannot"
                " change; make a new lablens.Artifact for a new version"
            )

    def _stage(self) -> Path:
        """The artifact's own temporary folder (copies, tables), removed once it is logged or
        garbage-collected."""
        if self._staging is None:
            self._staging = Path(tempfile.mkdtemp(prefix="lablens-artifact-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._staging, ignore_errors=True)
        return self._staging

    def _unstage(self) -> None:
        """Forget the added files and remove the temporary folder (once logged)."""
        self._staged = {}
        if self._cleanup is not None:
            self._cleanup()
            self._staging = self._cleanup = None

    def _put(self, entry: ManifestEntry, local: Path | None, overwrite: bool) -> ManifestEntry:
        if entry.path in self._staged and not overwrite:
            raise UsageError(
                f"artifact {self.name!r} already has a file at {entry.path!r};"
                " pass overwrite=True to replace it",
                field="name",
            )
        self._staged[entry.path] = Staged(entry, local)
        return entry

    def add_file(
        self,
        local_path: str | os.PathLike[str],
        name: str | None = None,
        is_tmp: bool | None = False,
        skip_cache: bool | None = False,
        policy: str = "mutable",
        overwrite: bool = False,
    ) -> ManifestEntry:
        """Add a local file to the artifact.

        Args:
            local_path: the file to add.
            name: its path inside the artifact (``/``-separated, relative, no ``..``); by
                default the file's name.
            is_tmp: accepted for W&B; the name is kept as given.
            skip_cache: accepted for W&B.
            policy: ``"mutable"`` (default) copies the file now, so changing it afterwards
                does not change the artifact; ``"immutable"`` reads it when logging, without a
                copy (it must not change meanwhile: the server would refuse it).
            overwrite: replace a file already added under ``name``.

        Returns:
            The added entry.

        Raises:
            UsageError: ``name`` is absolute or climbs out with ``..``, is taken, or the artifact
                is already logged (a ``ValueError`` too).
            FileNotFoundError: there is no such file.

        Example:
            >>> artifact.add_file("out/model.npz", name="weights/model.npz")
        """
        self._writable("add_file")
        if policy not in ("mutable", "immutable"):
            raise UsageError(
                f"policy must be 'mutable' or 'immutable', not {policy!r}", field="policy"
            )
        local = Path(local_path)
        if not local.exists():
            raise FileNotFoundError(f"no such file: {local}")
        if not local.is_file():
            raise UsageError(
                f"{local} is not a file; use add_dir() for a folder", field="local_path"
            )
        path = checked(rules.check_path, name if name is not None else local.name, "name")
        if policy == "mutable":
            copy = self._stage() / uuid.uuid4().hex
            digest, size = hash_file(local, copy)
            local = copy
        else:
            digest, size = hash_file(local)
        entry = _entry(path, digest, size, mimetype=mimetypes.guess_type(path)[0])
        return self._put(entry, local, overwrite)

    def add_dir(
        self,
        local_path: str | os.PathLike[str],
        name: str | None = None,
        skip_cache: bool | None = False,
        policy: str = "mutable",
    ) -> None:
        """Add every file under a local folder, keeping their relative paths.

        Args:
            local_path: the folder.
            name: a folder inside the artifact to put them in; by default its top.
            skip_cache: accepted for W&B.
            policy: as for ``add_file()``.

        Raises:
            UsageError: ``local_path`` is not a folder, or ``name`` is not an allowed path.

        Example:
            >>> artifact.add_dir("data/images", name="images")
        """
        self._writable("add_dir")
        root = Path(local_path)
        if not root.is_dir():
            raise UsageError(
                f"{root} is not a folder; use add_file() for a file", field="local_path"
            )
        prefix = ""
        if name:
            prefix = checked(rules.check_path, name.rstrip("/"), "name") + "/"
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for filename in sorted(filenames):
                local = Path(dirpath) / filename
                rel = local.relative_to(root).as_posix()
                self.add_file(local, name=prefix + rel, policy=policy, overwrite=True)

    def add(self, obj: Any, name: str, overwrite: bool = False) -> ManifestEntry:
        """Add a table: a pandas DataFrame (or pyarrow Table), stored as Parquet.

        Read it back with ``api.artifact(...).get(name)``.

        Args:
            obj: the DataFrame or Table.
            name: its name in the artifact; ``.parquet`` is appended when missing.
            overwrite: replace a table already added under that name.

        Returns:
            The added entry (path ``<name>.parquet``).

        Raises:
            UsageError: ``obj`` is not a table, or ``name`` is not an allowed path.

        Example:
            >>> artifact.add(predictions_df, "predictions")
        """
        self._writable("add")
        import pyarrow as pa
        import pyarrow.parquet as pq

        checked(rules.check_path, name, "name")
        path = name if name.endswith(".parquet") else f"{name}.parquet"
        import pandas as pd

        if isinstance(obj, pa.Table):
            table = obj
        elif isinstance(obj, pd.DataFrame):
            table = pa.Table.from_pandas(obj)
        else:
            raise UsageError(
                f"add() takes a pandas DataFrame or a pyarrow Table, not"
                f" {type(obj).__name__}; use add_file() for a file",
                field="obj",
            )
        staged = self._stage() / uuid.uuid4().hex
        pq.write_table(table, staged)
        digest, size = hash_file(staged)
        return self._put(_entry(path, digest, size, mimetype=PARQUET), staged, overwrite)

    def add_reference(
        self,
        uri: str,
        name: str | None = None,
        checksum: bool = True,
        max_objects: int | None = None,
    ) -> list[ManifestEntry]:
        """Add a reference to content kept elsewhere: only its URI is stored, not its bytes.

        A ``file://`` URI of a file is checksummed (sha256 and size, unless ``checksum`` is
        false); of a folder, every file in it becomes a reference. Other URIs (``s3://``,
        ``gs://``, ``https://``) are stored as given.

        Args:
            uri: the URI, e.g. ``s3://bucket/data.csv`` or ``file:///mnt/data``.
            name: the path in the artifact; by default the URI's last part.
            checksum: record sha256 and size of local files.
            max_objects: the most files a folder may add.

        Returns:
            The added entries.

        Raises:
            UsageError: the URI has no scheme, the name is not allowed, or a folder holds more
                than ``max_objects`` files.

        Example:
            >>> artifact.add_reference("s3://my-bucket/digits/train.csv")
        """
        self._writable("add_reference")
        parts = urlsplit(uri)
        if not parts.scheme or "://" not in uri:
            raise UsageError(
                f"{uri!r} is not a URI; write e.g. file:///data or s3://bucket/key", field="uri"
            )
        default = Path(unquote(parts.path)).name or parts.netloc
        base = checked(rules.check_path, name if name is not None else default, "name")
        if parts.scheme != "file":
            return [self._put(_entry(base, None, None, ref=uri), None, True)]
        local = Path(unquote(parts.path))
        if local.is_dir():
            files = sorted(p for p in local.rglob("*") if p.is_file())
            if max_objects is not None and len(files) > max_objects:
                raise UsageError(
                    f"{uri} holds {len(files)} files, more than max_objects={max_objects}",
                    field="max_objects",
                )
            added = []
            for f in files:
                rel = f.relative_to(local).as_posix()
                digest, size = hash_file(f) if checksum else (None, None)
                ref = "file://" + quote(str(f))
                added.append(self._put(_entry(f"{base}/{rel}", digest, size, ref=ref), None, True))
            return added
        digest, size = hash_file(local) if checksum and local.is_file() else (None, None)
        return [self._put(_entry(base, digest, size, ref=uri), None, True)]

    @contextlib.contextmanager
    def new_file(
        self, name: str, mode: str = "x", encoding: str | None = None
    ) -> Iterator[IO[Any]]:
        """Open a new file to write into the artifact; it is added when the block ends.

        Args:
            name: its path in the artifact.
            mode: ``"x"`` (text) or ``"xb"`` (binary), or ``"w"``/``"wb"``.
            encoding: the text encoding (default UTF-8).

        Example:
            >>> with artifact.new_file("notes.txt") as f:
            ...     f.write("trained on digits")
        """
        self._writable("new_file")
        checked(rules.check_path, name, "name")
        if mode not in ("x", "xb", "w", "wb"):
            raise UsageError(f"mode must be 'x', 'xb', 'w' or 'wb', not {mode!r}", field="mode")
        staged = self._stage() / uuid.uuid4().hex
        binary = "b" in mode
        with open(
            staged, "wb" if binary else "w", encoding=None if binary else (encoding or "utf-8")
        ) as f:
            yield f
        self.add_file(staged, name=name, policy="immutable", overwrite="w" in mode)

    def remove(self, item: str | ManifestEntry) -> None:
        """Remove a file (by its path, or its entry) from the artifact before it is logged.

        Raises:
            KeyError: the artifact has no such file.
        """
        self._writable("remove")
        path = item.path if isinstance(item, ManifestEntry) else item
        if path not in self._staged:
            raise KeyError(f"artifact {self.name!r} has no file {path!r}")
        del self._staged[path]
