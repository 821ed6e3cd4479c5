"""Starting and changing a run from ``wandb.init()``: ``upsertBucket`` and the ``model`` query
that a resuming run reads.

W&B calls a run a bucket and a project a model. Its config travels as
``{"key": {"value": v, "desc": ...}, "_wandb": {...}}``; lablens keeps the plain nested config
without ``_wandb`` (the client's own bookkeeping), and a summary without W&B's underscore keys.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from lablens.server.auth import can_read_project
from lablens.server.problems import Problem
from lablens.server.wandb.access import (
    DEFAULT_PROJECT,
    check_writable,
    entity_for,
    parse_storage_id,
    storage_id,
)
from lablens.store.base import Store
from lablens.store.errors import NotFound

mutation = MutationType()
query = QueryType()
bucket_type = ObjectType("Bucket")

#: The run file that keeps the media references of the history (see ``file_stream``).
MEDIA = "wandb-media.jsonl"
#: Keys of a W&B summary or history row that are the client's bookkeeping, not logged values.
INTERNAL_KEYS = frozenset({"_wandb", "_runtime", "_step", "_timestamp"})
#: The keys of one W&B config item: ``{"value": v, "desc": d}``.
_WRAPPER_KEYS = frozenset({"value", "desc"})


def plain_config(config: Any) -> dict[str, Any]:
    """W&B's ``{"key": {"value": v, "desc": d}}`` config as ``{"key": v}``, without ``_wandb``."""
    if not isinstance(config, Mapping):
        return {}
    out: dict[str, Any] = {}
    for key, item in config.items():
        if key == "_wandb":
            continue
        wrapped = isinstance(item, Mapping) and "value" in item and set(item) <= _WRAPPER_KEYS
        out[key] = item["value"] if wrapped else item
    return out


def wandb_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A plain config in W&B's form, each value under ``value``."""
    return {key: {"value": value, "desc": None} for key, value in config.items()}


def plain_summary(summary: Any) -> dict[str, Any]:
    """A W&B summary without the client's bookkeeping keys (``_wandb``, ``_runtime`` ...)."""
    if not isinstance(summary, Mapping):
        return {}
    return {k: v for k, v in summary.items() if k not in INTERNAL_KEYS}


