"""The PostgreSQL store's sweeps and reports answer as the embedded store's: the same calls on an
``EmbeddedStore`` (DuckDB on a temp dir) and on the PostgreSQL parts (a fresh database) give
equal answers; and several servers claiming from one sweep at once hand out every trial once.

The PostgreSQL parts are built as ``PostgresStore`` builds them, on its accounts, projects and
runs parts.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from lablens.store.common.accounts import Accounts
from lablens.store.common.projects import Projects
from lablens.store.common.reports import Reports
from lablens.store.common.run_creation import RunCreation
from lablens.store.common.run_updates import RunUpdates
from lablens.store.common.runs import Runs
from lablens.store.common.sweeps import Sweeps
from lablens.store.cursors import decode_cursor
from lablens.store.embedded.store import EmbeddedStore
from lablens.store.errors import StoreError
from lablens.store.postgres._db import Database
from lablens.store.postgres._run_query import RunQueries
from lablens.store.postgres._sql import PostgresSql

USER = "alice"
PROJECT = "mnist"

GRID = {
    "method": "grid",
    "name": "lr-grid",
    "description": "the grid",
    "metric": {"name": "acc", "goal": "maximize"},
    "parameters": {
        "lr": {"values": [0.001, 0.01, 0.1]},
        "epochs": {"value": 10},
        "optim": {"parameters": {"name": {"values": ["adam", "sgd"]}}},
    },
}
RANDOM = {
    "method": "random",
    "run_cap": 6,
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
        "dropout": {"min": 0.1, "max": 0.5},
        "layers": {"min": 1, "max": 8},
        "act": {"values": ["relu", "gelu"], "probabilities": [0.3, 0.7]},
    },
}


class PgParts:
    """The PostgreSQL parts under test, on one database handle."""

    def __init__(self, url: str, *, max_size: int = 4) -> None:
        self.db = Database(url, max_size=max_size)
        self.accounts = Accounts(PostgresSql(self.db))
        self.projects = Projects(PostgresSql(self.db), self.accounts)
        self.runs = Runs(PostgresSql(self.db), self.projects, RunQueries(self.db))
        self.run_creation = RunCreation(self.runs.sql, self.projects, self.runs)
        self.run_updates = RunUpdates(self.runs.sql, self.projects, self.runs)
        sql = PostgresSql(self.db)
        self.sweeps = Sweeps(sql, self.projects, self.runs, self.run_creation)
        self.reports = Reports(sql, self.projects)

    def sql(self, sql: str, params: list[Any] | None = None) -> None:
        with self.db.transaction() as conn:
            conn.execute(sql, params)


def _make_user(pg: PgParts) -> None:
    pg.accounts.create_user(USER)


@pytest.fixture
def engines(tmp_path, pg_database: str) -> Iterator[tuple[EmbeddedStore, PgParts]]:
    """The embedded store and the PostgreSQL parts, each with user ``alice`` and her project
    ``mnist``."""
    emb = EmbeddedStore(tmp_path / "data")
    emb.accounts.create_user(USER)
    emb.projects.create_project(USER, PROJECT)
    pg = PgParts(pg_database)
    _make_user(pg)
    pg.projects.create_project(USER, PROJECT, exist_ok=True)
    yield emb, pg
    pg.db.close()
    emb.close()


# -- comparing answers ------------------------------------------------------------------------
_RANDOM_KEYS = {"id", "path", "created_at", "updated_at", "heartbeat_at", "finished_at"}


def same(value: Any, ids: Mapping[str, str] | None = None) -> Any:
    """``value`` without what differs by nature between two stores (random ids, times); the
    ids in ``ids`` (one engine's -> a shared name) replaced wherever they appear."""
    ids = ids or {}
    if isinstance(value, Mapping):
        return {k: same(v, ids) for k, v in value.items() if k not in _RANDOM_KEYS}
    if isinstance(value, list):
        return [same(v, ids) for v in value]
    if isinstance(value, str) and value in ids:
        return ids[value]
    return value


def both(engines, call):
    """``call(store)`` on each engine: ``(embedded answer, PostgreSQL answer)``, or the errors
    each raised."""
    out = []
    for store in (engines[0], engines[1]):
        try:
            out.append(call(store))
        except StoreError as exc:
            out.append((type(exc).__name__, str(exc), getattr(exc, "field", None)))
    return out


def error_of(answer: Any) -> str | None:
    return answer[0] if isinstance(answer, tuple) else None


def set_seed(engines, sweep_ids: tuple[str, str], seed: int) -> None:
    """The same seed for one sweep in each engine, so that its random trials are the same."""
    emb, pg = engines
    with emb.db.write() as con:
        con.execute("UPDATE sweeps SET seed = ? WHERE id = ?", [seed, sweep_ids[0]])
    pg.sql("UPDATE sweeps SET seed = %s WHERE id = %s", [seed, sweep_ids[1]])


def finish_runs(engines, summaries: list[dict[str, Any]] | None = None) -> None:
    """Every run FINISHED in both engines through ``update_run``, the i-th made given summary
    i."""
    for store in engines:
        runs = store.runs.query_runs(USER, PROJECT, order="+created_at", limit=1000)["items"]
        for i, run in enumerate(runs):
            changes = {"state": "FINISHED", "summary": summaries[i] if summaries else {}}
            store.run_updates.update_run(USER, PROJECT, run["id"], changes)


# -- sweeps -----------------------------------------------------------------------------------
def test_a_grid_sweep_hands_out_the_same_trials_then_finishes(engines):
    made = both(engines, lambda s: s.sweeps.create_sweep(USER, PROJECT, GRID, username=USER))
    assert same(made[0]) == same(made[1])
    assert made[1]["state"] == "RUNNING" and made[1]["expected_run_count"] == 6
    assert made[1]["config"] == GRID and made[1]["name"] == "lr-grid"
    ids = (made[0]["id"], made[1]["id"])
    names = {ids[0]: "S", ids[1]: "S"}

    claims = [[], []]
    for i, store in enumerate(engines):
        while (trial := store.sweeps.claim_trial(USER, PROJECT, ids[i], username=USER)) is not None:
            claims[i].append(trial)
    assert len(claims[1]) == 6
    assert same(claims[0], names) == same(claims[1], names)
    assert [c["index"] for c in claims[1]] == list(range(6))
    assert claims[1][1]["params"] == {"lr": 0.001, "epochs": 10, "optim": {"name": "sgd"}}
    run = claims[1][5]["run"]
    assert run["name"] == "lr-grid-5" and run["sweep"] == ids[1] and run["state"] == "RUNNING"
    assert run["config"] == {"lr": 0.1, "epochs": 10, "optim": {"name": "sgd"}}

    # Every trial out, runs still running: RUNNING; the runs finished: FINISHED.
    got = both(engines, lambda s: s.sweeps.get_sweep(USER, PROJECT, ids[s is engines[1]]))
    assert same(got[0]) == same(got[1])
    assert (got[1]["state"], got[1]["claimed"], got[1]["run_count"]) == ("RUNNING", 6, 6)
    finish_runs(engines)
    got = both(engines, lambda s: s.sweeps.get_sweep(USER, PROJECT, ids[s is engines[1]]))
    assert same(got[0]) == same(got[1])
    assert got[1]["state"] == "FINISHED"

    pg = engines[1]
    trials = pg.db.all("SELECT idx, agent, params FROM sweep_trials ORDER BY idx")
    assert [t["idx"] for t in trials] == list(range(6))
    assert [t["params"] for t in trials] == [c["params"] for c in claims[1]]


def test_a_random_sweep_draws_the_same_trials_from_the_same_seed(engines):
    made = both(engines, lambda s: s.sweeps.create_sweep(USER, PROJECT, RANDOM, username=USER))
    # Unnamed, a sweep is named by its id.
    names = {made[0]["id"]: "S", made[1]["id"]: "S"}
    assert same(made[0], names) == same(made[1], names)
    assert made[1]["expected_run_count"] == 6 and made[1]["name"] == made[1]["id"]
    ids = (made[0]["id"], made[1]["id"])
    set_seed(engines, ids, 12345)
    claims = [[], []]
    for i, store in enumerate(engines):
        while (
            trial := store.sweeps.claim_trial(USER, PROJECT, ids[i], username=USER, agent="a1")
        ) is not None:
            claims[i].append(trial)
    assert len(claims[1]) == 6
    assert [c["params"] for c in claims[0]] == [c["params"] for c in claims[1]]
    assert [c["run"]["name"] for c in claims[1]] == [f"{ids[1]}-{i}" for i in range(6)]
    params = [c["params"] for c in claims[1]]
    assert all(1e-5 <= p["lr"] <= 1e-1 and 1 <= p["layers"] <= 8 for p in params)
    assert len({p["lr"] for p in params}) == 6
    agents = engines[1].db.all("SELECT DISTINCT agent FROM sweep_trials")
    assert agents == [{"agent": "a1"}]


BAYES = {
    "method": "bayes",
    "metric": {"name": "f", "goal": "minimize"},
    "parameters": {"x": {"min": -5.0, "max": 5.0}, "opt": {"values": ["a", "b"]}},
    "run_cap": 14,
    "seed": 99,
}


def test_a_bayes_sweep_suggests_the_same_trials_from_the_same_results(engines):
    """Each claim rebuilds the model from the trials stored so far; both engines read the
    same past (parameters, states, metric values) and so suggest the same trials."""
    made = both(engines, lambda s: s.sweeps.create_sweep(USER, PROJECT, BAYES, username=USER))
    ids = (made[0]["id"], made[1]["id"])
    claims: list[list[dict[str, Any]]] = [[], []]
    for i, store in enumerate(engines):
        while (trial := store.sweeps.claim_trial(USER, PROJECT, ids[i], username=USER)) is not None:
            claims[i].append(trial)
            p = trial["params"]
            value = (p["x"] - 1.0) ** 2 + (0 if p["opt"] == "a" else 3)
            state = "CRASHED" if trial["index"] == 2 else "FINISHED"
            changes = {"state": state, "summary": {"f": value}}
            store.run_updates.update_run(USER, PROJECT, trial["run"]["id"], changes)
    assert [c["params"] for c in claims[0]] == [c["params"] for c in claims[1]]
    assert [c["index"] for c in claims[1]] == list(range(14))
    # After its ten random trials, TPE goes where the results were best.
    late = [c["params"] for c in claims[1][10:]]
    assert sum(p["opt"] == "a" and abs(p["x"] - 1.0) < 2 for p in late) >= 3, late


def test_state_changes_pause_resume_and_cancel_for_good(engines):
    made = both(engines, lambda s: s.sweeps.create_sweep(USER, PROJECT, GRID, username=USER))
    ids = (made[0]["id"], made[1]["id"])

    def sid(store):
        return ids[store is engines[1]]

    def update(changes):
        return both(engines, lambda s: s.sweeps.update_sweep(USER, PROJECT, sid(s), changes))

    def claim():
        return both(engines, lambda s: s.sweeps.claim_trial(USER, PROJECT, sid(s), username=USER))

    paused = update({"state": "paused", "name": "renamed", "description": None})
    assert same(paused[0]) == same(paused[1])
    assert (paused[1]["state"], paused[1]["name"], paused[1]["description"]) == (
        "PAUSED",
        "renamed",
        None,
    )
    assert claim() == [None, None]
    resumed = update({"state": "RUNNING"})
    assert same(resumed[0]) == same(resumed[1]) and resumed[1]["state"] == "RUNNING"
    one = claim()
    assert one[0]["index"] == one[1]["index"] == 0
    canceled = update({"state": "CANCELED"})
    assert same(canceled[0]) == same(canceled[1]) and canceled[1]["state"] == "CANCELED"
    assert claim() == [None, None]

    again = update({"state": "RUNNING"})
    assert again[0][0] == again[1][0] == "Conflict"
    assert again[0][1].replace(ids[0], "S") == again[1][1].replace(ids[1], "S")
    assert again[1][1] == f"sweep {USER}/{PROJECT}/{ids[1]} is canceled for good; make a new one"
    bad = update({"state": "DONE"})
    assert bad[0] == bad[1] == ("InvalidInput", bad[0][1], "state")
    bad = update({"name": 5})
    assert bad[0] == bad[1] and bad[1][2] == "name"
    unchanged = update({})
    assert same(unchanged[0]) == same(unchanged[1]) and unchanged[1]["name"] == "renamed"


def test_bad_configs_and_missing_sweeps_are_refused_alike(engines):
    for config, field in [
        ({"method": "bayes", "parameters": {"a": {"value": 1}}}, "config.metric"),
        ({"method": "grid", "parameters": {"a": {"min": 0.1, "max": 1.0}}}, "config.parameters.a"),
        ({"method": "random", "parameters": {}}, "config.parameters"),
        ({"method": "random", "run_cap": 0, "parameters": {"a": {"value": 1}}}, "config.run_cap"),
    ]:
        got = both(
            engines,
            lambda s, config=config: s.sweeps.create_sweep(USER, PROJECT, config, username=USER),
        )
        assert got[0] == got[1]
        assert got[1][0] == "InvalidInput" and got[1][2] == field
    for call in (
        lambda s: s.sweeps.get_sweep(USER, PROJECT, "nosuch00"),
        lambda s: s.sweeps.claim_trial(USER, PROJECT, "nosuch00", username=USER),
        lambda s: s.sweeps.update_sweep(USER, PROJECT, "nosuch00", {"state": "PAUSED"}),
        lambda s: s.sweeps.get_sweep(USER, "nosuch", "nosuch00"),
        lambda s: s.sweeps.list_sweeps(USER, "nosuch"),
    ):
        got = both(engines, call)
        assert got[0] == got[1] and got[1][0] == "NotFound"
    # A sweep in a new project makes the project.
    got = both(engines, lambda s: s.sweeps.create_sweep(USER, "fresh", GRID, username=USER))
    assert same(got[0]) == same(got[1]) and got[1]["project"] == "fresh"


def test_sweeps_are_listed_newest_first_page_by_page(engines):
    made: list[list[dict]] = [[], []]
    for n in range(5):
        config = {**GRID, "name": f"sweep-{n}"}
        for i, store in enumerate(engines):
            made[i].append(store.sweeps.create_sweep(USER, PROJECT, config, username=USER))
    pages: list[list[dict]] = [[], []]
    for i, store in enumerate(engines):
        cursor = None
        while True:
            page = store.sweeps.list_sweeps(USER, PROJECT, cursor=cursor, limit=2)
            assert page["total"] == 5
            pages[i].append(page["items"])
            cursor = page["next"]
            if cursor is None:
                break
    assert [[s["name"] for s in p] for p in pages[0]] == [[s["name"] for s in p] for p in pages[1]]
    assert [s["name"] for p in pages[1] for s in p] == [f"sweep-{n}" for n in range(4, -1, -1)]
    assert [len(p) for p in pages[1]] == [2, 2, 1]
    assert same(pages[0]) == same(pages[1])


def test_the_best_run_of_a_sweep_is_the_same(engines):
    made = both(engines, lambda s: s.sweeps.create_sweep(USER, PROJECT, GRID, username=USER))
    ids = (made[0]["id"], made[1]["id"])
    for i, store in enumerate(engines):
        for _ in range(6):
            store.sweeps.claim_trial(USER, PROJECT, ids[i], username=USER)
    # Run 3 has the best acc; run 5 has none; run 4's is NaN, never the best.
    accs = [{"acc": 0.5}, {"acc": 0.7}, {"acc": 0.6}, {"acc": 0.9}, {"acc": float("nan")}]
    accs.append({"loss": 1.0})
    finish_runs(engines, accs)

    def best(store, order):
        key = order.lstrip("+-")
        filters = {"sweep": ids[store is engines[1]], key: {"$gte": -sys.float_info.max}}
        page = store.runs.query_runs(USER, PROJECT, filters=filters, order=order, limit=1)
        return (page["total"], [r["name"] for r in page["items"]])

    for order in ("-summary_metrics.acc", "+summary_metrics.acc", "-config.lr"):
        got = both(engines, lambda s, order=order: best(s, order))
        assert got[0] == got[1]
    assert both(engines, lambda s: best(s, "-summary_metrics.acc"))[1] == (4, ["lr-grid-3"])
    assert both(engines, lambda s: best(s, "+summary_metrics.acc"))[1] == (4, ["lr-grid-0"])
    got = both(engines, lambda s: s.sweeps.get_sweep(USER, PROJECT, ids[s is engines[1]]))
    assert got[1]["state"] == "FINISHED" and same(got[0]) == same(got[1])


# -- reports ----------------------------------------------------------------------------------
SPEC = {"runsets": [{"filters": {"state": "FINISHED"}}], "panels": [{"y": ["loss"]}]}


def test_reports_created_listed_updated_and_deleted_alike(engines):
    made = [[], []]
    for n, title in enumerate(["LR sweep: results!", "Second one", "!!!"]):
        for i, store in enumerate(engines):
            made[i].append(
                store.reports.create_report(
                    USER,
                    PROJECT,
                    title=title,
                    description=None if n else "about lr",
                    spec={**SPEC, "n": n},
                    username=USER,
                )
            )
    assert same(made[0]) == same(made[1])
    first = made[1][0]
    assert (first["name"], first["title"], first["description"]) == (
        "LR-sweep-results",
        "LR sweep: results!",
        "about lr",
    )
    assert first["path"] == f"{USER}/{PROJECT}/reports/LR-sweep-results-{first['id']}"
    assert made[1][2]["name"] == "report" and made[1][1]["description"] == ""
    ids = {made[0][n]["id"]: f"R{n}" for n in range(3)} | {
        made[1][n]["id"]: f"R{n}" for n in range(3)
    }

    def rid(store, n):
        return made[store is engines[1]][n]["id"]

    listed = both(engines, lambda s: s.reports.list_reports(USER, PROJECT, limit=2))
    assert same(listed[0]["items"]) == same(listed[1]["items"])
    assert [r["title"] for r in listed[1]["items"]] == ["!!!", "Second one"]
    assert listed[1]["total"] == 3 and listed[1]["next"]
    rest = both(
        engines,
        lambda s: s.reports.list_reports(
            USER, PROJECT, cursor=listed[s is engines[1]]["next"], limit=2
        ),
    )
    assert same(rest[0]) == same(rest[1])
    assert [r["title"] for r in rest[1]["items"]] == ["LR sweep: results!"]
    assert rest[1]["next"] is None
    assert decode_cursor(listed[1]["next"])

    for name in ("Second one", "LR-sweep-results", None):
        got = both(engines, lambda s, name=name: s.reports.list_reports(USER, PROJECT, name=name))
        assert same(got[0]) == same(got[1])
    by_id = both(engines, lambda s: s.reports.list_reports(USER, PROJECT, name=rid(s, 1)))
    assert same(by_id[0]) == same(by_id[1]) and by_id[1]["total"] == 1

    changed = both(
        engines,
        lambda s: s.reports.update_report(
            USER, PROJECT, rid(s, 0), {"title": "New title", "spec": {"panels": []}}
        ),
    )
    assert same(changed[0], ids) == same(changed[1], ids)
    assert (changed[1]["name"], changed[1]["description"], changed[1]["spec"]) == (
        "New-title",
        "about lr",
        {"panels": []},
    )
    for bad in ({"title": ""}, {"spec": [1]}, {"description": 3}):
        got = both(
            engines, lambda s, bad=bad: s.reports.update_report(USER, PROJECT, rid(s, 0), bad)
        )
        assert got[0] == got[1] and got[1][0] == "InvalidInput"
    got = both(
        engines,
        lambda s: s.reports.create_report(
            USER, PROJECT, title="t", description=None, spec=[], username=USER
        ),
    )
    assert got[0] == got[1] == ("InvalidInput", "spec must be an object", "spec")

    assert both(engines, lambda s: s.reports.delete_report(USER, PROJECT, rid(s, 1))) == [None] * 2
    gone = both(engines, lambda s: s.reports.get_report(USER, PROJECT, rid(s, 1)))
    assert [g[0] for g in gone] == ["NotFound", "NotFound"]
    left = both(engines, lambda s: s.reports.list_reports(USER, PROJECT))
    assert same(left[0], ids) == same(left[1], ids) and left[1]["total"] == 2
    for call in (
        lambda s: s.reports.delete_report(USER, PROJECT, "nosuch00"),
        lambda s: s.reports.update_report(USER, PROJECT, "nosuch00", {}),
        lambda s: s.reports.list_reports(USER, "nosuch"),
        lambda s: s.reports.create_report(
            USER, "nosuch", title="t", description=None, spec={}, username=USER
        ),
    ):
        got = both(engines, call)
        assert got[0] == got[1] and got[1][0] == "NotFound"


# -- several servers at once ------------------------------------------------------------------
def test_four_servers_claiming_a_bayes_sweep_at_once_hand_out_every_trial_once(pg_database):
    """As below for a bayes sweep: its suggestions are made inside the claim's lock, from the
    trials stored before, so no two servers hand out the same trial."""
    setup = PgParts(pg_database)
    _make_user(setup)
    sweep = setup.sweeps.create_sweep(USER, PROJECT, {**BAYES, "run_cap": 24}, username=USER)
    servers = [PgParts(pg_database, max_size=1) for _ in range(4)]
    start = threading.Barrier(len(servers))
    got: list[list[dict[str, Any]]] = [[] for _ in servers]
    errors: list[BaseException] = []

    def agent(n: int) -> None:
        try:
            start.wait(timeout=30)
            while (
                trial := servers[n].sweeps.claim_trial(USER, PROJECT, sweep["id"], username=USER)
            ) is not None:
                got[n].append(trial)
                summary = {"f": trial["params"]["x"] ** 2}
                servers[n].run_updates.update_run(
                    USER, PROJECT, trial["run"]["id"], {"state": "FINISHED", "summary": summary}
                )
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=agent, args=(n,)) for n in range(len(servers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    trials = [t for claims in got for t in claims]
    assert sorted(t["index"] for t in trials) == list(range(24))
    assert len({t["run"]["id"] for t in trials}) == 24
    assert all(t["run"]["config"] == t["params"] for t in trials)
    stored = setup.db.one("SELECT count(*) AS n, count(DISTINCT idx) AS idx FROM sweep_trials")
    assert (stored["n"], stored["idx"]) == (24, 24)
    assert sum(1 for claims in got if claims) >= 2, "the claims were not concurrent"


def test_four_servers_claiming_at_once_hand_out_every_trial_once(pg_database):
    """Four threads, each a server of its own (its own pool, so its own connection), claim
    from one grid sweep together until none is left."""
    setup = PgParts(pg_database)
    _make_user(setup)
    grid = {
        "method": "grid",
        "parameters": {"a": {"values": list(range(8))}, "b": {"min": 1, "max": 5}},
    }
    sweep = setup.sweeps.create_sweep(USER, PROJECT, grid, username=USER)
    assert sweep["expected_run_count"] == 40
    servers = [PgParts(pg_database, max_size=1) for _ in range(4)]
    start = threading.Barrier(len(servers))
    got: list[list[dict[str, Any]]] = [[] for _ in servers]
    errors: list[BaseException] = []

    def agent(n: int) -> None:
        try:
            start.wait(timeout=30)
            while (
                trial := servers[n].sweeps.claim_trial(
                    USER, PROJECT, sweep["id"], username=USER, agent=f"agent-{n}"
                )
            ) is not None:
                got[n].append(trial)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=agent, args=(n,)) for n in range(len(servers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    indexes = sorted(trial["index"] for claims in got for trial in claims)
    assert indexes == list(range(40))
    # Every trial went with its own parameters and its own run.
    params = {(t["params"]["a"], t["params"]["b"]) for claims in got for t in claims}
    assert params == {(a, b) for a in range(8) for b in range(1, 6)}
    assert len({t["run"]["id"] for claims in got for t in claims}) == 40
    assert sum(1 for claims in got if claims) >= 2, "the claims were not concurrent"

    final = setup.sweeps.get_sweep(USER, PROJECT, sweep["id"])
    assert (final["claimed"], final["run_count"], final["state"]) == (40, 40, "RUNNING")
    rows = setup.db.one(
        "SELECT count(*) AS n, count(DISTINCT run_pk) AS runs, count(DISTINCT agent) AS agents,"
        " min(idx) AS lo, max(idx) AS hi FROM sweep_trials"
    )
    assert (rows["n"], rows["runs"], rows["lo"], rows["hi"]) == (40, 40, 0, 39)
    assert rows["agents"] == sum(1 for claims in got if claims)
    for n, claims in enumerate(got):
        mine = setup.db.all(
            "SELECT idx FROM sweep_trials WHERE agent = %s ORDER BY idx", [f"agent-{n}"]
        )
        assert [r["idx"] for r in mine] == sorted(t["index"] for t in claims)
    assert setup.sweeps.claim_trial(USER, PROJECT, sweep["id"], username=USER) is None
    for parts in (*servers, setup):
        parts.db.close()


def test_reports_made_at_once_by_several_servers_each_get_their_row(pg_database):
    setup = PgParts(pg_database)
    _make_user(setup)
    setup.projects.create_project(USER, PROJECT, exist_ok=True)
    servers = [PgParts(pg_database, max_size=1) for _ in range(4)]
    start = threading.Barrier(len(servers))
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait(timeout=30)
            for k in range(10):
                servers[n].reports.create_report(
                    USER, PROJECT, title=f"r{n}-{k}", description=None, spec={}, username=USER
                )
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(len(servers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    listed = setup.reports.list_reports(USER, PROJECT, limit=100)
    assert listed["total"] == 40
    assert sorted(r["title"] for r in listed["items"]) == sorted(
        f"r{n}-{k}" for n in range(4) for k in range(10)
    )
    assert len({r["id"] for r in listed["items"]}) == 40
    for parts in (*servers, setup):
        parts.db.close()


def test_an_id_drawn_twice_is_drawn_again(engines, monkeypatch):
    """A new sweep, report or trial run whose random id is taken (by another server's row made
    at the same moment) draws again: the unique keys decide, and the claim keeps its trial."""
    pg = engines[1]
    sweep = pg.sweeps.create_sweep(USER, PROJECT, GRID, username=USER)
    report = pg.reports.create_report(
        USER, PROJECT, title="t", description=None, spec={}, username=USER
    )
    run = pg.sweeps.claim_trial(USER, PROJECT, sweep["id"], username=USER)["run"]
    draws = iter([sweep["id"], "fresh001"])
    for module in ("lablens.store.common.new_ids", "lablens.store.common.sweeps"):
        monkeypatch.setattr(f"{module}.new_run_id", lambda: next(draws))
    assert pg.sweeps.create_sweep(USER, PROJECT, GRID, username=USER)["id"] == "fresh001"
    draws = iter([report["id"], "fresh002"])
    made = pg.reports.create_report(
        USER, PROJECT, title="u", description=None, spec={}, username=USER
    )
    assert made["id"] == "fresh002"
    draws = iter([run["id"], "fresh003"])
    trial = pg.sweeps.claim_trial(USER, PROJECT, sweep["id"], username=USER)
    assert (trial["index"], trial["run"]["id"], trial["run"]["name"]) == (
        1,
        "fresh003",
        "lr-grid-1",
    )
    assert pg.sweeps.get_sweep(USER, PROJECT, sweep["id"])["claimed"] == 2
