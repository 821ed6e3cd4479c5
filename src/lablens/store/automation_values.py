"""Automations as every engine keeps them: their events, scopes, actions and payload templates
checked (a bad part named by its field), and a template filled in for one event.

An automation is W&B's shape: an ``event`` (what happens, in a ``scope``: a project or an
artifact collection, with a ``filter``) and an ``action`` (a webhook with a JSON payload
template, a notification, or nothing). The template is JSON whose strings may hold ``${name}``
variables; which names an event offers is :data:`VARIABLES`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from lablens.store.errors import InvalidInput
from lablens.store.run_values import STATES

EVENT_TYPES = ("CREATE_ARTIFACT", "ADD_ARTIFACT_ALIAS", "RUN_STATE", "RUN_METRIC")
ACTION_TYPES = ("GENERIC_WEBHOOK", "NOTIFICATION", "NO_OP")
SCOPE_TYPES = ("PROJECT", "ARTIFACT_COLLECTION")
COMPARISONS = {
    "$gt": lambda v, t: v > t,
    "$gte": lambda v, t: v >= t,
    "$lt": lambda v, t: v < t,
    "$lte": lambda v, t: v <= t,
}
#: W&B's reported run states and what they mean here (W&B's FAILED is a CRASHED run).
STATE_ALIASES = {"FAILED": "CRASHED"}

_COMMON = (
    "event_type",
    "event_author",
    "entity_name",
    "project_name",
    "automation_name",
    "timestamp",
)
_ARTIFACT = (
    "artifact_id",
    "artifact_collection_name",
    "artifact_type",
    "artifact_version",
    "artifact_version_string",
)
_RUN = ("run_id", "run_name", "run_state")
#: The ``${...}`` variables a payload template may use, by event type.
VARIABLES: dict[str, tuple[str, ...]] = {
    "CREATE_ARTIFACT": _COMMON + _ARTIFACT,
    "ADD_ARTIFACT_ALIAS": _COMMON + _ARTIFACT + ("alias",),
    "RUN_STATE": _COMMON + _RUN,
    "RUN_METRIC": _COMMON + _RUN + ("metric_name", "metric_value", "metric_step"),
}
_VAR = re.compile(r"\$\{([^}]*)\}")
MAX_TEMPLATE = 64 * 1024


def bad(message: str, field: str) -> InvalidInput:
    return InvalidInput(message, field=field)


def check_text(value: Any, field: str) -> Any:
    """``value``, refused when a string holding NUL: PostgreSQL's text cannot store it."""
    if isinstance(value, str) and "\x00" in value:
        raise bad("a NUL character is not allowed", field)
    return value


def check_url(url: Any, field: str = "url") -> str:
    """An ``http(s)://host...`` URL, or ``InvalidInput`` naming ``field``."""
    if not isinstance(url, str) or not url.strip():
        raise bad("a webhook URL is required", field)
    if any(ord(c) < 32 or c.isspace() for c in url.strip()):
        raise bad("a URL holds no spaces nor control characters", field)
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad(f"not an http(s) URL with a host: {url!r}", field)
    return url.strip()


def check_name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 128:
        raise bad("a name of 1 to 128 characters is required", field)
    if any(ord(c) < 32 for c in value):
        raise bad("a name may not hold control characters", field)
    return value.strip()


def check_integration(name: Any, url: Any, secret: Any) -> dict[str, Any]:
    """A new webhook integration's columns, checked."""
    if secret is not None and (not isinstance(secret, str) or len(secret) > 1024):
        raise bad("a secret is a string of at most 1024 characters", "secret")
    check_text(secret, "secret")
    return {"name": check_name(name, "name"), "url": check_url(url), "secret": secret or None}


def _scope(scope: Any, field: str) -> dict[str, Any]:
    if not isinstance(scope, Mapping):
        raise bad("a scope is an object: {scope_type, project[, collection]}", field)
    kind = scope.get("scope_type")
    if kind not in SCOPE_TYPES:
        raise bad(f"scope_type must be one of {', '.join(SCOPE_TYPES)}", f"{field}.scope_type")
    project = check_text(scope.get("project"), f"{field}.project")
    if not isinstance(project, str) or not project:
        raise bad("the scope names its project", f"{field}.project")
    out = {"scope_type": kind, "project": project}
    if kind == "ARTIFACT_COLLECTION":
        collection = check_text(scope.get("collection"), f"{field}.collection")
        if not isinstance(collection, str) or not collection:
            raise bad("an artifact collection scope names its collection", f"{field}.collection")
        out["collection"] = collection
    return out


