"""Automations against a real server: webhooks received by a real HTTP receiver on loopback
(``http.server`` in a thread), their HMAC-SHA256 signatures checked, their templated payloads
read back; retries recorded attempt by attempt; bad parts named; deleting stops deliveries.

Runs on the session ``server``, so the PostgreSQL pass (``LABLENS_TEST_STORE=postgres``) runs
the store part on PostgreSQL too."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator

import pytest

from lablens.api import (
    ArtifactEvent,
    DoNothing,
    OnAddArtifactAlias,
    OnCreateArtifact,
    OnRunMetric,
    OnRunState,
    RunEvent,
    SendWebhook,
)
from lablens.contract.routes import project_route, run_route
from lablens.errors import BadRequest, Conflict
from receiver import PATIENCE, SECRET, Receiver, verified
from servers import log_points


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def commit(api, project, name: str, content: bytes, aliases: list[str] | None = None) -> dict:
    """Commit a version of artifact ``name`` holding one file of ``content``."""
    digest = hashlib.sha256(content).hexdigest()
    base = project_route(project.entity, project.name)
    api.client.request("PUT", f"{base}/blobs/{digest}", data=content)
    return api.client.post_json(
        f"{base}/artifacts",
        {
            "name": name,
            "type": "model",
            "aliases": aliases or [],
            "files": [{"path": "w.bin", "digest": digest, "size": len(content)}],
        },
    )


def hook_for(api, project, receiver: Receiver, secret: str | None = SECRET):
    return api.create_webhook_integration(
        f"hook-{uuid.uuid4().hex[:8]}", receiver.url, secret=secret, entity=project.entity
    )


def test_a_new_artifact_version_is_posted_to_the_webhook_signed_with_its_template_filled(
    api, make_project, receiver
):
    project = make_project()
    hook = hook_for(api, project, receiver)
    payload = {
        "event": "${event_type}",
        "who": "${event_author}",
        "where": "${entity_name}/${project_name}",
        "version": "${artifact_version_string}",
        "collection": "${artifact_collection_name}",
        "type": "${artifact_type}",
        "v": "${artifact_version}",
        "nested": ["${artifact_id}", 1, None],
    }
    automation = api.create_automation(
        OnCreateArtifact(scope=project) >> SendWebhook.from_integration(hook, payload=payload),
        name=f"new-version-{uuid.uuid4().hex[:6]}",
        description="tell CI",
    )
    assert automation.enabled and automation.event["event_type"] == "CREATE_ARTIFACT"
    assert automation.scope == {"scope_type": "PROJECT", "project": project.name}

    version = commit(api, project, "weights", b"v0 bytes")
    (request,) = receiver.wait(1)
    body = verified(request)
    assert body == {
        "event": "CREATE_ARTIFACT",
        "who": api.viewer.username,
        "where": f"{project.entity}/{project.name}",
        "version": f"{project.entity}/{project.name}/weights:v0",
        "collection": "weights",
        "type": "model",
        "v": "v0",
        "nested": [version["id"], 1, None],
    }
    assert request["headers"]["X-Lablens-Event"] == "CREATE_ARTIFACT"
    assert request["headers"]["X-Lablens-Automation"] == automation.id

    # Recorded: one delivery, one attempt, answered 200.
    (delivery,) = list(api.automation(automation.name, entity=project.entity).deliveries())
    assert delivery.state == "DELIVERED" and delivery.payload == body
    assert [(a["attempt"], a["status_code"], a["error"]) for a in delivery.attempts] == [
        (1, 200, None)
    ]
    assert request["headers"]["X-Lablens-Delivery"] == delivery.id


def test_an_artifact_collection_scope_fires_for_its_own_versions_only(api, make_project, receiver):
    project = make_project()
    commit(api, project, "weights", b"first weights")
    commit(api, project, "data", b"first data")
    hook = hook_for(api, project, receiver)
    collection = api.artifact_collection("model", f"{project.entity}/{project.name}/weights")
    api.create_automation(
        OnCreateArtifact(scope=collection)
        >> SendWebhook.from_integration(hook, payload={"v": "${artifact_version_string}"}),
        name=f"weights-only-{uuid.uuid4().hex[:6]}",
    )
    commit(api, project, "data", b"second data")
    commit(api, project, "weights", b"second weights")
    (request,) = receiver.wait(1)
    assert verified(request) == {"v": f"{project.entity}/{project.name}/weights:v1"}
    # Its collection deleted, it watches nothing: not the project's other collections either.
    collection.delete()
    api.create_automation(
        OnCreateArtifact(scope=project)
        >> SendWebhook.from_integration(hook, payload={"marker": "${artifact_version_string}"}),
        name=f"marker-{uuid.uuid4().hex[:6]}",
    )
    commit(api, project, "data", b"third data")
    commit(api, project, "weights", b"weights again")
    # Sent in order: once the marker's second came, nothing else is on its way before it.
    assert [verified(r) for r in receiver.wait(3)[1:]] == [
        {"marker": f"{project.entity}/{project.name}/data:v2"},
        {"marker": f"{project.entity}/{project.name}/weights:v0"},
    ]


def test_an_added_alias_is_posted_when_the_filter_matches_it(api, make_project, receiver):
    project = make_project()
    hook = hook_for(api, project, receiver)
    api.create_automation(
        OnAddArtifactAlias(scope=project, filter=ArtifactEvent.alias.eq("production"))
        >> SendWebhook.from_integration(
            hook, payload={"alias": "${alias}", "version": "${artifact_version}"}
        ),
        name=f"prod-{uuid.uuid4().hex[:6]}",
    )
    commit(api, project, "weights", b"w0", aliases=["candidate"])  # latest, candidate: no match
    artifact = api.artifact(f"{project.entity}/{project.name}/weights:v0")
    artifact.aliases.append("production")
    artifact.save()
    (request,) = receiver.wait(1)
    assert verified(request) == {"alias": "production", "version": "v0"}


def test_a_finished_run_is_posted_with_its_id_name_and_state(api, make_project, receiver):
    project = make_project()
    hook = hook_for(api, project, receiver)
    api.create_automation(
        OnRunState(scope=project, filter=RunEvent.state.in_(["finished", "failed"]))
        >> SendWebhook.from_integration(
            hook,
            payload={"text": "${run_name} is ${run_state}", "id": "${run_id}"},
        ),
        name=f"run-ends-{uuid.uuid4().hex[:6]}",
    )
    made = api.client.post_json(
        f"{project_route(project.entity, project.name)}/runs", {"name": "resnet-7"}
    )
    route = run_route(project.entity, project.name, made["id"])
    api.client.patch_json(route, {"notes": "still running"})  # no state change: nothing sent
    api.client.patch_json(route, {"state": "FINISHED"})
    (request,) = receiver.wait(1)
    assert verified(request) == {"text": "resnet-7 is FINISHED", "id": made["id"]}


def test_a_metric_crossing_its_threshold_is_posted_once_per_run_with_its_value(
    api, make_project, receiver
):
    project = make_project()
    hook = hook_for(api, project, receiver)
    api.create_automation(
        OnRunMetric(scope=project, filter=RunEvent.metric("loss").lt(0.2))
        >> SendWebhook.from_integration(
            hook,
            payload={
                "metric": "${metric_name}",
                "value": "${metric_value}",
                "step": "${metric_step}",
                "run": "${run_name}",
                "text": "loss ${metric_value} at ${metric_step}",
            },
        ),
        name=f"good-loss-{uuid.uuid4().hex[:6]}",
    )
    made = api.client.post_json(
        f"{project_route(project.entity, project.name)}/runs", {"name": "small-lr"}
    )
    path = f"{project.entity}/{project.name}/{made['id']}"
    log_points(api, path, {"loss": [1.0, 0.5], "acc": [0.01, 0.1]})
    log_points(api, path, {"loss": ([2, 3, 4], [0.125, 0.05, 0.01])})
    log_points(api, path, {"loss": ([5], [0.001])})  # past it already: not again
    (request,) = receiver.wait(1)
    assert verified(request) == {
        "metric": "loss",
        "value": 0.125,
        "step": 2,
        "run": "small-lr",
        "text": "loss 0.125 at 2",
    }
    # A second run crosses it too: its own delivery.
    other = api.client.post_json(f"{project_route(project.entity, project.name)}/runs", {})
    log_points(api, f"{project.entity}/{project.name}/{other['id']}", {"loss": [0.1]})
    assert verified(receiver.wait(2)[1])["value"] == 0.1
    assert len(receiver.requests) == 2


def test_a_receiver_failing_twice_gets_a_third_attempt_and_all_three_are_recorded(
    api, make_project
):
    receiver = Receiver(statuses=[500, 503])
    try:
        project = make_project()
        hook = hook_for(api, project, receiver)
        automation = api.create_automation(
            OnCreateArtifact(scope=project)
            >> SendWebhook.from_integration(hook, payload={"v": "${artifact_version}"}),
            name=f"flaky-{uuid.uuid4().hex[:6]}",
        )
        commit(api, project, "weights", b"retried")
        requests = receiver.wait(3)
        # The same bytes and the same valid signature at every attempt.
        assert {r["body"] for r in requests} == {b'{"v":"v0"}'}
        assert all(verified(r) == {"v": "v0"} for r in requests)
        deadline = time.monotonic() + PATIENCE
        while (delivery := list(automation.deliveries())[0]).state == "PENDING":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert delivery.state == "DELIVERED"
        assert [(a["attempt"], a["status_code"]) for a in delivery.attempts] == [
            (1, 500),
            (2, 503),
            (3, 200),
        ]
        assert all(a["at"] and a["duration_ms"] >= 0 for a in delivery.attempts)
        times = [a["at"] for a in delivery.attempts]
        assert times == sorted(times)
    finally:
        receiver.close()


def test_a_webhook_without_a_secret_is_sent_unsigned(api, make_project, receiver):
    project = make_project()
    hook = hook_for(api, project, receiver, secret=None)
    assert not hook.has_secret
    api.create_automation(
        OnCreateArtifact(scope=project) >> SendWebhook.from_integration(hook),
        name=f"unsigned-{uuid.uuid4().hex[:6]}",
    )
    commit(api, project, "weights", b"unsigned")
    (request,) = receiver.wait(1)
    assert "X-Lablens-Signature" not in request["headers"]
    assert json.loads(request["body"]) == {}


def test_bad_urls_templates_events_and_integrations_are_400s_naming_them(api, make_project):
    project = make_project()
    with pytest.raises(BadRequest) as bad:
        api.create_webhook_integration("bad", "ftp://example.org/x", entity=project.entity)
    assert bad.value.field == "url"
    hook = api.create_webhook_integration(
        f"h-{uuid.uuid4().hex[:6]}", "http://127.0.0.1:9/x", entity=project.entity
    )
    name = f"bad-{uuid.uuid4().hex[:6]}"
    nothing, loss = DoNothing(), RunEvent.metric("loss")
    cases = [
        # a variable the event does not have; an unclosed one
        (
            OnCreateArtifact(scope=project)
            >> SendWebhook.from_integration(hook, payload={"a": {"b": ["x", "${metric_value}"]}}),
            "action.request_payload.a.b[1]",
        ),
        (
            OnCreateArtifact(scope=project)
            >> SendWebhook.from_integration(hook, payload={"t": "${run_id"}),
            "action.request_payload.t",
        ),
        (
            OnRunMetric(scope=project, filter={"name": "loss", "cmp": "$ne", "threshold": 1})
            >> nothing,
            "event.filter.cmp",
        ),
        (
            OnRunMetric(scope=project, filter=loss.lt(float("nan"))) >> nothing,
            "event.filter.threshold",
        ),
        (
            OnRunState(scope=project, filter=RunEvent.state.eq("sleeping")) >> nothing,
            "event.filter.states[0]",
        ),
        (
            OnAddArtifactAlias(scope=project, filter=ArtifactEvent.alias.matches_regex("("))
            >> nothing,
            "event.filter.alias.$regex",
        ),
        (
            OnCreateArtifact(scope=f"{project.entity}/no-such-project") >> nothing,
            "event.scope.project",
        ),
        (
            OnCreateArtifact(scope=project) >> SendWebhook("0000000000000000"),
            "action.integration_id",
        ),
    ]
    for new, field in cases:
        with pytest.raises(BadRequest) as bad:
            api.create_automation(new, name=name)
        assert bad.value.field == field, (field, str(bad.value))
    # An unknown event type, as the wire carries it.
    with pytest.raises(BadRequest) as bad:
        api.client.post_json(
            f"/api/v1/workspaces/{project.entity}/automations",
            {
                "name": name,
                "event": {"event_type": "ON_TUESDAY"},
                "action": {"action_type": "NO_OP"},
            },
        )
    assert bad.value.field == "event.event_type"
    assert not list(api.automations(project.entity, name=name))


def test_integrations_list_what_is_configured_and_slack_asks_nothing(
    api, make_project, receiver, counted
):
    project = make_project()
    hook = hook_for(api, project, receiver)
    found = {i.id: i for i in api.integrations(project.entity)}
    assert found[hook.id].url_endpoint == receiver.url and found[hook.id].has_secret
    assert "secret" not in found[hook.id].json()
    assert hook.id in {i.id for i in api.webhook_integrations(project.entity)}
    before = len(counted)
    assert list(api.slack_integrations(project.entity)) == []
    assert len(counted) == before  # no request
    with pytest.raises(Conflict):
        api.create_webhook_integration(hook.name, receiver.url, entity=project.entity)


def test_a_deleted_automation_sends_nothing_more_and_one_disabled_waits(
    api, make_project, receiver
):
    project = make_project()
    hook = hook_for(api, project, receiver)

    def automation(tag: str):
        return api.create_automation(
            OnCreateArtifact(scope=project)
            >> SendWebhook.from_integration(hook, payload={"by": tag, "v": "${artifact_version}"}),
            name=f"{tag}-{uuid.uuid4().hex[:6]}",
        )

    kept, deleted, paused = automation("kept"), automation("deleted"), automation("paused")
    assert api.delete_automation(deleted) is True
    paused.enabled = False
    paused = api.update_automation(paused)
    assert not paused.enabled
    commit(api, project, "weights", b"after delete 0")
    commit(api, project, "weights", b"after delete 1")
    # The worker sends in order, so once the kept one's second delivery came, a delivery of
    # the deleted one would have come before it.
    requests = receiver.wait(2)
    assert [verified(r) for r in requests] == [{"by": "kept", "v": "v0"}, {"by": "kept", "v": "v1"}]
    assert [a.name for a in api.automations(project.entity) if a.name == deleted.name] == []
    # The paused one recorded nothing; enabled again, it fires for the next version.
    assert list(paused.deliveries()) == []
    api.update_automation(paused, enabled=True)
    commit(api, project, "weights", b"after delete 2")
    assert {json.dumps(verified(r), sort_keys=True) for r in receiver.wait(4)[2:]} == {
        json.dumps({"by": "kept", "v": "v2"}, sort_keys=True),
        json.dumps({"by": "paused", "v": "v2"}, sort_keys=True),
    }
    assert kept.name in {a.name for a in api.automations(project.entity)}


def test_an_automation_is_read_changed_and_refused_twice(api, make_project):
    project = make_project()
    name = f"noop-{uuid.uuid4().hex[:6]}"
    made = api.create_automation(
        OnRunState(scope=project, filter=RunEvent.state.eq("crashed")) >> DoNothing(), name=name
    )
    assert made.event["filter"] == {"states": ["CRASHED"]}
    assert api.automation(name, entity=project.entity).id == made.id
    with pytest.raises(Conflict):
        api.create_automation(OnCreateArtifact(scope=project) >> DoNothing(), name=name)
    same = api.create_automation(
        OnCreateArtifact(scope=project) >> DoNothing(), name=name, fetch_existing=True
    )
    assert same.id == made.id
    changed = api.update_automation(made, description="on crash", name=name + "-x")
    assert (changed.name, changed.description) == (name + "-x", "on crash")
    assert changed.event == made.event


def test_nul_characters_are_400s_naming_the_field_on_every_engine(api, make_project):
    # PostgreSQL's text cannot hold NUL: refused by name, never a server error.
    project = make_project()
    with pytest.raises(BadRequest) as bad:
        api.create_webhook_integration("a\x00b", "http://127.0.0.1:9/x", entity=project.entity)
    assert bad.value.field == "name"
    with pytest.raises(BadRequest) as bad:
        api.create_webhook_integration(
            "s", "http://127.0.0.1:9/x", secret="\x00", entity=project.entity
        )
    assert bad.value.field == "secret"
    scope = {"entity": project.entity, "scope_type": "PROJECT", "project": "p\x00"}
    for new, field in [
        ({"name": "n\x00"}, "name"),
        ({"name": "n", "description": "\x00"}, "description"),
        ({"name": "n", "scope": scope}, "event.scope.project"),
    ]:
        with pytest.raises(BadRequest) as bad:
            api.create_automation(OnCreateArtifact(scope=project) >> DoNothing(), **new)
        assert bad.value.field == field
    assert list(api.automations(project.entity, name="x\x00")) == []


@pytest.mark.parametrize("short", [True, False], ids=["one-request", "several-requests"])
def test_runs_logged_by_the_sdk_fire_their_state_and_metric_automations(
    api, make_project, receiver, server, tmp_path, short
):
    # The SDK sends records (points, updates, the end in one request for a short run, which
    # the embedded server journals and stores after its answer); they are events like the
    # routes' own.
    import lablens

    project = make_project()
    hook = hook_for(api, project, receiver)
    api.create_automation(
        OnRunState(scope=project, filter=RunEvent.state.in_(["finished"]))
        >> SendWebhook.from_integration(hook, payload={"state": "${run_state}", "id": "${run_id}"}),
        name=f"ends-{uuid.uuid4().hex[:6]}",
    )
    api.create_automation(
        OnRunMetric(scope=project, filter=RunEvent.metric("loss").lt(0.2))
        >> SendWebhook.from_integration(
            hook, payload={"value": "${metric_value}", "step": "${metric_step}"}
        ),
        name=f"low-loss-{uuid.uuid4().hex[:6]}",
    )
    run = lablens.sdk.init(
        project=project.name,
        entity=project.entity,
        host=server.url,
        api_key=server.api_key,
        settings={"system_interval": 0, "console": False, "flush_interval": 600 if short else 0.05},
        dir=tmp_path,
    )
    for loss in [1.0, 0.5, 0.15, 0.05]:
        run.log({"loss": loss})
        if not short:
            time.sleep(0.2)  # each point its own request, after the run's creation
    run.finish()
    got = sorted((verified(r) for r in receiver.wait(2)), key=lambda body: "state" in body)
    assert got == [{"value": 0.15, "step": 2}, {"state": "FINISHED", "id": run.id}]
