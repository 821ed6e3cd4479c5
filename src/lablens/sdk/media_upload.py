"""Media on their way to the server: encoded into items and blobs on the run's background
thread, written to the run's log, then uploaded: the blobs the server lacks
(``POST .../blobs/missing``, then ``POST .../blobs/pack``, many blobs a request), then the items
(``POST .../runs/{id}/media``, with a batch id, so a retry stores nothing twice).

The sender and ``lablens sync`` send a media record the same way (:func:`send_media`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from typing import Any

from lablens.contract.media import pack
from lablens.sdk.media import Media
from lablens.transport import Transport

__all__ = ["MediaEntry", "encode_media", "pack_blobs", "send_media", "unpack_blobs"]

log = logging.getLogger("lablens.sdk")

#: One logged media value waiting to be encoded: ``(key, index, media, step, timestamp)``.
MediaEntry = tuple[str, int, Media, int, float]


def encode_media(entries: Iterable[MediaEntry]) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """The wire items of ``entries`` and the blobs they need (by sha256). A value that cannot
    be encoded is left out with a warning: the run goes on."""
    items: list[dict[str, Any]] = []
    blobs: dict[str, bytes] = {}
    for key, index, media, step, ts in entries:
        try:
            encoded = media._encode(blobs)
        except Exception as exc:
            log.warning(
                "lablens: %s logged under %r at step %d cannot be stored and is dropped: %s",
                type(media).__name__,
                key,
                step,
                exc,
            )
            continue
        sha = hashlib.sha256(encoded.content).hexdigest()
        blobs[sha] = encoded.content
        item: dict[str, Any] = {
            "key": key,
            "step": step,
            "timestamp": ts,
            "index": index,
            "type": encoded.type,
            "format": encoded.format,
            "sha256": sha,
            "size": len(encoded.content),
            "caption": media.caption,
            "meta": encoded.meta,
        }
        if encoded.refs:
            item["refs"] = encoded.refs
        items.append(item)
    return items, blobs


def pack_blobs(blobs: dict[str, bytes]) -> tuple[list[list[Any]], bytes]:
    """Blobs as one body (for the run's log) and its table of contents ``[[sha256, size]]``."""
    return [[sha, len(data)] for sha, data in blobs.items()], b"".join(blobs.values())


def unpack_blobs(toc: list[list[Any]], body: bytes) -> dict[str, bytes]:
    """The blobs of a body made by :func:`pack_blobs`."""
    out, pos = {}, 0
    for sha, size in toc:
        out[sha] = body[pos : pos + size]
        pos += size
    return out


#: Bytes in one ``POST .../blobs/pack``, well under the server's body limit.
PACK_BYTES = 32 << 20


def _put_blobs(
    transport: Transport, project_path: str, digests: list[str], blobs: dict[str, bytes]
) -> None:
    """Upload the blobs named in ``digests``, many to a request (``POST .../blobs/pack``): a
    request per blob costs the server more than a small image's bytes do."""
    part: dict[str, bytes] = {}
    size = 0
    for digest in digests:
        part[digest] = blobs[digest]
        size += len(blobs[digest])
        if size >= PACK_BYTES:
            _post_pack(transport, project_path, part)
            part, size = {}, 0
    if part:
        _post_pack(transport, project_path, part)


def _post_pack(transport: Transport, project_path: str, blobs: dict[str, bytes]) -> None:
    transport.request(
        "POST",
        f"{project_path}/blobs/pack",
        data=pack(blobs),
        headers={"Content-Type": "application/octet-stream"},
    )


def send_media(
    transport: Transport,
    run_path: str,
    batch_id: str,
    items: list[dict[str, Any]],
    blobs: dict[str, bytes],
    uploaded: set[str] | None = None,
) -> dict[str, Any]:
    """Upload the blobs the server lacks, then post the items; returns the server's answer.

    ``uploaded`` (the digests this process sent already) is read and added to, so a blob
    logged again costs no request. A blob that an earlier record of the log carried is asked
    about but not in ``blobs``: the server has it from that record.
    """
    project_path = run_path.rsplit("/runs/", 1)[0]
    digests = [d for d in dict.fromkeys(blobs) if uploaded is None or d not in uploaded]
    if digests:
        answer = transport.post_json(f"{project_path}/blobs/missing", {"digests": digests})
        _put_blobs(
            transport, project_path, [d for d in answer.get("missing", []) if d in blobs], blobs
        )
        if uploaded is not None:
            uploaded.update(digests)
    return transport.post_json(f"{run_path}/media", {"items": items, "batch_id": batch_id})
