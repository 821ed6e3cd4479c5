"""Automations on a team store: several servers on one PostgreSQL database send each delivery
once. Two stores claiming at once get disjoint deliveries (``FOR UPDATE SKIP LOCKED`` and a
lease); two real servers, each finishing runs, deliver each run's webhook once to a real
receiver on loopback."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from lablens.api import Api, OnRunState, RunEvent, SendWebhook
from lablens.contract.routes import project_route, run_route
from lablens.server.automation_events import TTL
from lablens.server.webhook_delivery import POLL
from lablens.store import open_store
from receiver import PATIENCE, SECRET, Receiver, verified
from servers import start_server, stop_server

ADMIN_KEY = "ll_" + "5" * 48


def _store(url: str, blobs: Path):
    return open_store(url, blobs=blobs.as_uri())


def test_two_stores_claiming_at_once_get_each_delivery_once(pg_database, tmp_path):
    first, second = _store(pg_database, tmp_path / "b"), _store(pg_database, tmp_path / "b")
    try:
        first.create_first_admin("alice")
        first.create_project("alice", "mnist")
        automation = first.create_automation(
            "alice",
            name="noop",
            event={
                "event_type": "RUN_STATE",
                "scope": {"scope_type": "PROJECT", "project": "mnist"},
                "filter": {"states": ["FINISHED"]},
            },
            action={"action_type": "NO_OP"},
            username="alice",
        )
        made = [
            first.enqueue_delivery(
                automation["pk"], event_key=f"e{i}", event_type="RUN_STATE", body="{}"
            )
            for i in range(60)
        ]
        # The same event again (another server saw it too): no second delivery.
        assert (
            first.enqueue_delivery(
                automation["pk"], event_key="e0", event_type="RUN_STATE", body="{}"
            )
            is None
        )
        claimed: dict[str, list[int]] = {"A": [], "B": []}
        start = threading.Barrier(2)

        def claim(store, lease: str) -> None:
            start.wait()
            while found := store.claim_deliveries(lease, limit=7):
                claimed[lease] += [d["pk"] for d in found]

        threads = [
            threading.Thread(target=claim, args=(first, "A")),
            threading.Thread(target=claim, args=(second, "B")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(claimed["A"] + claimed["B"]) == sorted(made)
        assert not set(claimed["A"]) & set(claimed["B"])
        # An attempt is recorded only under the lease that claimed it.
        pk = (claimed["A"] or claimed["B"])[0]
        owner, other = ("A", "B") if claimed["A"] else ("B", "A")
        kwargs = {"status_code": 200, "error": None, "duration_ms": 1.0, "state": "DELIVERED"}
        assert not second.record_attempt(pk, other, **kwargs)
        assert first.record_attempt(pk, owner, **kwargs)
        # Nothing is due while the leases hold.
        assert first.claim_deliveries("C") == []
    finally:
        first.close()
        second.close()


@pytest.fixture
def two_servers(pg_database, tmp_path):
    blobs = (tmp_path / "blobs").as_uri()
    env = {"LABLENS_ADMIN_API_KEY": ADMIN_KEY}
    servers = [
        start_server(
            tmp_path / name / "data",
            tmp_path / name / "home",
            ["--store", pg_database, "--blobs", blobs],
            env,
        )
        for name in ("a", "b")
    ]
    yield servers
    for srv in servers:
        stop_server(srv)


def test_two_servers_deliver_each_finished_run_once(two_servers):
    receiver = Receiver()
    try:
        apis = [Api(host=srv.url, api_key=ADMIN_KEY) for srv in two_servers]
        project = apis[0].create_project("team-hooks")
        hook = apis[0].create_webhook_integration("ci", receiver.url, secret=SECRET)
        automation = apis[0].create_automation(
            OnRunState(scope=project, filter=RunEvent.state.eq("finished"))
            >> SendWebhook.from_integration(hook, payload={"run": "${run_id}"}),
            name="runs-end",
        )
        # Server b's worker reads the automations again every TTL seconds (documented), between
        # its looks for due deliveries (every POLL seconds): then it sees the new one.
        time.sleep(TTL + POLL + 1)
        runs = []
        for i in range(12):
            api = apis[i % 2]
            made = api.client.post_json(f"{project_route(project.entity, project.name)}/runs", {})
            runs.append(made["id"])
        # Each run finished through the other server than the one that made it.
        for i, run_id in enumerate(runs):
            route = run_route(project.entity, project.name, run_id)
            apis[(i + 1) % 2].client.patch_json(route, {"state": "FINISHED"})
        requests = receiver.wait(len(runs))
        deadline = time.monotonic() + PATIENCE
        while any(d.state != "DELIVERED" for d in automation.deliveries()) or len(
            list(automation.deliveries())
        ) < len(runs):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        deliveries = list(apis[1].automation("runs-end").deliveries())
        assert len(deliveries) == len(runs)
        assert all(len(d.attempts) == 1 for d in deliveries)
        # Each delivery reached the receiver once, whichever server sent it.
        assert len(receiver.requests) == len(runs)
        assert sorted(r["headers"]["X-Lablens-Delivery"] for r in requests) == sorted(
            d.id for d in deliveries
        )
        assert sorted(verified(r)["run"] for r in requests) == sorted(runs)
    finally:
        receiver.close()
