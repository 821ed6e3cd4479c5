"""The artifacts ``wandb.Api`` reads: ``api.artifact("entity/project/name:alias")``, an artifact
by id, ``run.logged_artifacts()``/``used_artifacts()``, and ``artifact.download()``.

A lablens artifact version is a W&B artifact (its collection a W&B ``ArtifactSequence``). The
client downloads the manifest and the files from URLs without its key, so each URL this part
hands out is signed for one file of one version (``signing.py``). The manifest is W&B's version 1,
each file's digest its base64 MD5 (computed from the content once per process and file).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from ariadne import InterfaceType, ObjectType, QueryType, UnionType
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from graphql import GraphQLResolveInfo

from lablens.server.auth import role_in, store_of
from lablens.server.routing import Route
from lablens.server.wandb.connections import connection
from lablens.server.wandb.projects import (
    page_size,
    project_node,
    readable_project,
    store_and_user,
    wandb_id,
    wandb_time,
)
from lablens.server.wandb.runs import decode_floats, run_node_of
from lablens.server.wandb.signing import check, signed_query
from lablens.store.base import Store
from lablens.store.errors import NotFound

query = QueryType()
project_type = ObjectType("Project")
run_type = ObjectType("Run")
collection_interface = InterfaceType("ArtifactCollection")
sequence_type = ObjectType("ArtifactSequence")
membership_type = ObjectType("ArtifactCollectionMembership")
artifact_type = ObjectType("Artifact")
creator_union = UnionType("ArtifactCreator")
file_type = ObjectType("File")
server_info_type = ObjectType("ServerInfo")
router = APIRouter(tags=["wandb"], route_class=Route)

#: Where the signed artifact URLs point, below the server's base URL.
ARTIFACT_PREFIX = "/wandb/artifacts"
#: The manifest's name, as W&B calls the file.
MANIFEST_NAME = "wandb_manifest.json"


# -- ids and signed URLs ------------------------------------------------------------------------
def artifact_id(ws: str, project: str, version_id: str) -> str:
    """The opaque W&B id of a version: where it lives and its lablens id."""
    return base64.b64encode(json.dumps(["Artifact", ws, project, version_id]).encode()).decode()


def parse_artifact_id(value: str) -> tuple[str, str, str] | None:
    """``(workspace, project, version id)`` of an id made by ``artifact_id``, else ``None``."""
    try:
        parts = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return None
    if (
        not isinstance(parts, list)
        or len(parts) != 4
        or parts[0] != "Artifact"
        or not all(isinstance(p, str) and p for p in parts)
    ):
        return None
    return parts[1], parts[2], parts[3]


def signed_url(base: str, ws: str, project: str, version_id: str, what: str) -> str:
    """The URL of a version's manifest (``what="manifest"``) or file (``files/<path>``)."""
    where = "/".join(quote(p, safe="") for p in (ws, project, version_id))
    query_string = signed_query((ws, project, version_id, what))
    return f"{base.rstrip('/')}{ARTIFACT_PREFIX}/{where}/{quote(what)}?{query_string}"


def _check(ws: str, project: str, version_id: str, what: str, expires: str, signature: str):
    check((ws, project, version_id, what), expires, signature, what="artifact")


def _base(info: GraphQLResolveInfo) -> str:
    return str(info.context["request"].base_url)


# -- nodes ----------------------------------------------------------------------------------------
def _collection(ws: str, project: str, name: str, kind: str = "sequence") -> dict[str, Any]:
    return {
        "id": wandb_id("ArtifactCollection", ws, project, name),
        "name": name,
        "_ws": ws,
        "_project": project,
        "_kind": kind,
    }


def _aliases(art: dict[str, Any], collection: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": wandb_id("ArtifactAlias", art["entity"], art["project"], collection["name"], a),
            "alias": a,
            "artifactCollection": collection,
        }
        for a in art.get("aliases") or []
    ]


