"""An artifact's manifest, and what it means for a local copy to match it.

A version of an artifact is its manifest: each file named by its path, the sha256 and size of
its content, or a reference (a URI) to content kept elsewhere. The SDK builds manifests and the
``Api`` reads them; both check local copies against them with the functions here: a download is
written beside its final name, its sha256 compared with the manifest, and only then renamed, so
neither a cut connection nor a corrupted transfer leaves a file that looks complete.

Like the rest of the contract this imports nothing from lablens but ``lablens.errors``. The rule
for a path inside an artifact (``lablens._artifact_names.check_path``, which the server applies
too) sits beside the contract, so the functions that place a manifest path on disk take it as
``check_path``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from lablens.errors import LablensError

__all__ = [
    "ArtifactManifest",
    "ManifestEntry",
    "hash_file",
    "is_current",
    "local_files",
    "local_target",
    "prune_copy",
    "sha256_of",
    "verify_copy",
    "write_checked",
]

CHUNK = 1 << 20


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The sha256 of a local file, hex, read in chunks."""
    return hash_file(Path(path))[0]


def hash_file(path: Path, copy_to: Path | None = None) -> tuple[str, int]:
    """sha256 (hex) and size of a file, copying it on the way when ``copy_to`` is given."""
    h, size = hashlib.sha256(), 0
    with contextlib.ExitStack() as stack:
        src = stack.enter_context(path.open("rb"))
        dst = stack.enter_context(copy_to.open("wb")) if copy_to is not None else None
        while chunk := src.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
            if dst is not None:
                dst.write(chunk)
    return h.hexdigest(), size


def local_target(
    root: str | os.PathLike[str], path: str, *, check_path: Callable[[str], object]
) -> Path:
    """Where a manifest path lands under ``root``; never outside it, whatever the manifest says.

    Args:
        root: the folder of the local copy.
        path: the path in the manifest.
        check_path: the rule for paths in an artifact (``_artifact_names.check_path``); raises
            ``ValueError`` for a path that could climb out of ``root``.

    Raises:
        LablensError: the path is not allowed.
    """
    try:
        check_path(path)
    except ValueError as exc:
        raise LablensError(f"the server sent an unsafe path: {exc}") from None
    return Path(root) / path


def local_files(root: str | os.PathLike[str]) -> list[str]:
    """Every file under ``root``, as ``/``-separated paths relative to it."""
    out = []
    for dirpath, _, filenames in os.walk(root):
        for filename in filenames:
            rel = os.path.relpath(os.path.join(dirpath, filename), root)
            out.append(Path(rel).as_posix())
    return out


class ManifestEntry:
    """One file of an artifact: a path, the sha256 and size of its content, or a reference to
    content kept elsewhere.

    Example:
        >>> entry = artifact.get_entry("model.npz")
        >>> entry.path, entry.size, entry.digest
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

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._load(dict(data or {}))

    def _load(self, data: Mapping[str, Any]) -> None:
        self.path = data.get("path") or ""
        self.digest = data.get("digest")
        size = data.get("size")
        self.size = None if size is None else int(size)
        self.ref = data.get("ref")
        self.mimetype = data.get("mimetype")

    def to_json(self) -> dict[str, Any]:
        """The entry as the server's manifest holds it: ``path`` and whichever of ``digest``,
        ``size``, ``ref``, ``mimetype`` it has."""
        out: dict[str, Any] = {"path": self.path}
        for key in ("digest", "size", "ref", "mimetype"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

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

    def __init__(self, entries: Mapping[str, ManifestEntry], digest: str | None = None):
        #: Each path in the artifact to its entry, sorted by path.
        self.entries: dict[str, Any] = dict(entries)
        #: The digest of the whole version (sha256 over its entries).
        self.digest = digest

    def get_entry_by_path(self, path: str) -> Any:
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

    def __iter__(self) -> Iterator[Any]:
        return iter(self.entries.values())

    def __repr__(self) -> str:
        return f"<ArtifactManifest {len(self.entries)} files>"


def write_checked(chunks: Iterable[bytes], target: Path, entry: ManifestEntry) -> None:
    """Write downloaded ``chunks`` to ``target`` only if their sha256 is the entry's.

    The bytes go to a ``.part`` file beside ``target``, renamed once checked.

    Raises:
        LablensError: the content does not match the manifest; nothing is left behind.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    h = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for chunk in chunks:
                h.update(chunk)
                out.write(chunk)
        if entry.digest and h.hexdigest() != entry.digest:
            raise LablensError(
                f"{entry.path}: the downloaded content has sha256 {h.hexdigest()}, not"
                f" {entry.digest} as the manifest says; nothing was written"
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def is_current(target: Path, entry: ManifestEntry) -> bool:
    """Whether ``target`` already holds the entry's content (so a download may skip it)."""
    return target.is_file() and bool(entry.digest) and sha256_of(target) == entry.digest


def verify_copy(
    entries: Iterable[ManifestEntry],
    root: str,
    label: str,
    *,
    check_path: Callable[[str], object],
) -> None:
    """Check that the folder ``root`` holds exactly the files of a manifest.

    Every file is checksummed (sha256) and compared with its entry; references are not checked.

    Args:
        entries: the manifest's entries.
        root: the local copy.
        label: how the message names the artifact (its qualified name).
        check_path: the rule for paths in an artifact, as for ``local_target``.

    Raises:
        ValueError: the message names every file missing, changed, or not in the artifact.
    """
    problems: list[str] = []
    paths = set()
    for entry in entries:
        paths.add(entry.path)
        if entry.ref is not None:
            continue
        local = local_target(root, entry.path, check_path=check_path)
        if not local.is_file():
            problems.append(f"{entry.path}: missing")
        elif entry.size is not None and local.stat().st_size != entry.size:
            problems.append(
                f"{entry.path}: changed ({local.stat().st_size} bytes, expected {entry.size})"
            )
        elif sha256_of(local) != entry.digest:
            problems.append(f"{entry.path}: content changed (sha256 differs)")
    problems += [f"{rel}: not in the artifact" for rel in local_files(root) if rel not in paths]
    if problems:
        raise ValueError(f"{root} does not match {label}: " + "; ".join(sorted(problems)))


def prune_copy(root: str, keep: set[str]) -> None:
    """Delete every file under ``root`` whose path is not in ``keep``, and emptied folders."""
    for rel in local_files(root):
        if rel not in keep:
            os.remove(os.path.join(root, rel))
    if os.path.isdir(root):
        for dirpath, _, _ in os.walk(root, topdown=False):
            if dirpath != root and not os.listdir(dirpath):
                os.rmdir(dirpath)
