"""The runs ``wandb.Api`` reads: a project's ``runs`` connection (W&B's Mongo ``filters``, its
``order``, ``first``/``after`` paging), ``runCount``, one ``run``, and each run's
fields mapped the W&B way.

W&B's run ``name`` is our run id and its ``displayName`` our run name. ``config`` travels as W&B
keeps it, ``{"key": {"value": v, "desc": null}}``; ``summaryMetrics`` and ``systemMetrics`` as
JSON; ``state`` in lower case, ABORTED as ``failed`` (a non-zero exit) or ``killed``. Paging is
the store's keyset cursor, so it is exact however many runs a project holds.
"""

from __future__ import annotations

import math
from typing import Any

from ariadne import ObjectType
from graphql import GraphQLResolveInfo

from lablens.server.auth import role_in
from lablens.server.wandb.connections import connection
from lablens.server.wandb.mongo import translate_filters, translate_order
from lablens.server.wandb.projects import (
    page_size,
    project_node,
    store_and_user,
    user_node,
    wandb_id,
    wandb_time,
)
from lablens.store.base import Store
from lablens.store.errors import NotFound

project_type = ObjectType("Project")
run_type = ObjectType("Run")

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def decode_floats(value: Any) -> Any:
    """The store's ``"NaN"``/``"Infinity"`` strings as floats again, recursively."""
    if isinstance(value, str):
        return _NONFINITE.get(value, value)
    if isinstance(value, dict):
        return {k: decode_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_floats(v) for v in value]
    return value


def wandb_state(run: dict[str, Any]) -> str:
    """Our run state in W&B's words."""
    state = (run.get("state") or "RUNNING").upper()
    if state == "ABORTED":
        return "failed" if run.get("exit_code") not in (None, 0) else "killed"
    return state.lower()


def wandb_config(config: dict[str, Any] | None) -> dict[str, Any]:
    """Our config (nested as given) as W&B keeps it: each top-level key wraps its value."""
    return {k: {"value": v, "desc": None} for k, v in decode_floats(config or {}).items()}


def history_keys(run: dict[str, Any]) -> dict[str, Any]:
    """W&B's ``historyKeys``: the last step and, per key, how many numbers were logged."""
    out: dict[str, Any] = {
        "keys": {
            k: {"typeCounts": [{"type": "number", "count": info.get("count", 0)}]}
            for k, info in (run.get("history_keys") or {}).items()
        }
    }
    if run.get("last_history_step") is not None:
        out["lastStep"] = run["last_history_step"]
    return out


def run_node(run: dict[str, Any], project: dict[str, Any]) -> dict[str, Any]:
    """A store run as the ``Run`` type answers it (``project`` is a ``Project`` node)."""
    counts = [info.get("count", 0) for info in (run.get("history_keys") or {}).values()]
    git = (run.get("metadata") or {}).get("git") or {}
    return {
        "id": wandb_id("Run", run["id"], project["name"], project["entityName"]),
        "name": run["id"],
        "displayName": run.get("name"),
        "state": wandb_state(run),
        "config": wandb_config(run.get("config")),
        "summaryMetrics": decode_floats(run.get("summary") or {}),
        "systemMetrics": decode_floats(run.get("system_metrics") or {}),
        "tags": list(run.get("tags") or []),
        "group": run.get("group"),
        "jobType": run.get("job_type"),
        "commit": git.get("commit") if isinstance(git, dict) else None,
        "readOnly": project["readOnly"],
        "createdAt": wandb_time(run.get("created_at")),
        "heartbeatAt": wandb_time(run.get("heartbeat_at")),
        "updatedAt": wandb_time(run.get("heartbeat_at") or run.get("created_at")),
        "description": run.get("notes"),
        "notes": run.get("notes"),
        "host": run.get("host"),
        "exitcode": run.get("exit_code"),
        # One row per step; the most-logged key's count is the rows of a run that logs its keys
        # together (the usual case), without reading its history.
        "historyLineCount": max(counts, default=0),
        "historyKeys": history_keys(run),
        "sweepName": run.get("sweep"),
        "projectId": int(project["internalId"]),
        "project": project,
        "_run": run,
    }


def run_node_of(store: Store, user: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """A store run as the ``Run`` type answers it, its project read for ``user``: for other
    parts whose mutations answer a run (``upsertBucket``'s ``bucket``, which W&B's client reads
    with its ``Run`` fragment)."""
    project = store.get_project(run["entity"], run["project"])
    writable = role_in(store, user, run["entity"]) is not None
    return run_node(run, project_node(project, writable=writable))


def _run_of(project: dict[str, Any], info: GraphQLResolveInfo, run_id: str) -> Any:
    store, _ = store_and_user(info)
    try:
        run = store.get_run(project["entityName"], project["name"], run_id)
    except NotFound:
        return None
    return run_node(run, project)


@project_type.field("run")
def resolve_run(project: dict[str, Any], info: GraphQLResolveInfo, name: str) -> Any:
    return _run_of(project, info, name)


@project_type.field("runCount")
def resolve_run_count(
    project: dict[str, Any], info: GraphQLResolveInfo, filters: Any = None
) -> int:
    store, _ = store_and_user(info)
    page = store.query_runs(
        project["entityName"], project["name"], filters=translate_filters(filters), limit=1
    )
    return int(page["total"])


@project_type.field("runs")
def resolve_runs(
    project: dict[str, Any],
    info: GraphQLResolveInfo,
    filters: Any = None,
    after: str | None = None,
    first: int | None = None,
    order: str | None = None,
    **_: Any,
) -> dict[str, Any]:
    store, _user = store_and_user(info)
    page = store.query_runs(
        project["entityName"],
        project["name"],
        filters=translate_filters(filters),
        order=translate_order(order),
        cursor=after or None,
        limit=page_size(first),
    )
    return connection([run_node(run, project) for run in page["items"]], page, after)


@run_type.field("user")
def resolve_run_user(run: dict[str, Any], info: GraphQLResolveInfo) -> Any:
    store, _ = store_and_user(info)
    username = run["_run"].get("username")
    # A page of runs is mostly one user's: read each user once per request.
    cache = info.context.setdefault("wandb_users", {})
    if username not in cache:
        cache[username] = user_node(store, username)
    return cache[username]


BINDABLES = [project_type, run_type]
