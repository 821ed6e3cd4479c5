"""Automations of a workspace and the integrations they act through: webhooks made, listed and
deleted (owners), automations made, read, changed and deleted (members), and each
automation's deliveries with their attempts (members).

Members of a workspace (and admins) read its integrations and automations; others get 403.
A webhook's secret is never answered: ``has_secret`` says whether it has one.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict

from lablens.server.auth import CurrentUser, can_own, can_write, store_of
from lablens.server.automation_events import AutomationEvents
from lablens.server.paging import PageQuery, whole_page
from lablens.server.routing import Route
from lablens.store.base import Store

router = APIRouter(prefix="/api/v1/workspaces/{ws}", tags=["automations"], route_class=Route)


class NewWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Any = None
    url: Any = None
    secret: Any = None


class NewAutomation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Any = None
    description: Any = None
    enabled: Any = True
    event: Any = None
    action: Any = None


class AutomationChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Any = None
    description: Any = None
    enabled: Any = None
    event: Any = None
    action: Any = None


def _members(request: Request, user: dict[str, Any], ws: str) -> Store:
    # Automations and integrations are the workspace's own, so only its members see them.
    store = store_of(request)
    can_write(store, user, ws)
    return store


def _events(request: Request) -> AutomationEvents:
    return request.app.state.automations


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "pk"}


# -- integrations ----------------------------------------------------------------------------


@router.get("/integrations")
def list_integrations(
    ws: str,
    request: Request,
    user: CurrentUser,
    kind: Literal["webhook", "slack", "WEBHOOK", "SLACK"] | None = None,
) -> dict[str, Any]:
    """The workspace's integrations (webhooks; Slack ones only when configured: none can be
    made on a lablens server yet), oldest first."""
    store = _members(request, user, ws)
    return whole_page([_public(i) for i in store.list_integrations(ws, kind=kind)])


@router.post("/integrations", status_code=201)
def create_integration(
    ws: str, body: NewWebhook, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Add a webhook integration: a URL and the secret that signs what is sent (owners)."""
    store = store_of(request)
    can_own(store, user, ws, "add integrations")
    made = store.create_integration(
        ws, name=body.name, url=body.url, secret=body.secret, username=user["username"]
    )
    return _public(made)


@router.get("/integrations/{integration_id}")
def get_integration(
    ws: str, integration_id: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """One integration."""
    return _public(_members(request, user, ws).get_integration(ws, integration_id))


@router.delete("/integrations/{integration_id}", status_code=204)
def delete_integration(
    ws: str, integration_id: str, request: Request, user: CurrentUser
) -> Response:
    """Delete an integration no automation uses (owners)."""
    store = store_of(request)
    can_own(store, user, ws, "delete integrations")
    store.delete_integration(ws, integration_id)
    return Response(status_code=204)


# -- automations -----------------------------------------------------------------------------


@router.get("/automations")
def list_automations(
    ws: str, request: Request, user: CurrentUser, page: PageQuery, name: str | None = None
) -> dict[str, Any]:
    """A page of the workspace's automations, oldest first; ``name`` matches name or id."""
    store = _members(request, user, ws)
    found = store.list_automations(ws, name=name, cursor=page.cursor, limit=page.limit)
    return {**found, "items": [_public(a) for a in found["items"]]}


@router.post("/automations", status_code=201)
def create_automation(
    ws: str, body: NewAutomation, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Save an automation: an event in a project or artifact collection of the workspace, and
    the action it triggers (members). A bad part is a 400 naming it."""
    store = _members(request, user, ws)
    made = store.create_automation(
        ws,
        name=body.name,
        description=body.description,
        enabled=body.enabled,
        event=body.event,
        action=body.action,
        username=user["username"],
    )
    _events(request).changed()
    return _public(made)


@router.get("/automations/{automation_id}")
def get_automation(
    ws: str, automation_id: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """One automation, by id or name."""
    return _public(_members(request, user, ws).get_automation(ws, automation_id))


@router.patch("/automations/{automation_id}")
def update_automation(
    ws: str, automation_id: str, body: AutomationChanges, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Change an automation's name, description, enabled, event or action (members)."""
    store = _members(request, user, ws)
    changed = store.update_automation(ws, automation_id, body.model_dump(exclude_unset=True))
    _events(request).changed()
    return _public(changed)


@router.delete("/automations/{automation_id}", status_code=204)
def delete_automation(ws: str, automation_id: str, request: Request, user: CurrentUser) -> Response:
    """Delete an automation and its deliveries; none pending is sent (members)."""
    store = _members(request, user, ws)
    store.delete_automation(ws, automation_id)
    _events(request).changed()
    return Response(status_code=204)


@router.get("/automations/{automation_id}/deliveries")
def list_deliveries(
    ws: str, automation_id: str, request: Request, user: CurrentUser, page: PageQuery
) -> dict[str, Any]:
    """A page of the automation's deliveries, oldest first, each with every attempt: its time,
    the receiver's status code or the error, and how long it took."""
    store = _members(request, user, ws)
    return store.list_deliveries(ws, automation_id, cursor=page.cursor, limit=page.limit)
