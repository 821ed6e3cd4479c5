"""Automations' parts as every engine checks them (``lablens.store.automation_values``): events,
actions and templates checked with the bad part named, a template filled, filters matched."""

from __future__ import annotations

import math

import pytest

from lablens.store.automation_values import (
    VARIABLES,
    alias_matches,
    check_action,
    check_event,
    check_url,
    first_crossing,
    render,
)
from lablens.store.errors import InvalidInput

PROJECT = {"scope_type": "PROJECT", "project": "mnist"}


def field_of(call, *args):
    with pytest.raises(InvalidInput) as bad:
        call(*args)
    return bad.value.field


def test_a_template_keeps_the_type_of_a_lone_variable_and_writes_text_elsewhere():
    values = {"metric_value": 0.125, "run_name": "r1", "metric_step": 3, "alias": None}
    template = {
        "v": "${metric_value}",
        "t": "${run_name} at ${metric_step}: ${metric_value}",
        "list": ["${metric_step}", 2, None, True],
        "${run_name}": {"deep": "${alias}"},
        "empty": "[${alias}]",
    }
    assert render(template, values) == {
        "v": 0.125,
        "t": "r1 at 3: 0.125",
        "list": [3, 2, None, True],
        "r1": {"deep": None},
        "empty": "[]",
    }


def test_every_variable_of_an_event_is_accepted_and_another_is_named():
    for event_type, names in VARIABLES.items():
        payload = {n: f"${{{n}}}" for n in names}
        action = {
            "action_type": "GENERIC_WEBHOOK",
            "integration_id": "x",
            "request_payload": payload,
        }
        assert check_action(action, event_type)["request_payload"] == payload
    action = {
        "action_type": "GENERIC_WEBHOOK",
        "integration_id": "x",
        "request_payload": {"a": [{"b": "x ${alias}"}]},
    }
    assert field_of(check_action, action, "CREATE_ARTIFACT") == "action.request_payload.a[0].b"
    # W&B sends the payload JSON-encoded; bad JSON is named too.
    action["request_payload"] = '{"a": "${alias}"}'
    assert check_action(action, "ADD_ARTIFACT_ALIAS")["request_payload"] == {"a": "${alias}"}
    action["request_payload"] = "{nope"
    assert field_of(check_action, action, "ADD_ARTIFACT_ALIAS") == "action.request_payload"


def test_events_are_normalized_and_their_bad_parts_named():
    state = check_event(
        {"event_type": "RUN_STATE", "scope": PROJECT, "filter": {"states": ["finished", "FAILED"]}}
    )
    assert state["filter"] == {"states": ["CRASHED", "FINISHED"]}
    cases = [
        ({"event_type": "RUN_STATE", "scope": {"scope_type": "ARTIFACT_COLLECTION",
          "project": "p", "collection": "c"}, "filter": {"states": ["FINISHED"]}},
         "event.scope.scope_type"),
        ({"event_type": "RUN_METRIC", "scope": PROJECT,
          "filter": {"name": "loss", "cmp": "$lt", "threshold": 1, "agg": "AVERAGE", "window": 5}},
         "event.filter.agg"),
        ({"event_type": "RUN_METRIC", "scope": PROJECT,
          "filter": {"name": "loss", "cmp": "$lt", "threshold": True}}, "event.filter.threshold"),
        ({"event_type": "CREATE_ARTIFACT", "scope": PROJECT, "filter": {"alias": "x"}},
         "event.filter"),
        ({"event_type": "ADD_ARTIFACT_ALIAS", "scope": PROJECT,
          "filter": {"alias": {"$in": ["a", 1]}}}, "event.filter.alias.$in"),
        ({"event_type": "CREATE_ARTIFACT", "scope": {"scope_type": "ARTIFACT_COLLECTION",
          "project": "p"}}, "event.scope.collection"),
        ({"event_type": "CREATE_ARTIFACT", "scope": "mnist"}, "event.scope"),
    ]  # fmt: skip
    for event, field in cases:
        assert field_of(check_event, event) == field


def test_alias_filters_and_metric_thresholds_match_as_documented():
    assert alias_matches({}, "anything")
    assert alias_matches({"alias": {"$eq": "prod"}}, "prod")
    assert not alias_matches({"alias": {"$eq": "prod"}}, "production")
    assert alias_matches({"alias": {"$in": ["a", "b"]}}, "b")
    assert alias_matches({"alias": {"$regex": "^prod"}}, "production")
    below = {"cmp": "$lt", "threshold": 0.2}
    assert first_crossing(below, [1.0, math.nan, 0.5, 0.2, 0.1, 0.0]) == 4
    assert first_crossing({"cmp": "$lte", "threshold": 0.2}, [1.0, 0.2]) == 1
    assert first_crossing({"cmp": "$gte", "threshold": 1}, [math.inf]) == 0
    assert first_crossing(below, [None, math.nan, 3.0]) is None


def test_webhook_urls_are_http_with_a_host():
    assert check_url(" https://ci.lab/hook ") == "https://ci.lab/hook"
    for url in ("ftp://x/y", "http://", "not a url", "http://a b/", None, ""):
        assert field_of(check_url, url) == "url"
