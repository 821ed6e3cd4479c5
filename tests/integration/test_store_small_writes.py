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


def test_many_small_requests_read_back_exact_after_the_log_is_checkpointed(tmp_path):
    # Short runs commit many small transactions; DuckDB folds its write-ahead log into the file
    # at a checkpoint (and when the server closes it). Every point must read back the same,
    # sampled reads included, before and after.
    import numpy as np

    rng = np.random.default_rng(7)
    data = tmp_path / "data"
    store = open_store(data)
    store.create_user("alice", is_admin=True)
    store.create_project("alice", "p")
    logged: dict[str, list[tuple[int, float]]] = {}
    for r in range(12):
        run_id = f"short{r}"
        with store.one_commit():
            store.start_run("alice", "p", {"id": run_id}, username="alice")
        for b in range(6):
            steps = range(b * 7, b * 7 + 7)
            values = rng.normal(size=len(steps))
            batch = pa.table(
                {
                    "key": ["loss"] * len(steps),
                    "step": pa.array(list(steps), pa.int64()),
                    "timestamp": [1.7e9 + s for s in steps],
                    "value": values,
                }
            )
            with store.one_commit():
                store.append_points("alice", "p", run_id, batch, batch_id=f"{run_id}-{b}")
            logged.setdefault(run_id, []).extend(zip(steps, values.tolist(), strict=True))
        with store.one_commit():
            store.change_run("alice", "p", run_id, {"state": "FINISHED", "exit_code": 0})

    def read(s) -> tuple[dict, dict]:
        every = {r: _values_of(s, r) for r in logged}
        sampled = s.history("alice", "p", sorted(logged), keys=["loss"], samples=10)
        return every, sorted(
            zip(
                sampled["run_id"].to_pylist(),
                sampled["step"].to_pylist(),
                sampled["value"].to_pylist(),
                strict=True,
            )
        )

    before = read(store)
    assert before[0] == {r: sorted(v) for r, v in logged.items()}
    store.db.con.execute("CHECKPOINT")
    after_checkpoint = read(store)
    store.close()
    reopened = open_store(data)
    try:
        assert read(reopened) == after_checkpoint == before
        assert all(
            reopened.get_run("alice", "p", r)["history_keys"]["loss"]["count"] == 42 for r in logged
        )
    finally:
        reopened.close()


def _values_of(store, run_id: str) -> list[tuple[int, float]]:
    t = store.history("alice", "p", [run_id], keys=["loss"])
    return sorted(zip(t["step"].to_pylist(), t["value"].to_pylist(), strict=True))


def test_field_types_widen_across_requests_and_forget_a_rolled_back_one(store):
    # Field types are kept in memory once committed: each widening must still reach the
    # project's fields, and a type noted by a request that failed must not.
    store.start_run("alice", "p", {"id": "a", "config": {"lr": 1, "opt": "sgd"}}, username="alice")
    store.append_points("alice", "p", "a", _points("acc", range(3)))
    assert store.project_fields("alice", "p")["config"] == {"lr": "integer", "opt": "string"}
    with pytest.raises(RuntimeError), store.one_commit():
        store.start_run("alice", "p", {"id": "b", "config": {"ghost": [1, 2]}}, username="alice")
        raise RuntimeError("the request fails")
    assert "ghost" not in store.project_fields("alice", "p")["config"]
    store.start_run(
        "alice", "p", {"id": "c", "config": {"lr": 0.5, "ghost": "x"}}, username="alice"
    )
    store.update_run("alice", "p", "c", {"summary": {"note": "text"}})
    store.append_points("alice", "p", "c", _points("note", range(2)))
    fields = store.project_fields("alice", "p")
    assert fields["config"] == {"ghost": "string", "lr": "number", "opt": "string"}
    assert fields["summary"] == {"acc": "number", "note": "string"}


