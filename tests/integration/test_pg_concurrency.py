"""Keyset pages of runs stay whole while another server inserts runs: paging through a project
in any order gives every run that was there before the first page exactly once, in order, and
no run twice, however the runs made meanwhile sort among them (before the cursor, after it, or
tied with it)."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from lablens.store.common.accounts import Accounts
from lablens.store.common.projects import Projects
from lablens.store.common.run_creation import RunCreation
from lablens.store.common.runs import Runs
from lablens.store.postgres._db import Database
from lablens.store.postgres._run_query import RunQueries
from lablens.store.postgres._sql import PostgresSql

USER, PROJECT = "alice", "mnist"
SEEDED = 240
BATCH = 6
PAGE = 20
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# Few distinct values, so that many runs tie and the keyset's tie-breaker (pk) is exercised.
LOSSES = [round(0.05 * i, 2) for i in range(20)]


class Server:
    """One server's parts over its own pool of connections."""

    def __init__(self, url: str) -> None:
        self.db = Database(url, max_size=2)
        self.accounts = Accounts(PostgresSql(self.db))
        self.projects = Projects(PostgresSql(self.db), self.accounts)
        self.runs = Runs(PostgresSql(self.db), self.projects, RunQueries(self.db))
        self.run_creation = RunCreation(self.runs.sql, self.projects, self.runs)


def _runs(rng: random.Random, prefix: str, n: int) -> list[dict[str, Any]]:
    """``n`` finished runs whose names, losses and creation times fall anywhere in the range
    the seeded runs span."""
    return [
        {
            "id": f"{prefix}{i:04d}",
            "name": f"run-{rng.randrange(60):02d}",
            "state": "FINISHED",
            "created_at": T0 + dt.timedelta(minutes=rng.randrange(600)),
            "summary": {"loss": rng.choice(LOSSES)},
            "config": {"lr": rng.choice([0.1, 0.01, 0.001])},
        }
        for i in range(n)
    ]


class Writer(threading.Thread):
    """Another server inserting runs in batches until stopped; counts the batches it made."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.server = Server(url)
        self.stop = threading.Event()
        self.batches = 0
        self.made: list[str] = []
        self.error: BaseException | None = None
        self.changed = threading.Condition()
        self.rng = random.Random(11)

    def run(self) -> None:
        try:
            while not self.stop.is_set() and self.batches < 500:
                batch = _runs(self.rng, f"w{self.batches:03d}", BATCH)
                self.server.run_creation.insert_runs(USER, PROJECT, batch, username=USER)
                with self.changed:
                    self.made += [r["id"] for r in batch]
                    self.batches += 1
                    self.changed.notify_all()
        except BaseException as exc:  # reported in the test's thread
            self.error = exc
        finally:
            with self.changed:
                self.changed.notify_all()

    def wait_past(self, batches: int) -> None:
        """Until a batch after the ``batches``-th has been committed."""
        with self.changed:
            assert self.changed.wait_for(
                lambda: self.batches > batches or self.error or not self.is_alive(), timeout=60
            )


@pytest.fixture
def servers(pg_database: str) -> Iterator[tuple[Server, str]]:
    reader = Server(pg_database)
    reader.accounts.create_user(USER)
    reader.run_creation.insert_runs(
        USER, PROJECT, _runs(random.Random(5), "s", SEEDED), username=USER
    )
    yield reader, pg_database
    reader.db.close()


def _key(run: dict[str, Any], order: str) -> Any:
    field = order.lstrip("+-")
    if field == "created_at":
        return run["created_at"]
    if field == "name":
        return run["name"]
    return run["summary"]["loss"]


@pytest.mark.parametrize(
    "order",
    [
        "+created_at",
        "-created_at",
        "+name",
        "-name",
        "+summary_metrics.loss",
        "-summary_metrics.loss",
    ],
)
def test_pages_stay_whole_while_another_server_inserts(servers, order):
    reader, url = servers
    writer = Writer(url)
    writer.start()
    seen: list[dict[str, Any]] = []
    totals: list[int] = []
    try:
        cursor = None
        for _ in range(200):
            batches = writer.batches
            page = reader.runs.query_runs(USER, PROJECT, order=order, cursor=cursor, limit=PAGE)
            seen += page["items"]
            totals.append(page["total"])
            cursor = page["next"]
            if cursor is None:
                break
            # Runs land between every two pages, some sorting before the cursor, some after.
            writer.wait_past(batches)
        else:
            pytest.fail("paging did not end")
    finally:
        writer.stop.set()
        writer.join(timeout=60)
        writer.server.db.close()
    assert writer.error is None, writer.error
    assert totals[-1] > totals[0], "no run was inserted while paging"

    ids = [r["id"] for r in seen]
    assert len(ids) == len(set(ids)), "a run came twice"
    seeded = {f"s{i:04d}" for i in range(SEEDED)}
    assert seeded <= set(ids), f"runs were skipped: {sorted(seeded - set(ids))[:5]}"
    assert set(ids) <= seeded | set(writer.made)
    # In order of the order's key (ties are broken by pk, which run_out does not show).
    keys = [_key(r, order) for r in seen]
    assert keys == sorted(keys, reverse=order.startswith("-"))
    # Runs made while paging that sort after the cursor came in the later pages.
    assert set(ids) & set(writer.made)
