"""What an automation is made of, with W&B's names (``wandb.automations``): the events that
trigger it (``OnCreateArtifact``, ``OnAddArtifactAlias``, ``OnRunState``, ``OnRunMetric``),
their filters (``RunEvent.metric("loss").lt(0.1)``, ``RunEvent.state.in_([...])``,
``ArtifactEvent.alias.eq("prod")``), and the actions (``SendWebhook``, ``SendNotification``,
``DoNothing``). ``event >> action`` (or ``event.then(action)``) is a ``NewAutomation`` for
``Api.create_automation``.

Each part is plain data: ``json()`` is what travels to the server, which checks it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lablens.errors import UsageError

__all__ = [
    "ArtifactEvent",
    "DoNothing",
    "MetricThresholdFilter",
    "NewAutomation",
    "OnAddArtifactAlias",
    "OnCreateArtifact",
    "OnRunMetric",
    "OnRunState",
    "RunEvent",
    "SendNotification",
    "SendWebhook",
]


def scope_json(scope: Any) -> tuple[str, dict[str, Any]]:
    """The workspace and the wire form of a scope: a ``Project``, an ``ArtifactCollection``,
    ``"entity/project"``, or the wire form itself (with an ``entity`` key)."""
    if isinstance(scope, dict):
        found = dict(scope)
        entity = found.pop("entity", None)
        if not entity:
            raise UsageError("a scope given as a dict names its entity")
        return entity, found
    if isinstance(scope, str):
        parts = scope.split("/")
        if len(parts) != 2 or not all(parts):
            raise UsageError(f"a scope path is 'entity/project', not {scope!r}")
        return parts[0], {"scope_type": "PROJECT", "project": parts[1]}
    kind = type(scope).__name__
    if kind == "Project":
        return scope.entity, {"scope_type": "PROJECT", "project": scope.name}
    if kind == "ArtifactCollection":
        return scope.entity, {
            "scope_type": "ARTIFACT_COLLECTION",
            "project": scope.project,
            "collection": scope.name,
        }
    raise UsageError(f"a scope is a Project, an ArtifactCollection or 'entity/project', not {kind}")


class _Event:
    """An event in a scope, with its filter; ``>>`` an action makes a ``NewAutomation``."""

    event_type: str = ""

    def __init__(self, *, scope: Any, filter: Any = None) -> None:  # noqa: A002 (W&B's name)
        self.scope = scope
        self.filter = filter

    def _filter_json(self) -> dict[str, Any]:
        flt = self.filter
        if flt is None:
            return {}
        return flt.json() if hasattr(flt, "json") else dict(flt)

    def json(self) -> dict[str, Any]:
        """The event as it travels: ``{event_type, scope, filter}``."""
        return {
            "event_type": self.event_type,
            "scope": scope_json(self.scope)[1],
            "filter": self._filter_json(),
        }

    def then(self, action: Any) -> NewAutomation:
        """A new automation of this event and ``action``."""
        return NewAutomation(event=self, action=action)

    def __rshift__(self, action: Any) -> NewAutomation:
        return self.then(action)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(scope={self.scope!r}, filter={self._filter_json()!r})"


class OnCreateArtifact(_Event):
    """A new artifact version is committed in the scope (a project or an artifact collection).

    Example:
        >>> event = OnCreateArtifact(scope=api.artifact_collection("model", "alice/mnist/mlp"))
    """

    event_type = "CREATE_ARTIFACT"


class OnAddArtifactAlias(_Event):
    """An alias is added to a version in the scope; ``filter`` picks aliases
    (``ArtifactEvent.alias.eq("prod")``), none: every alias.

    Example:
        >>> event = OnAddArtifactAlias(scope=project, filter=ArtifactEvent.alias.eq("prod"))
    """

    event_type = "ADD_ARTIFACT_ALIAS"


class OnRunState(_Event):
    """A run of the project reaches one of the states of ``filter``
    (``RunEvent.state.in_(["finished", "crashed"])``; W&B's ``failed`` is ``CRASHED``).

    Example:
        >>> event = OnRunState(scope=project, filter=RunEvent.state.eq("finished"))
    """

    event_type = "RUN_STATE"


class OnRunMetric(_Event):
    """A value a run of the project logs for a metric meets a threshold
    (``RunEvent.metric("loss").lt(0.1)``); it fires once per run.

    Example:
        >>> event = OnRunMetric(scope=project, filter=RunEvent.metric("val/acc").gte(0.95))
    """

    event_type = "RUN_METRIC"


class MetricThresholdFilter:
    """A metric's value compared with a threshold: ``cmp`` is ``$gt $gte $lt $lte``.

    Aggregates over a window (W&B's ``agg`` and ``window``) are not supported: each logged
    value is compared alone.
    """

    def __init__(
        self,
        name: str,
        cmp: str,
        threshold: float,
        *,
        agg: str | None = None,
        window: int = 1,
    ) -> None:
        self.name, self.cmp, self.threshold, self.agg, self.window = (
            name,
            cmp,
            threshold,
            agg,
            window,
        )

    def json(self) -> dict[str, Any]:
        """The filter as it travels."""
        out: dict[str, Any] = {"name": self.name, "cmp": self.cmp, "threshold": self.threshold}
        if self.agg is not None or self.window != 1:
            out.update(agg=self.agg, window=self.window)
        return out

    def __repr__(self) -> str:
        return f"MetricThresholdFilter({self.name!r} {self.cmp} {self.threshold!r})"


class _Metric:
    def __init__(self, name: str) -> None:
        self.name = name

    def gt(self, value: float, /) -> MetricThresholdFilter:
        """Fires when a value is above ``value``."""
        return MetricThresholdFilter(self.name, "$gt", value)

    def gte(self, value: float, /) -> MetricThresholdFilter:
        """Fires when a value is at least ``value``."""
        return MetricThresholdFilter(self.name, "$gte", value)

    def lt(self, value: float, /) -> MetricThresholdFilter:
        """Fires when a value is below ``value``."""
        return MetricThresholdFilter(self.name, "$lt", value)

    def lte(self, value: float, /) -> MetricThresholdFilter:
        """Fires when a value is at most ``value``."""
        return MetricThresholdFilter(self.name, "$lte", value)

    __gt__, __ge__, __lt__, __le__ = gt, gte, lt, lte


class _StateFilter:
    def __init__(self, states: Iterable[str]) -> None:
        self.states = [str(s).upper() for s in states]

    def json(self) -> dict[str, Any]:
        return {"states": self.states}


class _State:
    def eq(self, state: str, /) -> _StateFilter:
        """Fires when a run reaches ``state``."""
        return _StateFilter([state])

    def in_(self, states: Iterable[str], /) -> _StateFilter:
        """Fires when a run reaches one of ``states``."""
        return _StateFilter(states)


class _AliasFilter:
    def __init__(self, op: str, value: Any) -> None:
        self.op, self.value = op, value

    def json(self) -> dict[str, Any]:
        return {"alias": {self.op: self.value}}


class _Alias:
    def eq(self, alias: str, /) -> _AliasFilter:
        """Fires for this alias."""
        return _AliasFilter("$eq", alias)

    def in_(self, aliases: Iterable[str], /) -> _AliasFilter:
        """Fires for any of these aliases."""
        return _AliasFilter("$in", list(aliases))

    def matches_regex(self, pattern: str, /) -> _AliasFilter:
        """Fires for aliases a Python regular expression finds a match in."""
        return _AliasFilter("$regex", pattern)


class RunEvent:
    """Filters of run events: ``RunEvent.metric("loss").lt(0.1)``, ``RunEvent.state.eq(...)``."""

    state = _State()

    @staticmethod
    def metric(name: str) -> _Metric:
        """A metric to compare: ``.gt() .gte() .lt() .lte()`` (or ``>``, ``<``...)."""
        return _Metric(name)


class ArtifactEvent:
    """Filters of artifact events: ``ArtifactEvent.alias.eq("prod")``, ``.in_()``,
    ``.matches_regex()``."""

    alias = _Alias()


class _Action:
    action_type = ""

    def json(self) -> dict[str, Any]:
        """The action as it travels."""
        return {"action_type": self.action_type}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.json()!r})"


class SendWebhook(_Action):
    """Send a POST of ``request_payload`` (JSON whose strings may hold ``${variables}``, see
    docs/automations.md) to a webhook integration, signed with its secret.

    Example:
        >>> hook = next(iter(api.webhook_integrations()))
        >>> action = SendWebhook.from_integration(hook, payload={"run": "${run_id}"})
    """

    action_type = "GENERIC_WEBHOOK"

    def __init__(self, integration_id: str, request_payload: Any = None) -> None:
        self.integration_id = integration_id
        self.request_payload = request_payload

    @classmethod
    def from_integration(cls, integration: Any, *, payload: Any = None) -> SendWebhook:
        """The action sending ``payload`` to ``integration`` (a ``WebhookIntegration``)."""
        return cls(integration.id, payload)

    def json(self) -> dict[str, Any]:
        return {
            "action_type": self.action_type,
            "integration_id": self.integration_id,
            "request_payload": self.request_payload,
        }


class SendNotification(_Action):
    """Send a notification through a Slack integration (none can be configured on a lablens
    server yet, so it can only name one a later server adds)."""

    action_type = "NOTIFICATION"

    def __init__(
        self, integration_id: str, title: str = "", message: str = "", severity: str = "INFO"
    ) -> None:
        self.integration_id, self.title, self.message = integration_id, title, message
        self.severity = severity

    @classmethod
    def from_integration(
        cls, integration: Any, *, title: str = "", text: str = "", level: str = "INFO"
    ) -> SendNotification:
        """The notification ``title``/``text`` at ``level`` (``INFO WARN ERROR``)."""
        return cls(integration.id, title, text, level)

    def json(self) -> dict[str, Any]:
        return {
            "action_type": self.action_type,
            "integration_id": self.integration_id,
            "title": self.title,
            "message": self.message,
            "severity": self.severity,
        }


class DoNothing(_Action):
    """An action that does nothing: its deliveries are recorded, nothing is sent."""

    action_type = "NO_OP"


class NewAutomation:
    """An automation not saved yet: ``event >> action``, then ``Api.create_automation(new,
    name=...)``."""

    def __init__(
        self,
        name: str | None = None,
        description: str | None = None,
        enabled: bool | None = None,
        event: _Event | None = None,
        action: _Action | None = None,
    ) -> None:
        self.name, self.description, self.enabled = name, description, enabled
        self.event, self.action = event, action

    @property
    def scope(self) -> Any:
        """The scope of its event."""
        return self.event.scope if self.event is not None else None

    def __repr__(self) -> str:
        return f"NewAutomation(name={self.name!r}, event={self.event!r}, action={self.action!r})"
