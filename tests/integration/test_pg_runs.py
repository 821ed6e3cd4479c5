"""The PostgreSQL store's runs parts (``Runs``, ``RunCreation``, ``RunUpdates``, the run table)
answer as the embedded store's do: each call made on both, on a real PostgreSQL and a real
DuckDB, and the answers compared."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from lablens.store.common.accounts import Accounts
from lablens.store.common.projects import Projects
from lablens.store.common.run_creation import RunCreation
from lablens.store.common.run_updates import RunUpdates
from lablens.store.common.runs import Runs
from lablens.store.embedded import _run_table as duck_table
from lablens.store.embedded.store import EmbeddedStore
from lablens.store.errors import Conflict, InvalidFilter, NotFound
from lablens.store.postgres import _run_table as pg_table
from lablens.store.postgres._db import Database
from lablens.store.postgres._run_query import RunQueries
from lablens.store.postgres._sql import PostgresSql

WS, PROJECT = "alice", "runs"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# Times the engines set themselves (now), left out of the comparisons.
CLOCK = ("heartbeat_at", "finished_at")


class PgRuns:
    """The PostgreSQL parts this file tests, built as the store builds them."""

    def __init__(self, url: str) -> None:
        self.db = db = Database(url)
        self.accounts = Accounts(PostgresSql(db))
        self.projects = projects = Projects(PostgresSql(db), self.accounts)
        self.runs = runs = Runs(PostgresSql(db), projects, RunQueries(db))
        self.run_creation = RunCreation(runs.sql, projects, runs)
        self.run_updates = RunUpdates(runs.sql, projects, runs)

    def __getattr__(self, name: str) -> Any:
        for part in (self.runs, self.run_creation, self.run_updates, self.projects):
            if hasattr(part, name):
                return getattr(part, name)
        raise AttributeError(name)


@pytest.fixture
def both(pg_database: str, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    """(embedded store, PostgreSQL parts), each with the user ``alice``."""
    duck = EmbeddedStore(tmp_path / "data")
    pg = PgRuns(pg_database)
    duck.create_user(WS)
    pg.accounts.create_user(WS)
    yield duck, pg
    duck.close()
    pg.db.close()


def _run(i: int) -> dict[str, Any]:
    """Run ``i`` of a varied set: nested config keys, arrays, tags, strings and numbers."""
    run: dict[str, Any] = {
        "id": f"r{i:02d}",
        "name": ["alpha", "beta", "gamma", "Delta", "ésprit"][i % 5] + f"-{i}",
        "created_at": T0 + dt.timedelta(minutes=i % 17, seconds=i),
        "tags": [["baseline"], ["sweep", "gpu"], [], ["gpu"]][i % 4],
        "group": ["g1", "g2", None][i % 3],
        "config": {
            "opt": {"lr": [0.1, 0.01, 0.001, 1e-4][i % 4], "name": ["adam", "sgd"][i % 2]},
            "layers": i % 5,
            "sizes": [[64, 128], [32], []][i % 3],
            "mixed": [1, "one", 2.5, True][i % 4],
        },
    }
    if i % 6 == 0:
        del run["config"]["layers"]
    if i % 7 == 3:
        run["config"]["note"] = None
    return run


def _seed(store: Any, n: int = 30) -> None:
    for i in range(n):
        store.create_run(WS, PROJECT, _run(i), username=WS)
        summary: dict[str, Any] = {"loss": 1.0 / (i + 1), "acc": (i * 7) % 10 / 10}
        if i % 5 == 0:
            summary["loss"] = float("nan")
        if i % 4 == 1:
            summary["best"] = {"epoch": i, "tag": "b" * (i % 3)}
        store.update_run(WS, PROJECT, f"r{i:02d}", {"summary": summary})
        if i % 3 == 0:
            store.update_run(WS, PROJECT, f"r{i:02d}", {"state": "finished"})


def _same_run(a: dict[str, Any], b: dict[str, Any]) -> None:
    a, b = dict(a), dict(b)
    for key in CLOCK:
        assert (a.pop(key) is None) == (b.pop(key) is None), key
    assert a == b


def _nan_safe(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, dict):
        return {k: _nan_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_safe(v) for v in value]
    return value


def test_create_resume_and_refusals_match(both: tuple[Any, Any]) -> None:
    duck, pg = both
    data = {"id": "abc", "name": "first", "tags": ["x"], "config": {"a": {"b": 1}, "c": "d"}}
    data["created_at"] = T0
    got = [s.create_run(WS, PROJECT, data, username=WS) for s in both]
    assert got[0][1] is got[1][1] is True
    _same_run(got[0][0], got[1][0])
    assert got[1][0]["config"] == {"a": {"b": 1}, "c": "d"}
    assert got[1][0]["created_at"] == "2026-01-01T00:00:00.000Z"
    for s in both:
        s.update_run(WS, PROJECT, "abc", {"state": "CRASHED", "exit_code": 3})
        with pytest.raises(Conflict, match="already exists"):
            s.create_run(WS, PROJECT, {"id": "abc"}, username=WS)
        with pytest.raises(NotFound):
            s.create_run(WS, PROJECT, {"id": "nope", "resume": "must"}, username=WS)
    resumed = [
        s.create_run(WS, PROJECT, {"id": "abc", "resume": "allow"}, username=WS) for s in both
    ]
    assert resumed[0][1] is resumed[1][1] is False
    _same_run(resumed[0][0], resumed[1][0])
    assert resumed[1][0]["state"] == "RUNNING" and resumed[1][0]["exit_code"] is None
    assert resumed[1][0]["finished_at"] is None
    # A new id without one given: eight characters, made by either engine.
    fresh = pg.create_run(WS, PROJECT, {}, username=WS)[0]
    assert len(fresh["id"]) == 8 and fresh["state"] == "RUNNING"
    with pytest.raises(NotFound):
        pg.get_run(WS, PROJECT, "missing")
    with pytest.raises(NotFound):
        pg.get_run(WS, "no-such-project", "abc")


def test_updates_of_config_summary_and_tags_match(both: tuple[Any, Any]) -> None:
    duck, pg = both
    for s in both:
        s.create_run(WS, PROJECT, {"id": "u1", "created_at": T0}, username=WS)
    changes = [
        {"config": {"opt": {"lr": 0.5, "beta": [0.9, 0.99]}, "seed": 7}},
        {"summary": {"loss": 0.25, "big": 1.5e300, "huge": 10**30, "nested": {"a": 1}}},
        {"summary": {"loss": float("inf"), "gone": None, "nested": {"a": None, "b": "x"}}},
        {"tags": ["a", "b c", "é"], "notes": "some notes", "name": "renamed"},
        {"group": "grp", "job_type": "train", "show": False, "metadata": {"k": [1, 2]}},
        {"state": "finished", "exit_code": 0},
    ]
    for change in changes:
        runs = [s.update_run(WS, PROJECT, "u1", change) for s in both]
        _same_run(runs[0], runs[1])
    run = pg.get_run(WS, PROJECT, "u1")
    assert run["config"] == {"opt": {"lr": 0.5, "beta": [0.9, 0.99]}, "seed": 7}
    assert run["summary"] == {
        "loss": "Infinity",
        "big": 1.5e300,
        "huge": 10**30,
        "nested.b": "x",
    }
    assert isinstance(run["summary"]["big"], float)
    assert run["tags"] == ["a", "b c", "é"] and run["show"] is False
    assert run["state"] == "FINISHED" and run["finished_at"] is not None
    assert duck.project_fields(WS, PROJECT) == pg.project_fields(WS, PROJECT)
    assert pg.project_fields(WS, PROJECT)["summary"]["loss"] == "number"
    with pytest.raises(NotFound):
        pg.update_run(WS, PROJECT, "missing", {"name": "x"})


def test_field_types_widen_as_the_embedded_store_widens_them(both: tuple[Any, Any]) -> None:
    values = [1, 2.5, "text", [1], True, None, 10**20]
    for s in both:
        for i, v in enumerate(values):
            s.create_run(WS, PROJECT, {"id": f"w{i}", "config": {"k": v, f"k{i}": v}}, username=WS)
            s.update_run(WS, PROJECT, f"w{i}", {"summary": {"s": v, "i": i}})
    duck, pg = both
    fields = pg.project_fields(WS, PROJECT)
    assert fields == duck.project_fields(WS, PROJECT)
    assert fields["config"]["k"] == "json" and fields["config"]["k6"] == "number"
    assert fields["summary"]["i"] == "integer"


FILTERS: list[dict[str, Any]] = [
    {},
    {"state": "finished"},
    {"state": {"$in": ["RUNNING", "crashed"]}},
    {"tags": "gpu"},
    {"tags": {"$in": ["baseline", "sweep"]}},
    {"tags": {"$nin": ["gpu"]}},
    {"tags": []},
    {"config.opt.lr": 0.01},
    {"config.opt.lr": {"$lt": 0.01}},
    {"config.opt.lr": {"$gte": 0.001, "$lte": 0.1}},
    {"config.opt.name": {"$regex": "^ad"}},
    {"config.opt.name": {"$in": ["sgd", "rmsprop"]}},
    {"config.layers": {"$exists": True}},
    {"config.layers": {"$exists": False}},
    {"config.note": {"$exists": True}},
    {"config.note": None},
    {"config.layers": {"$gt": 2}},
    {"config.sizes": 64},
    {"config.sizes": {"$in": [32, 128]}},
    {"config.sizes": []},
    {"config.mixed": "one"},
    {"config.mixed": {"$gt": 1}},
    {"config.mixed": True},
    {"summary.loss": {"$lt": 0.2}},
    {"summary.loss": {"$exists": True}},
    {"summary.best.epoch": {"$gte": 9}},
    {"summary.best.tag": ""},
    {"name": {"$regex": "^(alpha|Delta)"}},
    {"name": {"$regex": "(?i)^delta"}},
    {"display_name": {"$regex": "ésp"}},
    {"group": None},
    {"group": {"$ne": "g1"}},
    {"$or": [{"config.opt.lr": 0.1}, {"tags": "gpu"}]},
    {"$and": [{"state": "RUNNING"}, {"config.opt.name": "adam"}]},
    {"$nor": [{"config.layers": 1}, {"summary.acc": {"$gt": 0.5}}]},
    {"config.opt.lr": {"$not": {"$gt": 0.01}}},
    {"created_at": {"$gte": "2026-01-01T00:10:00Z"}},
]


@pytest.mark.parametrize("order", [None, "-summary_metrics.loss", "config.opt.lr", "-name"])
def test_query_runs_filters_orders_and_pages_match(
    both: tuple[Any, Any], order: str | None
) -> None:
    for s in both:
        _seed(s)
    duck, pg = both
    for filters in FILTERS:
        want = duck.query_runs(WS, PROJECT, filters=filters, order=order, limit=1000)
        got = pg.query_runs(WS, PROJECT, filters=filters, order=order, limit=1000)
        assert [r["id"] for r in got["items"]] == [r["id"] for r in want["items"]], filters
        assert got["total"] == want["total"], filters
    # Keyset pages: every run once, in the order of the one-page answer.
    whole = [r["id"] for r in pg.query_runs(WS, PROJECT, order=order, limit=1000)["items"]]
    assert len(whole) == 30
    paged, cursor, pages = [], None, 0
    while True:
        page = pg.query_runs(WS, PROJECT, order=order, cursor=cursor, limit=7)
        assert page["total"] == 30
        paged += [r["id"] for r in page["items"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert paged == whole and pages == 5
    for a, b in zip(
        duck.query_runs(WS, PROJECT, order=order, limit=30)["items"],
        pg.query_runs(WS, PROJECT, order=order, limit=30)["items"],
        strict=True,
    ):
        _same_run(_nan_safe(a), _nan_safe(b))


def test_bad_filters_orders_and_cursors_are_refused(both: tuple[Any, Any]) -> None:
    _, pg = both
    _seed(pg, 3)
    with pytest.raises(InvalidFilter) as err:
        pg.query_runs(WS, PROJECT, filters={"config.lr": {"$bogus": 1}})
    assert "config.lr" in str(err.value.field)
    with pytest.raises(InvalidFilter):
        pg.query_runs(WS, PROJECT, order="tags")
    with pytest.raises(Exception, match="malformed cursor"):
        pg.query_runs(WS, PROJECT, cursor="not-a-cursor")
    with pytest.raises(InvalidFilter):
        pg.runs_table(WS, PROJECT, filters={"$where": "1"})
    with pytest.raises(Exception, match="offset"):
        pg.runs_table(WS, PROJECT, offset=-1)


def _table(store: Any, **kwargs: Any) -> tuple[pa.Table, int]:
    reader = store.runs_table(WS, PROJECT, **kwargs)
    table = reader.read_all()
    total = int(reader.schema.metadata[b"total"])
    return table.drop_columns([c for c in CLOCK if c in table.column_names]), total


TABLE_CASES: list[dict[str, Any]] = [
    {},
    {"order": "-summary_metrics.loss"},
    {"filters": {"tags": "gpu"}, "order": "config.opt.lr"},
    {"offset": 5, "limit": 10, "order": "-name"},
    {"offset": 40, "limit": 10},
    {"offset": 3},
    {"filters": {"config.opt.name": "nobody"}},
    {"columns": ["name", "config.opt.lr", "summary", "tags"]},
    {"columns": ["config"], "filters": {"config.layers": {"$exists": True}}, "limit": 4},
]


@pytest.mark.parametrize("wide", [False, True])
def test_run_table_matches(
    both: tuple[Any, Any], wide: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if wide:
        # The long form, in batches of a few runs.
        for module in (duck_table, pg_table):
            monkeypatch.setattr(module, "WIDE_KEYS", 2)
            monkeypatch.setattr(module, "BATCH_CELLS", 40)
    for s in both:
        _seed(s)
        s.create_run(WS, PROJECT, {"id": "odd", "created_at": T0}, username=WS)
        s.update_run(
            WS,
            PROJECT,
            "odd",
            {"config": {"mixed": [{"z": 1}], "opt": {"lr": "0.5"}}, "summary": {"acc": 1e20}},
        )
        s.update_run(WS, PROJECT, "odd", {"name": 'line\nbreak, "quoted"', "notes": ""})
    duck, pg = both
    for case in TABLE_CASES:
        want, want_total = _table(duck, **case)
        got, got_total = _table(pg, **case)
        assert got_total == want_total, case
        assert got.schema.remove_metadata() == want.schema.remove_metadata(), case
        assert _nan_safe(got.to_pylist()) == _nan_safe(want.to_pylist()), case
    table, total = _table(pg)
    assert total == 31 and table.num_rows == 31
    rows = {r["id"]: r for r in table.to_pylist()}
    row = rows["odd"]
    # A string among numbers makes the key a text column; the numbers are their JSON text.
    assert table.schema.field("config.opt.lr").type == pa.string()
    assert row["config.opt.lr"] == "0.5" and rows["r00"]["config.opt.lr"] == "0.1"
    assert rows["r03"]["config.opt.lr"] == "0.0001"
    assert row["config.mixed"] == '[{"z":1}]'
    assert row["summary.acc"] == 1e20
    assert row["name"] == 'line\nbreak, "quoted"' and row["notes"] == ""
    assert table.schema.field("created_at").type == pa.timestamp("us", tz="UTC")


#: Strings a text column must give back as they were: escapes in JSON, CSV's own characters,
#: text beyond ASCII, and strings that look like other JSON values.
ODD_STRINGS = [
    'say "hi"',
    "back\\slash",
    "tab\there",
    "new\nline\r\n",
    "bell\x07",
    "",
    "ünïcødé 🎉",
    "null",
    '"quoted"',
    "a,b",
    "0.5",
    "true",
    "[1, 2]",
]


@pytest.mark.parametrize("wide", [False, True])
def test_run_table_text_columns_keep_every_string(
    both: tuple[Any, Any], wide: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if wide:
        for module in (duck_table, pg_table):
            monkeypatch.setattr(module, "WIDE_KEYS", 1)
            monkeypatch.setattr(module, "BATCH_CELLS", 20)
    runs = [
        {
            "id": f"s{i:02d}",
            "created_at": T0 + dt.timedelta(seconds=i),
            "config": {"s": text, "mix": [text, i, 1.5, None, [text], False][i % 6]},
            "summary": {"n": [float("inf"), float("-inf"), 1e300, -0.0, 5e-324][i % 5]},
        }
        for i, text in enumerate(ODD_STRINGS)
    ]
    for s in both:
        s.insert_runs(WS, PROJECT, runs, username=WS)
    duck, pg = both
    want, got = _table(duck)[0], _table(pg)[0]
    assert got.schema == want.schema
    assert got.to_pylist() == want.to_pylist()
    assert got.column("config.s").to_pylist() == ODD_STRINGS
    mixed = ['say "hi"', "1", "1.5", None, '["bell\\u0007"]', "false", "ünïcødé 🎉", "7"]
    assert got.column("config.mix").to_pylist()[:8] == mixed


def test_delete_and_bulk_insert_match(both: tuple[Any, Any]) -> None:
    duck, pg = both
    runs = [
        {
            "id": f"b{i}",
            "state": ["finished", "crashed"][i % 2],
            "created_at": T0 + dt.timedelta(seconds=i),
            "config": {"x": i, "y": {"z": str(i)}},
            "summary": {"loss": i / 10, "big": 2e16},
            "tags": ["bulk"],
        }
        for i in range(25)
    ]
    assert [s.insert_runs(WS, PROJECT, runs, username=WS) for s in both] == [25, 25]
    for s in both:
        with pytest.raises(Conflict, match="1 of these run ids already exist"):
            s.insert_runs(WS, PROJECT, [{"id": "b3"}, {"id": "new"}], username=WS)
        # An id given twice in one batch is refused whole, on both engines, and the batch
        # leaves nothing behind: the same batch without the repeat goes in after it.
        with pytest.raises(Conflict, match="given twice"):
            s.insert_runs(
                WS, PROJECT, [{"id": "once"}, {"id": "twice"}, {"id": "twice"}], username=WS
            )
        assert s.insert_runs(WS, PROJECT, [{"id": "once"}, {"id": "twice"}], username=WS) == 2
        s.delete_run(WS, PROJECT, "once")
        s.delete_run(WS, PROJECT, "twice")
    for s in both:
        s.delete_run(WS, PROJECT, "b7")
        with pytest.raises(NotFound):
            s.get_run(WS, PROJECT, "b7")
        with pytest.raises(NotFound):
            s.delete_run(WS, PROJECT, "b7")
    want = duck.query_runs(WS, PROJECT, order="-summary_metrics.loss", limit=100)
    got = pg.query_runs(WS, PROJECT, order="-summary_metrics.loss", limit=100)
    assert got["total"] == want["total"] == 24
    for a, b in zip(want["items"], got["items"], strict=True):
        _same_run(a, b)
    assert got["items"][0]["summary"] == {"loss": 2.4, "big": 2e16}
    assert isinstance(got["items"][0]["summary"]["big"], float)
    assert duck.project_fields(WS, PROJECT) == pg.project_fields(WS, PROJECT)
    assert _table(pg)[0].to_pylist() == _table(duck)[0].to_pylist()


def test_servers_creating_one_run_at_once_make_it_once(pg_database: str) -> None:
    """Several servers (parts on their own pools) start the same run id together: one creates
    it, the others resume it; never a second row, never an error."""
    stores = [PgRuns(pg_database) for _ in range(4)]
    stores[0].accounts.create_user(WS)
    stores[0].projects.create_project(WS, PROJECT)
    results: list[Any] = []
    barrier = threading.Barrier(len(stores))

    def start(s: PgRuns, i: int) -> None:
        barrier.wait(timeout=30)
        try:
            run, created = s.create_run(
                WS, PROJECT, {"id": "same", "resume": "allow", "config": {f"k{i}": i}}, username=WS
            )
            s.update_run(WS, PROJECT, "same", {"summary": {f"s{i}": i}})
            results.append(created)
        except Exception as exc:  # noqa: BLE001 - the test reports it below
            results.append(exc)

    threads = [threading.Thread(target=start, args=(s, i)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert sorted(results, key=str) == [False, False, False, True]
        listed = stores[0].query_runs(WS, PROJECT)
        assert listed["total"] == 1
        # Every server's summary key survived the others' merges.
        assert stores[0].get_run(WS, PROJECT, "same")["summary"] == {f"s{i}": i for i in range(4)}
    finally:
        for s in stores:
            s.db.close()


def test_run_table_matches_through_changes_with_kept_key_columns(both: tuple[Any, Any]) -> None:
    """Each engine keeps a table's parsed key columns by run version: read, change, read again,
    and every answer still equals the other engine's."""

    def check() -> None:
        for case in TABLE_CASES:
            for _ in range(2):  # parsed, then kept
                want, want_total = _table(duck, **case)
                got, got_total = _table(pg, **case)
                assert got_total == want_total, case
                assert got.schema.remove_metadata() == want.schema.remove_metadata(), case
                assert _nan_safe(got.to_pylist()) == _nan_safe(want.to_pylist()), case

    duck, pg = both
    for s in both:
        _seed(s)
    check()
    for s in both:
        s.update_run(WS, PROJECT, "r01", {"config": {"layers": 9, "opt": {"lr": 0.7}}})
        s.update_run(WS, PROJECT, "r02", {"summary": {"loss": 0.001, "new_key": 1}})
        s.update_run(WS, PROJECT, "r03", {"summary": {"loss": "diverged"}})  # widens to text
        s.create_run(WS, PROJECT, {"id": "late", "created_at": T0}, username=WS)
        s.update_run(WS, PROJECT, "late", {"config": {"layers": 2}, "summary": {"loss": 0.3}})
        s.delete_run(WS, PROJECT, "r04")
    check()
