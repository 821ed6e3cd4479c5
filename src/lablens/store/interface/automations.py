"""The ``Store`` interface's methods for automations: the integrations of a workspace (webhook
endpoints), its automations (an event in a scope -> an action), and their deliveries."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping
from typing import Any


class AutomationStore(abc.ABC):
    """Integrations, automations and deliveries of a workspace."""

    # -- integrations ---------------------------------------------------------------------
    @abc.abstractmethod
    def create_integration(
        self,
        workspace: str,
        *,
        name: str,
        url: str,
        secret: str | None = None,
        username: str,
    ) -> dict[str, Any]:
        """Add a webhook integration (a URL, and the secret that signs what is sent to it);
        ``Conflict`` when the workspace has one of that name, ``InvalidInput`` names a bad URL."""

    @abc.abstractmethod
    def get_integration(self, workspace: str, integration_id: str) -> dict[str, Any]:
        """One integration (never its secret: ``has_secret`` says whether it has one)."""

    @abc.abstractmethod
    def list_integrations(self, workspace: str, *, kind: str | None = None) -> list[dict[str, Any]]:
        """The workspace's integrations, oldest first; ``kind`` ``WEBHOOK`` or ``SLACK`` only."""

    @abc.abstractmethod
    def delete_integration(self, workspace: str, integration_id: str) -> None:
        """Delete an integration; ``Conflict`` while an automation acts through it."""

    # -- automations ----------------------------------------------------------------------
    @abc.abstractmethod
    def create_automation(
        self,
        workspace: str,
        *,
        name: str,
        event: Mapping[str, Any],
        action: Mapping[str, Any],
        description: str | None = None,
        enabled: bool = True,
        username: str,
    ) -> dict[str, Any]:
        """Save an automation (``lablens.store.automation_values`` checks its parts, each bad one
        named: ``event.scope.project``, ``action.request_payload.text``...)."""

    @abc.abstractmethod
    def get_automation(self, workspace: str, automation_id: str) -> dict[str, Any]:
        """One automation by id or name; ``NotFound("automation", ...)`` when absent."""

    @abc.abstractmethod
    def list_automations(
        self,
        workspace: str,
        *,
        name: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """A page of the workspace's automations, oldest first; ``name`` matches name or id."""

    @abc.abstractmethod
    def update_automation(
        self, workspace: str, automation_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change an automation's ``name``, ``description``, ``enabled``, ``event``, ``action``."""

    @abc.abstractmethod
    def delete_automation(self, workspace: str, automation_id: str) -> None:
        """Delete an automation with its deliveries (a pending one is never sent)."""

    @abc.abstractmethod
    def enabled_automations(self) -> list[dict[str, Any]]:
        """Every enabled automation of the store, with its ``project`` and ``collection`` names:
        what the server matches events against."""

    # -- deliveries -----------------------------------------------------------------------
    @abc.abstractmethod
    def enqueue_delivery(
        self, automation_pk: int, *, event_key: str, event_type: str, body: str
    ) -> int | None:
        """Record a delivery to send (``body`` the filled payload); ``None`` when this
        automation already has one for ``event_key`` or was deleted."""

    @abc.abstractmethod
    def claim_deliveries(
        self, lease: str, *, limit: int = 10, lease_seconds: float = 60.0
    ) -> list[dict[str, Any]]:
        """Claim up to ``limit`` due deliveries for ``lease`` seconds (none another server holds),
        with the URL and secret of their integration."""

    @abc.abstractmethod
    def record_attempt(
        self,
        delivery_pk: int,
        lease: str,
        *,
        status_code: int | None,
        error: str | None,
        duration_ms: float,
        state: str,
        next_attempt_at: dt.datetime | None = None,
    ) -> bool:
        """Record one attempt of a delivery claimed under ``lease`` and its new ``state``
        (``PENDING`` again at ``next_attempt_at``, ``DELIVERED`` or ``FAILED``); ``False`` when the
        delivery is gone or the lease was lost."""

    @abc.abstractmethod
    def list_deliveries(
        self,
        workspace: str,
        automation_id: str,
        *,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """A page of an automation's deliveries, oldest first, each with its attempts."""
