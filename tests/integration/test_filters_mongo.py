"""Run filters mean what they mean in MongoDB: 300 seeded random filters over runs of varied
fields, answered by a real server and by montydb, an independent implementation of MongoDB's
query language (``montydb``, in memory), with 0 differences.

The session ``server`` runs on the embedded engine, or on PostgreSQL with
``LABLENS_TEST_STORE=postgres``; this file runs on both.

What lablens documents as its own (docs/filters.md) is carried over to the MongoDB side as a
translation of the filter or the document, never by leaving a case out:

- a stored null is no value: ``$exists: true`` means present and not null, so the documents
  montydb sees have no null-valued fields (nulls inside arrays stay); for every other operator
  MongoDB treats null and missing alike, so this changes nothing else;
- ``state`` is matched in any case (stored upper case): its values are upper-cased, its
  patterns case-blind;
- for ``$eq $ne $in $nin`` on ``config.*``/``summary.*``, a string that reads as a number also
  matches that number (SwanLab's ``{"config.batch_size": "64"}``): ``"64"`` becomes
  ``{"$in": ["64", 64.0]}``;
- times are ISO 8601 strings in a filter, datetimes in a document;
- ``{"$not": filter}`` at the top is ``{"$nor": [filter]}``;
- aliases (``display_name``, ``labels``, ``summary_metrics.*``) name their field.

NaN is left out of the runs: MongoDB's answers for NaN (``$gte: NaN``) are not what Python's
float comparisons give, so no Python implementation is a fair judge there; the unit and
engine-vs-engine tests (tests/unit/test_filters.py, tests/integration/test_pg_filters.py) hold
what NaN means.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

import montydb
import pytest

import lablens

SEED = 20261204
N_RUNS = 48
N_FILTERS = 300
T0 = dt.datetime(2025, 1, 1)

MISSING = object()
INF = math.inf

# What a run may hold, field by field (MISSING: the key is not there at all).
RUN_POOLS: dict[str, list[Any]] = {
    "state": ["FINISHED", "CRASHED", "ABORTED", "RUNNING"],
    "name": ["alpha", "beta", "Gamma", "delta", "alpha beta", None],
    "group": ["g1", "g2", "G1", None],
    "job_type": ["train", "eval", None],
    "notes": ["first try", "diverged", "", None],
    "host": ["box1", "box2", None],
    "config.lr": [0.01, 0.1, 1, "0.001", "0.01", "x", None, True, -INF, INF, MISSING],
    "config.data.bs": [64, 64.0, "64", 32, None, "abc", MISSING],
    "config.layers": [[64, 32], [32], [], [64], [None, 1], ["64", 64], 64, "64", None, MISSING],
    "config.optimizer": ["adam", "Adam", "sgd", "b", "", None, MISSING],
    "config.use_bn": [True, False, 1, 0, None, MISSING],
    "config.mixed": [1, "a", None, True, [], ["a", 1], [True], MISSING],
    "config.seed": [1, 0, -3, None, MISSING],
    "summary.loss": [0.12, 0.5, 2.0, INF, -INF, "0.5", 7, MISSING],
    "summary.val.acc": [0.91, 0.8, 1, 0, "high", MISSING],
    "summary.best": [[0.1, 0.2], [], 0.3, MISSING],
}
TAGS = ["baseline", "cnn", "rnn", "x", "Base"]

# What a filter may compare each field with.
FILTER_POOLS: dict[str, list[Any]] = {
    "state": ["finished", "FINISHED", "Crashed", "running", "aborted", "B", "Z"],
    "name": ["alpha", "beta", "Gamma", "gamma", "alpha beta", "b", "delta"],
    "display_name": ["alpha", "Gamma", "c"],
    "group": ["g1", "g2", "G1", "g", None],
    "job_type": ["train", "eval", "t", None],
    "notes": ["first try", "diverged", "", "e", None],
    "host": ["box1", "box2", "box", None],
    "tags": [*TAGS, "zzz", [], ["baseline", "cnn"]],
    "labels": TAGS,
    "created_at": [f"2025-01-0{d}T{h:02d}:00:00Z" for d in (1, 2, 3) for h in (0, 7, 13)],
    "config.lr": [0.01, 0.1, 1, "0.001", "0.01", "1", "x", None, True, False, -INF, INF, 0],
    "config.data.bs": [64, 64.0, "64", 32, "32", None, "abc", 100],
    "config.layers": [64, 32, "64", 1, None, [64, 32], [], [32]],
    "config.optimizer": ["adam", "Adam", "sgd", "b", "", None, "z"],
    "config.use_bn": [True, False, 1, 0, "1", None],
    "config.mixed": [1, "a", None, True, [], ["a", 1], "1"],
    "config.seed": [1, 0, -3, "0", None, 2],
    "config.nothing": [1, "a", None],
    "summary.loss": [0.12, 0.5, 2.0, INF, -INF, "0.5", 7, "7", None],
    "summary_metrics.loss": [0.5, 2.0, "0.5"],
    "summary.val.acc": [0.91, 0.8, 1, "1", "high", "a", None],
    "summary_metrics.val.acc": [0.8, 1],
    "summary.best": [0.1, 0.2, 0.3, [0.1, 0.2], [], None],
}
TEXT_FIELDS = {"state", "name", "display_name", "group", "job_type", "notes", "host"}
PATTERNS = ["^a", "a$", "n", "^b.*a$", "[0-9]", r"\d", "^$", "x|y", "e{1,2}", "^G", "SE", "^.nn$"]
ALIASES = {"display_name": "name", "labels": "tags"}


# --- the runs --------------------------------------------------------------------------------


def _set(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value


def _make_specs(rng: random.Random) -> list[dict[str, Any]]:
    specs = []
    for i in range(N_RUNS):
        spec: dict[str, Any] = {"id": f"m{i:02d}", "config": {}, "summary": {}}
        for field, pool in RUN_POOLS.items():
            value = rng.choice(pool)
            if value is MISSING:
                continue
            if field.startswith(("config.", "summary.")):
                root, rest = field.split(".", 1)
                _set(spec[root], rest, value)
            else:
                spec[field] = value
        if rng.random() < 0.15:
            spec["config"]["data"] = "flat"  # config.data.bs is then missing
        spec["tags"] = rng.sample(TAGS, rng.choice([0, 0, 1, 2, 3]))
        spec["created_at"] = T0 + dt.timedelta(hours=7 * i % 61)
        specs.append(spec)
    return specs


def _without_nulls(value: Any) -> Any:
    """A document as lablens sees it: a null-valued key is no key (nulls in arrays stay)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