def _alias_filter(flt: Any, field: str) -> dict[str, Any]:
    if flt in (None, {}):
        return {}
    alias = flt.get("alias") if isinstance(flt, Mapping) else None
    if not isinstance(flt, Mapping) or set(flt) != {"alias"}:
        raise bad("an alias filter is {'alias': {'$eq'|'$in'|'$regex': ...}}", field)
    if isinstance(alias, str):
        alias = {"$eq": alias}
    if not isinstance(alias, Mapping) or len(alias) != 1:
        raise bad("one of $eq, $in, $regex", f"{field}.alias")
    op, value = next(iter(alias.items()))
    where = f"{field}.alias.{op}"
    strings = isinstance(value, list) and all(isinstance(v, str) for v in value)
    if (op == "$eq" and isinstance(value, str)) or (op == "$in" and strings):
        pass
    elif op == "$regex" and isinstance(value, str):
        try:
            re.compile(value)
        except re.error as exc:
            raise bad(f"not a regular expression: {exc}", where) from None
    else:
        raise bad("one of $eq (a string), $in (a list of strings), $regex (a pattern)", where)
    return {"alias": {op: value}}


def _state_filter(flt: Any, field: str) -> dict[str, Any]:
    states = flt.get("states") if isinstance(flt, Mapping) else None
    if isinstance(states, str):
        states = [states]
    if not isinstance(states, list) or not states:
        raise bad("a run state filter is {'states': [...]}", f"{field}.states")
    out = []
    for i, state in enumerate(states):
        name = state.upper() if isinstance(state, str) else state
        name = STATE_ALIASES.get(name, name)
        if name not in STATES:
            raise bad(f"a state is one of {', '.join(STATES)}", f"{field}.states[{i}]")
        out.append(name)
    return {"states": sorted(set(out))}


def _metric_filter(flt: Any, field: str) -> dict[str, Any]:
    if not isinstance(flt, Mapping):
        raise bad("a metric filter is {name, cmp, threshold}", field)
    name = flt.get("name")
    if not isinstance(name, str) or not name:
        raise bad("the metric's name is required", f"{field}.name")
    cmp = flt.get("cmp")
    if cmp not in COMPARISONS:
        raise bad(f"cmp is one of {', '.join(COMPARISONS)}", f"{field}.cmp")
    threshold = flt.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise bad("threshold is a number", f"{field}.threshold")
    if not math.isfinite(threshold):
        raise bad("threshold is a finite number", f"{field}.threshold")
    if flt.get("agg") not in (None, "") or flt.get("window", 1) != 1:
        # Windows and aggregates (W&B's .avg(5)) are not built: each value is compared alone.
        raise bad("aggregates over a window are not supported: compare each value", f"{field}.agg")
    extra = set(flt) - {"name", "cmp", "threshold", "agg", "window"}
    if extra:
        raise bad(f"unknown key {sorted(extra)[0]!r}", f"{field}.{sorted(extra)[0]}")
    return {"name": name, "cmp": cmp, "threshold": threshold}


def check_event(event: Any) -> dict[str, Any]:
    """An automation's event ``{event_type, scope, filter}``, checked and normalized."""
    if not isinstance(event, Mapping):
        raise bad("an event is an object: {event_type, scope, filter}", "event")
    kind = event.get("event_type")
    if kind not in EVENT_TYPES:
        raise bad(f"event_type must be one of {', '.join(EVENT_TYPES)}", "event.event_type")
    scope = _scope(event.get("scope"), "event.scope")
    if kind.startswith("RUN_") and scope["scope_type"] != "PROJECT":
        raise bad("run events take a project scope", "event.scope.scope_type")
    flt = event.get("filter")
    if kind == "ADD_ARTIFACT_ALIAS":
        flt = _alias_filter(flt, "event.filter")
    elif kind == "RUN_STATE":
        flt = _state_filter(flt, "event.filter")
    elif kind == "RUN_METRIC":
        flt = _metric_filter(flt, "event.filter")
    elif flt not in (None, {}):
        raise bad("a new artifact event takes no filter", "event.filter")
    else:
        flt = {}
    return {"event_type": kind, "scope": scope, "filter": flt}


