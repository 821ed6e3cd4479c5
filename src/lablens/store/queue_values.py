"""Run queues and their items as the engines store them, the same for each: what a new queue
and a new item may be, the states an item moves through, and their JSON.

A queue belongs to a workspace (W&B's entity) and names the resource its items run on; an item
is one run to make: a job version (an artifact of type ``job``), the run's config, a priority,
and, once an agent claims it, the run made for it and the agent's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from lablens.store import _json
from lablens.store.errors import InvalidInput
from lablens.store.names import check_project_name

__all__ = [
    "BUILT_RESOURCES",
    "ITEM_STATES",
    "RESOURCE_TYPES",
    "checked_end",
    "checked_item",
    "checked_queue",
    "item_out",
    "item_select",
    "queue_out",
    "queue_select",
]

QUEUE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
#: The resource types W&B's launch names (``create_run_queue(type=...)``).
RESOURCE_TYPES = ("local-container", "local-process", "kubernetes", "sagemaker", "gcp-vertex")
#: The ones lablens' agent can run: a job's command as a local subprocess.
BUILT_RESOURCES = ("local-process",)
#: An item's states: ``pending`` until an agent claims it, ``claimed`` until its process starts,
#: then ``running``, and ``finished`` or ``failed`` at the end.
ITEM_STATES = ("pending", "claimed", "running", "finished", "failed")
#: The end states an agent reports.
END_STATES = ("finished", "failed")
PRIORITIZATION_MODES = ("V0",)
#: W&B's priorities run 0 (critical) to 4 (low); 2 (medium) when none is given.
PRIORITIES = range(0, 5)
DEFAULT_PRIORITY = 2


def _dict(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{field} must be an object", field=field)
    return dict(value)


def checked_queue(data: Mapping[str, Any]) -> dict[str, Any]:
    """A new (or upserted) queue's columns from ``{name, type, prioritization_mode, config,
    template_variables, external_links}``; ``InvalidInput`` naming the bad field."""
    name = data.get("name")
    if not isinstance(name, str) or not QUEUE_NAME.fullmatch(name):
        raise InvalidInput(
            f"queue name {name!r} must be 1 to 128 ASCII letters, digits, '_', '.' or '-',"
            " starting with a letter, a digit or '_'",
            field="name",
        )
    kind = data.get("type")
    if kind not in RESOURCE_TYPES:
        raise InvalidInput(
            f"type {kind!r} is not a resource type: one of {', '.join(RESOURCE_TYPES)}",
            field="type",
        )
    if kind not in BUILT_RESOURCES:
        raise InvalidInput(
            f"type {kind!r} is not built in lablens: its agent runs only"
            f" {', '.join(BUILT_RESOURCES)} queues",
            field="type",
        )
    mode = data.get("prioritization_mode")
    if mode is not None and mode not in PRIORITIZATION_MODES:
        raise InvalidInput(
            f"prioritization_mode {mode!r} is not one of V0 or None", field="prioritization_mode"
        )
    return {
        "name": name,
        "type": kind,
        "prioritization_mode": mode,
        "config": _json.dumps(_dict(data.get("config"), "config")),
        "template_variables": _json.dumps(
            _dict(data.get("template_variables"), "template_variables")
        ),
        "external_links": _json.dumps(_dict(data.get("external_links"), "external_links")),
    }


def checked_item(data: Mapping[str, Any]) -> dict[str, Any]:
    """A new item's columns from ``{project, job, config, priority, template_variables}``
    (``job``: the job version's qualified name ``entity/project/name:vN`` and its artifact
    ``job_id``)."""
    project = data.get("project")
    if not isinstance(project, str) or not project:
        raise InvalidInput("project must be a non-empty string", field="project")
    check_project_name(project, field="project")
    job = data.get("job")
    if not isinstance(job, str) or not job:
        raise InvalidInput("job must be the job's name, entity/project/name:vN", field="job")
    job_id = data.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise InvalidInput("job_id must be the job version's artifact id", field="job_id")
    priority = data.get("priority")
    if priority is None:
        priority = DEFAULT_PRIORITY
    if isinstance(priority, bool) or not isinstance(priority, int) or priority not in PRIORITIES:
        raise InvalidInput("priority must be an integer from 0 (critical) to 4", field="priority")
    return {
        "project": project,
        "job": job,
        "job_id": job_id,
        "config": _json.dumps(_dict(data.get("config"), "config")),
        "template_variables": _json.dumps(
            _dict(data.get("template_variables"), "template_variables")
        ),
        "priority": priority,
    }


def checked_end(data: Mapping[str, Any]) -> tuple[str, int | None, str | None]:
    """An agent's report of an item's end: ``(state, exit_code, error)``."""
    state = data.get("state")
    if state not in END_STATES:
        raise InvalidInput(f"state {state!r} must be finished or failed", field="state")
    code = data.get("exit_code")
    if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
        raise InvalidInput("exit_code must be an integer", field="exit_code")
    error = data.get("error")
    if error is not None and not isinstance(error, str):
        raise InvalidInput("error must be a string", field="error")
    return state, code, error[:10_000] if error else error


def queue_select(iso: Callable[[str], str]) -> str:
    """The ``SELECT`` of queues (``q``) with their workspace (``w``): what :func:`queue_out`
    reads."""
    return (
        "SELECT q.pk, q.name, w.username AS entity, q.type, q.prioritization_mode, q.config,"
        " q.template_variables, q.external_links, q.username,"
        f" {iso('q.created_at')} AS created_at, {iso('q.updated_at')} AS updated_at,"
        " (SELECT count(*) FROM run_queue_items i WHERE i.queue_pk = q.pk"
        "  AND i.state = 'pending') AS pending"
        " FROM run_queues q JOIN workspaces w ON w.id = q.workspace_id"
    )


def queue_out(row: Mapping[str, Any]) -> dict[str, Any]:
    """A queue's row as its JSON (W&B's ``RunQueue`` attributes)."""
    return {
        "id": f"Q{row['pk']}",
        "name": row["name"],
        "entity": row["entity"],
        "type": row["type"],
        "access": "PROJECT",
        "prioritization_mode": row["prioritization_mode"],
        "default_resource_config": _json.loads(row["config"]) or {},
        "template_variables": _json.loads(row["template_variables"]) or {},
        "external_links": _json.loads(row["external_links"]) or {},
        "created_by": row["username"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "pending": int(row["pending"]),
    }


def item_select(iso: Callable[[str], str]) -> str:
    """The ``SELECT`` of items (``i``) with their queue (``q``), project (``p``) and workspace
    (``w``): what :func:`item_out` reads."""
    return (
        "SELECT i.pk, i.id, q.name AS queue, w.username AS entity, p.name AS project,"
        " i.job, i.job_id, i.config, i.template_variables, i.priority, i.state, i.run_id,"
        " i.agent, i.exit_code, i.error, i.username,"
        f" {iso('i.created_at')} AS created_at, {iso('i.claimed_at')} AS claimed_at,"
        f" {iso('i.started_at')} AS started_at, {iso('i.finished_at')} AS finished_at,"
        f" {iso('i.heartbeat_at')} AS heartbeat_at"
        " FROM run_queue_items i JOIN run_queues q ON q.pk = i.queue_pk"
        " JOIN projects p ON p.id = i.project_id JOIN workspaces w ON w.id = q.workspace_id"
    )


def item_out(row: Mapping[str, Any]) -> dict[str, Any]:
    """An item's row as its JSON (W&B's ``QueuedRun``, with lablens' own fields)."""
    return {
        "id": row["id"],
        "queue": row["queue"],
        "entity": row["entity"],
        "project": row["project"],
        "job": row["job"],
        "job_id": row["job_id"],
        "config": _json.loads(row["config"]) or {},
        "template_variables": _json.loads(row["template_variables"]) or {},
        "priority": row["priority"],
        "state": row["state"],
        "run_id": row["run_id"],
        "agent": row["agent"],
        "exit_code": row["exit_code"],
        "error": row["error"],
        "created_by": row["username"],
        "created_at": row["created_at"],
        "claimed_at": row["claimed_at"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "heartbeat_at": row["heartbeat_at"],
    }
