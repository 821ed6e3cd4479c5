"""Blob stores: the bytes of run files, artifact files and media, named by their sha256.

``open_blobs(url)`` picks one by URL: ``file:///path`` is a local directory (``LocalBlobs``),
``s3://BUCKET/PREFIX`` a bucket of an S3-compatible server (``S3Blobs``). The database engines
keep which blobs exist for whom; this package only keeps bytes, so it imports no engine.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from lablens.store.blobs.base import BlobReader, BlobStore, BlobWriter, PutResult
from lablens.store.blobs.errors import (
    BlobNotFound,
    BlobRangeError,
    BlobStoreUnavailable,
    DigestMismatch,
)
from lablens.store.blobs.local import LocalBlobs


def open_blobs(url: str | Path) -> BlobStore:
    """The blob store at ``url``: ``file:///path/to/dir`` (or a plain path) or
    ``s3://BUCKET/PREFIX`` (credentials and endpoint from the AWS environment).

    Raises:
        ValueError: for another scheme, or an ``s3://`` URL without a bucket.
    """
    if isinstance(url, Path):
        return LocalBlobs(url)
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"blob URL {url!r}: a file URL names no host (file:///path)")
        return LocalBlobs(Path(unquote(parts.path)))
    if parts.scheme == "s3":
        from lablens.store.blobs.s3 import S3Blobs  # boto3 is loaded only for S3

        if not parts.netloc:
            raise ValueError(f"blob URL {url!r} names no bucket: s3://BUCKET/PREFIX")
        return S3Blobs(parts.netloc, unquote(parts.path))
    if not parts.scheme:
        return LocalBlobs(Path(url))
    raise ValueError(
        f"no blob store for the scheme {parts.scheme!r} in {url!r}; use file:///path or"
        " s3://BUCKET/PREFIX"
    )


__all__ = [
    "BlobNotFound",
    "BlobRangeError",
    "BlobReader",
    "BlobStore",
    "BlobStoreUnavailable",
    "BlobWriter",
    "DigestMismatch",
    "LocalBlobs",
    "PutResult",
    "open_blobs",
]
