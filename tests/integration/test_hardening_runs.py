"""Runs against careless and hostile clients: wide run tables, odd keys, bad ids and limits.

Each test talks to a real server on loopback; the limit rows run on a server of their own, started
with small limits so a row stays small.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from servers import RunningServer, start_server, stop_server

# -- a run table of 20,000 keys per run ----------------------------------------------------------

WIDE_KEYS = 20_000
# The plain run columns every run table starts with (id, name, state, ..., sweep).
BASE_COLUMNS = 13


def _wide_value(i: int, j: int) -> Any:
    kind = j % 4
    if kind == 0:
        return i * 100_000 + j
    if kind == 1:
        return i + j / 8
    if kind == 2:
        return f"v{i}-{j}"
    return (i + j) % 3 == 0


def test_a_table_of_20000_keys_per_run_answers_every_value(api, make_project):
    project = make_project()
    base = f"/api/v1/projects/{project.path}/runs"
    half = WIDE_KEYS // 2
    for i in range(3):
        config = {f"p{j:05d}": _wide_value(i, j) for j in range(half)}
        summary = {f"m{j:05d}": _wide_value(i, j) for j in range(half, WIDE_KEYS)}
        api.client.post_json(base, {"id": f"w{i}", "config": config})
        api.client.patch_json(f"{base}/w{i}", {"summary": summary, "state": "FINISHED"})
    # One narrow run beside them: its missing keys read as nulls.
    api.client.post_json(base, {"id": "n0", "config": {"p00000": -1}})

    frame = api.runs(project.path).to_pandas()

    assert frame.shape == (4, BASE_COLUMNS + WIDE_KEYS)
    assert frame["id"].tolist() == ["w0", "w1", "w2", "n0"]
    for i in range(3):
        for j in (0, 1, 2, 3, 4_097, 9_998, 9_999, 10_000, 10_001, 15_002, 19_999):
            column = f"config.p{j:05d}" if j < half else f"summary.m{j:05d}"
            assert frame[column][i] == _wide_value(i, j), (i, column)
    assert frame["config.p00000"][3] == -1
    assert pd.isna(frame["config.p00001"][3]) and pd.isna(frame["summary.m19999"][3])
    assert frame["config.p00004"].dtype == "float64"  # ints beside a null, as pandas has it
    assert frame["config.p00005"].tolist()[:3] == [5 / 8, 1 + 5 / 8, 2 + 5 / 8]

    # A page of the wide table: the row asked for, and the count of all.
    page = api.runs(project.path).to_arrow(offset=1, limit=1)
    assert page.num_rows == 1 and page.num_columns == BASE_COLUMNS + WIDE_KEYS
    assert int(page.schema.metadata[b"total"]) == 4
    assert page.column("id").to_pylist() == ["w1"]
    assert page.column("summary.m10002").to_pylist() == ["v1-10002"]
    # Some columns only, and a filter.
    some = api.runs(project.path, filters={"config.p00000": {"$gte": 0}}).to_pandas(
        ["config.p00003", "summary.m12345"]
    )
    assert some["id"].tolist() == ["w0", "w1", "w2"]
    assert some["config.p00003"].tolist() == [_wide_value(i, 3) for i in range(3)]
    assert some["summary.m12345"].tolist() == [_wide_value(i, 12_345) for i in range(3)]


def test_a_wide_table_streams_in_batches_with_every_row_in_order(tmp_path):
    # 3,000 runs x 300 keys: past WIDE_KEYS and two batches of BATCH_CELLS, read over HTTP, so
    # the batches are built by the server's threads as the answer streams.
    import getpass

    from lablens.api import Api
    from lablens.server.main import ensure_admin
    from lablens.store import open_store

    data = tmp_path / "data"
    data.mkdir()
    store = open_store(data)
    try:
        ensure_admin(store, data, allow_create=True)
        user = getpass.getuser() or "admin"
        runs = [
            {
                "id": f"s{i:05d}",
                "config": {f"c{j:03d}": i * 1_000 + j for j in range(150)},
                "summary": {f"m{j:03d}": f"{i}:{j}" for j in range(150) if (i + j) % 7},
            }
            for i in range(3_000)
        ]
        store.insert_runs(user, "stream", runs, username=user)
    finally:
        store.close()
    srv = start_server(data, tmp_path / "home")
    try:
        api = Api(host=srv.url, api_key=srv.api_key)
        table = api.runs(f"{srv.username}/stream", order="-id").to_arrow()
        page = api.runs(f"{srv.username}/stream", order="+id").to_arrow(offset=2_990, limit=20)
    finally:
        stop_server(srv)
    assert table.num_rows == 3_000 and table.num_columns == BASE_COLUMNS + 300
    assert table.column("id").to_pylist() == [f"s{i:05d}" for i in reversed(range(3_000))]
    assert table.column("config.c149").to_pylist() == [
        i * 1_000 + 149 for i in reversed(range(3_000))
    ]
    assert table.column("summary.m003").to_pylist() == [
        f"{i}:3" if (i + 3) % 7 else None for i in reversed(range(3_000))
    ]
    assert int(page.schema.metadata[b"total"]) == 3_000
    assert page.column("id").to_pylist() == [f"s{i:05d}" for i in range(2_990, 3_000)]


def test_wide_and_narrow_tables_read_every_value_the_same(tmp_path, monkeypatch):
    from lablens.store import open_store
    from lablens.store.embedded import _run_table

    store = open_store(tmp_path / "data")
    try:
        store.create_user("u", is_admin=True)
        runs = [
            {
                "id": "a",
                "config": {
                    "lr": 0.1,
                    "n": 3,
                    "big": 2**70,
                    "opt": "adam",
                    "flag": True,
                    "mix": 1,
                    "nest": {"x": [1, 2]},
                    "nan": math.nan,
                },
                "summary": {"loss": 1.5, "acc": "0.3"},
                "tags": ["t"],
            },
            {
                "id": "b",
                "config": {"lr": 1, "n": 4.5, "opt": None, "mix": "s", "nest": {"x": "s"}},
                "summary": {"loss": -math.inf},
            },
            {"id": "c"},
        ]
        store.insert_runs("u", "p", runs, username="u")
        narrow = store.runs_table("u", "p").read_all()
        monkeypatch.setattr(_run_table, "WIDE_KEYS", 0)
        monkeypatch.setattr(_run_table, "BATCH_CELLS", 1)  # a batch per run
        wide = store.runs_table("u", "p").read_all()
    finally:
        store.close()
    assert wide.schema == narrow.schema
    assert wide.schema.metadata == narrow.schema.metadata == {b"total": b"3"}
    assert str(wide.to_pylist()) == str(narrow.to_pylist())  # str: NaN equals NaN
    assert wide.column("config.nan").to_pylist()[0] != wide.column("config.nan").to_pylist()[0]
    assert wide.column("config.mix").to_pylist() == ["1", "s", None]
    assert wide.column("summary.loss").to_pylist() == [1.5, -math.inf, None]


# -- odd keys: one run's keys never break the table of its project ---------------------------------

ODD_KEYS = {
    "": "empty",
    '"': "double quote",
    "'": "single quote",
    "a\\b": "backslash",
    "\\": "lone backslash",
    "x'); DROP TABLE runs; --": "sql",
    "k" * 1_000: "long",
    "é.日本": "unicode and a dot",
    "Case": "upper",
    "case": "lower",
    "tab\there": "control",
    "%s {0} $1 ?": "placeholders",
}


def test_odd_config_keys_are_stored_and_every_reader_reads_them(api, make_project):
    project = make_project()
    base = f"/api/v1/projects/{project.path}/runs"
    api.client.post_json(base, {"id": "plain", "config": {"lr": 0.1}})
    api.client.post_json(base, {"id": "odd", "config": ODD_KEYS})
    api.client.patch_json(f"{base}/odd", {"summary": {"": 1.5, '"q"': 2}})

    frame = api.runs(project.path).to_pandas()

    assert frame["id"].tolist() == ["plain", "odd"]
    assert frame["config.lr"].tolist()[0] == 0.1
    for key, value in ODD_KEYS.items():
        if key == "é.日本":  # a dotted key is a nested key, as everywhere
            continue
        column = frame[f"config.{key}"].tolist()
        assert pd.isna(column[0]) and column[1] == value, key
    assert frame["config.é.日本"].tolist()[1] == "unicode and a dot"
    assert frame["summary."].tolist()[1] == 1.5
    assert frame['summary."q"'].tolist()[1] == 2
    assert api.run(f"{project.path}/odd").config[""] == "empty"
    # The odd run is readable alone, by columns, and filters still work on the project.
    alone = api.runs(project.path).to_pandas(["config."])
    assert list(alone.columns) == ["id", "config."] and alone["config."].tolist()[1] == "empty"
    done = api.runs(project.path, filters={"config.lr": 0.1}).to_pandas()
    assert done["id"].tolist() == ["plain"]


# -- the hostile-input table -------------------------------------------------------------------

LIMITS = {
    "LABLENS_MAX_DEPTH": "8",
    "LABLENS_MAX_KEY_LENGTH": "100",
    "LABLENS_MAX_FIELDS_PER_RUN": "50",
}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with small limits: depth 8, keys of 100 characters, 50 keys per run."""
    saved = {k: os.environ.get(k) for k in LIMITS}
    os.environ.update(LIMITS)
    try:
        root = tmp_path_factory.mktemp("limited")
        srv = start_server(root / "data", root / "home")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield srv
    stop_server(srv)


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"n": value}
    return value


