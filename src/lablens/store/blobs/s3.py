"""``S3Blobs``: blobs as objects of an S3-compatible bucket (AWS S3, SeaweedFS, MinIO, R2...).

Blob ``abcdef...`` is the object ``PREFIX/ab/cdef...``: the layout of a local blob dir, so
``aws s3 sync DATA/blobs s3://BUCKET/PREFIX`` copies one into the other as it is.

Credentials, endpoint and region come from the standard AWS environment (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``, ``AWS_REGION``; boto3 also reads its config
files and instance roles).

How a blob is written, a part (8 MiB by default) in memory at a time:

- content that ends within the first part is hashed whole, checked, and sent in one PUT;
- larger content goes as a multipart upload, whose parts are invisible until it is completed.
  When the digest is named in advance (an upload to ``.../blobs/{sha256}``, a migration) the
  upload goes straight to the blob's key and is completed only once the sha256 of everything
  sent is right, or aborted. When it is not known, the upload goes to a temporary key
  (``PREFIX/.uploads/...``), which is copied server-side to the blob's key once the digest is
  known (the copy moves no bytes through this process), then deleted.

An error on the way aborts the multipart upload; ``cleanup()`` removes what a killed process
left (unfinished uploads, temporary keys).
"""

from __future__ import annotations

import os
import time
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any

from lablens.store.blobs.base import BlobReader, BlobStore, BlobWriter, check_digest, check_range
from lablens.store.blobs.errors import BlobNotFound, BlobStoreUnavailable

#: The size of an upload's parts (S3 takes 5 MiB to 5 GiB; all but the last the same).
PART_SIZE = 8 << 20
#: Parts of one upload sent at once: 2 gives 1.6 times the rate of 1 to a SeaweedFS on
#: loopback, for one more part in memory.
PARTS_IN_FLIGHT = 2
#: S3's limits: parts of an upload, and the largest object a single copy makes.
MAX_PARTS = 10_000
MAX_COPY = 5 << 30
#: Where uploads whose digest is not known yet are written, under the prefix.
UPLOADS = ".uploads/"

_HEX = frozenset("0123456789abcdef")
_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
_REFUSED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "403",
    "Forbidden",
}


