"""The run table's parsed config and summary columns, kept by run version (issue 17, item 2):
every answer equals the one the table gave when it parsed every run's JSON on each read, on a
real embedded store, through creations, changes, logged points, widened types and deletions."""

from __future__ import annotations

import json
import math
from typing import Any

import pyarrow as pa
import pytest

from lablens.store.embedded._filter_sql import compile_filters, json_keys
from lablens.store.embedded._order_sql import order_by_sql, parse_order
from lablens.store.embedded.store import EmbeddedStore
from lablens.store.run_table import chosen_columns, with_total

_DUCK = {"integer": "BIGINT", "number": "DOUBLE", "bool": "BOOLEAN", "string": "VARCHAR"}


@pytest.fixture
def store(tmp_path):
    s = EmbeddedStore(tmp_path / "data")
    s.create_user("alice")
    yield s
    s.close()


def _reference(store: EmbeddedStore, **how: Any) -> pa.Table:
    """The run table as it was built before: one query that parses every page run's JSON
    (json_transform) and tests the filter on each run's JSON object."""
    fields = store.project_fields("alice", "p")
    pid = store.runs.projects.project_id("alice", "p")
    where, params = compile_filters(how.get("filters"), alias="r")
    order_sql = order_by_sql(parse_order(how.get("order"), alias="r"))
    base, keys = chosen_columns(fields, how.get("columns"))
    offset, limit = how.get("offset", 0), how.get("limit")
    page_sql, page = "", []
    if limit is not None:
        page_sql, page = " LIMIT ? OFFSET ?", [limit, offset]
    elif offset:
        page_sql, page = " OFFSET ?", [offset]
    select = [f'{sql} AS "{name}"' for name, sql in base.items()]
    structs = []
    for kind, column, alias in (("config", "r.config_flat", "_c"), ("summary", "r.summary", "_s")):
        if not keys[kind]:
            continue
        spec = json.dumps({k: _DUCK.get(fields[kind][k], "VARCHAR") for k in keys[kind]})
        quoted_spec = spec.replace("'", "''")
        structs.append(f"json_transform({column}, '{quoted_spec}') AS {alias}")
        for k in keys[kind]:
            quoted = k.replace('"', '""')
            select.append(f'{alias}."{quoted}" AS "{kind}.{quoted}"')
    inner = ", ".join(["r.*", "m._total", *structs])
    sql = (
        f"WITH m AS (SELECT r.pk, count(*) OVER () AS _total FROM runs r"
        f" WHERE r.project_id = ? AND ({where}) ORDER BY {order_sql}{page_sql})"
        f" SELECT {', '.join(select)}, r._total AS _total"
        f" FROM (SELECT {inner} FROM runs r JOIN m ON r.pk = m.pk) r ORDER BY {order_sql}"
    )
    table = store.db.reader().sql(sql, params=[pid, *params, *page]).to_arrow_table()
    count = store.db.reader().sql(
        f"SELECT count(*) FROM runs r WHERE r.project_id = ? AND ({where})", params=[pid, *params]
    )
    total = count.fetchall()[0][0]
    table = table.drop_columns(["_total"])
    return table.replace_schema_metadata(with_total(table.schema, total).metadata)


def _table(store: EmbeddedStore, **how: Any) -> pa.Table:
    args = {"filters": None, "order": None, "columns": None, "offset": 0, "limit": None, **how}
    return store.runs_table("alice", "p", **args).read_all()


