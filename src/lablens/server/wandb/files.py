"""A run's files as ``wandb.Api`` reads them: ``fileCount``, the ``files`` connection (by names or
a SQL ``LIKE`` pattern), and ``GET /wandb/files/...``, the URL each file names, which serves its
bytes to the same Basic ``api:<key>`` the client sends its queries with (``file.download()``).
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import quote

from ariadne import ObjectType
from fastapi import APIRouter, Request, Response
from graphql import GraphQLResolveInfo

from lablens.server.auth import can_read_project, store_of
from lablens.server.routing import Route
from lablens.server.wandb.auth import WandbUser
from lablens.server.wandb.projects import page_size, store_and_user, wandb_id, wandb_time
from lablens.store.errors import InvalidInput

run_type = ObjectType("Run")
router = APIRouter(tags=["wandb"], route_class=Route)


def like_regex(pattern: str) -> re.Pattern[str]:
    """A SQL ``LIKE`` pattern (``%`` any run, ``_`` one character, ``\\`` escapes) as a regex."""
    out = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


def wandb_md5(hex_digest: str | None) -> str | None:
    """Our hex MD5 as W&B gives it: base64 of the digest."""
    if not hex_digest:
        return None
    try:
        return base64.b64encode(bytes.fromhex(hex_digest)).decode()
    except ValueError:
        return hex_digest


def file_url(request: Request, ws: str, project: str, run_id: str, name: str) -> str:
    """Where ``GET`` reads a run file's bytes (each segment quoted whole; ``name`` keeps its
    slashes)."""
    base = str(request.base_url).rstrip("/")
    parts = [quote(part, safe="") for part in (ws, project, run_id)]
    return f"{base}/wandb/files/{'/'.join(parts)}/{quote(name)}"


def _files(info: GraphQLResolveInfo, run: dict[str, Any], names: list[str] | None = None):
    store, _ = store_and_user(info)
    stored = run["_run"]
    return store.list_files(stored["entity"], stored["project"], stored["id"], names or None)


@run_type.field("fileCount")
def resolve_file_count(run: dict[str, Any], info: GraphQLResolveInfo) -> int:
    return len(_files(info, run))


@run_type.field("files")
def resolve_files(
    run: dict[str, Any],
    info: GraphQLResolveInfo,
    names: list[str | None] | None = None,
    after: str | None = None,
    first: int | None = None,
    pattern: str | None = None,
) -> dict[str, Any]:
    wanted = [n for n in (names or []) if n]
    files = _files(info, run, wanted)
    if pattern and not wanted:
        regex = like_regex(pattern)
        files = [f for f in files if regex.fullmatch(f["name"])]
    # Files are few per run: the cursor is the offset after the last one given.
    try:
        start = int(after) if after else 0
    except ValueError:
        raise InvalidInput(f"not a file cursor: {after!r}", field="after") from None
    size = page_size(first)
    page = files[start : start + size]
    end = start + len(page)
    stored = run["_run"]
    request = info.context["request"]
    edges = []
    for i, f in enumerate(page, start=start + 1):
        url = file_url(request, stored["entity"], stored["project"], stored["id"], f["name"])
        node = {
            "id": wandb_id("File", stored["entity"], stored["project"], stored["id"], f["name"]),
            "name": f["name"],
            "displayName": f["name"],
            "url": url,
            "directUrl": url,
            "sizeBytes": f.get("size") or 0,
            "mimetype": f.get("mimetype"),
            "updatedAt": wandb_time(f.get("updated_at")),
            "md5": wandb_md5(f.get("md5")),
            "digest": wandb_md5(f.get("md5")),
        }
        edges.append({"node": node, "cursor": str(i)})
    return {
        "edges": edges,
        "pageInfo": {
            "endCursor": str(end) if edges else after,
            "hasNextPage": end < len(files),
            "startCursor": None,
            "hasPreviousPage": start > 0,
        },
        "totalCount": len(files),
    }


@router.get("/wandb/files/{ws}/{project}/{run_id}/{name:path}", include_in_schema=False)
def download_file(
    ws: str, project: str, run_id: str, name: str, request: Request, user: WandbUser
) -> Response:
    """A run file's bytes, for a W&B client whose key may read the project."""
    store = store_of(request)
    can_read_project(store, user, ws, project)
    info, content = store.read_file(ws, project, run_id, name)
    headers = {}
    if info.get("md5"):
        headers["ETag"] = f'"{info["md5"]}"'
    return Response(
        content, media_type=info.get("mimetype") or "application/octet-stream", headers=headers
    )


BINDABLES = [run_type]
