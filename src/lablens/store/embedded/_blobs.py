"""Content-addressed blobs: artifact file contents named by their sha256 in ``DATA/blobs/``.

Run files already live there (``_points.py``); artifacts share the directory, so the same bytes
are stored once whoever saved them. An upload is written beside its final name and renamed only
once its sha256 is checked, so a cut or altered upload never becomes a blob.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from lablens import _artifact_names as rules
from lablens.store.errors import InvalidInput

CHUNK = 1 << 20


class Blobs:
    """Mixin of ``EmbeddedStore``: which blobs exist, and storing one."""

    blob_dir: Path

    def missing_blobs(self, digests: Sequence[str]) -> list[str]:
        out: list[str] = []
        for i, digest in enumerate(digests):
            try:
                rules.check_digest(digest)
            except ValueError as exc:
                raise InvalidInput(str(exc), field=f"digests[{i}]") from None
            if digest not in out and not self._blob_path(digest).exists():  # type: ignore[attr-defined]
                out.append(digest)
        return out

    def put_blob(self, digest: str, content: BinaryIO) -> dict[str, Any]:
        try:
            rules.check_digest(digest)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="digest") from None
        path: Path = self._blob_path(digest)  # type: ignore[attr-defined]
        if path.exists():
            return {"digest": digest, "size": path.stat().st_size, "stored": False}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.part"
        h, size = hashlib.sha256(), 0
        try:
            with tmp.open("wb") as out:
                while chunk := content.read(CHUNK):
                    h.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            if h.hexdigest() != digest:
                raise InvalidInput(
                    f"the uploaded bytes have sha256 {h.hexdigest()}, not {digest}: the upload"
                    " was cut short or changed on the way; send it again",
                    field="digest",
                )
            os.replace(tmp, path)  # a reader never sees half a blob
        finally:
            tmp.unlink(missing_ok=True)
        return {"digest": digest, "size": size, "stored": True}
