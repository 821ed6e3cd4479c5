"""SwanLab's media (``swanlab.Image``, ``Audio``, ``Text``, ``Html``, ``Video``) as lablens media
items, so ``Run.media(key)`` reads what the ``swanlab`` client logged.

The client uploads each media file first: it asks ``POST /api/resources/presigned/put``
(``{experimentId, paths}``, each path ``media/<medium>/<step>-<sha256 prefix>.<ext>``) for one
URL per path, PUTs the bytes there without its session, then posts the items as
``POST /api/house/metrics`` of type ``media``: ``{key, index (the step), data (the paths),
more ([{caption}]), create_time}``.

The presigned request names the experiment only, so its run is looked for among the projects of
the workspaces the user belongs to (and remembered by this process), and each URL is signed for
that run, path and user (``lablens.server.wandb.signing``). The PUT keeps the bytes as the run
file of that path; the metrics post keeps its references in the run file
``swanlab-media.jsonl`` and makes the items whose files are here; a file uploaded later makes
the items waiting for it. Batch ids name the items' content, so a retry stores nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Query, Request
from starlette.concurrency import run_in_threadpool

from lablens.contract.media import FORMATS
from lablens.server.auth import can_write, role_in, store_of
from lablens.server.problems import Problem
from lablens.server.routing import Route
from lablens.server.swanlab.session import SwanlabUser
from lablens.server.swanlab.wire import SwanlabRoute, as_object, bad_request, metric_step, seconds
from lablens.server.wandb.media import keep_items, media_item, png_image, wav_meta
from lablens.server.wandb.signing import check, signed_query
from lablens.store.base import Store
from lablens.store.errors import NotFound

__all__ = ["MEDIA", "keep_media", "store_upload"]

log = logging.getLogger("lablens.server.swanlab")

router = APIRouter(prefix="/api", route_class=SwanlabRoute, tags=["swanlab"])
uploads = APIRouter(tags=["swanlab"], route_class=Route)

#: The run file keeping a SwanLab run's media references, one ``{key, step, paths, captions,
#: timestamp}`` line each.
MEDIA = "swanlab-media.jsonl"
#: Where the upload URLs point, below the server's base URL.
UPLOAD_PREFIX = "/swanlab/uploads"

Path3 = tuple[str, str, str]

#: (user, experiment id) -> (workspace, project), as found; a hint, checked on each use.
_FOUND: dict[tuple[str, str], tuple[str, str]] = {}
_FOUND_MAX = 10_000


def find_run(store: Store, username: str, run_id: str) -> tuple[str, str]:
    """The workspace and project of the run ``run_id`` among those the user belongs to;
    ``NotFound`` when none holds it."""
    hint = _FOUND.get((username, run_id))
    if hint is not None:
        try:
            store.get_run(*hint, run_id)
            return hint
        except NotFound:
            _FOUND.pop((username, run_id), None)
    for ws in store.list_workspaces(username):
        cursor = None
        while True:
            page = store.list_projects(ws["username"], cursor=cursor, limit=200, viewer=username)
            for project in page["items"]:
                try:
                    store.get_run(ws["username"], project["name"], run_id)
                except NotFound:
                    continue
                if len(_FOUND) >= _FOUND_MAX:
                    _FOUND.clear()
                _FOUND[(username, run_id)] = (ws["username"], project["name"])
                return ws["username"], project["name"]
            cursor = page.get("next")
            if not cursor:
                break
    raise NotFound("run", run_id)


def _upload_url(base: str, username: str, path: Path3, name: str) -> str:
    parts = "/".join(quote(p, safe="") for p in path)
    query = f"user={quote(username, safe='')}&" + signed_query(("swanlab", username, *path, name))
    return f"{base.rstrip('/')}{UPLOAD_PREFIX}/{parts}/{quote(name)}?{query}"


def _media_path(value: Any, where: str) -> str:
    """A media file's path as the client names it: ``media/<medium>/<file>``."""
    if not isinstance(value, str):
        raise bad_request(f"{where} must be a path media/<type>/<file>")
    parts = PurePosixPath(value).parts
    if len(parts) != 3 or parts[0] != "media" or ".." in parts or value != "/".join(parts):
        raise bad_request(f"{where} must be a path media/<type>/<file>, got {value!r}")
    return value


@router.post("/resources/presigned/put")
def presigned_put(request: Request, user: SwanlabUser, raw: Any = Body(None)) -> dict[str, Any]:
    """One signed upload URL per media path of an experiment: ``{urls}``, in order."""
    body = as_object(raw)
    run_id = body.get("experimentId")
    if not isinstance(run_id, str) or not run_id:
        raise bad_request("experimentId is required")
    paths = body.get("paths")
    if not isinstance(paths, list) or not paths or len(paths) > 1000:
        raise bad_request("paths must be a list of 1 to 1000 media paths")
    names = [_media_path(p, f"paths[{i}]") for i, p in enumerate(paths)]
    store = store_of(request)
    ws, project = find_run(store, user["username"], run_id)
    can_write(store, user, ws)
    base = str(request.base_url)
    return {"urls": [_upload_url(base, user["username"], (ws, project, run_id), n) for n in names]}


