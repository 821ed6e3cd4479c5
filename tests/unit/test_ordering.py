"""Sort orders and keyset cursors, run against a real DuckDB with the store's schema."""

from __future__ import annotations

import base64
import itertools
import json
import math
import random
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import duckdb
import pytest

from lablens.store.cursors import decode_cursor, encode_cursor
from lablens.store.embedded._order_sql import OrderTerm, keyset_condition, order_by_sql, parse_order
from lablens.store.embedded.schema import MIGRATIONS
from lablens.store.errors import InvalidFilter, InvalidInput

T0 = datetime(2025, 3, 1, tzinfo=UTC)

# Values a config key takes across runs: numbers of both JSON kinds, numeric and plain strings,
# the strings stored for non-finite floats, bools, nulls and (below) a missing key.
MIXED: list[Any] = [
    2, 10, 2.5, -1, 0, 10.0, "64", "abc", "Abc", "", "NaN", "Infinity", "-Infinity", True,
    None, 2, "abc",
]  # fmt: skip


def make_runs(n: int, seed: int, prefix: str = "r") -> list[dict[str, Any]]:
    """Runs with plenty of ties and NULLs in every sortable field."""
    rng = random.Random(seed)
    runs = []
    for i in range(n):
        config: dict[str, Any] = {"opt": rng.choice(["adam", "sgd"])}
        if rng.random() < 0.85:
            config["lr"] = rng.choice(MIXED)
        summary: dict[str, Any] = {}
        if rng.random() < 0.8:
            summary["val.acc"] = rng.choice([0.5, 0.9, 0.9, "NaN", 1, None])
        runs.append(
            {
                "id": f"{prefix}{i:03d}",
                "name": rng.choice(["a", "b", "b", "c", None]),
                "state": rng.choice(["RUNNING", "FINISHED", "CRASHED"]),
                # Few distinct times, so created_at ties often; pk breaks the ties.
                "created_at": T0 + timedelta(seconds=rng.choice([0, 0, 1, 2, 3])),
                "heartbeat_at": rng.choice([None, T0, T0 + timedelta(microseconds=1)]),
                "config_flat": json.dumps(config),
                "summary": json.dumps(summary) if summary else None,
            }
        )
    return runs


def insert(con: duckdb.DuckDBPyConnection, runs: list[dict[str, Any]]) -> None:
    for run in runs:
        cols = ", ".join(run)
        holders = ", ".join("?" for _ in run)
        con.execute(
            f"INSERT INTO runs (project_id, {cols}) VALUES (1, {holders})", list(run.values())
        )


@pytest.fixture
def db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(MIGRATIONS[0])
    insert(con, make_runs(40, seed=1))
    return con


def full_order(con: duckdb.DuckDBPyConnection, order: str | None) -> list[str]:
    terms = parse_order(order)
    sql = f"SELECT r.id FROM runs r ORDER BY {order_by_sql(terms)}"
    return [row[0] for row in con.execute(sql).fetchall()]


