"""``lablens.Artifact``: build a versioned set of files, then log it from a run.

An artifact is built locally (``add_file``, ``add_dir``, ``add`` for a table, ``add_reference``)
and logged with ``run.log_artifact()``, which uploads it in three steps so that nothing half-done
is ever visible: ask the server which contents (by sha256) it lacks, upload only those, then
commit the manifest, which the server stores in one transaction as the next version ``vN``.
Content the server already has, from any earlier version or run, is not sent again.

``run.log_artifact()`` and ``run.use_artifact()`` are in ``run_artifacts.py``.

Once logged, a ``lablens.Artifact`` is that stored version: every method of
``lablens.api.Artifact`` (``download``, ``verify``, ``files``, ``save`` ...) works on it.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import shutil
import tempfile
import uuid
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from lablens import _artifact_names as rules
from lablens.api.artifact_files import ArtifactManifest, ArtifactManifestEntry
from lablens.api.artifacts import Artifact as StoredArtifact
from lablens.errors import UsageError
from lablens.sdk.config import to_json

if TYPE_CHECKING:
    from lablens.api.api import Api
    from lablens.transport import Transport

__all__ = ["Artifact"]

_CHUNK = 1 << 20
PARQUET = "application/vnd.apache.parquet"


@dataclass
class _Entry:
    """A file of an artifact being built: where its bytes are read from when uploading."""

    path: str
    digest: str | None
    size: int | None
    ref: str | None = None
    local: Path | None = None
    mimetype: str | None = None

    def manifest_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path}
        for key in ("digest", "size", "ref", "mimetype"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


def _checked(check: Any, value: Any, field: str) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise UsageError(str(exc), field=field) from None


def _hash_file(path: Path, copy_to: Path | None = None) -> tuple[str, int]:
    """sha256 and size of a file, copying it on the way when ``copy_to`` is given."""
    h, size = hashlib.sha256(), 0
    with contextlib.ExitStack() as stack:
        src = stack.enter_context(path.open("rb"))
        dst = stack.enter_context(copy_to.open("wb")) if copy_to is not None else None
        while chunk := src.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
            if dst is not None:
                dst.write(chunk)
    return h.hexdigest(), size


class Artifact(StoredArtifact):
    """Flexible and lightweight building block for dataset and model versioning.

    Constructs an empty artifact whose contents can be populated using its ``add`` methods.
    Once it has all the desired files, ``run.log_artifact(artifact)`` logs it as the next
    version (``v0``, ``v1``, ...) of the collection ``name``, and the object becomes that
    stored version.

    Args:
        name: a human-readable name for the artifact, unique in its project: letters, digits,
            ``_``, ``.`` and ``-``. Logging it again with other contents makes a new version.
        type: the artifact's type, e.g. ``dataset``, ``model``, ``predictions``.
        description: what the artifact is.
        metadata: free-form facts about the artifact (a dict of JSON values).

    Raises:
        UsageError: the name, type or metadata is not allowed (a ``ValueError`` too).

    Example:
        >>> import lablens, pandas as pd
        >>> artifact = lablens.Artifact("digits", type="dataset", metadata={"rows": 1797})
        >>> artifact.add_file("data/train.csv")
        >>> artifact.add_dir("data/images", name="images")
        >>> artifact.add(pd.DataFrame({"x": [1, 2]}), "sample")     # stored as sample.parquet
        >>> with lablens.init(project="mnist") as run:
        ...     run.log_artifact(artifact, aliases=["baseline"])
        >>> artifact.version, artifact.aliases
        ('v0', ['baseline', 'latest'])
    """

    def __init__(
        self,
        name: str,
        type: str,  # noqa: A002 - W&B's name
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        _checked(rules.check_name, name, "name")
        _checked(lambda v: rules.check_name(v, "artifact type"), type, "type")
        if description is not None and not isinstance(description, str):
            raise UsageError("description must be a string", field="description")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise UsageError(
                f"metadata must be a dict, not {metadata.__class__.__name__}", field="metadata"
            )
        self._entries: dict[str, _Entry] = {}
        self._staging: Path | None = None
        self._cleanup: weakref.finalize | None = None
        super().__init__(
            None,
            {  # type: ignore[arg-type] - no server until logged
                "name": name,
                "type": type,
                "description": description,
                "state": "PENDING",
                "metadata": to_json(dict(metadata or {})),
            },
        )

    # -- building -------------------------------------------------------------------------

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

    def _put(self, entry: _Entry, overwrite: bool) -> ArtifactManifestEntry:
        if entry.path in self._entries and not overwrite:
            raise UsageError(
                f"artifact {self.name!r} already has a file at {entry.path!r};"
                " pass overwrite=True to replace it",
                field="name",
            )
        self._entries[entry.path] = entry
        return ArtifactManifestEntry(None, entry.manifest_json())

    def add_file(
        self,
        local_path: str | os.PathLike[str],
        name: str | None = None,
        is_tmp: bool | None = False,
        skip_cache: bool | None = False,
        policy: str = "mutable",
        overwrite: bool = False,
    ) -> ArtifactManifestEntry:
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
            The added ``ArtifactManifestEntry``.

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
        path = _checked(rules.check_path, name if name is not None else local.name, "name")
        if policy == "mutable":
            copy = self._stage() / uuid.uuid4().hex
            digest, size = _hash_file(local, copy)
            local = copy
        else:
            digest, size = _hash_file(local)
        return self._put(
            _Entry(path, digest, size, local=local, mimetype=mimetypes.guess_type(path)[0]),
            overwrite,
        )

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
            prefix = _checked(rules.check_path, name.rstrip("/"), "name") + "/"
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for filename in sorted(filenames):
                local = Path(dirpath) / filename
                rel = local.relative_to(root).as_posix()
                self.add_file(local, name=prefix + rel, policy=policy, overwrite=True)

    def add(self, obj: Any, name: str, overwrite: bool = False) -> ArtifactManifestEntry:
        """Add a table: a pandas DataFrame (or pyarrow Table), stored as Parquet.

        Read it back with ``api.artifact(...).get(name)``.

        Args:
            obj: the DataFrame or Table.
            name: its name in the artifact; ``.parquet`` is appended when missing.
            overwrite: replace a table already added under that name.

        Returns:
            The added ``ArtifactManifestEntry`` (path ``<name>.parquet``).

        Raises:
            UsageError: ``obj`` is not a table, or ``name`` is not an allowed path.

        Example:
            >>> artifact.add(predictions_df, "predictions")
        """
        self._writable("add")
        import pyarrow as pa
        import pyarrow.parquet as pq

        _checked(rules.check_path, name, "name")
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
        digest, size = _hash_file(staged)
        return self._put(_Entry(path, digest, size, local=staged, mimetype=PARQUET), overwrite)

    def add_reference(
        self,
        uri: str,
        name: str | None = None,
        checksum: bool = True,
        max_objects: int | None = None,
    ) -> list[ArtifactManifestEntry]:
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
        base = _checked(rules.check_path, name if name is not None else default, "name")
        if parts.scheme != "file":
            return [self._put(_Entry(base, None, None, ref=uri), True)]
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
                digest, size = _hash_file(f) if checksum else (None, None)
                added.append(
                    self._put(
                        _Entry(f"{base}/{rel}", digest, size, ref="file://" + quote(str(f))), True
                    )
                )
            return added
        digest, size = _hash_file(local) if checksum and local.is_file() else (None, None)
        return [self._put(_Entry(base, digest, size, ref=uri), True)]

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
        _checked(rules.check_path, name, "name")
        if mode not in ("x", "xb", "w", "wb"):
            raise UsageError(f"mode must be 'x', 'xb', 'w' or 'wb', not {mode!r}", field="mode")
        staged = self._stage() / uuid.uuid4().hex
        binary = "b" in mode
        with open(
            staged, "wb" if binary else "w", encoding=None if binary else (encoding or "utf-8")
        ) as f:
            yield f
        self.add_file(staged, name=name, policy="immutable", overwrite="w" in mode)

    def remove(self, item: str | ArtifactManifestEntry) -> None:
        """Remove a file (by its path, or its entry) from the artifact before it is logged.

        Raises:
            KeyError: the artifact has no such file.
        """
        self._writable("remove")
        path = item.path if isinstance(item, ArtifactManifestEntry) else item
        if path not in self._entries:
            raise KeyError(f"artifact {self.name!r} has no file {path!r}")
        del self._entries[path]

    # -- before logging, the local contents -------------------------------------------------

    @property
    def manifest(self) -> ArtifactManifest:
        """The files: those added so far, or once logged, the stored version's."""
        if self.id:
            return StoredArtifact.manifest.fget(self)  # type: ignore[attr-defined]
        entries = {
            p: ArtifactManifestEntry(None, e.manifest_json())
            for p, e in sorted(self._entries.items())
        }
        return ArtifactManifest(entries)

    def get_entry(self, name: str) -> ArtifactManifestEntry:
        """The entry of one file (added so far, or once logged, stored)."""
        if self.id:
            return super().get_entry(name)
        if name not in self._entries:
            raise KeyError(f"artifact {self.name!r} has no file {name!r}")
        return ArtifactManifestEntry(None, self._entries[name].manifest_json())

    # -- logging ----------------------------------------------------------------------------

    def _commit(
        self,
        api: Api,
        entity: str,
        project: str,
        *,
        run_id: str | None,
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
    ) -> None:
        """Upload what the server lacks, commit the manifest, and become the stored version."""
        self._writable("log_artifact")
        aliases = [
            _checked(rules.check_alias, a, f"aliases[{i}]")
            for i, a in enumerate([*self.aliases, *aliases])
        ]
        tags = [_checked(rules.check_tag, t, f"tags[{i}]") for i, t in enumerate(tags)]
        http: Transport = api.client
        base = f"/api/v1/projects/{quote(entity, safe='')}/{quote(project, safe='')}"
        local = {
            e.digest: e.local
            for e in self._entries.values()
            if e.ref is None and e.local is not None
        }
        if local:
            missing = http.post_json(f"{base}/blobs/missing", {"digests": list(local)})
            for digest in missing["missing"]:
                with open(local[digest], "rb") as f:
                    http.request(
                        "PUT",
                        f"{base}/blobs/{digest}",
                        data=f,  # type: ignore[arg-type]
                        headers={"Content-Type": "application/octet-stream"},
                    )
        body = {
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "metadata": to_json(self.metadata),
            "aliases": aliases,
            "tags": sorted(set(self.tags) | set(tags)),
            "run_id": run_id,
            "files": [e.manifest_json() for _, e in sorted(self._entries.items())],
        }
        data = http.post_json(f"{base}/artifacts", body)
        self._api = api
        self._attrs = dict(data)
        self._load(self._attrs)
        self._entries = {}
        if self._cleanup is not None:
            self._cleanup()
            self._staging = self._cleanup = None