def _item_parts(name: str, content: bytes) -> tuple[str, str, bytes, dict[str, Any]] | None:
    """A media file as ``(type, format, content, meta)``; ``None`` for a kind lablens does not
    keep as media (ECharts, 3D objects, molecules stay run files)."""
    medium = PurePosixPath(name).parts[1]
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    if medium == "image":
        return ("image", "png", *png_image(content))
    if medium == "audio" and suffix == "wav":
        return ("audio", "wav", *wav_meta(content))
    if medium == "text":
        return "text", "txt", content, {"chars": len(content.decode("utf-8"))}
    if medium == "html":
        return "html", "html", content, {"chars": len(content.decode("utf-8"))}
    if medium == "video" and suffix in FORMATS["video"]:
        return "video", suffix, content, {}
    return None


def _make(store: Store, path: Path3, lines: Iterable[Mapping[str, Any]], username: str) -> int:
    """Store the items of kept references whose files are all uploaded."""
    stored = 0
    for line in lines:
        made = []
        try:
            for index, name in enumerate(line["paths"]):
                try:
                    _, content = store.read_file(*path, name)
                except NotFound:
                    raise LookupError(name) from None
                parts = _item_parts(name, content)
                if parts is None:
                    continue
                captions = line.get("captions") or []
                caption = captions[index] if index < len(captions) else None
                item = media_item(
                    line["key"], line["step"], line["timestamp"], index, *parts, caption
                )
                made.append((item, parts[2]))
        except LookupError:
            continue  # its upload makes it
        except Exception as exc:  # a file that is not what its path says
            log.warning("SwanLab media %r of %s not kept: %s", line.get("key"), "/".join(path), exc)
            continue
        if made:
            what = json.dumps([line["key"], [[i["index"], i["sha256"]] for i, _ in made]])
            digest = hashlib.sha256(what.encode()).hexdigest()[:32]
            stored += keep_items(
                store, path, made, username, f"swanlab:media:{line['step']}:{digest}"
            )
    return stored


def _references(metrics: list[Any]) -> list[dict[str, Any]]:
    """The media metrics of a post, checked, as the lines kept in ``swanlab-media.jsonl``."""
    lines = []
    for i, m in enumerate(metrics):
        where = f"metrics[{i}]"
        step = metric_step(m, where)
        data = m.get("data")
        if not isinstance(data, list):
            raise bad_request(f"{where}.data must be a list of media paths")
        paths = [_media_path(p, f"{where}.data[{j}]") for j, p in enumerate(data)]
        more = m.get("more") if isinstance(m.get("more"), list) else []
        # The client sends a caption only for the items that have one: in order only when
        # every item has one.
        captions = [
            x.get("caption") if isinstance(x, dict) and isinstance(x.get("caption"), str) else None
            for x in more
        ]
        lines.append(
            {
                "key": m["key"],
                "step": step,
                "paths": paths,
                "captions": captions if len(captions) == len(paths) else [],
                "timestamp": seconds(m.get("create_time"), f"{where}.create_time"),
            }
        )
    return lines


def keep_media(store: Store, path: Path3, metrics: list[Any], username: str) -> dict[str, Any]:
    """A ``media`` metrics post: its references kept, and the items whose files are here made
    (``{stored}``)."""
    lines = _references(metrics)
    store.get_run(*path)
    try:
        _, old = store.read_file(*path, MEDIA)
    except NotFound:
        old = b""
    seen = {
        (x["key"], x["step"])
        for x in (json.loads(t) for t in old.decode().splitlines() if t.strip())
    }
    new = [x for x in lines if (x["key"], x["step"]) not in seen]
    if new:
        store.put_file(*path, MEDIA, old + "".join(json.dumps(x) + "\n" for x in new).encode())
    return {"stored": _make(store, path, lines, username)}


def store_upload(store: Store, path: Path3, name: str, content: bytes, username: str) -> None:
    """Keep an uploaded media file as a run file, and make the items waiting for it."""
    store.put_file(*path, name, content)
    try:
        _, kept = store.read_file(*path, MEDIA)
    except NotFound:
        return
    lines = [json.loads(t) for t in kept.decode().splitlines() if t.strip()]
    _make(store, path, [x for x in lines if name in x.get("paths", [])], username)


@uploads.put(UPLOAD_PREFIX + "/{ws}/{project}/{run_id}/{name:path}", include_in_schema=False)
async def upload(
    ws: str,
    project: str,
    run_id: str,
    name: str,
    request: Request,
    user: str = Query(...),
    expires: str = Query(...),
    signature: str = Query(...),
) -> dict[str, Any]:
    """Store the body as the media file ``name`` of the run; the URL's signature stands for
    the session."""
    path = (ws, project, run_id)
    check(("swanlab", user, *path, name), expires, signature, what="upload")
    store = store_of(request)
    try:
        # The signer may have lost the right to write since: check again.
        if not role_in(store, store.get_user(user), ws):
            raise NotFound("workspace", ws)
    except NotFound as exc:
        raise Problem(403, "permission_denied", f"{user} may not write into {ws}") from exc
    content = await request.body()
    await run_in_threadpool(store_upload, store, path, name, content, user)
    return {"name": name, "size": len(content)}