def artifact_node(art: dict[str, Any]) -> dict[str, Any]:
    """A stored version as W&B's ``Artifact``."""
    ws, project = art["entity"], art["project"]
    collection = _collection(ws, project, art["collection"]["name"])
    return {
        "id": artifact_id(ws, project, art["id"]),
        "artifactSequence": collection,
        "versionIndex": art.get("version_index"),
        "artifactType": {
            "id": wandb_id("ArtifactType", ws, project, art["type"]),
            "name": art["type"],
        },
        "description": art.get("description"),
        "metadata": decode_floats(art.get("metadata") or {}),
        # No time to live: W&B's "disabled".
        "ttlDurationSeconds": -2,
        "ttlIsInherited": True,
        "tags": [{"id": wandb_id("Tag", t), "name": t} for t in art.get("tags") or []],
        "historyStep": None,
        "state": art.get("state") or "COMMITTED",
        "size": art.get("size") or 0,
        "digest": art.get("digest") or "",
        "digestAlgorithm": "MANIFEST_MD5",
        "commitHash": None,
        "fileCount": art.get("file_count") or 0,
        "createdAt": wandb_time(art.get("created_at")),
        "updatedAt": wandb_time(art.get("updated_at")),
        "aliases": _aliases(art, collection),
        "_art": art,
    }


def membership_node(art: dict[str, Any]) -> dict[str, Any]:
    """A stored version as W&B's ``ArtifactCollectionMembership`` (the version in its
    collection)."""
    node = artifact_node(art)
    return {
        "id": wandb_id("ArtifactCollectionMembership", art["entity"], art["project"], art["id"]),
        "versionIndex": art.get("version_index"),
        "createdAt": node["createdAt"],
        "aliases": node["aliases"],
        "artifactCollection": node["artifactSequence"],
        "artifact": node,
        "_art": art,
    }


def _version(store: Store, ws: str, project: str, name: str) -> dict[str, Any] | None:
    collection, _, selector = name.rpartition(":")
    if not collection:
        collection, selector = name, "latest"
    try:
        return store.get_artifact(ws, project, collection, selector)
    except NotFound:
        return None


# -- resolvers ------------------------------------------------------------------------------------
@query.field("artifact")
def resolve_artifact(_: Any, info: GraphQLResolveInfo, id: str) -> Any:  # noqa: A002
    where = parse_artifact_id(id)
    if where is None or readable_project(info, where[0], where[1]) is None:
        return None
    store, _user = store_and_user(info)
    try:
        return artifact_node(store.get_artifact_by_id(*where))
    except NotFound:
        return None


@project_type.field("artifactCollectionMembership")
def resolve_membership(project: dict[str, Any], info: GraphQLResolveInfo, name: str) -> Any:
    store, _ = store_and_user(info)
    art = _version(store, project["entityName"], project["name"], name)
    return membership_node(art) if art else None


@project_type.field("artifactCollection")
def resolve_collection(project: dict[str, Any], info: GraphQLResolveInfo, name: str) -> Any:
    store, _ = store_and_user(info)
    try:
        found = store.get_artifact_collection(project["entityName"], project["name"], name)
    except NotFound:
        return None
    return _collection(project["entityName"], project["name"], found["name"])


@project_type.field("entity")
def resolve_project_entity(project: dict[str, Any], *_: Any) -> dict[str, Any]:
    return {"id": project["entityName"], "name": project["entityName"]}


@server_info_type.field("features")
def resolve_features(*_: Any) -> list[dict[str, Any]]:
    # None of W&B's optional features: the client then asks only what every server answers.
    return []


@collection_interface.type_resolver
def resolve_collection_type(collection: dict[str, Any], *_: Any) -> str:
    return "ArtifactSequence"


@sequence_type.field("project")
def resolve_collection_project(collection: dict[str, Any], info: GraphQLResolveInfo) -> Any:
    store, user = store_and_user(info)
    key = (collection["_ws"], collection["_project"])
    # A page of versions is mostly one project's: read it once per request.
    cache = info.context.setdefault("wandb_projects", {})
    if key not in cache:
        writable = role_in(store, user, key[0]) is not None
        cache[key] = project_node(store.get_project(*key), writable=writable)
    return cache[key]


@sequence_type.field("artifactMembership")
def resolve_collection_membership(
    collection: dict[str, Any], info: GraphQLResolveInfo, aliasName: str
) -> Any:
    store, _ = store_and_user(info)
    name = f"{collection['name']}:{aliasName}"
    art = _version(store, collection["_ws"], collection["_project"], name)
    return membership_node(art) if art else None


