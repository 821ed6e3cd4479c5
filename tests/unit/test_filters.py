"""MongoDB-style run filters, run against a real DuckDB with the store's schema."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import duckdb
import pytest

from lablens.store.embedded._filter_sql import compile_filters
from lablens.store.embedded.schema import MIGRATIONS
from lablens.store.errors import InvalidFilter, InvalidInput

ALL = {"r1", "r2", "r3", "r4", "r5"}


def t(day: int, hour: int = 0) -> datetime:
    return datetime(2025, 1, day, hour, tzinfo=UTC)


RUNS: list[dict[str, Any]] = [
    {
        "id": "r1", "name": "alpha", "state": "FINISHED", "tags": ["baseline", "cnn"],
        "group_name": "g1", "job_type": "train", "notes": "first try", "username": "alice",
        "host": "box1", "sweep": None, "created_at": t(1), "finished_at": t(1, 2),
        "heartbeat_at": t(1, 2),
        "config_flat": {"lr": 0.01, "data.bs": 64, "layers": [64, 32], "optimizer": "adam",
                        "use_bn": True, "seed": None, "dropout.value": 0.5, 'we"ird\\key': 1,
                        "mixed": [1, "a", None]},
        "summary": {"loss": 0.12, "val.acc": 0.91, "train/loss": 0.2, "grad": "NaN"},
    },
    {
        "id": "r2", "name": "beta", "state": "RUNNING", "tags": ["baseline"],
        "group_name": "g1", "job_type": "eval", "notes": None, "username": "bob",
        "host": "box2", "sweep": "sw1", "created_at": t(2), "finished_at": None,
        "heartbeat_at": t(2, 5),
        "config_flat": {"lr": 0.1, "data.bs": 64.0, "layers": [128], "optimizer": "sgd",
                        "use_bn": False, "seed": 1, "dropout": 0.3, "data.aug": "flip"},
        "summary": {"loss": 0.5, "val.acc": 0.8, "grad": "Infinity"},
    },
    {
        "id": "r3", "name": "gamma", "state": "CRASHED", "tags": [],
        "group_name": "g2", "job_type": "train", "notes": "diverged", "username": "alice",
        "host": "box1", "sweep": None, "created_at": t(3), "finished_at": t(3, 1),
        "heartbeat_at": t(3, 1),
        "config_flat": {"lr": 1, "data.bs": 32, "layers": [], "optimizer": "adam", "use_bn": 1,
                        "dropout": 0.3, "dropout.value": 0.1},
        "summary": {"loss": "NaN", "grad": "-Infinity"},
    },
    {
        "id": "r4", "name": None, "state": "ABORTED", "tags": ["cnn"],
        "group_name": None, "job_type": None, "notes": None, "username": "carol",
        "host": "box3", "sweep": None, "created_at": t(4), "finished_at": t(4, 3),
        "heartbeat_at": None,
        "config_flat": {"lr": "0.001", "data.bs": "64", "optimizer": "Adam", "layers": "64"},
        "summary": {"loss": 2.0, "val.acc": None},
    },
    {
        "id": "r5", "name": "delta", "state": "FINISHED", "tags": ["rnn", "baseline"],
        "group_name": "g2", "job_type": "train", "notes": "", "username": "dave",
        "host": "box2", "sweep": "sw1", "created_at": t(5), "finished_at": t(5, 1),
        "heartbeat_at": t(5, 1), "config_flat": None, "summary": None,
    },
]  # fmt: skip


@pytest.fixture(scope="module")
def db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(MIGRATIONS[0])
    # Another project's run, which no filter may see (the tests add project_id = 1).
    con.execute(
        "INSERT INTO runs (project_id, id, name, state, created_at) VALUES (2, 'x9', 'alpha',"
        " 'FINISHED', TIMESTAMPTZ '2025-01-01 00:00:00+00')"
    )
    for run in RUNS:
        row = dict(run)
        for col in ("config_flat", "summary"):
            row[col] = None if row[col] is None else json.dumps(row[col])
        cols = ", ".join(row)
        holders = ", ".join("?" for _ in row)
        con.execute(
            f"INSERT INTO runs (project_id, {cols}) VALUES (1, {holders})", list(row.values())
        )
    return con


def ids(db: duckdb.DuckDBPyConnection, filters: Any) -> set[str]:
    where, params = compile_filters(filters, alias="r")
    rows = db.execute(
        f"SELECT r.id FROM runs r WHERE r.project_id = 1 AND ({where})", params
    ).fetchall()
    return {row[0] for row in rows}


def error(filters: Any) -> InvalidFilter:
    with pytest.raises(InvalidFilter) as info:
        compile_filters(filters)
    return info.value


# --- the language --------------------------------------------------------------------------------


def test_no_filter_compiles_to_true():
    assert compile_filters(None) == ("TRUE", [])
    assert compile_filters({}) == ("TRUE", [])


def test_no_filter_matches_every_run(db):
    assert ids(db, None) == ALL
    assert ids(db, {}) == ALL


def test_a_plain_value_means_eq(db):
    assert ids(db, {"name": "alpha"}) == ids(db, {"name": {"$eq": "alpha"}}) == {"r1"}


def test_several_keys_are_anded(db):
    assert ids(db, {"state": "FINISHED", "username": "alice"}) == {"r1"}


def test_several_operators_on_one_field_are_anded(db):
    assert ids(db, {"config.lr": {"$gt": 0.01, "$lte": 1}}) == {"r2", "r3"}


def test_values_travel_as_parameters_not_sql_text(db):
    sneaky = "x'); DROP TABLE runs; --"
    where, params = compile_filters({"name": sneaky, "config.o'k": sneaky})
    assert sneaky not in where and "o'k" not in where
    assert sneaky in params
    assert ids(db, {"name": sneaky}) == set()
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 6


def test_the_alias_names_the_runs_table(db):
    where, params = compile_filters({"state": "running", "config.lr": 0.1}, alias="run")
    rows = db.execute(f"SELECT run.id FROM runs run WHERE {where}", params).fetchall()
    assert rows == [("r2",)]


def test_the_alias_must_be_an_identifier():
    with pytest.raises(ValueError):
        compile_filters({}, alias="r; DROP")


# --- logical operators ---------------------------------------------------------------------------


def test_and_needs_every_condition(db):
    assert ids(db, {"$and": [{"tags": "baseline"}, {"group": "g2"}]}) == {"r5"}


def test_or_needs_one_condition(db):
    assert ids(db, {"$or": [{"state": "crashed"}, {"config.lr": {"$lt": 0.05}}]}) == {"r1", "r3"}


def test_nor_needs_no_condition(db):
    assert ids(db, {"$nor": [{"state": "crashed"}, {"tags": "cnn"}]}) == {"r2", "r5"}


def test_top_level_not_negates_a_filter(db):
    assert ids(db, {"$not": {"state": "running"}}) == ALL - {"r2"}
    assert ids(db, {"$not": {"state": "finished", "username": "alice"}}) == ALL - {"r1"}


def test_field_not_negates_operators_and_matches_missing_values(db):
    # MongoDB: $not also matches documents where the field is missing (r5 has no config).
    assert ids(db, {"config.lr": {"$not": {"$gt": 0.05}}}) == {"r1", "r4", "r5"}


def test_logical_operators_nest(db):
    f = {"$or": [{"$and": [{"state": "finished"}, {"tags": "cnn"}]},
                 {"$nor": [{"username": {"$in": ["alice", "carol", "dave"]}}]}]}  # fmt: skip
    assert ids(db, f) == {"r1", "r2"}


def test_logical_operators_combine_with_fields_in_one_object(db):
    assert ids(db, {"host": "box2", "$or": [{"state": "running"}, {"sweep": None}]}) == {"r2"}


# --- state ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["finished", "FINISHED", "Finished"])
def test_state_matches_case_insensitively(db, value):
    assert ids(db, {"state": value}) == {"r1", "r5"}


def test_state_in_and_nin_ignore_case(db):
    assert ids(db, {"state": {"$in": ["running", "CRASHED"]}}) == {"r2", "r3"}
    assert ids(db, {"state": {"$nin": ["finished", "aborted"]}}) == {"r2", "r3"}


def test_state_ne_ignores_case(db):
    assert ids(db, {"state": {"$ne": "finished"}}) == {"r2", "r3", "r4"}


def test_state_regex_ignores_case(db):
    assert ids(db, {"state": {"$regex": "^(run|crash)"}}) == {"r2", "r3"}


def test_state_comparisons_ignore_case(db):
    assert ids(db, {"state": {"$lt": "d"}}) == {"r3", "r4"}


# --- text columns --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("name", "beta", {"r2"}),
        ("display_name", "beta", {"r2"}),
        ("displayName", "beta", {"r2"}),
        ("id", "r3", {"r3"}),
        ("run_id", "r3", {"r3"}),
        ("group", "g2", {"r3", "r5"}),
        ("job_type", "eval", {"r2"}),
        ("jobType", "eval", {"r2"}),
        ("notes", "diverged", {"r3"}),
        ("description", "diverged", {"r3"}),
        ("username", "alice", {"r1", "r3"}),
        ("user", "alice", {"r1", "r3"}),
        ("entity", "alice", {"r1", "r3"}),
        ("host", "box2", {"r2", "r5"}),
        ("sweep", "sw1", {"r2", "r5"}),
    ],
)
def test_text_fields_and_their_aliases(db, field, value, expected):
    assert ids(db, {field: value}) == expected


def test_text_eq_none_matches_null(db):
    assert ids(db, {"name": None}) == {"r4"}
    assert ids(db, {"notes": None}) == {"r2", "r4"}


def test_empty_text_is_not_null(db):
    assert ids(db, {"notes": ""}) == {"r5"}


def test_text_ne_matches_missing_values(db):
    assert ids(db, {"name": {"$ne": "alpha"}}) == {"r2", "r3", "r4", "r5"}


def test_text_ne_none_matches_set_values(db):
    assert ids(db, {"name": {"$ne": None}}) == ALL - {"r4"}


def test_text_comparisons_compare_strings(db):
    assert ids(db, {"name": {"$gt": "beta"}}) == {"r3", "r5"}
    assert ids(db, {"name": {"$gte": "beta", "$lt": "delta"}}) == {"r2"}
    assert ids(db, {"name": {"$lte": "alpha"}}) == {"r1"}


def test_text_in_matches_listed_values_and_none_matches_null(db):
    assert ids(db, {"name": {"$in": ["alpha", "gamma", "zeta"]}}) == {"r1", "r3"}
    assert ids(db, {"name": {"$in": ["alpha", None]}}) == {"r1", "r4"}
    assert ids(db, {"name": {"$in": []}}) == set()


def test_text_nin_matches_unlisted_and_missing_values(db):
    assert ids(db, {"name": {"$nin": ["alpha", "beta"]}}) == {"r3", "r4", "r5"}
    assert ids(db, {"name": {"$nin": ["alpha", None]}}) == {"r2", "r3", "r5"}
    assert ids(db, {"name": {"$nin": []}}) == ALL


def test_text_regex_is_a_search_not_a_full_match(db):
    assert ids(db, {"name": {"$regex": "lt"}}) == {"r5"}
    assert ids(db, {"name": {"$regex": "^[ab]"}}) == {"r1", "r2"}
    assert ids(db, {"display_name": {"$regex": r"a$"}}) == {"r1", "r2", "r3", "r5"}


def test_text_regex_is_case_sensitive_unless_options_say_i(db):
    assert ids(db, {"name": {"$regex": "ALPHA"}}) == set()
    assert ids(db, {"name": {"$regex": "ALPHA", "$options": "i"}}) == {"r1"}


def test_text_regex_takes_python_style_classes_and_groups(db):
    assert ids(db, {"host": {"$regex": r"^box\d$"}}) == {"r1", "r2", "r3", "r4", "r5"}
    assert ids(db, {"host": {"$regex": r"(?P<n>[13])$"}}) == {"r1", "r3", "r4"}


def test_text_exists_means_not_null(db):
    assert ids(db, {"group": {"$exists": True}}) == ALL - {"r4"}
    assert ids(db, {"group": {"$exists": False}}) == {"r4"}


def test_sweep_exists_false_excludes_sweep_runs(db):
    assert ids(db, {"sweep": {"$exists": False}}) == {"r1", "r3", "r4"}


# --- times ---------------------------------------------------------------------------------------


def test_times_compare_as_instants_whatever_the_offset(db):
    assert ids(db, {"created_at": {"$gt": "2025-01-03T00:00:00Z"}}) == {"r4", "r5"}
    assert ids(db, {"created_at": {"$gt": "2025-01-03T01:00:00+01:00"}}) == {"r4", "r5"}
    assert ids(db, {"created_at": {"$gte": "2025-01-03T01:00:00+01:00"}}) == {"r3", "r4", "r5"}
    assert ids(db, {"created_at": "2025-01-02T00:00:00.000Z"}) == {"r2"}


def test_times_take_datetimes_dates_and_naive_times_as_utc(db):
    assert ids(db, {"createdAt": {"$lt": t(2)}}) == {"r1"}
    cet = timezone(timedelta(hours=1))
    assert ids(db, {"createdAt": {"$lte": datetime(2025, 1, 2, 1, tzinfo=cet)}}) == {"r1", "r2"}
    assert ids(db, {"createdAt": {"$lt": date(2025, 1, 3)}}) == {"r1", "r2"}
    assert ids(db, {"createdAt": {"$lt": "2025-01-03T00:00:00"}}) == {"r1", "r2"}
    assert ids(db, {"createdAt": {"$lt": "2025-01-03"}}) == {"r1", "r2"}


@pytest.mark.parametrize(
    ("field", "expected"),
    [("finished_at", {"r1", "r4"}), ("finishedAt", {"r1", "r4"}),
     ("heartbeat_at", {"r1", "r2"}), ("heartbeatAt", {"r1", "r2"})],
)  # fmt: skip
def test_every_time_field_and_its_camel_case_alias(db, field, expected):
    assert ids(db, {field: {"$gte": "2025-01-01T02:00:00Z", "$lte": "2025-01-04T03:00:00Z",
                            "$ne": "2025-01-03T01:00:00Z"}}) == expected  # fmt: skip


def test_time_none_means_not_set(db):
    assert ids(db, {"finished_at": None}) == {"r2"}
    assert ids(db, {"heartbeat_at": {"$exists": False}}) == {"r4"}
    assert ids(db, {"finished_at": {"$in": [None, "2025-01-05T01:00:00Z"]}}) == {"r2", "r5"}


def test_time_ne_and_nin_match_unset_times(db):
    assert ids(db, {"finished_at": {"$ne": "2025-01-01T02:00:00Z"}}) == ALL - {"r1"}
    assert ids(db, {"heartbeat_at": {"$nin": ["2025-01-01T02:00:00Z"]}}) == ALL - {"r1"}


# --- tags ----------------------------------------------------------------------------------------


def test_tags_match_any_element(db):
    assert ids(db, {"tags": "baseline"}) == {"r1", "r2", "r5"}
    assert ids(db, {"tags": "cnn"}) == {"r1", "r4"}


def test_labels_is_tags(db):
    assert ids(db, {"labels": "cnn"}) == {"r1", "r4"}


def test_tags_in_matches_if_any_element_is_listed(db):
    assert ids(db, {"tags": {"$in": ["rnn", "cnn"]}}) == {"r1", "r4", "r5"}
    assert ids(db, {"tags": {"$in": []}}) == set()


def test_tags_nin_and_ne_match_if_no_element_does(db):
    assert ids(db, {"tags": {"$nin": ["rnn", "cnn"]}}) == {"r2", "r3"}
    assert ids(db, {"tags": {"$ne": "baseline"}}) == {"r3", "r4"}


def test_tags_regex_matches_if_any_element_does(db):
    assert ids(db, {"tags": {"$regex": "^.nn$"}}) == {"r1", "r4", "r5"}
    assert ids(db, {"tags": {"$not": {"$regex": "nn"}}}) == {"r2", "r3"}


def test_tags_comparisons_match_if_any_element_does(db):
    assert ids(db, {"tags": {"$gt": "c"}}) == {"r1", "r4", "r5"}


def test_tags_exist_on_every_run_even_empty(db):
    # MongoDB counts an empty array as existing; r3 has no tags.
    assert ids(db, {"tags": {"$exists": True}}) == ALL
    assert ids(db, {"tags": {"$exists": False}}) == set()
    # "At least one tag", as in MongoDB.
    assert ids(db, {"tags": {"$ne": []}}) == ALL - {"r3"}
    assert ids(db, {"tags": []}) == {"r3"}


def test_tags_eq_a_list_matches_the_whole_array(db):
    assert ids(db, {"tags": ["baseline", "cnn"]}) == {"r1"}
    assert ids(db, {"tags": ["cnn", "baseline"]}) == set()
    assert ids(db, {"tags": []}) == {"r3"}


def test_tags_are_never_null(db):
    assert ids(db, {"tags": None}) == set()
    assert ids(db, {"tags": {"$ne": None}}) == ALL


# --- JSON fields: numbers ------------------------------------------------------------------------


def test_json_numbers_compare_numerically(db):
    assert ids(db, {"config.lr": {"$lt": 0.5}}) == {"r1", "r2"}
    assert ids(db, {"config.lr": 1}) == {"r3"}
    assert ids(db, {"config.lr": 1.0}) == {"r3"}
    assert ids(db, {"config.data.bs": {"$gte": 64}}) == {"r1", "r2"}


def test_json_integer_matches_the_same_float(db):
    assert ids(db, {"config.data.bs": 64}) == {"r1", "r2"}  # 64 and 64.0
    assert ids(db, {"config.data.bs": 64.0}) == {"r1", "r2"}


def test_json_number_range_never_matches_a_stored_string(db):
    # r4 stores "64" and "0.001" as text: a number in a range is not text.
    assert ids(db, {"config.data.bs": {"$gt": 10}}) == {"r1", "r2", "r3"}
    assert ids(db, {"config.lr": {"$lt": 0.005}}) == set()


def test_swanlab_numeric_string_matches_a_stored_number(db):
    # SwanLab's flat form sends '64': it matches 64, 64.0 and the string "64".
    assert ids(db, {"config.data.bs": "64"}) == {"r1", "r2", "r4"}
    assert ids(db, {"config.data.bs": "64.0"}) == {"r1", "r2"}
    assert ids(db, {"config.lr": "0.01"}) == {"r1"}
    assert ids(db, {"config.lr": "1e-3"}) == set()  # r4 stores the text "0.001"
    assert ids(db, {"config.lr": "0.001"}) == {"r4"}


def test_swanlab_numeric_strings_work_in_in_and_nin(db):
    assert ids(db, {"config.data.bs": {"$in": ["32", "128"]}}) == {"r3"}
    assert ids(db, {"config.data.bs": {"$nin": ["64"]}}) == {"r3", "r5"}
    assert ids(db, {"config.data.bs": {"$ne": "64"}}) == {"r3", "r5"}


def test_json_ne_matches_runs_without_the_key(db):
    assert ids(db, {"config.lr": {"$ne": 0.01}}) == {"r2", "r3", "r4", "r5"}
    assert ids(db, {"config.dropout": {"$nin": [0.3]}}) == {"r1", "r4", "r5"}


def test_json_in_matches_listed_numbers(db):
    assert ids(db, {"config.lr": {"$in": [0.1, 1, 7]}}) == {"r2", "r3"}
    assert ids(db, {"config.lr": {"$in": []}}) == set()


# --- JSON fields: non-finite floats --------------------------------------------------------------


def test_nan_stored_as_a_string_equals_nan(db):
    assert ids(db, {"summary.loss": math.nan}) == {"r3"}
    assert ids(db, {"summary.grad": float("nan")}) == {"r1"}


def test_nan_written_as_a_string_also_finds_nan(db):
    assert ids(db, {"summary.loss": "NaN"}) == {"r3"}
    assert ids(db, {"summary.loss": {"$in": ["NaN", 2]}}) == {"r3", "r4"}


def test_infinities_stored_as_strings_compare_as_numbers(db):
    assert ids(db, {"summary.grad": {"$gt": 1e308}}) == {"r2"}
    assert ids(db, {"summary.grad": {"$lt": -1e308}}) == {"r3"}
    assert ids(db, {"summary.grad": math.inf}) == {"r2"}
    assert ids(db, {"summary.grad": "-Infinity"}) == {"r3"}
    assert ids(db, {"summary.grad": "-inf"}) == {"r3"}


def test_non_finite_bounds_as_the_wire_carries_them_are_numbers(db):
    # The client's transport sends float('inf') as "Infinity" (JSON has no such number), so a
    # bound of one of those three strings is that number, not text.
    assert ids(db, {"summary.grad": {"$lte": "Infinity"}}) == ids(
        db, {"summary.grad": {"$lte": math.inf}}
    )
    assert ids(db, {"summary.grad": {"$gte": "Infinity"}}) == {"r2"}
    assert ids(db, {"summary.grad": {"$lte": "-Infinity"}}) == {"r3"}
    assert ids(db, {"summary.loss": {"$gte": "NaN"}}) == {"r3"}
    assert ids(db, {"summary.loss": {"$lte": "Infinity"}}) == {"r1", "r2", "r4"}


def test_nan_is_in_no_range(db):
    assert ids(db, {"summary.loss": {"$gt": 0}}) == {"r1", "r2", "r4"}
    assert ids(db, {"summary.loss": {"$lt": 100}}) == {"r1", "r2", "r4"}
    assert ids(db, {"summary.grad": {"$gt": -math.inf}}) == {"r2"}


def test_nan_bounds_match_nan_only_when_inclusive(db):
    assert ids(db, {"summary.loss": {"$gte": math.nan}}) == {"r3"}
    assert ids(db, {"summary.loss": {"$lte": math.nan}}) == {"r3"}
    assert ids(db, {"summary.loss": {"$gt": math.nan}}) == set()
    assert ids(db, {"summary.loss": {"$lt": math.nan}}) == set()


def test_non_finite_strings_are_numbers_not_text(db):
    assert ids(db, {"summary.grad": {"$regex": "Inf"}}) == set()
    assert ids(db, {"summary.grad": {"$gt": "A"}}) == set()


# --- JSON fields: strings, bools, nulls ----------------------------------------------------------


def test_json_strings_compare_as_text(db):
    assert ids(db, {"config.optimizer": "adam"}) == {"r1", "r3"}
    assert ids(db, {"config.optimizer": {"$gt": "b"}}) == {"r2"}
    assert ids(db, {"config.optimizer": {"$lt": "b"}}) == {"r1", "r3", "r4"}  # "Adam" < "b"


def test_json_string_range_never_matches_a_number(db):
    assert ids(db, {"config.lr": {"$gt": ""}}) == {"r4"}


def test_json_regex_matches_strings_only(db):
    assert ids(db, {"config.optimizer": {"$regex": "^[aA]"}}) == {"r1", "r3", "r4"}
    assert ids(db, {"config.optimizer": {"$regex": "^a", "$options": "i"}}) == {"r1", "r3", "r4"}
    assert ids(db, {"config.lr": {"$regex": "1"}}) == {"r4"}  # only r4's lr is text


def test_json_bool_matches_true_and_false_only(db):
    assert ids(db, {"config.use_bn": True}) == {"r1"}
    assert ids(db, {"config.use_bn": False}) == {"r2"}
    assert ids(db, {"config.use_bn": 1}) == {"r3"}  # 1 is a number, not true
    assert ids(db, {"config.use_bn": {"$ne": True}}) == {"r2", "r3", "r4", "r5"}


def test_json_none_means_missing_or_null(db):
    assert ids(db, {"config.seed": None}) == {"r1", "r3", "r4", "r5"}
    assert ids(db, {"summary.val.acc": None}) == {"r3", "r4", "r5"}
    assert ids(db, {"config.seed": {"$ne": None}}) == {"r2"}


def test_json_exists_means_present_and_not_null(db):
    assert ids(db, {"config.seed": {"$exists": True}}) == {"r2"}
    assert ids(db, {"config.seed": {"$exists": False}}) == {"r1", "r3", "r4", "r5"}
    assert ids(db, {"summary.loss": {"$exists": True}}) == {"r1", "r2", "r3", "r4"}


def test_json_exists_false_is_eq_none(db):
    for key in ("config.seed", "summary.val.acc", "config.layers", "config.nothing"):
        assert ids(db, {key: {"$exists": False}}) == ids(db, {key: None}), key


# --- JSON fields: arrays -------------------------------------------------------------------------


def test_json_array_matches_any_element(db):
    assert ids(db, {"config.layers": 64}) == {"r1"}
    assert ids(db, {"config.layers": 32}) == {"r1"}
    assert ids(db, {"config.layers": 128}) == {"r2"}
    # r4's layers is the string "64": the number 64 is not text, the string '64' is either.
    assert ids(db, {"config.layers": "64"}) == {"r1", "r4"}


def test_json_array_in_matches_if_any_element_is_listed(db):
    assert ids(db, {"config.layers": {"$in": [32, 128]}}) == {"r1", "r2"}


def test_json_array_nin_and_ne_match_if_no_element_does(db):
    assert ids(db, {"config.layers": {"$nin": [32, 128]}}) == {"r3", "r4", "r5"}
    assert ids(db, {"config.layers": {"$ne": 64}}) == {"r2", "r3", "r4", "r5"}


def test_json_array_comparison_matches_if_any_element_does(db):
    assert ids(db, {"config.layers": {"$gt": 100}}) == {"r2"}
    assert ids(db, {"config.layers": {"$lt": 50}}) == {"r1"}


def test_json_array_elements_keep_their_types(db):
    assert ids(db, {"config.mixed": "a"}) == {"r1"}
    assert ids(db, {"config.mixed": 1}) == {"r1"}
    assert ids(db, {"config.mixed": True}) == set()
    assert ids(db, {"config.mixed": None}) == ALL  # r1 holds a null element, others no key


def test_json_array_eq_a_list_matches_the_whole_array(db):
    assert ids(db, {"config.layers": [64, 32]}) == {"r1"}
    assert ids(db, {"config.layers": [32, 64]}) == set()
    assert ids(db, {"config.layers": [64]}) == set()
    assert ids(db, {"config.layers": []}) == {"r3"}
    assert ids(db, {"config.layers": {"$eq": ["64", "32.0"]}}) == {"r1"}


def test_json_empty_array_matches_no_value(db):
    assert ids(db, {"config.layers": {"$gt": -1e9}}) == {"r1", "r2"}
    assert "r3" in ids(db, {"config.layers": {"$exists": True}})


# --- JSON fields: keys ---------------------------------------------------------------------------


def test_nested_config_keys_are_dotted(db):
    assert ids(db, {"config.data.bs": 32}) == {"r3"}


def test_summary_keys_may_contain_dots(db):
    assert ids(db, {"summary.val.acc": {"$gt": 0.85}}) == {"r1"}


def test_summary_keys_may_contain_slashes(db):
    assert ids(db, {"summary.train/loss": 0.2}) == {"r1"}


def test_keys_with_quotes_and_backslashes_are_quoted(db):
    assert ids(db, {'config.we"ird\\key': 1}) == {"r1"}


def test_summary_metrics_and_summary_are_the_same(db):
    assert ids(db, {"summary_metrics.loss": {"$lt": 1}}) == {"r1", "r2"}
    assert ids(db, {"summary.loss": {"$lt": 1}}) == {"r1", "r2"}


def test_missing_json_columns_are_missing_keys(db):
    assert "r5" not in ids(db, {"config.lr": {"$gt": -1e9}})
    assert "r5" in ids(db, {"config.lr": None})


def test_value_suffix_falls_back_to_the_key_without_it(db):
    # W&B writes config.<key>.value; the store keeps <key>.
    assert ids(db, {"config.lr.value": 0.1}) == {"r2"}
    assert ids(db, {"config.optimizer.value": {"$in": ["sgd", "Adam"]}}) == {"r2", "r4"}


def test_value_suffix_prefers_the_exact_key(db):
    # r3 has both dropout.value (0.1) and dropout (0.3): the exact key wins.
    assert ids(db, {"config.dropout.value": 0.3}) == {"r2"}
    assert ids(db, {"config.dropout.value": 0.1}) == {"r3"}
    assert ids(db, {"config.dropout.value": 0.5}) == {"r1"}


def test_wandb_nested_value_segment_falls_back_too(db):
    assert ids(db, {"config.data.value.aug": "flip"}) == {"r2"}


# --- errors --------------------------------------------------------------------------------------


def test_invalid_filter_is_invalid_input():
    assert issubclass(InvalidFilter, InvalidInput)


@pytest.mark.parametrize("filters", [[{"state": "finished"}], "state=finished", 3])
def test_filters_must_be_an_object(filters):
    e = error(filters)
    assert e.field == "filters"
    assert "object" in e.message


def test_unknown_field_lists_the_valid_ones():
    e = error({"foo": 1})
    assert e.field == "filters.foo"
    assert "unknown field 'foo'" in e.message
    for name in ("state", "created_at", "config.<key>", "summary_metrics.<key>", "tags"):
        assert name in e.message


def test_unknown_field_inside_and_names_its_position():
    e = error({"$and": [{"state": "finished"}, {"bogus": 1}]})
    assert e.field == "filters.$and[1].bogus"


def test_config_without_a_key_is_unknown():
    assert error({"config": {"lr": 1}}).field == "filters.config"
    assert error({"config.": 1}).field == "filters.config."


def test_unknown_operator_lists_the_valid_ones():
    e = error({"config.lr": {"$foo": 1}})
    assert e.field == "filters.config.lr.$foo"
    assert "$gte" in e.message and "$regex" in e.message


def test_unknown_top_level_operator():
    e = error({"$where": "1"})
    assert e.field == "filters.$where"
    assert "$and" in e.message


def test_comparison_at_the_top_level_is_an_unknown_operator():
    e = error({"$and": [{"state": "running"}, {"$gt": 3}]})
    assert e.field == "filters.$and[1].$gt"


def test_logical_operator_under_a_field_is_unknown():
    assert error({"state": {"$or": ["running"]}}).field == "filters.state.$or"


@pytest.mark.parametrize("op", ["$and", "$or", "$nor"])
@pytest.mark.parametrize("value", [[], {"state": "running"}, "x", None])
def test_and_or_nor_take_a_non_empty_list(op, value):
    e = error({op: value})
    assert e.field == f"filters.{op}"
    assert "non-empty list" in e.message


def test_and_elements_must_be_objects():
    e = error({"$or": [{"state": "running"}, "crashed"]})
    assert e.field == "filters.$or[1]"


def test_top_level_not_takes_a_filter():
    assert error({"$not": [{"state": "x"}]}).field == "filters.$not"
    assert error({"$not": {}}).field == "filters.$not"


def test_field_not_takes_operators():
    assert error({"config.lr": {"$not": 3}}).field == "filters.config.lr.$not"
    assert error({"config.lr": {"$not": {}}}).field == "filters.config.lr.$not"
    assert error({"config.lr": {"$not": {"gt": 3}}}).field == "filters.config.lr.$not.gt"
    assert error({"config.lr": {"$not": {"$bad": 3}}}).field == "filters.config.lr.$not.$bad"


@pytest.mark.parametrize("op", ["$in", "$nin"])
@pytest.mark.parametrize("value", ["a", 3, {"a": 1}, None])
def test_in_and_nin_take_a_list(op, value):
    e = error({"tags": {op: value}})
    assert e.field == f"filters.tags.{op}"
    assert "list" in e.message


def test_in_elements_must_be_plain_values():
    e = error({"config.lr": {"$in": [1, [2, 3]]}})
    assert e.field == "filters.config.lr.$in[1]"
    assert error({"name": {"$nin": ["a", {"b": 1}]}}).field == "filters.name.$nin[1]"


@pytest.mark.parametrize("op", ["$gt", "$gte", "$lt", "$lte"])
@pytest.mark.parametrize("value", [{"a": 1}, [1, 2], None, True])
def test_comparisons_take_one_plain_value(op, value):
    e = error({"config.lr": {op: value}})
    assert e.field == f"filters.config.lr.{op}"


def test_comparison_errors_name_their_position_inside_and():
    e = error({"$and": [{"state": "finished"}, {"config.lr": {"$gt": {"x": 1}}}]})
    assert e.field == "filters.$and[1].config.lr.$gt"


@pytest.mark.parametrize("value", [1, "true", None, [True]])
def test_exists_takes_a_bool(value):
    e = error({"state": {"$exists": value}})
    assert e.field == "filters.state.$exists"
    assert "true or false" in e.message


@pytest.mark.parametrize("pattern", ["(unclosed", "a{2,1}", "[z-a]", r"(?<=a)b", r"(a)\1"])
def test_bad_regex(pattern):
    e = error({"name": {"$regex": pattern}})
    assert e.field == "filters.name.$regex"
    assert "regular expression" in e.message


def test_regex_must_be_a_string():
    assert error({"name": {"$regex": 3}}).field == "filters.name.$regex"


def test_regex_does_not_apply_to_times():
    assert error({"created_at": {"$regex": "2025"}}).field == "filters.created_at.$regex"


def test_regex_options_must_be_known_letters_and_need_a_regex():
    assert error({"name": {"$regex": "a", "$options": "x"}}).field == "filters.name.$options"
    assert error({"name": {"$options": "i"}}).field == "filters.name.$options"


def test_an_empty_object_is_not_a_condition():
    assert error({"config.lr": {}}).field == "filters.config.lr"


def test_an_object_is_not_a_value():
    e = error({"config.data": {"bs": 64}})
    assert e.field == "filters.config.data"
    assert "config.data.bs" in e.message


def test_operators_and_plain_keys_do_not_mix():
    assert error({"config.lr": {"$gt": 1, "lt": 2}}).field == "filters.config.lr.lt"


def test_times_must_be_iso_8601():
    e = error({"created_at": {"$gt": "yesterday"}})
    assert e.field == "filters.created_at.$gt"
    assert "ISO 8601" in e.message
    assert error({"created_at": {"$in": ["2025-01-01", 3]}}).field == "filters.created_at.$in[1]"


def test_text_fields_take_strings():
    assert error({"name": 3}).field == "filters.name"
    assert error({"state": {"$in": ["running", 1]}}).field == "filters.state.$in[1]"
    assert error({"tags": {"$in": ["a", 1]}}).field == "filters.tags.$in[1]"
    assert error({"tags": ["a", 1]}).field == "filters.tags[1]"


def test_json_values_are_scalars():
    assert error({"config.lr": {"$eq": {"a": 1}}}).field == "filters.config.lr.$eq"
    assert error({"config.lr": {"$eq": [1, [2]]}}).field == "filters.config.lr.$eq[1]"
    assert error({"config.lr": {"$gt": date(2025, 1, 1)}}).field == "filters.config.lr.$gt"


def test_huge_integers_are_refused_not_rounded_to_infinity():
    assert error({"config.lr": 10**400}).field == "filters.config.lr"