def page(
    con: duckdb.DuckDBPyConnection, order: str | None, cursor: str | None, limit: int
) -> tuple[list[str], str | None]:
    """One page the way the store serves it: filter by cursor, select the order values."""
    terms = parse_order(order)
    where, params = "TRUE", []
    if cursor is not None:
        where, params = keyset_condition(terms, decode_cursor(cursor))
    values = ", ".join(f"{t.sql} AS _o{i}" for i, t in enumerate(terms))
    rows = con.execute(
        f"SELECT r.id, {values} FROM runs r WHERE {where}"
        f" ORDER BY {order_by_sql(terms)} LIMIT {limit + 1}",
        params,
    ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(list(rows[-1][1:])) if more else None
    return [row[0] for row in rows], cursor


MAX_PAGES = 500  # a broken keyset condition could page forever


def all_pages(con: duckdb.DuckDBPyConnection, order: str | None, limit: int = 3) -> list[str]:
    seen, cursor = [], None
    for _ in range(MAX_PAGES):
        ids, cursor = page(con, order, cursor, limit)
        seen += ids
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


ORDERS = [
    None,
    "+created_at",
    "created_at",
    "-created_at",
    "-createdAt",
    "name",
    "-display_name",
    "state",
    "-heartbeat_at",
    "heartbeatAt",
    "config.lr",
    "-config.lr",
    "+config.lr.value",
    "summary_metrics.val.acc",
    "-summary.val.acc",
    "-config.nothing",
    "id",
]


# --- paging --------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ORDERS)
def test_paging_by_three_yields_exactly_the_full_order(db, order):
    expected = full_order(db, order)
    assert len(expected) == 40 and len(set(expected)) == 40
    assert all_pages(db, order, limit=3) == expected


@pytest.mark.parametrize("limit", [1, 2, 7, 39, 40, 100])
def test_paging_works_for_any_page_size(db, limit):
    assert all_pages(db, "-config.lr", limit=limit) == full_order(db, "-config.lr")


@pytest.mark.parametrize("order", ORDERS)
def test_runs_created_between_pages_never_skip_or_repeat_old_runs(db, order):
    old = full_order(db, order)
    newcomers = iter(make_runs(90, seed=7, prefix="n"))
    seen, cursor = [], None
    for _ in range(MAX_PAGES):
        ids, cursor = page(db, order, cursor, 3)
        seen += ids
        if cursor is None:
            break
        # New runs land before, at and after the cursor's position in the order.
        insert(db, list(itertools.islice(newcomers, 3)))
    else:
        raise AssertionError("paging did not end")
    assert len(seen) == len(set(seen)), "a run was served twice"
    assert [i for i in seen if not i.startswith("n")] == old


def test_deleting_the_cursor_row_does_not_break_paging(db):
    order = "-config.lr"
    expected = full_order(db, order)
    first, cursor = page(db, order, None, 5)
    db.execute("DELETE FROM runs WHERE id = ?", [first[-1]])
    rest = all_pages_from(db, order, cursor)
    assert first + rest == expected


def all_pages_from(con: duckdb.DuckDBPyConnection, order: str, cursor: str | None) -> list[str]:
    seen: list[str] = []
    for _ in range(MAX_PAGES):
        if cursor is None:
            return seen
        ids, cursor = page(con, order, cursor, 3)
        seen += ids
    raise AssertionError("paging did not end")


# --- what the orders mean ------------------------------------------------------------------------


def lr_order(con: duckdb.DuckDBPyConnection, order: str) -> list[Any]:
    terms = parse_order(order)
    rows = con.execute(
        f"SELECT json_extract(r.config_flat, '$.lr')::VARCHAR FROM runs r"
        f" ORDER BY {order_by_sql(terms)}"
    ).fetchall()
    return [row[0] for row in rows]


@pytest.fixture
def lr_db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(MIGRATIONS[0])
    values = ['10', '2', '2.5', '"64"', '"abc"', '"Abc"', '"NaN"', '"Infinity"', '"-Infinity"',
              '-1', 'true', 'null', None]  # fmt: skip
    for i, v in enumerate(values):
        config = "{}" if v is None else f'{{"lr": {v}}}'
        con.execute(
            "INSERT INTO runs (project_id, id, state, created_at, config_flat)"
            " VALUES (1, ?, 'FINISHED', ?, ?)",
            [f"r{i}", T0, config],
        )
    return con


def test_json_numbers_sort_numerically_then_strings_then_missing(lr_db):
    assert lr_order(lr_db, "config.lr") == [
        '"-Infinity"', "-1", "2", "2.5", "10", '"64"', '"Infinity"', '"NaN"',
        '"Abc"', '"abc"', "true", "null", None,
    ]  # fmt: skip


def test_json_descending_keeps_missing_values_last(lr_db):
    assert lr_order(lr_db, "-config.lr") == [
        '"NaN"', '"Infinity"', '"64"', "10", "2.5", "2", "-1", '"-Infinity"',
        "true", '"abc"', '"Abc"', None, "null",  # the last two tie: pk descending
    ]  # fmt: skip


def names_in_order(con: duckdb.DuckDBPyConnection, order: str) -> list[str | None]:
    terms = parse_order(order)
    rows = con.execute(f"SELECT name FROM runs r ORDER BY {order_by_sql(terms)}").fetchall()
    return [row[0] for row in rows]


def test_text_columns_sort_nulls_last_both_ways(db):
    asc, desc = names_in_order(db, "name"), names_in_order(db, "-name")
    assert asc[0] == "a" and asc[-1] is None
    assert desc[0] == "c" and desc[-1] is None
    assert asc.count(None) == desc.count(None) > 0


def test_ties_are_broken_by_pk_in_the_direction_of_the_order(db):
    for order, reverse in (("created_at", False), ("-created_at", True)):
        by = order_by_sql(parse_order(order))
        rows = db.execute(f"SELECT epoch_us(created_at), pk FROM runs r ORDER BY {by}").fetchall()
        assert len({r[0] for r in rows}) < len(rows), "the fixture should have ties"
        assert rows == sorted(rows, reverse=reverse)


# --- parse_order ---------------------------------------------------------------------------------


def test_default_order_is_created_at_ascending():
    assert parse_order(None) == parse_order("") == parse_order("+created_at")
    assert parse_order("created_at") == parse_order("+created_at")
    assert parse_order("  -created_at ") == parse_order("-created_at")


def test_order_terms_end_with_pk_in_the_first_terms_direction():
    assert parse_order("-name") == [
        OrderTerm("r.name", True, "VARCHAR"),
        OrderTerm("r.pk", True, "BIGINT"),
    ]
    assert parse_order("state", alias="run")[-1] == OrderTerm("run.pk", False, "BIGINT")


def test_times_sort_as_epoch_microseconds():
    assert parse_order("-createdAt")[0] == OrderTerm("epoch_us(r.created_at)", True, "BIGINT")


def test_json_fields_give_a_number_term_and_a_text_term():
    terms = parse_order("-summary_metrics.val.acc")
    assert [t.kind for t in terms] == ["DOUBLE", "VARCHAR", "BIGINT"]
    assert all(t.descending for t in terms)
    assert terms[1].sql == """json_extract_string(r.summary, '$."val.acc"')"""
    assert terms[0].sql == f"TRY_CAST({terms[1].sql} AS DOUBLE)"


def test_json_keys_are_quoted_as_sql_literals():
    terms = parse_order('config.it\'s "quoted"')
    assert terms[1].sql == """json_extract_string(r.config_flat, '$."it''s \\"quoted\\""')"""
    con = duckdb.connect()
    con.execute(MIGRATIONS[0])
    con.execute(
        "INSERT INTO runs (project_id, id, state, created_at, config_flat) VALUES"
        " (1, 'a', 'RUNNING', ?, ?), (1, 'b', 'RUNNING', ?, ?)",
        [T0, json.dumps({'it\'s "quoted"': 2}), T0, json.dumps({'it\'s "quoted"': 1})],
    )
    rows = con.execute(f"SELECT id FROM runs r ORDER BY {order_by_sql(terms)}").fetchall()
    assert rows == [("b",), ("a",)]


def test_wandb_value_suffix_sorts_on_the_key_without_it(lr_db):
    assert lr_order(lr_db, "config.lr.value") == lr_order(lr_db, "config.lr")


def test_order_by_sql_puts_nulls_last_on_every_term():
    assert order_by_sql(parse_order("-name")) == "r.name DESC NULLS LAST, r.pk DESC NULLS LAST"
    assert order_by_sql([OrderTerm("x", False)]) == "x ASC NULLS LAST"


@pytest.mark.parametrize("order", ["bogus", "-", "+", "config", "config.", "-tags", "labels"])
def test_unknown_or_unsortable_fields_are_invalid(order):
    with pytest.raises(InvalidFilter) as info:
        parse_order(order)
    assert info.value.field == "order"
    assert "created_at" in info.value.message


def test_order_must_be_a_string():
    with pytest.raises(InvalidFilter) as info:
        parse_order(["created_at"])  # type: ignore[arg-type]
    assert info.value.field == "order"


# --- keyset_condition ----------------------------------------------------------------------------


def test_keyset_condition_uses_parameters():
    terms = parse_order("-config.lr")
    sql, params = keyset_condition(terms, [2.0, "2", 17])
    assert "17" not in sql and sql.count("?") == len(params) == 5


def test_after_a_null_only_nulls_follow(lr_db):
    terms = parse_order("config.lr")
    sql, params = keyset_condition(terms, [None, None, 0])
    rows = lr_db.execute(f"SELECT id FROM runs r WHERE {sql}", params).fetchall()
    # true, null and missing have no number; of them, only null and missing have no text.
    assert {r[0] for r in rows} == {"r11", "r12"}


@pytest.mark.parametrize(
    "values",
    [[1.5, "a", 3], ["x", 1], [None, None], [1, None], [True, 1], [1.0, 2], ["2025-01-01", 1]],
)
def test_cursor_values_that_do_not_fit_the_order_are_malformed(values):
    terms = parse_order("-created_at")
    with pytest.raises(InvalidInput) as info:
        keyset_condition(terms, values)
    assert info.value.field == "cursor"
    assert info.value.message == "malformed cursor"


def test_a_cursor_from_another_order_is_refused_not_crashed():
    name_cursor = ["b", 3]  # values of the order "name"
    with pytest.raises(InvalidInput):
        keyset_condition(parse_order("created_at"), name_cursor)


# --- cursors -------------------------------------------------------------------------------------


def test_cursor_round_trips_every_kind_of_value():
    values = [
        None, True, False, 0, -3, 2**62, 2.5, -0.0, 1e-300, "", "ünï/+=", math.inf, -math.inf,
        datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))),
        date(2025, 1, 2),
    ]  # fmt: skip
    decoded = decode_cursor(encode_cursor(values))
    assert decoded == values
    assert [type(v) for v in decoded] == [type(v) for v in values]
    assert decoded[13].utcoffset() == timedelta(0)


