"""Copying blobs (the bytes of run files, artifact files and media) between blob stores.

Blobs are named by their sha256, so a blob the target has is the same bytes and is skipped;
the others are streamed a block at a time, and the target's writer checks each one's sha256
before it becomes visible (``lablens.store.blobs``). The check afterwards finds every blob of
the source in the target with its size, and, when asked, reads each one back and hashes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from lablens.store.blobs import BlobNotFound, BlobStore
from lablens.store.blobs.base import CHUNK


@dataclass
class BlobCheck:
    """What the blob copy did and found: the source's blobs and bytes, those copied now, and
    those the target lacks or holds with other bytes (named by digest)."""

    source: int = 0
    source_bytes: int = 0
    new: int = 0
    new_bytes: int = 0
    contents_checked: bool = False
    missing: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every blob of the source is in the target, whole."""
        return not self.missing and not self.wrong


def copy_blobs(
    source: BlobStore,
    target: BlobStore,
    digests: list[str],
    *,
    progress: Callable[[int], None],
) -> BlobCheck:
    """Copy each of ``digests`` that ``target`` lacks, streamed; ``progress`` gets bytes."""
    check = BlobCheck()
    for digest in digests:
        size = source.size(digest)
        check.source += 1
        check.source_bytes += size
        if not target.exists(digest):
            with source.open(digest) as reader:
                target.put(reader, digest)
            check.new += 1
            check.new_bytes += size
        progress(size)
    return check


def _sha256(store: BlobStore, digest: str) -> str:
    h = hashlib.sha256()
    for block in store.iter_bytes(digest, chunk_size=CHUNK):
        h.update(block)
    return h.hexdigest()


def verify_blobs(
    source: BlobStore,
    target: BlobStore,
    digests: list[str],
    check: BlobCheck,
    *,
    contents: bool,
    progress: Callable[[int], None],
) -> None:
    """Note in ``check`` each of ``digests`` the target lacks or holds at another size (or,
    with ``contents``, with bytes whose sha256 is not its name)."""
    check.contents_checked = contents
    for digest in digests:
        want = source.size(digest)
        try:
            got = target.size(digest)
        except BlobNotFound:
            check.missing.append(digest)
            continue
        if got != want or (contents and _sha256(target, digest) != digest):
            check.wrong.append(digest)
        progress(want)