@pytest.fixture(scope="module")
def runs_and_oracle(server):
    """The runs on the server (a project of their own), and the same runs in montydb."""
    api = lablens.Api(host=server.url, api_key=server.api_key)
    project = api.create_project("filters-vs-mongodb")
    specs = _make_specs(random.Random(SEED))
    route = f"/api/v1/projects/{server.username}/{project.name}/runs"
    docs = []
    for spec in specs:
        body = {k: v for k, v in spec.items() if k not in ("state", "summary")}
        body["created_at"] = spec["created_at"].isoformat() + "Z"
        api.client.post_json(route, body)
        changes: dict[str, Any] = {"summary": spec["summary"]} if spec["summary"] else {}
        if spec.get("state", "RUNNING") != "RUNNING":
            changes["state"] = spec["state"]
        if changes:
            api.client.patch_json(f"{route}/{spec['id']}", changes)
        run = api.run(f"{project.path}/{spec['id']}")
        # The run as stored: the server names a run without a name after its id.
        doc = {
            "_id": spec["id"],
            "name": run.name,
            "state": run.state.upper(),
            "tags": list(run.tags),
            "username": server.username,
            "created_at": spec["created_at"],
            **{k: spec.get(k) for k in ("group", "job_type", "notes", "host")},
            "config": spec["config"],
            "summary": spec["summary"],
        }
        assert run.tags == spec["tags"] and run.group == spec.get("group")
        docs.append(_without_nulls(doc))
    collection = montydb.MontyClient(":memory:").db.runs
    collection.insert_many(docs)
    yield api, project.path, collection
    project.delete()


# --- random filters ------------------------------------------------------------------------------


def _value(rng: random.Random, field: str) -> Any:
    return rng.choice(FILTER_POOLS[field])


def _leaf(rng: random.Random) -> dict[str, Any]:
    field = rng.choice(list(FILTER_POOLS))
    pool = FILTER_POOLS[field]
    scalars = [v for v in pool if not isinstance(v, list)]
    ordered = [v for v in scalars if v is not None and not isinstance(v, bool)]
    ops = ["plain", "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists"]
    ops += ["$regex", "$not", "range"]
    op = rng.choice(ops)
    if field == "created_at":
        # Times compare as times; a pattern or a null means nothing for them.
        op = rng.choice(["$gt", "$gte", "$lt", "$lte", "$eq", "$ne", "$in", "range", "$exists"])
    if op == "plain":
        return {field: rng.choice(pool)}
    if op in ("$eq", "$ne"):
        return {field: {op: rng.choice(pool)}}
    if op in ("$in", "$nin"):
        return {field: {op: rng.sample(scalars, rng.randint(0, min(3, len(scalars))))}}
    if op == "$exists":
        return {field: {op: rng.random() < 0.5}}
    if op == "$regex":
        body: dict[str, Any] = {"$regex": rng.choice(PATTERNS)}
        if rng.random() < 0.3:
            body["$options"] = "i"
        return {field: body}
    if op == "range":
        low, high = sorted(rng.sample(ordered, 2), key=_order_key)
        return {field: {rng.choice(["$gt", "$gte"]): low, rng.choice(["$lt", "$lte"]): high}}
    if op == "$not":
        inner = rng.choice(["$gt", "$lte", "$in", "$regex", "$eq"])
        if inner == "$in":
            return {field: {"$not": {"$in": rng.sample(scalars, 2)}}}
        if inner == "$regex" and field != "created_at":
            return {field: {"$not": {"$regex": rng.choice(PATTERNS)}}}
        if inner == "$eq":
            return {field: {"$not": {"$eq": rng.choice(scalars)}}}
        return {field: {"$not": {rng.choice(["$gt", "$lte"]): rng.choice(ordered)}}}
    return {field: {op: rng.choice(ordered)}}


