"""What the small-write shortcuts of the embedded store must not break.

A records request names its run several times (``Sql.memo`` looks each name up once), a run's
first keys are inserted without ``ON CONFLICT``, and metric key ids are kept in memory once
committed. Each test writes through the real store and reads back what was stored.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from lablens.store import open_store
from lablens.store.errors import NotFound


def _points(key: str, steps: range, scale: float = 1.0) -> pa.Table:
    return pa.table(
        {
            "key": [key] * len(steps),
            "step": pa.array(list(steps), pa.int64()),
            "timestamp": [1.7e9 + s for s in steps],
            "value": [s * scale for s in steps],
        }
    )


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "data")
    s.create_user("alice", is_admin=True)
    s.create_project("alice", "p")
    yield s
    s.close()


def _values(store, run_id: str, key: str) -> list[tuple[int, float]]:
    t = store.history("alice", "p", [run_id], keys=[key])
    return sorted(zip(t["step"].to_pylist(), t["value"].to_pylist(), strict=True))


def test_a_key_first_seen_in_a_rolled_back_request_is_interned_again(store):
    # The request makes a run and a key no run had, then fails: nothing of it stays, and the
    # key's id (never committed) is not remembered.
    with pytest.raises(RuntimeError), store.one_commit():
        store.start_run("alice", "p", {"id": "gone"}, username="alice")
        store.append_points("alice", "p", "gone", _points("brand/new", range(5)))
        raise RuntimeError("the request fails after its points")
    with pytest.raises(NotFound):
        store.get_run("alice", "p", "gone")
    store.start_run("alice", "p", {"id": "kept"}, username="alice")
    store.append_points("alice", "p", "kept", _points("brand/new", range(3), 2.0))
    assert _values(store, "kept", "brand/new") == [(0, 0.0), (1, 2.0), (2, 4.0)]
    # A key known from memory: a second run's batch of it is stored and read back.
    store.start_run("alice", "p", {"id": "again"}, username="alice")
    store.append_points("alice", "p", "again", _points("brand/new", range(2), 3.0))
    assert _values(store, "again", "brand/new") == [(0, 0.0), (1, 3.0)]


def test_one_request_creating_a_run_with_two_batches_and_its_end(store):
    # Created, then two batches (the second merges into the keys the first inserted), then
    # finished: all in one transaction, the run looked up once.
    with store.one_commit():
        assert store.start_run("alice", "p", {"id": "r1"}, username="alice") is True
        store.append_points("alice", "p", "r1", _points("loss", range(0, 4)), batch_id="b1")
        store.append_points("alice", "p", "r1", _points("loss", range(4, 6)), batch_id="b2")
        # A repeated batch id within the same request stores nothing.
        again = store.append_points("alice", "p", "r1", _points("loss", range(4, 6)), batch_id="b2")
        store.change_run("alice", "p", "r1", {"state": "FINISHED", "exit_code": 0})
    assert again == {"stored": 0, "duplicate": True}
    run = store.get_run("alice", "p", "r1")
    assert run["state"] == "FINISHED"
    assert run["history_keys"]["loss"]["count"] == 6
    assert run["summary"]["loss"] == 5.0
    assert _values(store, "r1", "loss") == [(s, float(s)) for s in range(6)]


def test_a_request_on_a_missing_project_or_run_still_names_it(store):
    with pytest.raises(NotFound) as missing, store.one_commit():
        store.append_points("alice", "nope", "r1", _points("loss", range(2)))
    assert missing.value.kind == "project"
    with pytest.raises(NotFound) as missing, store.one_commit():
        store.append_points("alice", "p", "nobody", _points("loss", range(2)))
    assert missing.value.kind == "run"