QUERIES: list[dict[str, Any]] = [
    {},
    {"filters": {"config.opt": "adam"}},
    {"filters": {"config.lr": {"$gt": 0.01}}, "order": "-summary_metrics.loss"},
    {"filters": {"$or": [{"config.layers": 3}, {"summary_metrics.loss": {"$lt": 0.3}}]}},
    {"filters": {"config.opt": "sgd", "state": "finished"}},  # a JSON key and a column
    {"filters": {"config.tags": "b"}},  # an array matches any element
    {"filters": {"config.lr.value": {"$gte": 0.001}}},  # W&B's .value fallback
    {"filters": {"config.missing": {"$exists": False}}},
    {"filters": {"config.nested.depth": {"$in": [1, 2]}}},
    {"filters": {"summary_metrics.loss": float("nan")}},
    {"filters": {"config.opt": {"$regex": "^a"}}, "offset": 1, "limit": 2},
    {"columns": ["name", "config.lr", "summary.loss"], "order": "+config.lr"},
    {"offset": 3, "limit": 4, "order": "-created_at"},
    {"offset": 100, "limit": 5},
]


def _check(store: EmbeddedStore) -> None:
    for how in QUERIES:
        for _ in range(2):  # parsed, then kept
            got = _table(store, **how)
            want = _reference(store, **how)
            assert got.schema.equals(want.schema, check_metadata=True), how
            assert _values(got) == _values(want), how


def _values(table: pa.Table) -> list[str]:
    """Each column's values as text: exact for floats (repr round-trips), and NaN equals NaN."""
    return [repr(column.to_pylist()) for column in table.columns]


def _run(store: EmbeddedStore, i: int, **kw: Any) -> None:
    config = {
        "lr": 10.0 ** -(i % 4),
        "opt": ["adam", "sgd", "adamw"][i % 3],
        "layers": i % 5,
        "tags": ["a", "b"] if i % 2 else ["c"],
        "nested": {"depth": i % 3},
        **kw,
    }
    store.create_run("alice", "p", {"id": f"run{i:04d}", "config": config}, username="alice")
    loss = math.nan if i == 7 else 1.0 / (i + 1)
    store.update_run("alice", "p", f"run{i:04d}", {"summary": {"loss": loss, "acc": i / 10}})


def _points(key: str, value: float, step: int) -> pa.Table:
    return pa.table(
        {
            "key": pa.array([key]),
            "step": pa.array([step], pa.int64()),
            "timestamp": pa.array([1.7e9 + step]),
            "value": pa.array([value]),
        }
    )


def test_kept_values_follow_every_change_of_the_runs(store):
    for i in range(12):
        _run(store, i)
    _check(store)
    # Changed config and summary, logged points (the summary's last values), a finished run.
    store.update_run("alice", "p", "run0003", {"config": {"lr": 0.5, "opt": "lion"}})
    store.update_run("alice", "p", "run0004", {"summary": {"loss": 0.01}, "state": "FINISHED"})
    store.append_points("alice", "p", "run0005", _points("loss", 0.2, 10))
    store.append_points("alice", "p", "run0006", _points("new_metric", 3.0, 1))  # a new column
    _check(store)
    # New runs; a key whose type widens (a number, then text) in a kept column; deletions.
    _run(store, 12, layers="deep")
    store.update_run("alice", "p", "run0001", {"summary": {"acc": "n/a"}})
    store.delete_run("alice", "p", "run0002")
    _check(store)
    for i in range(13, 20):
        _run(store, i)
    store.append_points("alice", "p", "run0013", _points("loss", 0.25, 3))
    _check(store)


def test_a_filter_on_json_keys_alone_and_one_with_columns_are_told_apart():
    assert json_keys({"config.lr": 1, "summary_metrics.loss": {"$lt": 1}}) == (
        [("config", "lr"), ("summary", "loss")],
        True,
    )
    assert json_keys({"config.lr.value": 1}) == ([("config", "lr.value"), ("config", "lr")], True)
    assert json_keys({"config.lr": 1, "state": "running"})[1] is False
    assert json_keys({"tags": "x"}) == ([], False)


def test_a_bounded_store_keeps_the_latest_table_and_answers_the_same(store):
    for i in range(6):
        _run(store, i)
    store.runs.queries.values.max_cells = 10  # less than one table: nothing is kept
    _check(store)
    store.runs.queries.values.max_cells = 60  # one table of this project at a time
    _check(store)
