"""Media items of runs: posted once their blobs are uploaded, listed per run or for several runs,
and their content served (an image also as a thumbnail).

The SDK uploads an item's content with the blob routes (``blobs.py``), then posts the items;
an item whose blob is not uploaded is a 400 naming the item and the digest.
"""

from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from lablens.contract.media import CONTENT_TYPES
from lablens.server.auth import CurrentUser, readable_store, writable_store
from lablens.server.problems import Problem
from lablens.server.routing import Route

router = APIRouter(prefix="/api/v1/projects/{ws}/{project}", tags=["media"], route_class=Route)

#: The largest thumbnail side a client may ask for.
MAX_THUMB = 4096
#: The most runs one request for media keys may name (a store query each).
MAX_RUNS = 1000


class MediaBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Any]
    batch_id: str | None = Field(None, max_length=200)


@router.post("/runs/{run_id}/media")
def append_media(
    ws: str,
    project: str,
    run_id: str,
    body: MediaBatch,
    request: Request,
    user: CurrentUser,
    batch_id: str | None = Header(None, alias="X-Lablens-Batch-Id"),
) -> dict[str, Any]:
    """Store media items ``{items: [...], batch_id}`` (the body's ``batch_id`` or the
    ``X-Lablens-Batch-Id`` header); a batch id already stored stores nothing. Each item's blob
    must be uploaded first (``PUT .../blobs/{sha256}``)."""
    store = writable_store(request, user, ws)
    return store.append_media(
        ws,
        project,
        run_id,
        body.items,
        username=user["username"],
        batch_id=body.batch_id or batch_id,
    )


@router.get("/runs/{run_id}/media")
def list_run_media(
    ws: str,
    project: str,
    run_id: str,
    request: Request,
    user: CurrentUser,
    key: list[str] | None = Query(None),
    min_step: int | None = None,
    max_step: int | None = None,
) -> dict[str, Any]:
    """The run's media items ``{items}`` by key, step and index; ``key`` (repeated for several)
    and the inclusive ``min_step``/``max_step`` narrow them."""
    store = readable_store(request, user, ws, project)
    items = store.list_media(ws, project, [run_id], key=key, min_step=min_step, max_step=max_step)
    return {"items": items}


@router.get("/runs/{run_id}/media/keys")
def media_keys(
    ws: str, project: str, run_id: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """The run's media keys: ``{key: {type, count, first_step, last_step}}``."""
    store = readable_store(request, user, ws, project)
    return store.media_keys(ws, project, run_id)


@router.get("/media")
def list_media(
    ws: str,
    project: str,
    request: Request,
    user: CurrentUser,
    runs: str = Query(..., description="run ids, comma-separated"),
    key: list[str] | None = Query(None),
    min_step: int | None = None,
    max_step: int | None = None,
) -> dict[str, Any]:
    """The media items of several runs in one request ``{items}``, each with its ``run_id``,
    by run (in the order given), key, step and index."""
    store = readable_store(request, user, ws, project)
    run_ids = [r for r in runs.split(",") if r]
    if not run_ids:
        raise Problem(400, "bad_request", "runs must name at least one run id", field="runs")
    items = store.list_media(ws, project, run_ids, key=key, min_step=min_step, max_step=max_step)
    if len(dict.fromkeys(run_ids)) == 1:
        for item in items:
            item["run_id"] = run_ids[0]
    return {"items": items}


@router.get("/media/keys")
def list_media_keys(
    ws: str,
    project: str,
    request: Request,
    user: CurrentUser,
    runs: str = Query(..., description="run ids, comma-separated"),
) -> dict[str, Any]:
    """The media keys of several runs in one request: ``{"runs": {run_id: {key: {type, count,
    first_step, last_step}}}}``, the runs in the order given (one without media: ``{}``)."""
    store = readable_store(request, user, ws, project)
    run_ids = list(dict.fromkeys(r for r in runs.split(",") if r))
    if not run_ids:
        raise Problem(400, "bad_request", "runs must name at least one run id", field="runs")
    if len(run_ids) > MAX_RUNS:
        raise Problem(
            400, "bad_request", f"runs names {len(run_ids)} runs, at most {MAX_RUNS}", field="runs"
        )
    return {"runs": {rid: store.media_keys(ws, project, rid) for rid in run_ids}}


def thumbnail(content: bytes, size: int) -> bytes:
    """An image scaled to fit ``size`` x ``size``, as PNG (for the media route and the pages)."""
    from PIL import Image  # a core dependency; loaded only when a thumbnail is asked for

    with Image.open(io.BytesIO(content)) as image:
        image.thumbnail((size, size))
        out = io.BytesIO()
        image.save(out, format="PNG")
    return out.getvalue()


@router.get("/media/{digest}")
async def media_content(
    ws: str,
    project: str,
    digest: str,
    request: Request,
    user: CurrentUser,
    thumb: int | None = Query(None, ge=1, le=MAX_THUMB),
) -> Response:
    """The content (named by its sha256 ``digest``) of a media item of the project, with its
    content type; for an image,
    ``thumb=N`` gives a PNG at most N pixels on its long side."""
    store = readable_store(request, user, ws, project)
    info, content = await run_in_threadpool(store.read_media, ws, project, digest)
    media_type = CONTENT_TYPES.get(info["format"], "application/octet-stream")
    if thumb is not None:
        if info["type"] != "image":
            raise Problem(
                400, "bad_request", f"thumb is for images, this is a {info['type']}", field="thumb"
            )
        content = await run_in_threadpool(thumbnail, content, thumb)
        media_type = "image/png"
    # Content-addressed: the bytes under this name never change.
    headers = {"ETag": f'"{digest}"', "Cache-Control": "private, max-age=31536000, immutable"}
    return Response(content, media_type=media_type, headers=headers)
