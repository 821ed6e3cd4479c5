"""``BlobStore``: content-addressed bytes (run files, artifact files, media), named by sha256.

A blob is written through a ``BlobWriter``, a block at a time: the writer hashes what passes,
keeps at most one block (a local file) or one multipart part (S3) in memory, and makes the blob
visible under its digest only once the whole content is there and its sha256 is right, so a
reader never sees half a blob or bytes under another content's name. Writing bytes the store
has already is checked the same way and stores nothing twice.

A blob is read through a ``BlobReader``: a file-like stream of the whole blob or of a byte range
(HTTP ``Range``), read as it goes.
"""

from __future__ import annotations

import abc
import hashlib
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from lablens.contract import artifact_names
from lablens.store.blobs.errors import BlobNotFound, BlobRangeError, DigestMismatch
from lablens.store.errors import InvalidInput

#: Bytes read from a source or handed to a caller at a time, unless told otherwise.
CHUNK = 1 << 20

#: What ``BlobStore.put`` takes: bytes, a binary file, or an iterator of bytes.
Source = bytes | bytearray | memoryview | BinaryIO | Iterable[bytes]


def check_digest(value: Any, field: str = "digest") -> str:
    """``value`` if it is a sha256 (64 lowercase hex characters), else ``InvalidInput``."""
    try:
        return artifact_names.check_digest(value)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from None


@dataclass(frozen=True)
class PutResult:
    """What a finished write did: the content's ``digest`` and ``size``, and whether it was
    ``stored`` now (``False``: the store had these bytes already and keeps its copy)."""

    digest: str
    size: int
    stored: bool


class BlobWriter(abc.ABC):
    """One blob being written: ``write()`` blocks, then ``commit()`` (or ``abort()``).

    Used as a context manager, a writer not committed when the block ends is aborted, so an
    error on the way leaves nothing behind.
    """

    def __init__(self, expected: str | None) -> None:
        self.expected = expected
        self.size = 0
        self._hash = hashlib.sha256()
        self._closed = False

    def write(self, chunk: bytes | bytearray | memoryview) -> None:
        """Add the next bytes of the content."""
        if self._closed:
            raise ValueError("write to a blob writer that was committed or aborted")
        self._hash.update(chunk)
        self.size += len(chunk)
        try:
            self._write(chunk)
        except BaseException:
            self.abort()
            raise

    def commit(self) -> PutResult:
        """Check the content's sha256 and make the blob visible under it.

        Raises:
            DigestMismatch: the writer was opened for another digest; nothing is kept.
        """
        if self._closed:
            raise ValueError("commit of a blob writer that was committed or aborted")
        got = self._hash.hexdigest()
        if self.expected is not None and got != self.expected:
            self.abort()
            raise DigestMismatch(self.expected, got, self.size)
        try:
            stored = self._commit(got)
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return PutResult(got, self.size, stored)

    def abort(self) -> None:
        """Drop what was written; nothing of it stays. Safe to call more than once."""
        if not self._closed:
            self._closed = True
            self._abort()

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()

    @abc.abstractmethod
    def _write(self, chunk: bytes | bytearray | memoryview) -> None:
        """Keep the next bytes (already hashed and counted)."""

    @abc.abstractmethod
    def _commit(self, digest: str) -> bool:
        """Make the written bytes the blob ``digest`` (checked); ``True`` if stored now."""

    @abc.abstractmethod
    def _abort(self) -> None:
        """Drop what was written."""


