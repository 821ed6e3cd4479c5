"""The automation and integration methods of ``Api``, as the W&B public API names them:
``automation()``, ``automations()``, ``create_automation()``, ``update_automation()``,
``delete_automation()``, ``integrations()``, ``webhook_integrations()``,
``slack_integrations()``; and ``create_webhook_integration()``, lablens's own (W&B makes
webhooks in its web UI; a lablens server is yours, so the ``Api`` makes them). A part of ``Api``
(see ``_api_part.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from lablens.api._api_part import ApiPart
from lablens.api.automation_specs import NewAutomation, scope_json
from lablens.api.automations import (
    Automation,
    Automations,
    Integrations,
    SlackIntegration,
    WebhookIntegration,
    integration_from_json,
)
from lablens.contract.routes import automation_route, integration_route
from lablens.errors import Conflict, NotFound, UsageError

_FIELDS = ("name", "description", "enabled", "scope", "event", "action")


def _as_json(part: Any) -> Any:
    return part.json() if hasattr(part, "json") and not isinstance(part, dict) else part


class ApiAutomations(ApiPart):
    """Automations and the integrations they act through."""

    # -- integrations ---------------------------------------------------------------------
    def integrations(
        self, entity: str | None = None, *, per_page: int = 50
    ) -> Iterator[SlackIntegration | WebhookIntegration]:
        """The integrations of an entity: its webhooks (and Slack channels, when configured).

        Args:
            entity: the entity (e.g. team name); by default the user's default entity.
            per_page: integrations to fetch per request.

        Returns:
            An iterator of ``WebhookIntegration`` (and ``SlackIntegration``).

        Example:
            >>> [i.name for i in api.integrations("vision")]
        """
        return iter(Integrations(self._api, self._workspace_arg(None, entity), None, per_page))

    def webhook_integrations(
        self, entity: str | None = None, *, per_page: int = 50
    ) -> Iterator[WebhookIntegration]:
        """The webhook integrations of an entity.

        Args:
            entity: the entity (e.g. team name); by default the user's default entity.
            per_page: integrations to fetch per request.

        Returns:
            An iterator of ``WebhookIntegration``.

        Example:
            >>> hook = next(api.webhook_integrations(), None)
        """
        found = Integrations(self._api, self._workspace_arg(None, entity), "webhook", per_page)
        return iter(found)  # type: ignore[arg-type]

    def slack_integrations(
        self, entity: str | None = None, *, per_page: int = 50
    ) -> Iterator[SlackIntegration]:
        """The Slack integrations of an entity: none, since a lablens server cannot be connected
        to Slack yet; answered without asking the server.

        Args:
            entity: the entity (e.g. team name); by default the user's default entity.
            per_page: integrations to fetch per request.

        Returns:
            An empty iterator of ``SlackIntegration``.
        """
        del entity, per_page  # nothing to ask: no route makes a Slack integration
        return iter([])

    def create_webhook_integration(
        self,
        name: str,
        url: str,
        *,
        secret: str | None = None,
        entity: str | None = None,
    ) -> WebhookIntegration:
        """Add a webhook to an entity (its owners and admins may), for ``SendWebhook`` actions.

        Lablens's own: W&B adds webhooks in its web UI.

        Args:
            name: its name, unique in the entity.
            url: the ``http(s)://`` URL deliveries are POSTed to.
            secret: the key of the ``X-Lablens-Signature`` header (HMAC-SHA256 of the body);
                kept by the server, never read back.
            entity: the entity; by default the user's default entity.

        Returns:
            The ``WebhookIntegration``.

        Raises:
            BadRequest: the URL is not ``http(s)://`` with a host (``.field`` is ``url``).
            Conflict: the entity has a webhook of that name.
            PermissionDenied: you are not an owner of the entity.

        Example:
            >>> hook = api.create_webhook_integration("ci", "https://ci.lab/hook", secret="s3")
        """
        ws = self._workspace_arg(None, entity)
        body = {"name": name, "url": url, "secret": secret}
        data = self._transport.post_json(integration_route(ws), body)
        return integration_from_json(self._api, data)  # type: ignore[return-value]

    def delete_integration(
        self, obj: WebhookIntegration | str, *, entity: str | None = None
    ) -> None:
        """Delete a webhook integration no automation uses (owners of its entity).

        Example:
            >>> api.delete_integration(hook)
        """
        iid = obj if isinstance(obj, str) else obj.id
        ws = self._workspace_arg(None, entity or getattr(obj, "entity", None) or None)
        self._transport.delete(integration_route(ws, iid))

    # -- automations ----------------------------------------------------------------------
    def automation(self, name: str, *, entity: str | None = None) -> Automation:
        """One automation, by name (or id).

        Args:
            name: the name of the automation to fetch.
            entity: the entity to fetch the automation for.

        Raises:
            NotFound: no automation has that name (names are unique in an entity, so several
                cannot match).

        Example:
            >>> automation = api.automation("notify-ci", entity="vision")
        """
        ws = self._workspace_arg(None, entity)
        return Automation.from_json(self._api, self._transport.get_json(automation_route(ws, name)))

    def automations(
        self, entity: str | None = None, *, name: str | None = None, per_page: int = 50
    ) -> Iterator[Automation]:
        """The automations of an entity, oldest first.

        Args:
            entity: the entity to fetch the automations for.
            name: only the automation of this name.
            per_page: the number of automations to fetch per page.

        Example:
            >>> [(a.name, a.enabled) for a in api.automations("vision")]
        """
        return iter(Automations(self._api, self._workspace_arg(None, entity), name, per_page))

    def create_automation(
        self,
        obj: NewAutomation | None = None,
        *,
        fetch_existing: bool = False,
        **kwargs: Any,
    ) -> Automation:
        """Save a new automation: when its event happens, its action runs.

        Args:
            obj: ``event >> action`` (a ``NewAutomation``), or nothing and the keywords.
            fetch_existing: when an automation of that name exists, return it instead of
                raising ``Conflict``.
            **kwargs: ``name`` (required), ``description``, ``enabled`` (default ``True``),
                ``scope``, ``event``, ``action``, overriding what ``obj`` holds.

        Returns:
            The saved ``Automation``.

        Raises:
            BadRequest: a part is wrong; ``.field`` names it (``event.filter.cmp``,
                ``action.request_payload.text``, ``action.integration_id``...).
            Conflict: the entity has an automation of that name (unless ``fetch_existing``).

        Example:
            >>> from lablens import OnRunMetric, RunEvent, SendWebhook
            >>> hook = next(api.webhook_integrations("vision"))
            >>> event = OnRunMetric(scope=api.project("vision/mnist"),
            ...                     filter=RunEvent.metric("val/acc").gte(0.95))
            >>> action = SendWebhook.from_integration(
            ...     hook, payload={"text": "${run_name} reached ${metric_value}"})
            >>> api.create_automation(event >> action, name="good-enough")
        """
        ws, body = self._automation_body(obj, kwargs)
        if not body.get("name"):
            raise UsageError("create_automation needs a name: create_automation(..., name='...')")
        body.setdefault("enabled", True)
        try:
            data = self._transport.post_json(automation_route(ws), body)
        except Conflict:
            if not fetch_existing:
                raise
            return self.automation(body["name"], entity=ws)
        return Automation.from_json(self._api, data)

    def update_automation(
        self, obj: Automation, *, create_missing: bool = False, **kwargs: Any
    ) -> Automation:
        """Save the changes of an automation: its attributes as they are now, and ``kwargs``.

        Args:
            obj: the automation to update. Must be an existing automation.
            create_missing: when it no longer exists, create it.
            **kwargs: ``name``, ``description``, ``enabled``, ``scope``, ``event``, ``action``.

        Returns:
            The updated ``Automation``.

        Example:
            >>> automation.enabled = False
            >>> api.update_automation(automation)
        """
        values = {
            "name": obj.name,
            "description": obj.description,
            "enabled": obj.enabled,
            "event": obj.event,
            "action": obj.action,
            **kwargs,
        }
        ws, body = self._automation_body(None, {**values, "entity": obj.entity})
        try:
            data = self._transport.patch_json(automation_route(ws, obj.id), body)
        except NotFound:
            if not create_missing:
                raise
            return self.create_automation(None, **{**values, "entity": ws})
        return Automation.from_json(self._api, data)

    def delete_automation(
        self, obj: Automation | str, *, entity: str | None = None
    ) -> Literal[True]:
        """Delete an automation; its deliveries not sent yet never are.

        Args:
            obj: the automation to delete, or its ID (or name).
            entity: its entity, when ``obj`` is an ID; by default the user's default entity.

        Example:
            >>> api.delete_automation(automation)
        """
        aid = obj if isinstance(obj, str) else obj.id
        ws = self._workspace_arg(None, entity or getattr(obj, "entity", None) or None)
        self._transport.delete(automation_route(ws, aid))
        return True

    def _automation_body(
        self, obj: NewAutomation | None, kwargs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """The workspace and the JSON body of an automation from ``obj`` and ``kwargs``."""
        unknown = set(kwargs) - {*_FIELDS, "entity"}
        if unknown:
            raise UsageError(f"unexpected keyword argument {sorted(unknown)[0]!r}")
        values: dict[str, Any] = {}
        if obj is not None:
            values = {f: getattr(obj, f) for f in _FIELDS if f != "scope"}
            values = {k: v for k, v in values.items() if v is not None}
        values.update((k, v) for k, v in kwargs.items() if k != "entity")
        event, scope = values.get("event"), values.pop("scope", None)
        entity = kwargs.get("entity")
        event_json = _as_json(event) if event is not None else None
        if scope is not None:
            entity, scope_wire = scope_json(scope)
            if event_json is None:
                raise UsageError("a scope without an event: give event= too")
            event_json = {**event_json, "scope": scope_wire}
        elif event is not None and hasattr(event, "scope"):
            entity = entity or scope_json(event.scope)[0]
        body = {k: _as_json(v) for k, v in values.items()}
        if event_json is not None:
            body["event"] = event_json
        return self._workspace_arg(None, entity), body
