"""The PostgreSQL store's run queues answer as the embedded store's: the same calls on an
``EmbeddedStore`` and on the PostgreSQL parts (a fresh database) give equal answers; and many
claimers, each on its own connection pool as separate servers are, claim every item once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from lablens.store.common.accounts import Accounts
from lablens.store.common.projects import Projects
from lablens.store.common.run_creation import RunCreation
from lablens.store.common.run_queues import RunQueues
from lablens.store.common.runs import Runs
from lablens.store.embedded.store import EmbeddedStore
from lablens.store.errors import StoreError
from lablens.store.postgres._db import Database
from lablens.store.postgres._run_query import RunQueries
from lablens.store.postgres._sql import PostgresSql

USER = "alice"
JOB = {"project": "mnist", "job": "alice/mnist/train:v0", "job_id": "j0"}


class PgParts:
    """The PostgreSQL parts a run queue needs, on one database handle of their own."""

    def __init__(self, url: str, *, max_size: int = 4) -> None:
        self.db = Database(url, max_size=max_size)
        sql = PostgresSql(self.db)
        self.accounts = Accounts(sql)
        self.projects = Projects(sql, self.accounts)
        self.runs = Runs(sql, self.projects, RunQueries(self.db))
        self.run_creation = RunCreation(sql, self.projects, self.runs)
        self.run_queues = RunQueues(sql, self.accounts, self.projects, self.run_creation)


@pytest.fixture
def engines(tmp_path, pg_database: str) -> Iterator[tuple[EmbeddedStore, PgParts]]:
    """The embedded store and the PostgreSQL parts, each with user ``alice``."""
    emb = EmbeddedStore(tmp_path / "data")
    emb.accounts.create_user(USER)
    pg = PgParts(pg_database)
    pg.accounts.create_user(USER)
    yield emb, pg
    pg.db.close()
    emb.close()


_RANDOM = {"id", "run_id", "created_at", "updated_at", "claimed_at", "started_at"}
_RANDOM |= {"finished_at", "heartbeat_at"}


def same(value: Any) -> Any:
    """``value`` without what differs by nature between two stores (random ids, times)."""
    if isinstance(value, dict):
        return {k: same(v) for k, v in value.items() if k not in _RANDOM}
    if isinstance(value, (list, tuple)):
        return [same(v) for v in value]
    return value


def both(engines, call) -> list[Any]:
    """``call(queues_part)`` on each engine: the answers, or the errors each raised."""
    out = []
    for store in engines:
        try:
            out.append(call(store.run_queues))
        except StoreError as exc:
            out.append((type(exc).__name__, str(exc), getattr(exc, "field", None)))
    return out


def test_queues_and_their_items_answer_the_same_on_both_engines(engines):
    def put(data, replace=False):
        return both(engines, lambda q: q.put_run_queue(USER, data, username=USER, replace=replace))

    made = put({"name": "gpu", "type": "local-process", "config": {"a": 1}})
    assert same(made[0]) == same(made[1])
    assert made[1][1] is True and made[1][0]["default_resource_config"] == {"a": 1}
    for bad in (
        {"name": "gpu", "type": "local-process"},  # exists
        {"name": "gpu", "type": "sagemaker"},
        {"name": "a/b", "type": "local-process"},
        {"name": "x", "type": "local-process", "prioritization_mode": "V1"},
    ):
        errs = put(bad)
        assert errs[0] == errs[1] and isinstance(errs[1], tuple), bad
    upserted = put({"name": "gpu", "type": "local-process", "prioritization_mode": "V0"}, True)
    assert same(upserted[0]) == same(upserted[1]) and upserted[1][1] is False

    for priority in (3, 1, None, 1):
        enq = both(
            engines,
            lambda q, p=priority: q.enqueue_run(USER, "gpu", {**JOB, "priority": p}, username=USER),
        )
        assert same(enq[0]) == same(enq[1]) and enq[1]["state"] == "pending"
    bad_item = both(
        engines, lambda q: q.enqueue_run(USER, "gpu", {**JOB, "priority": 7}, username=USER)
    )
    assert bad_item[0] == bad_item[1] and bad_item[1][2] == "priority"

    claimed = both(engines, lambda q: q.claim_queue_item(USER, "gpu", username=USER, agent="a"))
    assert same(claimed[0]) == same(claimed[1])
    assert (claimed[1]["priority"], claimed[1]["state"], claimed[1]["agent"]) == (1, "claimed", "a")
    item_ids = [c["id"] for c in claimed]

    def on_own(call):
        return [call(store.run_queues, item_ids[i]) for i, store in enumerate(engines)]

    stolen = both(engines, lambda q: q.heartbeat_queue_item(USER, "gpu", "nope", agent="a"))
    assert stolen[0] == stolen[1] and stolen[1][0] == "NotFound"
    for store, item_id in zip(engines, item_ids, strict=True):
        with pytest.raises(StoreError, match="does not hold it"):
            store.run_queues.end_queue_item(USER, "gpu", item_id, {"state": "finished"}, agent="b")
    running = on_own(lambda q, i: q.heartbeat_queue_item(USER, "gpu", i, agent="a", running=True))
    assert same(running[0]) == same(running[1]) and running[1]["state"] == "running"
    ended = on_own(
        lambda q, i: q.end_queue_item(
            USER, "gpu", i, {"state": "failed", "exit_code": 2}, agent="a"
        )
    )
    assert same(ended[0]) == same(ended[1])
    assert (ended[1]["state"], ended[1]["exit_code"]) == ("failed", 2)
    for store, item in zip(engines, ended, strict=True):
        assert store.runs.get_run(USER, "mnist", item["run_id"])["state"] == "CRASHED"

    order = both(
        engines,
        lambda q: [
            q.claim_queue_item(USER, "gpu", username=USER, agent="a")["priority"] for _ in range(3)
        ],
    )
    assert order == [[1, 2, 3], [1, 2, 3]]
    assert both(engines, lambda q: q.claim_queue_item(USER, "gpu", username=USER, agent="a")) == [
        None,
        None,
    ]
    pages = both(engines, lambda q: q.list_queue_items(USER, "gpu", state="claimed", limit=2))
    assert same(pages[0]["items"]) == same(pages[1]["items"]) and pages[1]["total"] == 3


def test_claimers_on_separate_pools_take_every_item_once(engines, pg_database):
    pg = engines[1]
    pg.run_queues.put_run_queue(
        USER, {"name": "many", "type": "local-process"}, username=USER, replace=False
    )
    made = {
        pg.run_queues.enqueue_run(USER, "many", {**JOB, "config": {"i": i}}, username=USER)["id"]
        for i in range(60)
    }
    claimers = [PgParts(pg_database, max_size=2) for _ in range(6)]
    got: list[list[dict[str, Any]]] = [[] for _ in claimers]
    start = threading.Barrier(len(claimers))

    def claim(n: int) -> None:
        start.wait()
        while (
            item := claimers[n].run_queues.claim_queue_item(
                USER, "many", username=USER, agent=f"a{n}"
            )
        ) is not None:
            got[n].append(item)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(len(claimers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for parts in claimers:
        parts.db.close()
    claimed = [item for mine in got for item in mine]
    assert sorted(item["id"] for item in claimed) == sorted(made)
    assert len({item["run_id"] for item in claimed}) == 60
    assert all(item["agent"] == f"a{n}" for n, mine in enumerate(got) for item in mine)
    runs = pg.db.all("SELECT count(*) AS n FROM runs WHERE job_type = 'queued'")
    assert runs[0]["n"] == 60
