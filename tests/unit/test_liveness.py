"""The store's liveness check and the server's watch over it, on a real embedded store."""

from __future__ import annotations

import time

import pytest

from lablens.server.liveness import LivenessWatch
from lablens.store.embedded.store import EmbeddedStore


@pytest.fixture
def store(tmp_path):
    s = EmbeddedStore(tmp_path / "data")
    s.create_user("alice")
    yield s
    s.close()


def make(store, run_id: str, state: str | None = None) -> None:
    store.create_run("alice", "p", {"id": run_id}, username="alice")
    if state:
        store.update_run("alice", "p", run_id, {"state": state})


def test_only_silent_running_runs_are_marked_crashed_at_their_last_sign_of_life(store):
    make(store, "silent")
    make(store, "done", "FINISHED")
    make(store, "aborted", "ABORTED")
    before = store.get_run("alice", "p", "silent")
    assert store.crash_silent_runs(3600) == 0  # nothing is an hour silent
    time.sleep(0.05)
    assert store.crash_silent_runs(0.01) == 1
    silent = store.get_run("alice", "p", "silent")
    assert silent["state"] == "CRASHED" and silent["finished_at"] == before["heartbeat_at"]
    assert store.get_run("alice", "p", "done")["state"] == "FINISHED"
    assert store.get_run("alice", "p", "aborted")["state"] == "ABORTED"
    assert store.crash_silent_runs(0.01) == 0  # marked once


def test_a_heartbeat_keeps_a_run_running(store):
    make(store, "alive")
    time.sleep(0.2)
    store.update_run("alice", "p", "alive", {"heartbeat": True})
    assert store.crash_silent_runs(0.15) == 0
    assert store.get_run("alice", "p", "alive")["state"] == "RUNNING"


def test_the_watch_checks_a_few_times_per_timeout(store):
    make(store, "silent")
    watch = LivenessWatch(store, timeout=0.2).start()
    try:
        deadline = time.monotonic() + 30
        while store.get_run("alice", "p", "silent")["state"] != "CRASHED":
            assert time.monotonic() < deadline, "the watch never marked the run"
            time.sleep(0.05)
    finally:
        watch.stop()
    assert watch.interval == 0.25  # a quarter of the timeout, but not more often than 4/s
    assert LivenessWatch(store, timeout=300).interval == 60.0