class S3Blobs(BlobStore):
    """Blobs in ``bucket`` under ``prefix`` (``""`` or a path such as ``"lablens/blobs"``).

    ``client`` is a boto3 S3 client to use instead of one made from the environment;
    ``endpoint_url``, ``region``, ``access_key`` and ``secret_key`` override the environment's.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: Any = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        part_size: int = PART_SIZE,
        parts_in_flight: int = PARTS_IN_FLIGHT,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 blob store needs a bucket: s3://BUCKET/PREFIX")
        if part_size < 5 << 20:
            raise ValueError(f"part_size {part_size} is below S3's minimum of 5 MiB")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.part_size = part_size
        self.parts_in_flight = max(1, parts_in_flight)
        # Shared by the store's writers; the threads only send parts, they wait on nothing.
        self._senders = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lablens-s3-part")
        self.url = f"s3://{bucket}/{self.prefix}"
        if client is None:
            client, access_key = _client(endpoint_url, region, access_key, secret_key)
        self._client = client
        # Named in error messages (never the secret), so a refused key is recognised.
        self._access_key = access_key

    @property
    def endpoint(self) -> str:
        """The S3 endpoint this store talks to."""
        return str(self._client.meta.endpoint_url)

    @property
    def location(self) -> str:
        """The bucket, prefix and endpoint, as error messages name them."""
        return f"{self.url} at {self.endpoint}"

    def key(self, digest: str) -> str:
        """The object key of blob ``digest``."""
        digest = check_digest(digest)
        return f"{self.prefix}{digest[:2]}/{digest[2:]}"

    # -- errors ------------------------------------------------------------------------------
    def _failure(self, exc: Exception, digest: str | None = None) -> Exception:
        """The store's error for a boto error: a missing blob, or a store that cannot be used
        (naming bucket and endpoint); any other error as it came."""
        from botocore.exceptions import (
            ClientError,
            ConnectionError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in _NOT_FOUND and digest is not None:
                return BlobNotFound(digest, self.url)
            # A HEAD answer has no body, so no code: a bare 404 not about a blob is the bucket's.
            if code == "NoSuchBucket" or code in {"404", "NotFound"}:
                return BlobStoreUnavailable(
                    self.location, f"the bucket {self.bucket!r} does not exist"
                )
            if code in _REFUSED:
                return BlobStoreUnavailable(
                    self.location,
                    f"the server refused the credentials (access key {self._access_key!r}):"
                    f" {code} {error.get('Message', '')}".rstrip()
                    + "; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and the key's"
                    " rights on the bucket",
                )
            return exc
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return BlobStoreUnavailable(
                self.location,
                f"no credentials ({exc}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            )
        if isinstance(exc, ConnectionError):
            return BlobStoreUnavailable(self.location, f"the endpoint does not answer: {exc}")
        return exc

    def _call(self, method: str, digest: str | None = None, **params: Any) -> Any:
        """``client.method(Bucket=..., **params)``, its errors as the store's."""
        try:
            return getattr(self._client, method)(Bucket=self.bucket, **params)
        except Exception as exc:
            failure = self._failure(exc, digest)
            if failure is exc:
                raise
            raise failure from exc

    # -- BlobStore ---------------------------------------------------------------------------
    def writer(self, digest: str | None = None) -> BlobWriter:
        if digest is not None:
            digest = check_digest(digest)
        return _S3Writer(self, digest)

    def open(self, digest: str, start: int = 0, length: int | None = None) -> BlobReader:
        key = self.key(digest)
        if start < 0 or (length is not None and length <= 0):
            # No HTTP range says "no bytes": check the range against the size instead.
            size = self.size(digest)
            start, length = check_range(digest, size, start, length)
            return _S3Reader(digest, size, start, 0, None)
        params: dict[str, Any] = {"Key": key}
        if start or length is not None:
            end = "" if length is None else str(start + length - 1)
            params["Range"] = f"bytes={start}-{end}"
        try:
            got = self._call("get_object", digest, **params)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code != "InvalidRange":
                raise
            # Past the end (or any range of an empty blob): say so with the blob's size.
            size = self.size(digest)
            start, length = check_range(digest, size, start, length)
            return _S3Reader(digest, size, start, length, None)
        if "Range" in params:
            size = int(str(got["ContentRange"]).rsplit("/", 1)[1])
        else:
            size = int(got["ContentLength"])
        return _S3Reader(digest, size, start, int(got["ContentLength"]), got["Body"])

    def size(self, digest: str) -> int:
        return int(self._call("head_object", digest, Key=self.key(digest))["ContentLength"])

    def delete(self, digest: str) -> bool:
        if not self.exists(digest):
            return False
        self._call("delete_object", Key=self.key(digest))
        return True

    def digests(self) -> Iterator[str]:
        for page in self._pages("list_objects_v2", Prefix=self.prefix):
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix) :]
                if len(name) == 65 and name[2] == "/":
                    digest = name[:2] + name[3:]
                    if _HEX.issuperset(digest):
                        yield digest

    def cleanup(self, older_than: float = 86400.0) -> int:
        cutoff = datetime.fromtimestamp(time.time() - older_than, UTC)
        removed = 0
        for page in self._pages("list_multipart_uploads", Prefix=self.prefix):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < cutoff:
                    self._abort_upload(upload["Key"], upload["UploadId"])
                    removed += 1
        for page in self._pages("list_objects_v2", Prefix=self.prefix + UPLOADS):
            for item in page.get("Contents", []):
                if item["LastModified"] < cutoff:
                    self._call("delete_object", Key=item["Key"])
                    removed += 1
        return removed

    def check(self) -> None:
        # A listing, not HEAD: its answer has a body, whose error code tells a missing bucket
        # from refused credentials.
        self._call("list_objects_v2", Prefix=self.prefix, MaxKeys=1)

    # -- helpers -----------------------------------------------------------------------------
    def _pages(self, method: str, **params: Any) -> Iterator[dict[str, Any]]:
        paginator = self._client.get_paginator(method)
        try:
            yield from paginator.paginate(Bucket=self.bucket, **params)
        except Exception as exc:
            failure = self._failure(exc)
            if failure is exc:
                raise
            raise failure from exc

    def _abort_upload(self, key: str, upload_id: str) -> None:
        try:
            self._call("abort_multipart_upload", Key=key, UploadId=upload_id)
        except BlobStoreUnavailable:
            raise
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code != "NoSuchUpload":  # aborted or completed meanwhile
                raise

    def _copy(self, source: str, target: str, size: int) -> None:
        """Copy an object inside the bucket, server-side (in parts past S3's 5 GiB limit)."""
        origin = {"Bucket": self.bucket, "Key": source}
        if size <= MAX_COPY:
            self._call("copy_object", Key=target, CopySource=origin)
            return
        upload_id = self._call("create_multipart_upload", Key=target)["UploadId"]
        try:
            parts, step = [], 1 << 30
            for number, first in enumerate(range(0, size, step), 1):
                last = min(first + step, size) - 1
                got = self._call(
                    "upload_part_copy",
                    Key=target,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource=origin,
                    CopySourceRange=f"bytes={first}-{last}",
                )
                parts.append({"PartNumber": number, "ETag": got["CopyPartResult"]["ETag"]})
            self._call(
                "complete_multipart_upload",
                Key=target,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            self._abort_upload(target, upload_id)
            raise


def _client(
    endpoint_url: str | None, region: str | None, access_key: str | None, secret_key: str | None
) -> tuple[Any, str | None]:
    """A boto3 S3 client from the standard AWS environment, with the arguments given over it,
    and the access key id it signs with (``None`` when it found no credentials)."""
    import boto3  # the ``team`` extra; loaded only by a server that uses S3
    from botocore.config import Config

    endpoint = (
        endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    )
    session = boto3.session.Session(
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region or os.environ.get("AWS_REGION") or None,
    )
    config = Config(
        # Path-style URLs: S3-compatible servers on their own host name seldom have the
        # wildcard DNS that virtual-hosted buckets need; AWS takes both.
        s3={"addressing_style": "path"} if endpoint else {},
        retries={"mode": "standard", "max_attempts": 4},
        connect_timeout=10,
        read_timeout=120,
        max_pool_connections=32,
    )
    credentials = session.get_credentials()
    client = session.client("s3", endpoint_url=endpoint or None, config=config)
    return client, credentials.access_key if credentials is not None else None


class _S3Writer(BlobWriter):
    """One blob going to S3 a part at a time (the module's docstring says how); up to
    ``parts_in_flight`` parts are sent at once while the next one fills."""

    def __init__(self, blobs: S3Blobs, digest: str | None) -> None:
        super().__init__(digest)
        self._blobs = blobs
        self._buf = bytearray()
        # Stored already: the bytes are only hashed, to check them.
        self._skip = digest is not None and blobs.exists(digest)
        self._key = blobs.key(digest) if digest else f"{blobs.prefix}{UPLOADS}{uuid.uuid4().hex}"
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._sending: deque[Future[Any]] = deque()
        self._temp_written = False

    def _part_size(self) -> int:
        # Parts grow every 1,000 so that S3's 10,000 parts hold 55 times 1,000 first parts
        # (440 GB at 8 MiB) while a usual blob keeps one small part in memory.
        return self._blobs.part_size * (1 + len(self._parts) // 1000)

    def _write(self, chunk: bytes | bytearray | memoryview) -> None:
        if self._skip:
            return
        view = memoryview(chunk).cast("B")
        while view:
            room = self._part_size() - len(self._buf)
            self._buf += view[:room]
            view = view[room:]
            if len(self._buf) >= self._part_size():
                self._send_part()

    def _send_part(self) -> None:
        blobs = self._blobs
        if self._upload_id is None:
            got = blobs._call("create_multipart_upload", Key=self._key)
            self._upload_id = got["UploadId"]
        if len(self._parts) >= MAX_PARTS:
            raise ValueError(f"a blob of more than {MAX_PARTS} parts cannot be stored in S3")
        # The part's buffer is handed over whole (no copy) and a new one started.
        body, self._buf = self._buf, bytearray()
        part = {"PartNumber": len(self._parts) + 1}
        self._parts.append(part)
        self._sending.append(blobs._senders.submit(self._send, part, body))
        while len(self._sending) >= blobs.parts_in_flight:
            self._sending.popleft().result()  # its error, if any, ends the upload here

    def _send(self, part: dict[str, Any], body: bytearray) -> None:
        got = self._blobs._call(
            "upload_part",
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=part["PartNumber"],
            Body=body,
        )
        part["ETag"] = got["ETag"]

    def _commit(self, digest: str) -> bool:
        blobs = self._blobs
        if self._skip:
            return False
        final = blobs.key(digest)
        if self._upload_id is None:
            # Within one part: checked whole, then one PUT.
            if self.expected is None and blobs.exists(digest):
                return False
            body, self._buf = self._buf, bytearray()
            blobs._call("put_object", Key=final, Body=bytes(body))
            return True
        if self._buf:
            self._send_part()
        while self._sending:
            self._sending.popleft().result()
        blobs._call(
            "complete_multipart_upload",
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        self._upload_id = None
        if self._key == final:
            return True
        self._temp_written = True
        stored = not blobs.exists(digest)
        if stored:
            blobs._copy(self._key, final, self.size)
        blobs._call("delete_object", Key=self._key)
        self._temp_written = False
        return stored

    def _abort(self) -> None:
        self._buf = bytearray()
        # Parts still on their way would outlive an abort sent before they land.
        wait(self._sending)
        self._sending.clear()
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            self._blobs._abort_upload(self._key, upload_id)
        if self._temp_written:
            self._temp_written = False
            self._blobs._call("delete_object", Key=self._key)


class _S3Reader(BlobReader):
    def __init__(self, digest: str, size: int, start: int, length: int, body: Any) -> None:
        super().__init__(digest, size, start, length)
        self._body = body

    def _read(self, n: int) -> bytes:
        return self._body.read(n) if self._body is not None else b""

    def close(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None
        super().close()
