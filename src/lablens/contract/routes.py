"""The server's routes as the clients build them, each segment quoted whole.

A name with ``/``, ``?`` or ``%`` in it must not change the route, so every segment goes through
:func:`quote_segment`; the SDK, the ``Api`` and the importers build routes only here.
"""

from __future__ import annotations

from urllib.parse import quote

__all__ = [
    "API",
    "VIEWER",
    "chart_route",
    "automation_route",
    "integration_route",
    "media_blob_route",
    "project_media_route",
    "run_media_route",
    "run_records_route",
    "project_route",
    "queue_item_route",
    "quote_segment",
    "run_queue_route",
    "run_route",
    "sweep_route",
    "team_route",
    "user_route",
    "workspace_route",
]

#: The prefix of every route of the lablens API.
API = "/api/v1"
#: Who the key belongs to, and their default entity.
VIEWER = f"{API}/viewer"


def quote_segment(part: str) -> str:
    """Quote one path segment for a server route (``/`` included)."""
    return quote(part, safe="")


def workspace_route(workspace: str) -> str:
    """The route of a workspace: ``/api/v1/workspaces/{workspace}``."""
    return f"{API}/workspaces/{quote_segment(workspace)}"


def automation_route(workspace: str, automation_id: str | None = None) -> str:
    """A workspace's automations, or one: ``/api/v1/workspaces/{workspace}/automations[/{id}]``
    (``/deliveries`` below one: its deliveries)."""
    base = f"{workspace_route(workspace)}/automations"
    return base if automation_id is None else f"{base}/{quote_segment(automation_id)}"


def integration_route(workspace: str, integration_id: str | None = None) -> str:
    """A workspace's integrations, or one:
    ``/api/v1/workspaces/{workspace}/integrations[/{id}]``."""
    base = f"{workspace_route(workspace)}/integrations"
    return base if integration_id is None else f"{base}/{quote_segment(integration_id)}"


def project_route(entity: str, project: str) -> str:
    """The route of a project: ``/api/v1/projects/{entity}/{project}``."""
    return f"{API}/projects/{quote_segment(entity)}/{quote_segment(project)}"


def run_route(entity: str, project: str, run_id: str) -> str:
    """The route of a run: ``/api/v1/projects/{entity}/{project}/runs/{run_id}``."""
    return f"{project_route(entity, project)}/runs/{quote_segment(run_id)}"


def run_records_route(entity: str, project: str, run_id: str) -> str:
    """Several records of a run in one request (``contract/records.py``):
    ``/api/v1/projects/{entity}/{project}/runs/{run_id}/records``."""
    return f"{run_route(entity, project, run_id)}/records"


def sweep_route(entity: str, project: str, sweep_id: str) -> str:
    """The route of a sweep: ``/api/v1/projects/{entity}/{project}/sweeps/{sweep_id}``."""
    return f"{project_route(entity, project)}/sweeps/{quote_segment(sweep_id)}"


def user_route(username: str) -> str:
    """The route of a user: ``/api/v1/users/{username}``."""
    return f"{API}/users/{quote_segment(username)}"


def team_route(team: str) -> str:
    """The route of a team: ``/api/v1/teams/{team}``."""
    return f"{API}/teams/{quote_segment(team)}"


def run_media_route(entity: str, project: str, run_id: str) -> str:
    """The media items of a run: ``/api/v1/projects/{entity}/{project}/runs/{run_id}/media``
    (``/keys`` below it: the run's media keys)."""
    return f"{run_route(entity, project, run_id)}/media"


def project_media_route(entity: str, project: str) -> str:
    """The media items of several runs of a project: ``/api/v1/projects/{entity}/{project}/media``
    (``?runs=a,b&key=K``)."""
    return f"{project_route(entity, project)}/media"


def media_blob_route(entity: str, project: str, sha256: str) -> str:
    """One media item's content: ``/api/v1/projects/{entity}/{project}/media/{sha256}``
    (``?thumb=N`` for an image at most N pixels on its long side)."""
    return f"{project_media_route(entity, project)}/{quote_segment(sha256)}"


def chart_route(entity: str, name: str | None = None) -> str:
    """An entity's custom chart presets, ``/api/v1/workspaces/{entity}/charts``, or one of them
    (``.../charts/{name}``)."""
    base = f"{workspace_route(entity)}/charts"
    return base if name is None else f"{base}/{quote_segment(name)}"


def run_queue_route(entity: str, name: str) -> str:
    """A run queue of a workspace: ``/api/v1/workspaces/{entity}/run-queues/{name}``
    (``/items`` its items, ``/claim`` an agent's claim of the next one)."""
    return f"{workspace_route(entity)}/run-queues/{quote_segment(name)}"


def queue_item_route(entity: str, queue: str, item_id: str) -> str:
    """One item of a run queue: ``.../run-queues/{queue}/items/{item_id}`` (``/heartbeat``,
    ``/end``: its agent's reports)."""
    return f"{run_queue_route(entity, queue)}/items/{quote_segment(item_id)}"
