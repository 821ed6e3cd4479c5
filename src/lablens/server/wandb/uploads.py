"""A W&B run's files: ``createRunFiles`` hands out an upload URL per file, and the PUT to that
URL stores the bytes as a run file under the path the client gave (``media/images/x.png``,
``wandb-metadata.json``, ``requirements.txt``, ``config.yaml``, ``output.log`` ...).

``wandb-metadata.json`` also becomes the run's metadata and ``requirements.txt`` its
requirements, as lablens's own SDK records them; a ``media/`` file completes the media items of
the history references that name it (``media.py``).

The client PUTs to an upload URL without its key, so each URL is signed (``signing.py``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from ariadne import MutationType
from fastapi import APIRouter, Query, Request
from graphql import GraphQLResolveInfo
from starlette.concurrency import run_in_threadpool

from lablens.server.auth import store_of
from lablens.server.problems import Problem
from lablens.server.routing import Route
from lablens.server.wandb.access import WandbError, check_writable, storage_id
from lablens.server.wandb.media import media_of_upload
from lablens.server.wandb.signing import check, signed_query
from lablens.store.base import Store
from lablens.store.errors import NotFound

mutation = MutationType()
router = APIRouter(tags=["wandb"], route_class=Route)

#: Where the upload URLs point, below the server's base URL.
UPLOAD_PREFIX = "/wandb/uploads"


def upload_url(base: str, username: str, path: tuple[str, str, str], name: str) -> str:
    """The URL a run file is PUT to, signed for ``username`` for ``URL_LIFETIME`` seconds."""
    parts = "/".join(quote(p, safe="") for p in path)
    query = f"user={quote(username, safe='')}&" + signed_query((username, *path, name))
    return f"{base.rstrip('/')}{UPLOAD_PREFIX}/{parts}/{quote(name)}?{query}"


def check_signature(
    username: str, path: tuple[str, str, str], name: str, expires: str, signature: str
) -> None:
    """Refuse (403) an upload whose URL was not signed here for this file, or has expired."""
    check((username, *path, name), expires, signature, what="upload")


@mutation.field("createRunFiles")
def resolve_create_run_files(
    _: Any, info: GraphQLResolveInfo, input: dict[str, Any]
) -> dict[str, Any]:
    store: Store = info.context["store"]
    entity, project, run_id = input["entityName"], input["projectName"], input["runName"]
    check_writable(store, info.context["user"], entity)
    store.get_run(entity, project, run_id)
    base = str(info.context["request"].base_url)
    username = info.context["user"]["username"]
    path = (entity, project, run_id)
    return {
        "runID": storage_id(entity, project, run_id),
        "uploadHeaders": [],
        "files": [
            {"name": name, "uploadUrl": upload_url(base, username, path, name)}
            for name in input["files"]
        ],
    }


@mutation.field("markRunFilesUploaded")
def resolve_mark_uploaded(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    check_writable(info.context["store"], info.context["user"], input["entityName"])
    return {"success": True}


def store_upload(
    store: Store,
    path: tuple[str, str, str],
    name: str,
    content: bytes,
    username: str | None = None,
) -> None:
    """Keep an uploaded file; the metadata and requirements also fill the run's fields, and a
    media file uploaded by ``username`` the media items that wait for it."""
    store.put_file(*path, name, content)
    if name.startswith("media/") and username is not None:
        media_of_upload(store, path, name, username)
    elif name == "wandb-metadata.json":
        try:
            metadata = json.loads(content)
        except ValueError:
            return
        if isinstance(metadata, dict):
            store.update_run(*path, {"metadata": metadata})
    elif name == "requirements.txt":
        store.update_run(*path, {"requirements": content.decode("utf-8", "replace")})


@router.put(UPLOAD_PREFIX + "/{entity}/{project}/{run_id}/{name:path}", include_in_schema=False)
async def upload(
    entity: str,
    project: str,
    run_id: str,
    name: str,
    request: Request,
    user: str = Query(...),
    expires: str = Query(...),
    signature: str = Query(...),
) -> dict[str, Any]:
    """Store the body as the run file ``name``; the URL's signature stands for the key."""
    path = (entity, project, run_id)
    check_signature(user, path, name, expires, signature)
    store = store_of(request)
    try:
        # The signer may have lost the right to write since: check again.
        check_writable(store, store.get_user(user), entity)
    except (WandbError, NotFound) as exc:
        raise Problem(403, "permission_denied", str(exc)) from exc
    content = await request.body()
    await run_in_threadpool(store_upload, store, path, name, content, user)
    return {"name": name, "size": len(content)}


BINDABLES = [mutation]