def _json_value(value: Any, field: str) -> Any:
    """A JSONString argument: the scalar decodes it; a client may also send it already parsed."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise Problem(400, "bad_request", f"{field} is not JSON: {exc}", field=field) from exc
    return value


def project_out(entity: str, project: str) -> dict[str, Any]:
    """A project as ``BucketProject``."""
    return {
        "id": f"{entity}/{project}",
        "name": project,
        "entityName": entity,
        "entity": {"id": entity, "name": entity},
        "_store_key": (entity, project),
    }


def bucket_out(run: Mapping[str, Any]) -> dict[str, Any]:
    """A stored run as a ``Bucket``; the line counts are resolved only when asked for."""
    return {
        "id": storage_id(run["entity"], run["project"], run["id"]),
        "name": run["id"],
        "displayName": run["name"],
        "description": run["notes"],
        "notes": run["notes"],
        "config": wandb_config(run["config"]),
        "summaryMetrics": run["summary"],
        "tags": run["tags"],
        "group": run["group"],
        "jobType": run["job_type"],
        "state": str(run["state"]).lower(),
        "sweepName": run["sweep"],
        "project": project_out(run["entity"], run["project"]),
        "_run": run,
    }


def _changes(data: Mapping[str, Any]) -> dict[str, Any]:
    """The run changes an ``upsertBucket`` input asks for (only the fields it sets)."""
    out: dict[str, Any] = {}
    for field, name in (
        ("displayName", "name"),
        ("notes", "notes"),
        ("groupName", "group"),
        ("jobType", "job_type"),
        ("tags", "tags"),
        ("host", "host"),
    ):
        if data.get(field) is not None:
            out[name] = data[field]
    if "notes" not in out and data.get("description") is not None:
        out["notes"] = data["description"]
    if data.get("config") is not None:
        out["config"] = plain_config(_json_value(data["config"], "input.config"))
    if data.get("summaryMetrics") is not None:
        out["summary"] = plain_summary(_json_value(data["summaryMetrics"], "input.summaryMetrics"))
    return out


def _locate(user: dict[str, Any], data: Mapping[str, Any]) -> tuple[str, str, str | None]:
    """``(entity, project, run_id)`` an input names: by ``name`` or by storage ``id``."""
    if data.get("id") and not data.get("name"):
        return parse_storage_id(data["id"])
    entity = entity_for(user, data.get("entityName"))
    return entity, data.get("modelName") or DEFAULT_PROJECT, data.get("name")


def upsert_bucket(store: Store, user: dict[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """Create the run an ``upsertBucket`` input names (and its project), or change it."""
    entity, project, run_id = _locate(user, data)
    check_writable(store, user, entity)
    changes = _changes(data)
    existing = None
    if run_id:
        try:
            existing = store.get_run(entity, project, run_id)
        except NotFound:
            existing = None
    if existing is None:
        new = {k: v for k, v in changes.items() if k != "summary"}
        metadata = {
            key: data[field]
            for field, key in (("jobProgram", "program"), ("commit", "commit"), ("jobRepo", "repo"))
            if data.get(field)
        }
        run, inserted = store.create_run(
            entity,
            project,
            {**new, "id": run_id, "metadata": metadata or None, "resume": "allow"},
            username=user["username"],
        )
        run_id = run["id"]
        changes = {"summary": changes["summary"]} if "summary" in changes else {}
    else:
        inserted = False
        if data.get("host") is not None and existing["state"] != "RUNNING":
            # A client starting up again (wandb.init with resume): the run runs again.
            store.create_run(
                entity, project, {"id": run_id, "resume": "allow"}, username=user["username"]
            )
        changes.pop("host", None)
    run = store.update_run(entity, project, run_id, changes) if changes else None
    run = run or store.get_run(entity, project, run_id)
    return {"bucket": bucket_out(run), "inserted": inserted}


@mutation.field("upsertBucket")
def resolve_upsert_bucket(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    return upsert_bucket(info.context["store"], info.context["user"], input)


@query.field("model")
def resolve_model(
    _: Any, info: GraphQLResolveInfo, name: str | None = None, entityName: str | None = None
) -> dict[str, Any] | None:
    store: Store = info.context["store"]
    user = info.context["user"]
    entity = entity_for(user, entityName)
    project = name or DEFAULT_PROJECT
    try:
        can_read_project(store, user, entity, project)
        store.get_project(entity, project)
    except (NotFound, Problem):
        return None
    return project_out(entity, project)


bucket_project = ObjectType("BucketProject")


@bucket_project.field("bucket")
def resolve_project_bucket(
    project: dict[str, Any], info: GraphQLResolveInfo, name: str, missingOk: bool | None = None
) -> dict[str, Any] | None:
    entity, project_name = project["_store_key"]
    try:
        return bucket_out(info.context["store"].get_run(entity, project_name, name))
    except NotFound:
        if missingOk:
            return None
        raise


@bucket_type.field("historyLineCount")
def resolve_history_line_count(bucket: dict[str, Any], _: GraphQLResolveInfo) -> int:
    # Every init asks for this, so it comes from the run's key counts, not a history read: a
    # key logged in every row counts the rows. It is the client's offset in the history file,
    # and a batch's id also holds its content's digest, so a short count stores nothing twice.
    counts = [k["count"] for k in bucket["_run"]["history_keys"].values()]
    return max(counts, default=0)


@bucket_type.field("historyTail")
def resolve_history_tail(bucket: dict[str, Any], info: GraphQLResolveInfo) -> str:
    # The last row's step, from which a resuming client counts on (media rows included).
    run = bucket["_run"]
    last = run["last_history_step"]
    try:
        _, media = info.context["store"].read_file(run["entity"], run["project"], run["id"], MEDIA)
    except NotFound:
        media = b""
    for line in media.decode("utf-8", "replace").splitlines():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            last = max(last, int(json.loads(line)["step"]))
    return json.dumps([json.dumps({"_step": last})] if last >= 0 else [])


def _last_system_step(store: Store, run: Mapping[str, Any]) -> int:
    # System samples are numbered 0, 1, 2 ... by their line; a sampled read keeps the last.
    table = store.history(run["entity"], run["project"], [run["id"]], stream="system", samples=1)
    return max(table.column("step").to_pylist(), default=-1)


@bucket_type.field("eventsLineCount")
def resolve_events_line_count(bucket: dict[str, Any], info: GraphQLResolveInfo) -> int:
    return _last_system_step(info.context["store"], bucket["_run"]) + 1


@bucket_type.field("eventsTail")
def resolve_events_tail(bucket: dict[str, Any], info: GraphQLResolveInfo) -> str:
    last = _last_system_step(info.context["store"], bucket["_run"])
    return json.dumps([json.dumps({"_step": last})] if last >= 0 else [])


@bucket_type.field("logLineCount")
def resolve_log_line_count(bucket: dict[str, Any], info: GraphQLResolveInfo) -> int:
    run = bucket["_run"]
    return len(info.context["store"].read_console(run["entity"], run["project"], run["id"]))


@bucket_type.field("wandbConfig")
def resolve_wandb_config(_: Any, __: GraphQLResolveInfo, keys: list[str] | None = None) -> Any:
    # The client's own ``_wandb`` config is not kept; a ``t`` key tells a resuming client that
    # the run has started, so it takes back the run's config, steps and line offsets.
    return {"t": {}}


BINDABLES = [mutation, query, bucket_type, bucket_project]