@membership_type.field("files")
def resolve_membership_files(
    membership: dict[str, Any],
    info: GraphQLResolveInfo,
    names: list[str] | None = None,
    after: str | None = None,
    first: int | None = None,
) -> dict[str, Any]:
    store, _ = store_and_user(info)
    art = membership["_art"]
    ws, project = art["entity"], art["project"]
    page = store.list_artifact_files(
        ws,
        project,
        art["id"],
        names=names or None,
        cursor=after or None,
        limit=page_size(first, default=1000),
    )
    base = _base(info)
    nodes: list[dict[str, Any]] = []
    for entry in page["items"]:
        url = signed_url(base, ws, project, art["id"], f"files/{entry['path']}")
        node = {
            "id": wandb_id("File", ws, project, art["id"], entry["path"]),
            "name": entry["path"],
            "displayName": entry["path"],
            "url": url,
            "directUrl": url,
            "storagePath": None,
            "sizeBytes": entry.get("size") or 0,
            "mimetype": entry.get("mimetype"),
            "updatedAt": wandb_time(art.get("created_at")),
            # The MD5 is read from the content only when asked for (see resolve_file_md5).
            "_artifact_file": None if entry.get("ref") else (ws, project, art["id"], entry["path"]),
        }
        nodes.append(node)
    return connection(nodes, page, after)


@file_type.field("md5")
@file_type.field("digest")
def resolve_file_md5(file: dict[str, Any], info: GraphQLResolveInfo, **_: Any) -> str | None:
    """A run file's MD5 as listed; an artifact file's read from its content (once)."""
    where = file.get("_artifact_file")
    if where is None:
        return file.get(info.field_name)
    store, _ = store_and_user(info)
    return _md5(store, *where)


@artifact_type.field("currentManifest")
def resolve_current_manifest(artifact: dict[str, Any], info: GraphQLResolveInfo) -> Any:
    art = artifact["_art"]
    url = signed_url(_base(info), art["entity"], art["project"], art["id"], "manifest")
    return {
        "id": wandb_id("ArtifactManifest", art["entity"], art["project"], art["id"]),
        "file": {
            "id": wandb_id("File", art["entity"], art["project"], art["id"], MANIFEST_NAME),
            "name": MANIFEST_NAME,
            "url": url,
            "directUrl": url,
            "sizeBytes": 0,
            "mimetype": "application/json",
            "updatedAt": wandb_time(art.get("updated_at")),
            "md5": None,
        },
    }


def _readable_run_node(info: GraphQLResolveInfo, run: dict[str, Any]) -> dict[str, Any] | None:
    if readable_project(info, run["entity"], run["project"]) is None:
        return None
    store, user = store_and_user(info)
    return run_node_of(store, user, run)


@artifact_type.field("createdBy")
def resolve_created_by(artifact: dict[str, Any], info: GraphQLResolveInfo) -> Any:
    logged_by = artifact["_art"].get("logged_by")
    if not logged_by:
        return None
    store, _ = store_and_user(info)
    try:
        run = store.get_run(logged_by["entity"], logged_by["project"], logged_by["id"])
    except NotFound:
        return None
    return _readable_run_node(info, run)


@creator_union.type_resolver
def resolve_creator_type(creator: dict[str, Any], *_: Any) -> str:
    return "Run" if "_run" in creator else "User"


