"""``Automation`` and its deliveries, ``WebhookIntegration`` and ``SlackIntegration``: what a
workspace does when something happens, and where it sends it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from lablens.api._attrs import Attrs
from lablens.api.paging import Paginator
from lablens.contract.routes import automation_route, integration_route

if TYPE_CHECKING:
    from lablens.api.api import Api

__all__ = [
    "Automation",
    "Automations",
    "Deliveries",
    "Delivery",
    "Integrations",
    "SlackIntegration",
    "WebhookIntegration",
]


class WebhookIntegration(Attrs):
    """A webhook of a workspace: the URL automations POST to, and whether a secret signs what
    is sent (the secret itself is never read back).

    Example:
        >>> hook = api.create_webhook_integration("ci", "https://ci.lab/hooks", secret="s3cret")
    """

    id: str
    """The server's id of the integration."""
    name: str
    """Its name, unique in its workspace."""
    url_endpoint: str
    """The URL deliveries are POSTed to."""
    has_secret: bool
    """Whether deliveries carry an ``X-Lablens-Signature`` (HMAC-SHA256 of the body)."""
    entity: str
    """The workspace it belongs to."""

    def _load(self, data: dict[str, Any]) -> None:
        self.id = data.get("id") or ""
        self.name = data.get("name") or ""
        self.url_endpoint = data.get("url_endpoint") or ""
        self.has_secret = bool(data.get("has_secret"))
        self.entity = data.get("entity") or ""

    def __repr__(self) -> str:
        return f"<WebhookIntegration {self.entity}/{self.name} {self.url_endpoint}>"


class SlackIntegration(Attrs):
    """A Slack channel of a workspace (W&B's): none can be configured on a lablens server yet."""

    id: str
    """The server's id of the integration."""
    team_name: str
    """The Slack team."""
    channel_name: str
    """The Slack channel."""

    def _load(self, data: dict[str, Any]) -> None:
        self.id = data.get("id") or ""
        self.team_name = data.get("team_name") or ""
        self.channel_name = data.get("channel_name") or ""

    def __repr__(self) -> str:
        return f"<SlackIntegration {self.team_name} #{self.channel_name}>"


def integration_from_json(api: Api, data: dict[str, Any]) -> WebhookIntegration | SlackIntegration:
    """A ``WebhookIntegration`` or ``SlackIntegration``, by its ``kind``."""
    if data.get("kind") == "SLACK":
        return SlackIntegration.from_json(api, data)
    return WebhookIntegration.from_json(api, data)


class Integrations(Paginator["WebhookIntegration | SlackIntegration"]):
    """The integrations of a workspace, oldest first (``kind``: ``webhook`` or ``slack`` only)."""

    def __init__(self, api: Api, entity: str, kind: str | None = None, per_page: int = 50) -> None:
        super().__init__(api, per_page)
        self.entity, self.kind = entity, kind

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        return self._get_page(integration_route(self.entity), cursor, limit, kind=self.kind)

    def _convert(self, item: dict[str, Any]) -> WebhookIntegration | SlackIntegration:
        return integration_from_json(self._api, item)


class Automation(Attrs):
    """A saved automation: when ``event`` happens in ``scope``, do ``action``.

    ``name``, ``description``, ``enabled``, ``event`` and ``action`` may be changed, then
    saved with ``api.update_automation(automation)``.

    Example:
        >>> automation = api.automation("notify-ci")
        >>> automation.enabled = False
        >>> api.update_automation(automation)
        >>> [d.state for d in automation.deliveries()]
    """

    id: str
    """The server's id of the automation."""
    name: str
    """Its name, unique in its workspace."""
    description: str | None
    """What it is for."""
    enabled: bool
    """Whether events trigger it."""
    entity: str
    """The workspace it belongs to."""
    event: dict[str, Any]
    """``{event_type, scope, filter}`` as the server keeps it."""
    scope: dict[str, Any]
    """``{scope_type, project[, collection]}``: where the event is watched."""
    action: dict[str, Any]
    """``{action_type, integration_id, request_payload...}``."""
    created_at: str | None
    """When it was made, ISO 8601 UTC."""
    updated_at: str | None
    """When it last changed, ISO 8601 UTC."""

    def _load(self, data: dict[str, Any]) -> None:
        self.id = data.get("id") or ""
        self.name = data.get("name") or ""
        self.description = data.get("description")
        self.enabled = bool(data.get("enabled"))
        self.entity = data.get("entity") or ""
        self.event = data.get("event") or {}
        self.scope = data.get("scope") or self.event.get("scope") or {}
        self.action = data.get("action") or {}
        self.created_at = data.get("created_at")
        self.updated_at = data.get("updated_at")

    def deliveries(self, per_page: int = 50) -> Deliveries:
        """Every delivery of this automation, oldest first, each with its attempts.

        Example:
            >>> last = list(automation.deliveries())[-1]
            >>> last.state, [(a["status_code"], a["error"]) for a in last.attempts]
        """
        return Deliveries(self._api, self.entity, self.id, per_page)

    def __repr__(self) -> str:
        on = "enabled" if self.enabled else "disabled"
        return f"<Automation {self.entity}/{self.name} {self.event.get('event_type')} {on}>"


class Automations(Paginator[Automation]):
    """The automations of a workspace, oldest first."""

    def __init__(self, api: Api, entity: str, name: str | None = None, per_page: int = 50) -> None:
        super().__init__(api, per_page)
        self.entity, self.name = entity, name

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        return self._get_page(automation_route(self.entity), cursor, limit, name=self.name)

    def _convert(self, item: dict[str, Any]) -> Automation:
        return Automation.from_json(self._api, item)


class Delivery(Attrs):
    """One event that triggered an automation: the payload sent and every attempt to send it.

    ``state`` is ``PENDING`` (to be tried, again), ``DELIVERED`` (a 2xx answer) or ``FAILED``;
    each of ``attempts`` is ``{attempt, at, status_code, error, duration_ms}``.
    """

    id: str
    """The delivery's id (the ``X-Lablens-Delivery`` header of its requests)."""
    event_type: str
    """What happened: ``CREATE_ARTIFACT``, ``ADD_ARTIFACT_ALIAS``, ``RUN_STATE``, ``RUN_METRIC``."""
    state: str
    """``PENDING``, ``DELIVERED`` or ``FAILED``."""
    payload: Any
    """The filled payload, as sent."""
    attempts: list[dict[str, Any]]
    """Every attempt, in order."""

    def _load(self, data: dict[str, Any]) -> None:
        self.id = str(data.get("id") or "")
        self.event_type = data.get("event_type") or ""
        self.state = data.get("state") or ""
        body = data.get("payload")
        self.payload = json.loads(body) if isinstance(body, str) else body
        self.attempts = list(data.get("attempts") or [])

    def __repr__(self) -> str:
        return f"<Delivery {self.id} {self.event_type} {self.state} after {len(self.attempts)}>"


class Deliveries(Paginator[Delivery]):
    """The deliveries of an automation, oldest first."""

    def __init__(self, api: Api, entity: str, automation_id: str, per_page: int = 50) -> None:
        super().__init__(api, per_page)
        self.entity, self.automation_id = entity, automation_id

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        route = f"{automation_route(self.entity, self.automation_id)}/deliveries"
        return self._get_page(route, cursor, limit)

    def _convert(self, item: dict[str, Any]) -> Delivery:
        return Delivery.from_json(self._api, item)
