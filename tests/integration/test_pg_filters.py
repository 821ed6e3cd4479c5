"""The PostgreSQL store's filter and order SQL pick the same runs, in the same order, as the
embedded engine's: the same runs loaded into a real PostgreSQL (the store's schema) and into
DuckDB (the embedded schema), every filter run on both."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from typing import Any

import duckdb
import psycopg
import pytest

import pg
from lablens.store.embedded._filter_sql import compile_filters as duck_compile
from lablens.store.embedded._order_sql import order_by_sql as duck_order_by
from lablens.store.embedded._order_sql import parse_order as duck_parse_order
from lablens.store.embedded.schema import MIGRATIONS as DUCK_MIGRATIONS
from lablens.store.errors import InvalidFilter
from lablens.store.postgres._db import Database
from lablens.store.postgres._filter_sql import compile_filters as pg_compile
from lablens.store.postgres._ordering import (
    keyset_condition,
    order_by_sql,
    parse_order,
    sql_literal,
)
from lablens.store.postgres._regex import pg_regex
from unit.test_filters import RUNS
from unit.test_ordering import make_runs

FILTER_PROJECT, ORDER_PROJECT = 1, 3
ORDER_RUNS = make_runs(90, seed=7)
COLUMNS = ["id", "name", "state", "tags", "group_name", "job_type", "notes", "username", "host"]
COLUMNS += ["sweep", "created_at", "finished_at", "heartbeat_at", "config_flat", "summary"]


def _rows() -> list[tuple[int, dict[str, Any]]]:
    """(project, run) in insertion order, so both engines give every run the same pk."""
    other = {"id": "x9", "name": "alpha", "state": "FINISHED", "created_at": RUNS[0]["created_at"]}
    rows = [(2, other)] + [(FILTER_PROJECT, r) for r in RUNS]
    for run in ORDER_RUNS:
        run = dict(run)
        for col in ("config_flat", "summary"):
            run[col] = None if run[col] is None else json.loads(run[col])
        rows.append((ORDER_PROJECT, run))
    return rows


def _values(run: dict[str, Any]) -> list[Any]:
    out = []
    for col in COLUMNS:
        value = run.get(col)
        if col in ("config_flat", "summary"):
            value = None if value is None else json.dumps(value)
        if col == "tags" and value is None:
            value = []
        out.append(value)
    return out


@pytest.fixture(scope="module")
def pgc(postgres_url: str) -> Iterator[psycopg.Connection]:
    """A connection to a database of the PostgreSQL store's schema, holding the runs."""
    cluster = pg.cluster_of(postgres_url)
    url = pg.create_database(cluster)
    Database(url).close()
    conn = psycopg.connect(url, autocommit=True)
    holders = ", ".join("%s::jsonb" if c in ("config_flat", "summary") else "%s" for c in COLUMNS)
    for project, run in _rows():
        conn.execute(
            f"INSERT INTO runs (project_id, {', '.join(COLUMNS)}) VALUES (%s, {holders})",
            [project, *_values(run)],
        )
    yield conn
    conn.close()
    pg.drop_database(cluster, url)