def check_template(template: Any, event_type: str, field: str) -> None:
    """Every ``${name}`` in a payload template (any JSON) is a variable of ``event_type``."""
    allowed = VARIABLES[event_type]

    def walk(value: Any, where: str) -> None:
        if isinstance(value, str):
            for name in _VAR.findall(value):
                if name not in allowed:
                    raise bad(
                        f"unknown variable ${{{name}}} for {event_type} events; known:"
                        f" {', '.join(allowed)}",
                        where,
                    )
            if "${" in _VAR.sub("", value):
                raise bad("an unclosed ${", where)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(key, where)
                walk(item, f"{where}.{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{where}[{i}]")

    walk(template, field)


def check_action(action: Any, event_type: str) -> dict[str, Any]:
    """An automation's action ``{action_type, integration_id, ...}``, checked; the integration
    itself is looked up by the store."""
    if not isinstance(action, Mapping):
        raise bad("an action is an object: {action_type, ...}", "action")
    kind = action.get("action_type")
    if kind not in ACTION_TYPES:
        raise bad(f"action_type must be one of {', '.join(ACTION_TYPES)}", "action.action_type")
    if kind == "NO_OP":
        return {"action_type": kind}
    integration = action.get("integration_id")
    if not isinstance(integration, str) or not integration:
        raise bad("the action names its integration", "action.integration_id")
    if kind == "NOTIFICATION":
        out = {"action_type": kind, "integration_id": integration}
        for key in ("title", "message"):
            value = action.get(key) or ""
            if not isinstance(value, str):
                raise bad("a string", f"action.{key}")
            check_template(value, event_type, f"action.{key}")
            out[key] = value
        severity = str(action.get("severity") or "INFO").upper()
        if severity not in ("INFO", "WARN", "ERROR"):
            raise bad("severity is INFO, WARN or ERROR", "action.severity")
        return {**out, "severity": severity}
    payload = action.get("request_payload")
    if isinstance(payload, str):  # W&B sends it JSON-encoded
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise bad(f"not JSON: {exc}", "action.request_payload") from None
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise bad("the payload template is a JSON object", "action.request_payload")
    if len(json.dumps(payload)) > MAX_TEMPLATE:
        raise bad(f"the payload template is over {MAX_TEMPLATE} bytes", "action.request_payload")
    check_template(payload, event_type, "action.request_payload")
    return {"action_type": kind, "integration_id": integration, "request_payload": payload}


def render(template: Any, values: Mapping[str, Any]) -> Any:
    """``template`` with its ``${name}`` variables filled: a string that is one variable alone
    takes the value with its JSON type (a number stays a number); elsewhere it is text."""
    if isinstance(template, str):
        whole = _VAR.fullmatch(template)
        if whole:
            return values.get(whole.group(1))
        return _VAR.sub(lambda m: _text(values.get(m.group(1))), template)
    if isinstance(template, Mapping):
        return {render(k, values): render(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, values) for v in template]
    return template


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def alias_matches(flt: Mapping[str, Any], alias: str) -> bool:
    """Whether an added ``alias`` passes an alias filter (no filter: every alias)."""
    if not flt:
        return True
    op, value = next(iter(flt["alias"].items()))
    if op == "$eq":
        return alias == value
    if op == "$in":
        return alias in value
    return re.search(value, alias) is not None


def first_crossing(flt: Mapping[str, Any], values: Any) -> int | None:
    """The index of the first value (a sequence of floats; NaN and ``None`` never match) that
    meets a metric filter, or ``None``. Compared as one numpy array: a batch of points is
    checked at numpy's speed, on the ingest path."""
    array = np.asarray(
        [math.nan if v is None else v for v in values] if isinstance(values, list) else values,
        dtype=np.float64,
    )
    with np.errstate(invalid="ignore"):
        met = COMPARISONS[flt["cmp"]](array, flt["threshold"]) & ~np.isnan(array)
    return int(np.argmax(met)) if met.any() else None
