"""Every point of a history read as stored, sorted only when needed (issue 17, item 2): the
answer is the one the sorting query gave, on a real embedded store, however the points came."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from lablens.store.embedded import _history
from lablens.store.embedded._history import _in_series_order, _series_labels
from lablens.store.embedded._sampling_sql import sampled_points_sql
from lablens.store.embedded.store import EmbeddedStore


@pytest.fixture
def store(tmp_path):
    s = EmbeddedStore(tmp_path / "data")
    s.create_user("alice")
    yield s
    s.close()


def _points(key: str | list[str], steps: range | list[int]) -> pa.Table:
    steps = list(steps)
    keys = key if isinstance(key, list) else [key] * len(steps)
    return pa.table(
        {
            "key": pa.array(keys, pa.string()),
            "step": pa.array(steps, pa.int64()),
            "timestamp": pa.array([1.7e9 + s for s in steps], pa.float64()),
            "value": pa.array([float(s) * 0.5 for s in steps], pa.float64()),
        }
    )


def _sorted_answer(store: EmbeddedStore, run_ids: list[str]) -> list[tuple]:
    """The rows of the query every full read used to run: sorted by run, key and step."""
    rows = (
        store.db.reader()
        .sql(
            "SELECT r.id, m.name, p.step, p.ts, p.value FROM points p"
            " JOIN runs r ON r.pk = p.run_pk JOIN metric_keys m ON m.id = p.key_id"
            " WHERE list_contains(?::VARCHAR[], r.id) ORDER BY p.run_pk, p.key_id, p.step",
            params=[run_ids],
        )
        .fetchall()
    )
    return [tuple(r) for r in rows]


def _answer(store: EmbeddedStore, run_ids: list[str], **kw) -> list[tuple]:
    table = store.history("alice", "p", run_ids, samples=None, **kw)
    cols = [table.column(c).to_pylist() for c in ("run_id", "key", "step", "timestamp", "value")]
    return list(zip(*cols, strict=True))


def _run(store: EmbeddedStore, run_id: str, *batches: pa.Table) -> None:
    store.create_run("alice", "p", {"id": run_id}, username="alice")
    for batch in batches:
        store.append_points("alice", "p", run_id, batch)


def test_one_series_logged_in_order_reads_as_the_sorted_query(store):
    _run(store, "a", _points("loss", range(0, 500)), _points("loss", range(500, 1200)))
    assert _answer(store, ["a"]) == _sorted_answer(store, ["a"])
    assert len(_answer(store, ["a"])) == 1200


def test_batches_logged_out_of_order_are_sorted(store):
    _run(store, "a", _points("loss", range(600, 1000)), _points("loss", range(0, 600)))
    got = _answer(store, ["a"])
    assert [r[2] for r in got] == list(range(1000))
    assert got == _sorted_answer(store, ["a"])


def test_keys_logged_interleaved_come_series_by_series(store):
    steps = [s for s in range(300) for _ in (0, 1)]
    keys = ["loss", "acc"] * 300
    _run(store, "a", _points("loss", [0]), _points("acc", [0]), _points(keys[2:], steps[2:]))
    got = _answer(store, ["a"])
    assert got == _sorted_answer(store, ["a"])
    assert [r[1] for r in got] == ["loss"] * 300 + ["acc"] * 300


def test_many_runs_and_keys_with_a_range_read_as_the_sorted_query(store):
    _run(store, "a", _points("x", range(100, 200)), _points("y", range(0, 100)))
    _run(store, "b", _points("y", range(50)), _points("x", range(50)))
    # Asked in another order than made: the answer is in the stored runs' order, as before.
    assert _answer(store, ["b", "a"]) == _sorted_answer(store, ["a", "b"])
    ranged = _answer(store, ["a", "b"], min_step=40, max_step=150)
    assert ranged == [r for r in _sorted_answer(store, ["a", "b"]) if 40 <= r[2] <= 150]


def test_series_order_is_checked_on_run_key_and_step():
    def in_order(t: pa.Table) -> bool:
        return _in_series_order(t, _series_labels(t))

    def table(run, key, step):
        return pa.table(
            {
                "run_pk": pa.array(run, pa.int64()),
                "key_id": pa.array(key, pa.int32()),
                "step": pa.array(step, pa.int64()),
            }
        )

    assert in_order(table([1, 1, 1], [2, 2, 2], [0, 1, 1]))  # equal steps are in order
    assert not in_order(table([1, 1, 1], [2, 2, 2], [0, 2, 1]))
    assert in_order(table([1, 1, 2, 2], [2, 3, 1, 1], [5, 0, 9, 10]))
    assert not in_order(table([1, 1, 2, 2], [3, 2, 1, 1], [0, 0, 0, 1]))
    assert not in_order(table([2, 1], [1, 1], [0, 1]))
    assert in_order(table([], [], []))
    n = 10_000
    big = table(np.repeat([1, 2], n), np.zeros(2 * n, np.int32), np.tile(np.arange(n), 2))
    assert in_order(big)
    # Run pks past 31 bits still rank as numbers.
    assert in_order(table([5, 2**40], [1, 1], [0, 0]))
    assert not in_order(table([2**40, 5], [1, 1], [0, 0]))


def _sql_sampled(store: EmbeddedStore, run_ids: list[str], samples: int) -> list[tuple]:
    """What the sampling SQL keeps of the same points, as the run and key names."""
    sql = (
        "WITH selected AS (SELECT p.*, p.step::DOUBLE AS x FROM points p JOIN runs r"
        " ON r.pk = p.run_pk WHERE list_contains(?::VARCHAR[], r.id))"
        f" SELECT r.id, m.name, s.step, s.ts, s.value FROM ({sampled_points_sql(samples)}) s"
        " JOIN runs r ON r.pk = s.run_pk JOIN metric_keys m ON m.id = s.key_id"
        " ORDER BY s.run_pk, s.key_id, s.step"
    )
    return [tuple(r) for r in store.db.reader().sql(sql, params=[run_ids]).fetchall()]


def _walk(key: str, steps: list[int], seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    table = _points(key, steps)
    return table.set_column(3, "value", pa.array(np.cumsum(rng.normal(size=len(steps)))))


@pytest.mark.parametrize("numpy_limit", [0, 10**9])
def test_a_sampled_read_of_short_series_keeps_what_the_sampling_sql_keeps(
    store, monkeypatch, numpy_limit
):
    # Up to the limit the short series are read whole and sampled in numpy, past it in SQL:
    # the same points either way, however the batches came.
    monkeypatch.setattr(_history, "_NUMPY_SAMPLING_POINTS", numpy_limit)
    _run(
        store,
        "a",
        _walk("loss", list(range(3000, 6000)), 1),
        _walk("loss", list(range(0, 3000)), 2),  # logged out of order
        _walk("acc", list(range(0, 6000, 2)), 3),
    )
    _run(store, "b", _walk("acc", list(range(40)), 4), _walk("loss", list(range(900)), 5))
    got = [
        tuple(r)
        for r in zip(
            *(
                store.history("alice", "p", ["a", "b"], samples=200).column(c).to_pylist()
                for c in ("run_id", "key", "step", "timestamp", "value")
            ),
            strict=True,
        )
    ]
    assert got == _sql_sampled(store, ["a", "b"], 200)
    assert sum(1 for r in got if r[:2] == ("b", "acc")) == 40  # fits: every point
    assert 0 < sum(1 for r in got if r[:2] == ("a", "loss")) <= 200
