"""Blobs: the content of artifact files, uploaded by sha256 before a version names them.

An artifact version is made in steps, so an interrupted upload leaves no half version: the client
asks which blobs the server lacks (``POST .../blobs/missing``), uploads those
(``PUT .../blobs/{sha256}``), then commits the manifest (``POST .../artifacts``). Uploading needs
membership of the workspace.

Many small blobs (a run's logged images) go in one request instead: ``POST .../blobs/pack``, whose
body is a pack (``lablens.contract.media.pack_blobs``): a request per blob costs the server more
than a small image's bytes do.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from lablens.contract.media import BadItem, unpack
from lablens.server.auth import CurrentUser, writable_store
from lablens.server.problems import Problem
from lablens.server.routing import Route
from lablens.store.errors import LimitExceeded
from lablens.store.limits import LIMITS

router = APIRouter(prefix="/api/v1/projects/{ws}/{project}", tags=["artifacts"], route_class=Route)

#: Bytes handed to the store (uploads) or to the client (downloads) at a time.
CHUNK = 1 << 20


class Digests(BaseModel):
    model_config = ConfigDict(extra="forbid")
    digests: list[Any]


@router.post("/blobs/missing")
def missing_blobs(
    ws: str, project: str, body: Digests, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Which of these sha256 digests the caller must upload before committing them here.

    Answered for the caller: a blob stored for someone else, which the caller cannot read, is
    missing all the same, so the answer tells nothing about what others stored.
    """
    store = writable_store(request, user, ws)
    return {"missing": store.missing_blobs(ws, body.digests, username=user["username"])}


def _too_large(size: int | None = None) -> LimitExceeded:
    got = f" ({size} bytes)" if size is not None else ""
    return LimitExceeded(
        f"the upload{got} is larger than the server's limit of {LIMITS.max_body_bytes} bytes"
        " (LABLENS_MAX_BODY_BYTES)",
        field="body",
        limit=LIMITS.max_body_bytes,
        status=413,
    )


@router.put("/blobs/{digest}", status_code=201)
async def put_blob(
    ws: str, project: str, digest: str, request: Request, user: CurrentUser, response: Response
) -> dict[str, Any]:
    """Upload one blob; the body is its bytes and ``digest`` their sha256 (checked).

    201 when the caller could not use those bytes before, 200 when they could (answered for
    the caller, whatever others stored). Bytes the server has already are checked and not
    stored twice. A body past ``LABLENS_MAX_BODY_BYTES`` is a 413.
    """
    store = writable_store(request, user, ws)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > LIMITS.max_body_bytes:
        raise _too_large(int(declared))
    upload = await run_in_threadpool(store.open_blob_upload, ws, digest, username=user["username"])
    # The body goes to the store as it arrives, a block at a time: no copy of it is kept in
    # memory or a temporary file, and no worker thread waits on a slow client.
    try:
        size, block = 0, bytearray()
        async for chunk in request.stream():
            size += len(chunk)
            if size > LIMITS.max_body_bytes:
                raise _too_large()
            block += chunk
            if len(block) >= CHUNK:
                await run_in_threadpool(upload.write, bytes(block))
                block.clear()
        if block:
            await run_in_threadpool(upload.write, bytes(block))
        stored = await run_in_threadpool(upload.finish)
    except ClientDisconnect:
        # Nothing of a cut upload is kept; the client sends it again.
        upload.abort()
        raise Problem(
            400, "bad_request", f"the upload of {digest} was cut short", field="body"
        ) from None
    except BaseException:
        upload.abort()
        raise
    response.status_code = 201 if stored["stored"] else 200
    return stored


@router.post("/blobs/pack")
async def put_blob_pack(
    ws: str, project: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Upload many blobs in one request; the body is a pack (``lablens.contract.media``:
    a table of contents ``[[sha256, size], ...]`` then the bytes), each blob checked against its
    sha256 as ``PUT .../blobs/{sha256}`` does. Answers ``{"blobs": [{digest, size, stored}]}``;
    a bad pack or a blob whose bytes do not match is a 400 naming ``blobs[i]``, and the blobs
    before it are kept."""
    store = writable_store(request, user, ws)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > LIMITS.max_body_bytes:
        raise _too_large(int(declared))
    body = await request.body()
    if len(body) > LIMITS.max_body_bytes:
        raise _too_large(len(body))
    try:
        blobs = unpack(body)
    except BadItem as exc:
        raise Problem(400, "bad_request", str(exc), field=exc.field) from None

    answer = await run_in_threadpool(store.put_blobs, ws, blobs, username=user["username"])
    return {"blobs": answer}