def _order_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float) else (1, str(value))


def _random_filter(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    roll = rng.random()
    if depth >= 2 or roll < 0.45:
        leaf = _leaf(rng)
        if rng.random() < 0.15:
            leaf.update(_leaf(rng))  # several fields in one object are ANDed
        return leaf
    if roll < 0.85:
        op = rng.choice(["$and", "$or", "$nor"])
        return {op: [_random_filter(rng, depth + 1) for _ in range(rng.randint(1, 3))]}
    return {"$not": _random_filter(rng, depth + 1)}


# --- the translation to MongoDB's own words ------------------------------------------------------


def _number_too(value: Any) -> list[Any]:
    """``value``, and the number a string reads as (lablens's SwanLab rule, docs/filters.md)."""
    if isinstance(value, str):
        try:
            return [value, float(value)]
        except ValueError:
            pass
    return [value]


def _to_mongo(filters: dict[str, Any]) -> dict[str, Any]:
    parts = []
    for key, cond in filters.items():
        if key in ("$and", "$or", "$nor"):
            parts.append({key: [_to_mongo(part) for part in cond]})
        elif key == "$not":
            parts.append({"$nor": [_to_mongo(cond)]})
        else:
            field = ALIASES.get(key, key)
            if field.startswith("summary_metrics."):
                field = "summary." + field.split(".", 1)[1]
            # An alias and its field may both be in one object: each its own condition.
            parts.append({field: _condition(field, cond)})
    if not parts:
        return {}
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _operand(field: str, value: Any) -> Any:
    if field == "state" and isinstance(value, str):
        return value.upper()
    if field == "created_at" and isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=None)
    return value


def _condition(field: str, cond: Any) -> Any:
    is_json = field.startswith(("config.", "summary."))
    if not isinstance(cond, dict):
        cond = {"$eq": cond}
    out: dict[str, Any] = {}
    for op, value in cond.items():
        if op == "$not":
            out["$not"] = _condition(field, value)
        elif op in ("$in", "$nin"):
            values = [_operand(field, v) for v in value]
            if is_json:
                values = [w for v in values for w in _number_too(v)]
            out[op] = values
        elif op in ("$eq", "$ne") and is_json and len(_number_too(value)) == 2:
            out["$in" if op == "$eq" else "$nin"] = _number_too(value)
        elif op == "$regex" and field == "state":
            out[op], out["$options"] = value, "i"
        elif op == "$options":
            out[op] = "i" if field == "state" else value
        else:
            out[op] = _operand(field, value)
    return out


# --- the comparison ------------------------------------------------------------------------------


def test_random_filters_answer_as_mongodb(runs_and_oracle):
    api, path, collection = runs_and_oracle
    rng = random.Random(SEED)
    differences = []
    matched_sizes = set()
    for _ in range(N_FILTERS):
        filters = _random_filter(rng)
        got = {run.id for run in api.runs(path, filters=filters, per_page=1000)}
        want = {doc["_id"] for doc in collection.find(_to_mongo(filters))}
        matched_sizes.add(len(want))
        if got != want:
            differences.append((filters, sorted(got - want), sorted(want - got)))
    assert differences == [], f"{len(differences)} of {N_FILTERS} differ: {differences[:5]}"
    # The filters are not all trivially empty or full: they split the runs in many ways.
    assert len(matched_sizes) > 20 and 0 in matched_sizes and N_RUNS in matched_sizes


def test_an_empty_array_exists(runs_and_oracle):
    api, path, collection = runs_and_oracle

    def ids(filters: dict[str, Any]) -> set[str]:
        return {run.id for run in api.runs(path, filters=filters, per_page=1000)}

    docs = list(collection.find({}))
    untagged = {d["_id"] for d in docs if d["tags"] == []}
    empty_mixed = {d["_id"] for d in docs if d["config"].get("mixed") == []}
    assert untagged and empty_mixed  # the seed made such runs
    assert ids({"tags": {"$exists": True}}) == {d["_id"] for d in docs}
    assert ids({"tags": {"$exists": False}}) == set()
    assert ids({"labels": {"$ne": []}}) == {d["_id"] for d in docs} - untagged
    assert empty_mixed <= ids({"config.mixed": {"$exists": True}})
    assert ids({"config.mixed": []}) == empty_mixed
