"""The blob stores' errors, each a kind of the store's own (``store/errors.py``).

```
StoreError
├── NotFound
│   └── BlobNotFound          .digest; no blob has these bytes
├── InvalidInput
│   ├── DigestMismatch        .expected .got; the bytes are not the named ones
│   └── BlobRangeError        .size; a byte range outside the blob
└── BlobStoreUnavailable      .location .reason; the bucket is missing, the
                              credentials are refused, the endpoint is unreachable
```

A client's mistake (a wrong digest, a range past the end) is an ``InvalidInput``, so the server
answers 400 naming the field; ``BlobStoreUnavailable`` is the server's own trouble.
"""

from __future__ import annotations

from lablens.store.errors import InvalidInput, NotFound, StoreError


class BlobNotFound(NotFound):
    """No blob holds the content with this sha256."""

    def __init__(self, digest: str, where: str = "") -> None:
        super().__init__("blob", digest)
        self.digest = digest
        self.where = where
        if where:
            self.args = (f"blob not found: {digest} (in {where})",)


class DigestMismatch(InvalidInput):
    """The bytes put under a digest have another sha256: the upload was cut or changed."""

    def __init__(self, expected: str, got: str, size: int) -> None:
        super().__init__(
            f"the uploaded bytes ({size} bytes) have sha256 {got}, not {expected}: the upload"
            " was cut short or changed on the way; send it again",
            field="digest",
        )
        self.expected = expected
        self.got = got
        self.size = size


class BlobRangeError(InvalidInput):
    """A byte range that does not lie in the blob (HTTP's 416); ``size`` is the blob's."""

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message, field="range")
        self.size = size


class BlobStoreUnavailable(StoreError):
    """The blob store cannot be used at all: a missing bucket or directory, credentials the
    server refuses, an endpoint that does not answer. ``location`` names the store
    (``s3://bucket/prefix at http://host:port``), ``reason`` says what is wrong."""

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"blob store {location}: {reason}")
        self.location = location
        self.reason = reason
