"""``LocalBlobs``: blobs as files in a directory, ``DIR/ab/cdef...`` for sha256 ``abcdef...``.

The layout of the embedded store's ``DATA/blobs/`` since its first release, so an existing data
dir is read as it is. A write goes to a hidden ``.part`` file beside its final name (or, while
the digest is not known yet, in ``DIR``) and is renamed into place once its sha256 is checked:
a rename on one file system is atomic, so a reader never sees half a blob.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from lablens.store.blobs.base import BlobReader, BlobStore, BlobWriter, check_digest, check_range
from lablens.store.blobs.errors import BlobNotFound, BlobStoreUnavailable

_HEX = frozenset("0123456789abcdef")


class LocalBlobs(BlobStore):
    """Blobs in the directory ``root`` (``DATA/blobs`` for the embedded store)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.url = self.root.absolute().as_uri()

    def path(self, digest: str) -> Path:
        """The file of blob ``digest``: its first two hex digits are a directory."""
        digest = check_digest(digest)
        return self.root / digest[:2] / digest[2:]

    def writer(self, digest: str | None = None) -> BlobWriter:
        if digest is not None:
            digest = check_digest(digest)
        return _FileWriter(self, digest)

    def open(self, digest: str, start: int = 0, length: int | None = None) -> BlobReader:
        try:
            file = self.path(digest).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(digest, self.url) from None
        try:
            size = os.fstat(file.fileno()).st_size
            start, length = check_range(digest, size, start, length)
            if start:
                file.seek(start)
        except BaseException:
            file.close()
            raise
        return _FileReader(digest, size, start, length, file)

    def size(self, digest: str) -> int:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(digest, self.url) from None

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def delete(self, digest: str) -> bool:
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            return False
        return True

    def digests(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for sub in os.scandir(self.root):
            if len(sub.name) != 2 or not _HEX.issuperset(sub.name) or not sub.is_dir():
                continue
            for entry in os.scandir(sub.path):
                name = sub.name + entry.name
                if len(name) == 64 and _HEX.issuperset(entry.name) and entry.is_file():
                    yield name

    def cleanup(self, older_than: float = 86400.0) -> int:
        if not self.root.is_dir():
            return 0
        cutoff = time.time() - older_than
        removed = 0
        for part in [*self.root.glob(".*.part"), *self.root.glob("??/.*.part")]:
            try:
                if part.stat().st_mtime < cutoff:
                    part.unlink()
                    removed += 1
            except FileNotFoundError:
                pass  # its writer finished or another cleanup took it
        return removed

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BlobStoreUnavailable(self.url, f"cannot make the directory: {exc}") from None
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise BlobStoreUnavailable(self.url, "the directory is not writable")


class _FileWriter(BlobWriter):
    """A blob written to a hidden ``.part`` file, renamed to its name once checked."""

    def __init__(self, blobs: LocalBlobs, digest: str | None) -> None:
        super().__init__(digest)
        self._blobs = blobs
        self._tmp: Path | None = None
        self._out: BinaryIO | None = None
        if digest is not None and blobs.path(digest).is_file():
            return  # stored already: the bytes are only hashed, to check them
        if digest is not None:
            final = blobs.path(digest)
            final.parent.mkdir(parents=True, exist_ok=True)
            self._tmp = final.parent / f".{final.name}.{uuid.uuid4().hex}.part"
        else:
            blobs.root.mkdir(parents=True, exist_ok=True)
            self._tmp = blobs.root / f".{uuid.uuid4().hex}.part"
        self._out = self._tmp.open("wb")

    def _write(self, chunk: bytes | bytearray | memoryview) -> None:
        if self._out is not None:
            self._out.write(chunk)

    def _commit(self, digest: str) -> bool:
        if self._out is None or self._tmp is None:
            return False
        self._out.close()
        self._out = None
        final = self._blobs.path(digest)
        if self.expected is None and final.is_file():
            self._abort()  # the same bytes are stored already
            return False
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._tmp, final)  # a reader never sees half a blob
        self._tmp = None
        return True

    def _abort(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None


class _FileReader(BlobReader):
    def __init__(self, digest: str, size: int, start: int, length: int, file: BinaryIO) -> None:
        super().__init__(digest, size, start, length)
        self._file = file

    def _read(self, n: int) -> bytes:
        return self._file.read(n)

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()
        super().close()