def _many(n: int) -> dict[str, int]:
    return {f"k{i}": i for i in range(n)}


NEW, RUN, TABLE = "POST runs", "PATCH runs/r1", "POST runs/table"
# (what is sent, where, body, status, problem code, field)
HOSTILE = [
    ("id .", NEW, {"id": "."}, 400, "bad_request", "id"),
    ("id ..", NEW, {"id": ".."}, 400, "bad_request", "id"),
    ("id with a backslash", NEW, {"id": "a\\b"}, 400, "bad_request", "id"),
    ("id with NUL", NEW, {"id": "a\x00b"}, 400, "bad_request", "id"),
    ("id with a newline", NEW, {"id": "a\nb"}, 400, "bad_request", "id"),
    ("id with DEL", NEW, {"id": "a\x7fb"}, 400, "bad_request", "id"),
    ("name with NUL", NEW, {"name": "a\x00b"}, 400, "bad_request", "name"),
    ("group with NUL", NEW, {"group": "g\x00"}, 400, "bad_request", "group"),
    ("tag with NUL", NEW, {"tags": ["ok", "t\x00"]}, 400, "bad_request", "tags[1]"),
    ("config key NUL", NEW, {"config": {"a\x00": 1}}, 400, "bad_request", "config"),
    ("config key surrogate", NEW, {"config": {"\ud800": 1}}, 400, "bad_request",
     "config.\\ud800"),
    ("config value surrogate", NEW, {"config": {"a": ["\ud800"]}}, 400, "bad_request",
     "config.a[0]"),
    ("config 9 deep", NEW, {"config": _nested(9)}, 400, "limit_exceeded", "config"),
    ("config 9 deep in a list", NEW, {"config": {"a": [[[[[[[[1]]]]]]]]}}, 400,
     "limit_exceeded", "config"),
    ("config 20 deep", NEW, {"config": _nested(20)}, 400, "limit_exceeded", "config"),
    # Deeper than 4 x LABLENS_MAX_DEPTH, the whole body is refused before the route.
    ("config 150 deep", NEW, {"config": _nested(150)}, 400, "limit_exceeded", "body"),
    ("config key 101 chars", NEW, {"config": {"k" * 101: 1}}, 400, "limit_exceeded", "config"),
    ("config 51 keys", NEW, {"config": _many(51)}, 400, "limit_exceeded", "config"),
    ("config 51 nested keys", NEW, {"config": {"a": _many(26), "b": _many(25)}}, 400,
     "limit_exceeded", "config"),
    ("metadata 9 deep", NEW, {"metadata": _nested(9)}, 400, "limit_exceeded", "metadata"),
    ("exit_code 2^31", RUN, {"exit_code": 2**31}, 400, "bad_request", "exit_code"),
    ("exit_code 2^63", RUN, {"exit_code": 2**63}, 400, "bad_request", "exit_code"),
    ("exit_code -2^31-1", RUN, {"exit_code": -(2**31) - 1}, 400, "bad_request", "exit_code"),
    ("name NUL on update", RUN, {"name": "x\x00"}, 400, "bad_request", "name"),
    ("notes NUL", RUN, {"notes": "x\x00"}, 400, "bad_request", "notes"),
    ("description NUL", RUN, {"description": "x\x00"}, 400, "bad_request", "description"),
    ("tag NUL on update", RUN, {"tags": ["\x00"]}, 400, "bad_request", "tags[0]"),
    ("summary 9 deep", RUN, {"summary": _nested(9)}, 400, "limit_exceeded", "summary"),
    ("summary key 101 chars", RUN, {"summary": {"s" * 101: 1}}, 400, "limit_exceeded", "summary"),
    ("summary 41 more keys", RUN, {"summary": {f"s{i}": i for i in range(41)}}, 400,
     "limit_exceeded", "summary"),
    ("config 51 keys on update", RUN, {"config": _many(51)}, 400, "limit_exceeded", "config"),
    ("table offset 2^63", TABLE, {"offset": 2**63}, 400, "bad_request", "offset"),
    ("table offset 2^64", TABLE, {"offset": 2**64}, 400, "bad_request", "offset"),
    ("table limit 2^63", TABLE, {"limit": 2**63}, 400, "bad_request", "limit"),
    ("table offset 10^30", TABLE, {"offset": 10**30, "limit": 5}, 400, "bad_request", "offset"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("where", "body", "status", "code", "field"),
    [pytest.param(*row[1:], id=row[0]) for row in HOSTILE],
)
def test_hostile_input_is_refused_naming_the_field(
    request, limited, unique, where, body, status, code, field
):
    import requests

    label = request.node.callspec.id
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {limited.api_key}"
    base = f"{limited.url}/api/v1/projects/{limited.username}/{unique}"
    run = {"id": "r1", "name": "keep", "config": {"lr": 0.5}, "tags": ["t"]}
    assert session.post(f"{base}/runs", json=run).status_code == 201
    r1 = session.patch(f"{base}/runs/r1", json={"summary": _many(10), "exit_code": 3})
    assert r1.status_code == 200
    before = session.get(f"{base}/runs/r1").json()

    method, _, route = where.partition(" ")
    r = session.request(method, f"{base}/{route}", json=body)

    assert r.status_code == status, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == code
    assert [e["field"] for e in problem["errors"]][:1] == [field]
    if code == "limit_exceeded":  # the limit named is the one the row goes past
        # A whole body may nest 4 x LABLENS_MAX_DEPTH before the route sees it.
        depth = 4 * 8 if field == "body" else 8
        assert problem["errors"][0]["limit"] == (
            depth if "deep" in label else 100 if "chars" in label else 50
        )
    # Nothing stored was touched, and the project's table still reads.
    after = session.get(f"{base}/runs/r1").json()
    assert {k: after[k] for k in ("name", "config", "summary", "tags", "exit_code")} == {
        k: before[k] for k in ("name", "config", "summary", "tags", "exit_code")
    }
    table = session.post(f"{base}/runs/table", json={})
    assert table.status_code == 200
    rows = pa.ipc.open_stream(table.content).read_all()
    assert rows.column("id").to_pylist() == ["r1"]


def test_a_run_id_that_round_trips_is_addressable(api, make_project):
    project = make_project()
    base = f"/api/v1/projects/{project.path}/runs"
    for run_id in ("a.b", "...", "a b", "ü-id", "50%", "a?b#c", "~x"):
        api.client.post_json(base, {"id": run_id})
        assert api.run(f"{project.path}/{run_id}").id == run_id
