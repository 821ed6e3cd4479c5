"""Blob bytes on disk: the one place the embedded store reads and writes blob files.

Blobs are content-addressed: ``DATA/blobs/ab/cdef...`` holds the bytes whose sha256 is
``abcdef...``, stored once whoever saved them (run files, artifact files, media). Nothing else in
the engine knows a blob's path; the other parts ask :class:`BlobFiles` by digest, through the
small interface a blob store on another medium (an object store) would also offer: put bytes,
stream bytes in, open, size.

A blob is written beside its final name and renamed into place, so a reader never sees half of
one, and a cut write leaves no blob.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import BinaryIO


class BlobWriter:
    """Bytes of one new blob as they arrive; :meth:`commit` puts them in place, :meth:`abort`
    drops them. The caller checks the digest before it commits."""

    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp: Path | None = path.parent / f".{path.name}.{uuid.uuid4().hex}.part"
        self._out: BinaryIO | None = self._tmp.open("wb")

    def write(self, chunk: bytes) -> None:
        """Append ``chunk``."""
        assert self._out is not None, "the writer is closed"
        self._out.write(chunk)

    def commit(self) -> None:
        """Put the bytes written in place under the blob's name."""
        if self._out is not None and self._tmp is not None:
            self._out.close()
            self._out = None
            os.replace(self._tmp, self._path)  # a reader never sees half a blob
            self._tmp = None

    def abort(self) -> None:
        """Drop what was written (nothing after ``commit``)."""
        if self._out is not None:
            self._out.close()
            self._out = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None


class BlobFiles:
    """Part of ``EmbeddedStore``: the bytes of blobs under one directory, by sha256."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:]

    def exists(self, digest: str) -> bool:
        """Whether the blob is stored."""
        return self._path(digest).exists()

    def size(self, digest: str) -> int | None:
        """The blob's length in bytes, or ``None`` when it is not stored."""
        try:
            return self._path(digest).stat().st_size
        except FileNotFoundError:
            return None

    def put(self, digest: str, content: bytes) -> None:
        """Store ``content`` (whose sha256 the caller checked) unless the blob is there."""
        if not self.exists(digest):
            writer = BlobWriter(self._path(digest))
            try:
                writer.write(content)
                writer.commit()
            finally:
                writer.abort()

    def writer(self, digest: str) -> BlobWriter | None:
        """A writer for a new blob, or ``None`` when the blob is stored already."""
        return None if self.exists(digest) else BlobWriter(self._path(digest))

    def open(self, digest: str) -> tuple[BinaryIO, int]:
        """The blob for reading, and its length (``FileNotFoundError`` when absent)."""
        stream = self._path(digest).open("rb")
        return stream, os.fstat(stream.fileno()).st_size

    def read(self, digest: str) -> bytes:
        """The blob's bytes (``FileNotFoundError`` when absent)."""
        return self._path(digest).read_bytes()