def _state(store, run_id: str) -> tuple:
    """What a run's points left in the store: its keys' figures (run_keys), its summary, its
    history keys and every point, by key name."""
    run = store.get_run("alice", "p", run_id)
    keys = store.db.all(
        "SELECT m.name, r.n, r.first_step, r.last_step, r.nans FROM run_keys r"
        " JOIN metric_keys m ON m.id = r.key_id JOIN runs u ON u.pk = r.run_pk"
        " WHERE u.id = ? ORDER BY m.name",
        [run_id],
    )
    points = store.history("alice", "p", [run_id])
    rows = sorted(
        zip(points["step"].to_pylist(), points["value"].to_pylist(), strict=True),
        key=lambda r: (r[0], str(r[1])),
    )
    summary = {k: (str(v) if v != v else v) for k, v in run["summary"].items()}  # NaN as text
    return keys, summary, run["history_keys"], [(s, str(v)) for s, v in rows]


@pytest.mark.parametrize("rows", [7, 60_000])  # the Arrow figures, and past their limit
def test_a_first_batch_made_with_its_run_stores_what_a_later_batch_would(store, rows):
    # The first batch of a run made by the same request has its keys' figures computed in
    # Arrow; a run made by an earlier request takes DuckDB's query. Both must store the same:
    # NaNs counted, null values skipped for the last value, two values at one step (the
    # earlier one kept), keys whose values are all null, steps out of order.
    import numpy as np

    rng = np.random.default_rng(3)
    keys = np.array(["a", "b/c", "nulls", "tie"])[rng.integers(0, 4, rows)]
    steps = rng.integers(0, max(rows // 3, 3), rows)
    values = rng.normal(size=rows)
    values[rng.random(rows) < 0.1] = np.nan
    mask = rng.random(rows) < 0.1
    mask[keys == "nulls"] = True
    keys[:4] = ["tie", "tie", "tie", "a"]
    steps[:4] = [10**6, 10**6, 5, 10**6]
    values[:4] = [1.5, 2.5, 9.0, 4.0]
    mask[:4] = False
    batch = pa.table(
        {
            "key": keys.tolist(),
            "step": pa.array(steps, pa.int64()),
            "timestamp": [1.7e9] * rows,
            "value": pa.array(values, pa.float64(), mask=mask),
        }
    )
    with store.one_commit():
        store.start_run("alice", "p", {"id": "together"}, username="alice")
        store.append_points("alice", "p", "together", batch, batch_id="x")
    with store.one_commit():
        store.start_run("alice", "p", {"id": "apart"}, username="alice")
    with store.one_commit():
        store.append_points("alice", "p", "apart", batch, batch_id="x")
    together, apart = _state(store, "together"), _state(store, "apart")
    assert together == apart
    assert together[1]["tie"] == 1.5 and "nulls" not in together[1]
    counts = {k: int((keys == k).sum()) for k in ("a", "b/c", "nulls", "tie")}
    assert {k["name"]: k["n"] for k in together[0]} == {k: n for k, n in counts.items() if n}
    # The batch id is kept for the run made with it: sent again, it stores nothing.
    again = store.append_points("alice", "p", "together", batch, batch_id="x")
    assert again == {"stored": 0, "duplicate": True}


def test_a_project_deleted_and_made_again_takes_the_runs_logged_after(store):
    # Project ids are kept in memory after a request's commit; a deletion drops them.
    with store.one_commit():
        store.start_run("alice", "p", {"id": "old"}, username="alice")
        store.append_points("alice", "p", "old", _points("loss", range(3)))
    with store.one_commit():  # the id is now known from memory
        store.start_run("alice", "p", {"id": "old2"}, username="alice")
    old_id = store.projects.project_id("alice", "p")
    store.delete_project("alice", "p")
    store.create_project("alice", "p")
    with store.one_commit():
        store.start_run("alice", "p", {"id": "new"}, username="alice")
        store.append_points("alice", "p", "new", _points("loss", range(4), 2.0))
    assert store.projects.project_id("alice", "p") != old_id
    assert [r["id"] for r in store.query_runs("alice", "p")["items"]] == ["new"]
    assert _values(store, "new", "loss") == [(s, 2.0 * s) for s in range(4)]
    with pytest.raises(NotFound):
        store.get_run("alice", "p", "old")