@artifact_type.field("usedBy")
def resolve_used_by(artifact: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    store, _ = store_and_user(info)
    art = artifact["_art"]
    nodes = [
        node
        for run in store.artifact_users(art["entity"], art["project"], art["id"])
        if (node := _readable_run_node(info, run)) is not None
    ]
    return {
        "edges": [{"node": node, "cursor": None} for node in nodes],
        "pageInfo": {
            "endCursor": None,
            "hasNextPage": False,
            "startCursor": None,
            "hasPreviousPage": False,
        },
        "totalCount": len(nodes),
    }


def _run_artifacts(run: dict[str, Any], info: GraphQLResolveInfo, used: bool, **page: Any):
    store, _ = store_and_user(info)
    stored = run["_run"]
    result = store.run_artifacts(
        stored["entity"],
        stored["project"],
        stored["id"],
        used=used,
        cursor=page.get("after") or None,
        limit=page_size(page.get("first")),
    )
    nodes = [artifact_node(art) for art in result["items"]]
    return connection(nodes, result, page.get("after"))


@run_type.field("outputArtifacts")
def resolve_output_artifacts(run: dict[str, Any], info: GraphQLResolveInfo, **page: Any) -> Any:
    return _run_artifacts(run, info, False, **page)


@run_type.field("inputArtifacts")
def resolve_input_artifacts(run: dict[str, Any], info: GraphQLResolveInfo, **page: Any) -> Any:
    return _run_artifacts(run, info, True, **page)


# -- the signed URLs ------------------------------------------------------------------------------
_MD5: dict[tuple[str, str, str, str], str] = {}
_MD5_LOCK = threading.Lock()
#: How many file digests the process remembers (a version's files never change).
_MD5_KEEP = 100_000


def _md5(store: Store, ws: str, project: str, version_id: str, path: str) -> str:
    key = (ws, project, version_id, path)
    with _MD5_LOCK:
        known = _MD5.get(key)
    if known is not None:
        return known
    _, content = store.open_artifact_file(ws, project, version_id, path)
    digest = hashlib.md5(usedforsecurity=False)
    with content:
        for chunk in iter(lambda: content.read(1 << 20), b""):
            digest.update(chunk)
    value = base64.b64encode(digest.digest()).decode()
    with _MD5_LOCK:
        if len(_MD5) >= _MD5_KEEP:
            _MD5.clear()
        _MD5[key] = value
    return value


def manifest_json(store: Store, ws: str, project: str, version_id: str) -> dict[str, Any]:
    """A version's manifest as W&B writes it (version 1, MD5 digests)."""
    contents: dict[str, Any] = {}
    cursor = None
    while True:
        page = store.list_artifact_files(ws, project, version_id, cursor=cursor, limit=1000)
        for entry in page["items"]:
            item: dict[str, Any] = {"size": entry.get("size") or 0}
            if entry.get("ref"):
                item["ref"] = entry["ref"]
                item["digest"] = entry.get("digest") or entry["ref"]
            else:
                item["digest"] = _md5(store, ws, project, version_id, entry["path"])
            contents[entry["path"]] = item
        cursor = page["next"]
        if cursor is None:
            break
    return {
        "version": 1,
        "storagePolicy": "wandb-storage-policy-v1",
        "storagePolicyConfig": {"storageLayout": "V2"},
        "contents": contents,
    }


@router.get(ARTIFACT_PREFIX + "/{ws}/{project}/{version_id}/manifest", include_in_schema=False)
def get_manifest(
    ws: str,
    project: str,
    version_id: str,
    request: Request,
    expires: str = Query(""),
    signature: str = Query(""),
) -> Response:
    """A version's manifest, to a URL signed for it."""
    _check(ws, project, version_id, "manifest", expires, signature)
    body = manifest_json(store_of(request), ws, project, version_id)
    return Response(json.dumps(body), media_type="application/json")


@router.get(
    ARTIFACT_PREFIX + "/{ws}/{project}/{version_id}/files/{path:path}", include_in_schema=False
)
def get_file(
    ws: str,
    project: str,
    version_id: str,
    path: str,
    request: Request,
    expires: str = Query(""),
    signature: str = Query(""),
) -> Response:
    """A version's file, to a URL signed for it, streamed."""
    _check(ws, project, version_id, f"files/{path}", expires, signature)
    entry, content = store_of(request).open_artifact_file(ws, project, version_id, path)

    def chunks() -> Iterator[bytes]:
        with content:
            yield from iter(lambda: content.read(1 << 20), b"")

    headers = {"Content-Length": str(entry["size"])} if entry.get("size") is not None else {}
    return StreamingResponse(
        chunks(), media_type=entry.get("mimetype") or "application/octet-stream", headers=headers
    )


BINDABLES = [
    query,
    project_type,
    run_type,
    collection_interface,
    sequence_type,
    membership_type,
    artifact_type,
    creator_union,
    file_type,
    server_info_type,
]
