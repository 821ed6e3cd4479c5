"""Blob bytes: the one place a store engine reads and writes blobs, through a ``BlobStore``.

Blobs are content-addressed: the bytes whose sha256 is ``abcdef...`` are stored once under that
name whoever saved them (run files, artifact files, media). Where they are is the ``BlobStore``'s
business (``lablens.store.blobs``): ``DATA/blobs/ab/cdef...`` by default (``LocalBlobs``), or a
bucket of an S3-compatible server (``S3Blobs``). Nothing else in an engine knows where a blob
lives; the other parts ask :class:`BlobFiles` by digest.

A blob becomes visible only whole and with its sha256 checked (the store's writers see to it),
so a reader never sees half of one, and a cut write leaves no blob.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from lablens.store.blobs import BlobNotFound, BlobStore, BlobWriter, LocalBlobs

__all__ = ["BlobFiles", "BlobWriter"]


class BlobFiles:
    """A part of every engine: the bytes of blobs in one ``BlobStore``, by sha256.

    ``blobs`` is the store itself, or a directory for a ``LocalBlobs`` there.
    """

    def __init__(self, blobs: BlobStore | Path) -> None:
        self.store = blobs if isinstance(blobs, BlobStore) else LocalBlobs(blobs)
        if isinstance(self.store, LocalBlobs):
            self.store.root.mkdir(parents=True, exist_ok=True)

    def exists(self, digest: str) -> bool:
        """Whether the blob is stored."""
        return self.store.exists(digest)

    def size(self, digest: str) -> int | None:
        """The blob's length in bytes, or ``None`` when it is not stored."""
        try:
            return self.store.size(digest)
        except BlobNotFound:
            return None

    def put(self, digest: str, content: bytes) -> None:
        """Store ``content`` (whose sha256 the caller checked) unless the blob is there."""
        if not self.store.exists(digest):
            self.store.put(content, digest)

    def writer(self, digest: str) -> BlobWriter | None:
        """A writer for a new blob, or ``None`` when the blob is stored already. The writer
        checks the digest again at ``commit()`` (``DigestMismatch``)."""
        return None if self.store.exists(digest) else self.store.writer(digest)

    def open(self, digest: str) -> tuple[BinaryIO, int]:
        """The blob as a stream read as it goes, and its length (``BlobNotFound`` when
        absent)."""
        reader = self.store.open(digest)
        return reader, reader.size  # type: ignore[return-value]

    def read(self, digest: str) -> bytes:
        """The blob's bytes at once, for small blobs (``BlobNotFound`` when absent)."""
        return self.store.read_bytes(digest)
