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

from lablens.server.problems import Problem
from lablens.server.wandb.access import (
    DEFAULT_PROJECT,
    check_writable,
    entity_for,
    parse_storage_id,
)
from lablens.server.wandb.projects import readable_project
from lablens.server.wandb.runs import run_node, run_node_of
from lablens.store.base import Store
from lablens.store.errors import NotFound

mutation = MutationType()
query = QueryType()
# The writer's fields of the reading part's ``Run`` and ``Project`` types.
bucket_type = ObjectType("Run")
project_type = ObjectType("Project")

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


def bucket_out(store: Store, user: dict[str, Any], run: Mapping[str, Any]) -> dict[str, Any]:
    """A stored run as W&B's ``Run``: the client reads ``upsertBucket``'s answer with the same
    ``Run`` fragment as ``wandb.Api``'s queries, so it is the reading part's node, plus the
    fields a writer asks for (resolved below only when asked)."""
    return run_node_of(store, user, dict(run))


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
    return {"bucket": bucket_out(store, user, run), "inserted": inserted}


@mutation.field("upsertBucket")
def resolve_upsert_bucket(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    return upsert_bucket(info.context["store"], info.context["user"], input)


@query.field("model")
def resolve_model(
    _: Any, info: GraphQLResolveInfo, name: str | None = None, entityName: str | None = None
) -> dict[str, Any] | None:
    entity = entity_for(info.context["user"], entityName)
    return readable_project(info, entity, name or DEFAULT_PROJECT)


@project_type.field("bucket")
def resolve_project_bucket(
    project: dict[str, Any], info: GraphQLResolveInfo, name: str, missingOk: bool | None = None
) -> dict[str, Any] | None:
    store = info.context["store"]
    try:
        run = store.get_run(project["entityName"], project["name"], name)
    except NotFound:
        if missingOk:
            return None
        raise
    return run_node(run, project)


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


@bucket_type.field("wandbConfig")
def resolve_wandb_config(_: Any, __: GraphQLResolveInfo, keys: list[str] | None = None) -> Any:
    # The client's own ``_wandb`` config is not kept; a ``t`` key tells a resuming client that
    # the run has started, so it takes back the run's config, steps and line offsets.
    return {"t": {}}


BINDABLES = [mutation, query, bucket_type, project_type]