@pytest.fixture(scope="module")
def duck() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB of the embedded schema, holding the same runs."""
    con = duckdb.connect()
    con.execute(DUCK_MIGRATIONS[0])
    holders = ", ".join("?" for _ in COLUMNS)
    for project, run in _rows():
        con.execute(
            f"INSERT INTO runs (project_id, {', '.join(COLUMNS)}) VALUES (?, {holders})",
            [project, *_values(run)],
        )
    return con


def pg_ids(conn: psycopg.Connection, filters: Any, project: int = FILTER_PROJECT) -> set[str]:
    where, params = pg_compile(filters, alias="r")
    rows = conn.execute(
        f"SELECT r.id FROM runs r WHERE r.project_id = %s AND ({where})", [project, *params]
    ).fetchall()
    return {r[0] for r in rows}


def duck_ids(con: duckdb.DuckDBPyConnection, filters: Any, project: int = FILTER_PROJECT) -> set:
    where, params = duck_compile(filters, alias="r")
    rows = con.execute(
        f"SELECT r.id FROM runs r WHERE r.project_id = ? AND ({where})", [project, *params]
    ).fetchall()
    return {r[0] for r in rows}


def t(day: int, hour: int = 0) -> str:
    return f"2025-01-{day:02d}T{hour:02d}:00:00Z"


# Filters from tests/unit/test_filters.py and tests/integration/test_filters_server.py, which
# hold what each means; here the PostgreSQL engine must agree with the embedded one on each.
CASES: list[dict[str, Any]] = [
    {},
    {"name": "alpha"},
    {"state": "FINISHED", "username": "alice"},
    {"config.lr": {"$gt": 0.01, "$lte": 1}},
    {"name": "x'); DROP TABLE runs; --", "config.o'k%s": "%(x)s"},
    {"$and": [{"tags": "baseline"}, {"group": "g2"}]},
    {"$or": [{"state": "crashed"}, {"config.lr": {"$lt": 0.05}}]},
    {"$nor": [{"state": "crashed"}, {"tags": "cnn"}]},
    {"$not": {"state": "running"}},
    {"$not": {"state": "finished", "username": "alice"}},
    {"config.lr": {"$not": {"$gt": 0.05}}},
    {
        "$or": [
            {"$and": [{"state": "finished"}, {"tags": "cnn"}]},
            {"$nor": [{"username": {"$in": ["alice", "carol", "dave"]}}]},
        ]
    },  # fmt: skip
    {"host": "box2", "$or": [{"state": "running"}, {"sweep": None}]},
    {"state": "Finished"},
    {"state": {"$in": ["running", "CRASHED"]}},
    {"state": {"$nin": ["finished", "aborted"]}},
    {"state": {"$ne": "finished"}},
    {"state": {"$regex": "^(run|crash)"}},
    {"state": {"$lt": "d"}},
    {"display_name": "beta"},
    {"run_id": "r3"},
    {"group": "g2"},
    {"jobType": "eval"},
    {"description": "diverged"},
    {"entity": "alice"},
    {"sweep": "sw1"},
    {"name": None},
    {"notes": None},
    {"notes": ""},
    {"name": {"$ne": "alpha"}},
    {"name": {"$ne": None}},
    {"name": {"$gt": "beta"}},
    {"name": {"$gte": "beta", "$lt": "delta"}},
    {"name": {"$lte": "alpha"}},
    {"name": {"$in": ["alpha", "gamma", "zeta"]}},
    {"name": {"$in": ["alpha", None]}},
    {"name": {"$in": []}},
    {"name": {"$nin": ["alpha", "beta"]}},
    {"name": {"$nin": ["alpha", None]}},
    {"name": {"$nin": []}},
    {"name": {"$regex": "lt"}},
    {"name": {"$regex": "^[ab]"}},
    {"display_name": {"$regex": r"a$"}},
    {"name": {"$regex": "ALPHA"}},
    {"name": {"$regex": "ALPHA", "$options": "i"}},
    {"host": {"$regex": r"^box\d$"}},
    {"host": {"$regex": r"(?P<n>[13])$"}},
    {"group": {"$exists": True}},
    {"group": {"$exists": False}},
    {"sweep": {"$exists": False}},
    {"created_at": {"$gt": "2025-01-03T00:00:00Z"}},
    {"created_at": {"$gt": "2025-01-03T01:00:00+01:00"}},
    {"created_at": {"$gte": "2025-01-03T01:00:00+01:00"}},
    {"created_at": "2025-01-02T00:00:00.000Z"},
    {"createdAt": {"$lt": "2025-01-03"}},
    {"finished_at": {"$gte": t(1, 2), "$lte": t(4, 3), "$ne": t(3, 1)}},
    {"heartbeatAt": {"$gte": t(1, 2), "$lte": t(4, 3), "$ne": t(3, 1)}},
    {"finished_at": None},
    {"heartbeat_at": {"$exists": False}},
    {"finished_at": {"$in": [None, "2025-01-05T01:00:00Z"]}},
    {"finished_at": {"$ne": t(1, 2)}},
    {"heartbeat_at": {"$nin": [t(1, 2)]}},
    {"tags": "baseline"},
    {"labels": "cnn"},
    {"tags": {"$in": ["rnn", "cnn"]}},
    {"tags": {"$in": []}},
    {"tags": {"$nin": ["rnn", "cnn"]}},
    {"tags": {"$ne": "baseline"}},
    {"tags": {"$regex": "^.nn$"}},
    {"tags": {"$not": {"$regex": "nn"}}},
    {"tags": {"$gt": "c"}},
    {"tags": {"$exists": True}},
    {"tags": {"$exists": False}},
    {"tags": ["baseline", "cnn"]},
    {"tags": ["cnn", "baseline"]},
    {"tags": []},
    {"tags": None},
    {"tags": {"$ne": None}},
    {"config.lr": {"$lt": 0.5}},
    {"config.lr": 1},
    {"config.data.bs": {"$gte": 64}},
    {"config.data.bs": 64},
    {"config.data.bs": {"$gt": 10}},
    {"config.lr": {"$lt": 0.005}},
    {"config.data.bs": "64"},
    {"config.data.bs": "64.0"},
    {"config.lr": "0.01"},
    {"config.lr": "1e-3"},
    {"config.lr": "0.001"},
    {"config.data.bs": {"$in": ["32", "128"]}},
    {"config.data.bs": {"$nin": ["64"]}},
    {"config.data.bs": {"$ne": "64"}},
    {"config.lr": {"$ne": 0.01}},
    {"config.dropout": {"$nin": [0.3]}},
    {"config.lr": {"$in": [0.1, 1, 7]}},
    {"config.lr": {"$in": []}},
    {"summary.loss": math.nan},
    {"summary.grad": float("nan")},
    {"summary.loss": "NaN"},
    {"summary.loss": {"$in": ["NaN", 2]}},
    {"summary.grad": {"$gt": 1e308}},
    {"summary.grad": {"$lt": -1e308}},
    {"summary.grad": math.inf},
    {"summary.grad": "-Infinity"},
    {"summary.grad": "-inf"},
    {"summary.loss": {"$gt": 0}},
    {"summary.loss": {"$lt": 100}},
    {"summary.grad": {"$gt": -math.inf}},
    {"summary.grad": {"$lte": "Infinity"}},
    {"summary.grad": {"$lte": "-Infinity"}},
    {"summary.loss": {"$gte": "NaN"}},
    {"summary.loss": {"$gte": math.nan}},
    {"summary.loss": {"$lte": math.nan}},
    {"summary.loss": {"$gt": math.nan}},
    {"summary.loss": {"$lt": math.nan}},
    {"summary.grad": {"$regex": "Inf"}},
    {"summary.grad": {"$gt": "A"}},
    {"config.optimizer": "adam"},
    {"config.optimizer": {"$gt": "b"}},
    {"config.optimizer": {"$lt": "b"}},
    {"config.lr": {"$gt": ""}},
    {"config.optimizer": {"$regex": "^[aA]"}},
    {"config.optimizer": {"$regex": "^a", "$options": "i"}},
    {"config.lr": {"$regex": "1"}},
    {"config.use_bn": True},
    {"config.use_bn": False},
    {"config.use_bn": 1},
    {"config.use_bn": {"$ne": True}},
    {"config.seed": None},
    {"summary.val.acc": None},
    {"config.seed": {"$ne": None}},
    {"config.seed": {"$exists": True}},
    {"config.seed": {"$exists": False}},
    {"summary.loss": {"$exists": True}},
    {"config.layers": {"$exists": False}},
    {"config.layers": {"$exists": True}},
    {"config.nothing": {"$exists": False}},
    {"config.layers": 64},
    {"config.layers": 32},
    {"config.layers": "64"},
    {"config.layers": {"$in": [32, 128]}},
    {"config.layers": {"$nin": [32, 128]}},
    {"config.layers": {"$ne": 64}},
    {"config.layers": {"$gt": 100}},
    {"config.layers": {"$lt": 50}},
    {"config.mixed": "a"},
    {"config.mixed": 1},
    {"config.mixed": True},
    {"config.mixed": None},
    {"config.layers": [64, 32]},
    {"config.layers": [32, 64]},
    {"config.layers": [64]},
    {"config.layers": []},
    {"config.layers": {"$eq": ["64", "32.0"]}},
    {"config.layers": {"$gt": -1e9}},
    {"config.data.bs": 32},
    {"summary.val.acc": {"$gt": 0.85}},
    {"summary.train/loss": 0.2},
    {'config.we"ird\\key': 1},
    {"summary_metrics.loss": {"$lt": 1}},
    {"config.lr": None},
    {"config.lr.value": 0.1},
    {"config.optimizer.value": {"$in": ["sgd", "Adam"]}},
    {"config.dropout.value": 0.3},
    {"config.dropout.value": 0.1},
    {"config.dropout.value": 0.5},
    {"config.data.value.aug": "flip"},
    {"config.dropout.value": {"$exists": True}},
    {"config.dropout.value": {"$ne": None}},
]


@pytest.mark.parametrize("filters", CASES, ids=[json.dumps(c)[:80] for c in CASES])
def test_the_same_runs_as_the_embedded_engine(pgc, duck, filters):
    expected = duck_ids(duck, filters)
    assert pg_ids(pgc, filters) == expected


def test_the_cases_are_not_trivial(duck):
    """Most cases pick some runs and leave others, so agreeing on them says something."""
    sizes = [len(duck_ids(duck, f)) for f in CASES]
    assert sum(0 < n < len(RUNS) for n in sizes) > len(CASES) * 0.6


def test_no_filter_compiles_to_true():
    assert pg_compile(None) == ("TRUE", [])
    assert pg_compile({}) == ("TRUE", [])


def test_values_and_keys_travel_as_parameters():
    sneaky = "x'); DROP TABLE runs; --"
    where, params = pg_compile({"name": sneaky, "config.o'k%": sneaky, "summary.a%sb": 1})
    assert sneaky not in where and "o'k" not in where and "a%sb" not in where
    assert where.count("%s") == len(params)
    assert where.replace("%s", "").count("%") == 0
    assert {sneaky, "o'k%", "a%sb"} <= set(params)


def test_other_projects_runs_never_match(pgc):
    assert "x9" not in pg_ids(pgc, {"name": "alpha"})
    assert pg_ids(pgc, {"name": "alpha"}, project=2) == {"x9"}


def test_bad_filters_are_refused_as_the_embedded_engine_refuses_them():
    for filters in ({"foo": 1}, {"$or": []}, {"config.lr": {"$in": 3}}, {"name": {"$regex": "("}}):
        with pytest.raises(InvalidFilter) as pg_info:
            pg_compile(filters)
        with pytest.raises(InvalidFilter) as duck_info:
            duck_compile(filters)
        assert pg_info.value.field == duck_info.value.field


# --- random filters ------------------------------------------------------------------------------

POOLS: dict[str, list[Any]] = {
    "state": ["finished", "RUNNING", "Crashed", "aborted", "x"],
    "name": ["alpha", "beta", "gamma", "delta", "zeta", "", None],
    "tags": ["baseline", "cnn", "rnn", "x"],
    "group": ["g1", "g2", None],
    "job_type": ["train", "eval", None],
    "username": ["alice", "bob", "carol"],
    "host": ["box1", "box2", "box3"],
    "notes": ["first try", "diverged", "", None],
    "created_at": [t(1), t(2, 1), t(3), t(5)],
    "finished_at": [t(1, 2), t(3, 1), t(4), None],
    "config.lr": [0.01, 0.1, 1, "0.001", "0.01", "x", None, True, math.nan, -math.inf],
    "config.data.bs": [64, 64.0, "64", 32, None, "abc"],
    "config.layers": [64, 32, 128, "64", None],
    "config.optimizer": ["adam", "Adam", "sgd", "b", None],
    "config.use_bn": [True, False, 1, None],
    "config.mixed": [1, "a", None, True],
    "config.seed": [1, None, 0],
    "summary.loss": [0.12, 0.5, math.nan, "NaN", 2.0, None, math.inf, "0.5"],
    "summary.grad": [math.nan, math.inf, -math.inf, "Infinity", None, 0],
    "summary.val.acc": [0.91, 0.8, None, 1],
    "config.lr.value": [0.1, 0.01, None],
    "config.dropout.value": [0.1, 0.3, 0.5, None],
}
PATTERNS = ["^a", "a$", "n", "^b.*a$", "(?i)A", "[0-9]", r"\d", "^$", "x|y", "e{1,2}"]


def _leaf(rng: random.Random) -> dict[str, Any]:
    field = rng.choice(list(POOLS))
    pool = POOLS[field]
    op = rng.choice(["plain", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists",
                     "$regex", "$not"])  # fmt: skip
    if op == "plain":
        return {field: rng.choice(pool)}
    if op in ("$in", "$nin"):
        return {field: {op: rng.sample(pool, rng.randint(0, min(3, len(pool))))}}
    if op == "$exists":
        return {field: {op: rng.random() < 0.5}}
    if op == "$regex":
        if field.endswith("_at"):
            return {field: {"$exists": True}}
        return {field: {op: rng.choice(PATTERNS)}}
    values = [v for v in pool if v is not None and not isinstance(v, bool)]
    if op == "$not":
        if rng.random() < 0.5:
            return {field: {"$not": {"$in": [rng.choice(pool)]}}}
        return {field: {"$not": {rng.choice(["$gt", "$lte"]): rng.choice(values)}}}
    return {field: {op: rng.choice(values)}}


def _random_filter(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    roll = rng.random()
    if depth >= 2 or roll < 0.5:
        return _leaf(rng)
    if roll < 0.85:
        op = rng.choice(["$and", "$or", "$nor"])
        return {op: [_random_filter(rng, depth + 1) for _ in range(rng.randint(1, 3))]}
    return {"$not": _random_filter(rng, depth + 1)}


def test_random_filters_pick_the_same_runs(pgc, duck):
    rng = random.Random(20261203)
    compared = refused = 0
    for _ in range(600):
        filters = _random_filter(rng)
        try:
            expected = duck_ids(duck, filters)
        except InvalidFilter as exc:
            with pytest.raises(InvalidFilter) as info:
                pg_compile(filters)
            assert info.value.field == exc.field, filters
            refused += 1
            continue
        assert pg_ids(pgc, filters) == expected, filters
        compared += 1
    assert compared > 500, (compared, refused)


def test_random_filters_on_runs_with_ties_and_nulls(pgc, duck):
    rng = random.Random(11)
    pool = {
        "config.lr": [2, 10, 2.5, -1, 0, "64", "abc", "", "NaN", "Infinity", True, None, 64],
        "summary.val.acc": [0.5, 0.9, "NaN", 1, None],
        "name": ["a", "b", "c", None],
        "config.opt": ["adam", "sgd"],
    }
    for _ in range(200):
        field = rng.choice(list(pool))
        op = rng.choice(["$eq", "$ne", "$gt", "$lte", "$in", "$exists"])
        value: Any = rng.choice(pool[field])
        if op == "$in":
            value = rng.sample(pool[field], 2)
        elif op == "$exists":
            value = rng.random() < 0.5
        elif op in ("$gt", "$lte") and (value is None or isinstance(value, bool)):
            value = 1
        if field == "name" and op not in ("$in", "$exists") and value is not None:
            value = str(value)
        filters = {field: {op: value}}
        assert pg_ids(pgc, filters, ORDER_PROJECT) == duck_ids(duck, filters, ORDER_PROJECT), (
            filters
        )


# --- orders and keyset pages ---------------------------------------------------------------------

ORDERS = [
    None, "+created_at", "-created_at", "name", "-name", "state", "-state", "+id", "-id",
    "heartbeat_at", "-heartbeatAt", "+config.lr", "-config.lr", "config.opt", "-config.opt",
    "+summary.val.acc", "-summary_metrics.val.acc", "config.missing", "-config.lr.value",
]  # fmt: skip


def pg_order(conn: psycopg.Connection, order: str | None) -> list[str]:
    terms = parse_order(order, alias="r")
    rows = conn.execute(
        f"SELECT r.id FROM runs r WHERE r.project_id = %s ORDER BY {order_by_sql(terms)}",
        [ORDER_PROJECT],
    ).fetchall()
    return [r[0] for r in rows]


def duck_order(con: duckdb.DuckDBPyConnection, order: str | None) -> list[str]:
    terms = duck_parse_order(order, alias="r")
    rows = con.execute(
        f"SELECT r.id FROM runs r WHERE r.project_id = ? ORDER BY {duck_order_by(terms)}",
        [ORDER_PROJECT],
    ).fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize("order", ORDERS)
def test_the_same_order_as_the_embedded_engine(pgc, duck, order):
    assert pg_order(pgc, order) == duck_order(duck, order)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("page", [1, 7])
def test_keyset_pages_walk_the_whole_order_once(pgc, order, page):
    terms = parse_order(order, alias="r")
    select = ", ".join(f"{t.sql} AS _o{i}" for i, t in enumerate(terms))
    seen: list[str] = []
    last: list[Any] | None = None
    for _ in range(len(ORDER_RUNS) + 2):
        where, params = "TRUE", []
        if last is not None:
            where, params = keyset_condition(terms, last)
        rows = pgc.execute(
            f"SELECT r.id, {select} FROM runs r WHERE r.project_id = %s AND ({where})"
            f" ORDER BY {order_by_sql(terms)} LIMIT %s",
            [ORDER_PROJECT, *params, page],
        ).fetchall()
        if not rows:
            break
        seen += [r[0] for r in rows]
        last = list(rows[-1][1:])
    assert seen == pg_order(pgc, order)


def test_a_cursor_that_does_not_fit_the_order_is_refused():
    from lablens.store.errors import InvalidInput

    terms = parse_order("-created_at")
    for values in ([1], ["2025", 3], [None, 3], [None, None]):
        with pytest.raises(InvalidInput) as info:
            keyset_condition(terms, values)
        assert info.value.field == "cursor"


def test_order_keys_are_constants_without_quotes_or_percent_signs(pgc):
    key = "we'ird%s \\ key ☺ 😀"
    literal = sql_literal(key)
    assert "'" not in literal[3:-1] and "%" not in literal
    assert pgc.execute(f"SELECT {literal}").fetchone()[0] == key
    terms = parse_order(f"-config.{key}")
    assert "%" not in order_by_sql(terms)


def test_the_default_order_pages_through_the_created_at_index(pgc):
    terms = parse_order(None)
    where, params = keyset_condition(terms, [ORDER_RUNS[0]["created_at"], 1])
    plan = pgc.execute(
        "EXPLAIN (COSTS OFF) SELECT r.id FROM runs r WHERE r.project_id = %s AND"
        f" ({where}) ORDER BY {order_by_sql(terms)} LIMIT 10",
        [ORDER_PROJECT, *params],
    ).fetchall()
    pgc.execute("SET enable_seqscan = off")
    try:
        plan = pgc.execute(
            "EXPLAIN (COSTS OFF) SELECT r.id FROM runs r WHERE r.project_id = %s AND"
            f" ({where}) ORDER BY {order_by_sql(terms)} LIMIT 10",
            [ORDER_PROJECT, *params],
        ).fetchall()
    finally:
        pgc.execute("RESET enable_seqscan")
    text = "\n".join(r[0] for r in plan)
    assert "runs_by_created" in text and "Sort" not in text, text


# --- regular expressions -------------------------------------------------------------------------

TEXTS = [
    "alpha", "Alpha\nbeta", "a.b", "axb", "x{y}", "über", "ÜBER", "foo bar", "foo_bar",
    "tab\there", "", "a]b", "end\n", "line1\nline2", "☺ smile", "A", "aaa", "foobar", "b-a",
    "a\\b", "ab12", "x[y",
]  # fmt: skip
REGEXES = [
    "^a", "a$", "(?i)^alpha", "(?m)^beta", "(?s)1.l", "1.l", "a.b", r"\bbar", r"\Bbar", r"o\b",
    r"\Qa.b\E", r"\x41", r"\x{263a}", "(?P<n>a)b?", "[]a]", "[^a]", r"x\{y\}",
    "x{y}", "a{2}", "a{2,}", r"\d", r"\w+ \w+", r"\s", "[[:upper:]]", "(?i)über", "ü", ".",
    "^.$", "end$", r"end\z", "(?:ab|al)", "a*?b", "^$", "[a-c]", r"\.", r"\t", r"\n",
    "(?is)LINE1.line2", "(?m)1$", r"[\d]", r"a\\b", r"[\]]", r"x\[", "(?im)^BETA$", "^",
]  # fmt: skip


@pytest.mark.parametrize("pattern", REGEXES)
def test_regex_matches_the_same_texts_as_re2(pgc, duck, pattern):
    expected = {
        r[0]
        for r in duck.execute(
            "SELECT s FROM unnest(?::VARCHAR[]) t(s) WHERE regexp_matches(s, ?)", [TEXTS, pattern]
        ).fetchall()
    }
    translated = pg_regex(pattern, field="name")
    got = {
        r[0]
        for r in pgc.execute(
            'SELECT s FROM unnest(%s::text[]) s WHERE s COLLATE "default" ~ %s',
            [TEXTS, translated],
        ).fetchall()
    }
    assert got == expected, translated


@pytest.mark.parametrize(
    ("pattern", "what"),
    [(r"\pL", "Unicode classes"), ("a(?i)b", "mid-pattern"), ("a{300}", "above 255"),
     ("(?U)a+", "ungreedy")],
)  # fmt: skip
def test_regex_postgresql_cannot_match_is_refused_naming_the_field(pattern, what):
    with pytest.raises(InvalidFilter) as info:
        pg_compile({"name": {"$regex": pattern}})
    assert info.value.field == "filters.name.$regex"
    assert what in info.value.message