def test_cursor_round_trips_nan():
    (value,) = decode_cursor(encode_cursor([math.nan]))
    assert math.isnan(value)


def test_cursor_is_url_safe():
    cursor = encode_cursor(["???>>>~~~" * 5, 2**63 - 1])
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!!",
        "a",
        b64("not json"),
        b64("{}"),
        b64("[]"),
        b64("3"),
        b64("[NaN]"),
        b64('[{"t": "yesterday"}]'),
        b64('[{"f": "nan"}]'),
        b64('[{"x": 1}]'),
        b64('[{"t": "2025-01-01", "f": "NaN"}]'),
        b64("[[1]]"),
        "\u00e9\u00e9\u00e9\u00e9",
        base64.urlsafe_b64encode(b"\xff\xfe[1]").decode(),
    ],
)
def test_malformed_cursors_are_invalid_input(cursor):
    with pytest.raises(InvalidInput) as info:
        decode_cursor(cursor)
    assert info.value.field == "cursor"
    assert info.value.message == "malformed cursor"


def test_non_string_cursor_is_malformed():
    with pytest.raises(InvalidInput):
        decode_cursor(None)  # type: ignore[arg-type]


def test_values_that_cannot_go_in_a_cursor_are_a_programming_error():
    with pytest.raises(TypeError):
        encode_cursor([object()])