class BlobReader(io.RawIOBase):
    """A blob's bytes, or a range of them, read as they are asked for.

    ``size`` is the whole blob's size, ``start`` and ``length`` the range this reader yields.
    """

    def __init__(self, digest: str, size: int, start: int, length: int) -> None:
        super().__init__()
        self.digest = digest
        self.size = size
        self.start = start
        self.length = length
        self._left = length

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` next bytes (all that are left by default); empty at the end."""
        if self.closed:
            raise ValueError(f"read of blob {self.digest} after its reader was closed")
        if size is None or size < 0:
            return self.readall()
        want = min(size, self._left)
        if want == 0:
            return b""
        # The source's bytes as they come: no copy through a buffer as RawIOBase would make.
        data = self._read(want)
        if not data:
            raise OSError(
                f"blob {self.digest} ended {self._left} bytes early: the store lost part of it"
            )
        self._left -= len(data)
        return data

    def readall(self) -> bytes:
        parts = []
        while block := self.read(CHUNK):
            parts.append(block)
        return b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def iter_chunks(self, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The bytes in pieces of at most ``chunk_size``; the reader is closed at the end."""
        try:
            while block := self.read(chunk_size):
                yield block
        finally:
            self.close()

    @abc.abstractmethod
    def _read(self, n: int) -> bytes:
        """Up to ``n`` (> 0) next bytes; empty only when the source has ended."""


def check_range(digest: str, size: int, start: int, length: int | None) -> tuple[int, int]:
    """The range ``start, length`` of a blob of ``size`` bytes, cut at its end; a range
    starting past the end is a ``BlobRangeError``, as HTTP's 416 is."""
    if start < 0 or (length is not None and length < 0):
        raise BlobRangeError(f"bad range start={start} length={length}: negative", size)
    if start and start >= size:
        raise BlobRangeError(
            f"the range starts at byte {start}, past the end of blob {digest} ({size} bytes)",
            size,
        )
    left = size - start
    return start, left if length is None else min(length, left)


class BlobStore(abc.ABC):
    """Content-addressed blobs: bytes stored once under their sha256, whoever puts them."""

    #: Where the blobs are, as ``open_blobs`` takes it (``file:///...``, ``s3://...``).
    url: str

    # -- what an engine implements ------------------------------------------------------------
    @abc.abstractmethod
    def writer(self, digest: str | None = None) -> BlobWriter:
        """A writer of one blob. With ``digest``, the content must have that sha256 (checked
        at ``commit()``); when the blob exists already the bytes are only hashed."""

    @abc.abstractmethod
    def open(self, digest: str, start: int = 0, length: int | None = None) -> BlobReader:
        """The blob's bytes from ``start``, at most ``length`` of them (to the end by default).

        Raises:
            BlobNotFound: no such blob.
            BlobRangeError: ``start`` lies past the blob's end.
        """

    @abc.abstractmethod
    def size(self, digest: str) -> int:
        """The blob's size in bytes; ``BlobNotFound`` when there is none."""

    @abc.abstractmethod
    def delete(self, digest: str) -> bool:
        """Remove the blob; ``False`` when there was none. The caller knows nothing uses it."""

    @abc.abstractmethod
    def digests(self) -> Iterator[str]:
        """Every stored blob's digest, in no set order (for copies, checks and migrations)."""

    @abc.abstractmethod
    def cleanup(self, older_than: float = 86400.0) -> int:
        """Remove what interrupted writes left (temporary files, unfinished multipart uploads)
        started more than ``older_than`` seconds ago; answers how many were removed."""

    @abc.abstractmethod
    def check(self) -> None:
        """Make sure the store can be used (the directory or bucket is there and answers);
        ``BlobStoreUnavailable`` naming the reason if not. Run once when a server starts."""

    # -- built on the above ------------------------------------------------------------------
    def exists(self, digest: str) -> bool:
        """Whether the blob is stored."""
        try:
            self.size(digest)
        except BlobNotFound:
            return False
        return True

    def missing(self, digests: Sequence[str]) -> list[str]:
        """Those of ``digests`` that are not stored, in their order, each once."""
        return [d for d in dict.fromkeys(digests) if not self.exists(d)]

    def put(
        self, source: Source, digest: str | None = None, *, chunk_size: int = CHUNK
    ) -> PutResult:
        """Store the content of ``source`` (bytes, a binary file read to its end, or an
        iterator of bytes) under its sha256, a block at a time.

        With ``digest`` the content must have that sha256, or ``DigestMismatch`` is raised and
        nothing is kept. Idempotent: content stored already is hashed and not stored again.
        """
        with self.writer(digest) as out:
            if isinstance(source, bytes | bytearray | memoryview):
                view = memoryview(source)
                for i in range(0, len(view), chunk_size):
                    out.write(view[i : i + chunk_size])
            elif hasattr(source, "read"):
                while block := source.read(chunk_size):  # type: ignore[union-attr]
                    out.write(block)
            else:
                for block in source:
                    out.write(block)
            return out.commit()

    def read_bytes(self, digest: str, start: int = 0, length: int | None = None) -> bytes:
        """The blob's bytes (or a range of them) at once: for small blobs (an image to
        thumbnail), as a whole file goes through memory."""
        with self.open(digest, start, length) as reader:
            return reader.read()

    def iter_bytes(
        self, digest: str, start: int = 0, length: int | None = None, *, chunk_size: int = CHUNK
    ) -> Iterator[bytes]:
        """The blob's bytes (or a range) in pieces of at most ``chunk_size``; the blob is
        opened at once, so a missing one raises ``BlobNotFound`` here, not when iterated."""
        return self.open(digest, start, length).iter_chunks(chunk_size)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"
