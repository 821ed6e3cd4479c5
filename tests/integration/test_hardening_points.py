"""Points, console and history against careless and hostile clients (issue 18, items 2 and 9).

- Metric keys are interned set-based: 20,000 new keys of one run come back exactly.
- Limits on keys per request, keys per run and key length refuse a batch whole, naming the
  limit, and leave what was stored before as it was.
- A hostile-input table: each row is a request that used to be a 500 (or was stored although
  it makes no sense); each is now a 400 naming the field, and nothing of its batch is stored.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pytest
import requests

from lablens.transport import ARROW, ipc_to_table, table_to_ipc
from servers import start_server, stop_server

JSON = "application/json"
# -- helpers ----------------------------------------------------------------------------------


class Client:
    """Raw HTTP to one server (the hostile requests cannot go through ``Api``)."""

    def __init__(self, srv: Any) -> None:
        self.srv = srv
        self.headers = {"Authorization": f"Bearer {srv.api_key}"}

    def project(self) -> str:
        return f"{self.srv.url}/api/v1/projects/{self.srv.username}/p{uuid.uuid4().hex[:10]}"

    def new_run(self, project: str | None = None) -> str:
        project = project or self.project()
        r = requests.post(f"{project}/runs", json={}, headers=self.headers, timeout=30)
        assert r.status_code in (200, 201), r.text
        return f"{project}/runs/{r.json()['id']}"

    def post(
        self,
        url: str,
        body: bytes | str | Any,
        ctype: str = JSON,
        batch_id: str | None = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        headers = {**self.headers, "Content-Type": ctype}
        if batch_id:
            headers["X-Lablens-Batch-Id"] = batch_id
        return requests.post(url, data=body, headers=headers, params=params, timeout=120)

    def points(self, run: str, table: pa.Table, **kw: Any) -> requests.Response:
        return self.post(f"{run}/points", table_to_ipc(table), ARROW, **kw)

    def history(self, run: str, **body: Any) -> pa.Table:
        project, _, run_id = run.rpartition("/runs/")
        r = self.post(f"{project}/history", {"runs": [run_id], **body})
        assert r.status_code == 200, r.text
        return ipc_to_table(r.content)

    def series(self, run: str) -> dict[str, list[tuple[int, float, float]]]:
        """Every point of the run: ``{key: [(step, timestamp, value), ...]}``."""
        table = self.history(run)
        out: dict[str, list[tuple[int, float, float]]] = {}
        for row in table.to_pylist():
            out.setdefault(row["key"], []).append((row["step"], row["timestamp"], row["value"]))
        return out

    def run(self, run: str) -> dict[str, Any]:
        r = requests.get(run, headers=self.headers, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def console(self, run: str) -> list[dict[str, Any]]:
        r = requests.get(f"{run}/console", headers=self.headers, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["items"]


def arrow_points(keys: list[str], steps: list[int] | None = None, value: float = 0.5) -> pa.Table:
    steps = steps if steps is not None else [0] * len(keys)
    return pa.table(
        {
            "key": pa.array(keys, pa.string()),
            "step": pa.array(steps, pa.int64()),
            "timestamp": pa.array([1.7e9 + s for s in steps], pa.float64()),
            "value": pa.array([value + i for i in range(len(keys))], pa.float64()),
        }
    )


def assert_problem(
    r: requests.Response, status: int, field: str, code: str = "bad_request"
) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["errors"][0]["field"] == field, body
    return body


@pytest.fixture
def client(server: Any) -> Client:
    return Client(server)


# -- item 2: set-based interning --------------------------------------------------------------


def test_twenty_thousand_new_keys_come_back_exactly(client: Client) -> None:
    run = client.new_run()
    names = [f"layer{i // 100:03d}/unit{i % 100:02d}/grad_norm" for i in range(20_000)]
    for start in range(0, len(names), 5_000):  # under the per-request limit of 10,000
        batch = names[start : start + 5_000]
        table = pa.table(
            {
                "key": pa.array(batch * 2, pa.string()),
                "step": pa.array([0] * len(batch) + [7] * len(batch), pa.int64()),
                "timestamp": pa.array([1.7e9] * len(batch) + [1.7e9 + 7] * len(batch)),
                "value": pa.array(
                    [start + i + 0.25 for i in range(len(batch))]
                    + [-(start + i) - 0.5 for i in range(len(batch))]
                ),
            }
        )
        r = client.points(run, table, batch_id=uuid.uuid4().hex)
        assert r.json() == {"stored": 10_000, "duplicate": False}

    got = client.series(run)
    assert len(got) == 20_000 and set(got) == set(names)
    for i, name in enumerate(names):
        assert got[name] == [(0, 1.7e9, i + 0.25), (7, 1.7e9 + 7, -i - 0.5)], name
    stored = client.run(run)
    assert len(stored["history_keys"]) == 20_000
    assert stored["history_keys"][names[12_345]] == {"count": 2, "last_step": 7}
    assert len(stored["summary"]) == 20_000
    assert stored["summary"][names[19_999]] == -19_999.5


def test_interning_mixes_known_and_new_keys_per_stream(client: Client) -> None:
    project = client.project()
    first, second = client.new_run(project), client.new_run(project)
    client.points(first, arrow_points(["a", "b", "c"]))
    # "b" and "c" are known keys, "d" and "e" new; the system stream has its own "a".
    assert client.points(second, arrow_points(["b", "d", "c", "e"], value=10)).ok
    r = client.points(second, arrow_points(["a", "d"], value=20), params={"stream": "system"})
    assert r.ok
    assert {k: [p[2] for p in v] for k, v in client.series(first).items()} == {
        "a": [0.5],
        "b": [1.5],
        "c": [2.5],
    }
    assert {k: [p[2] for p in v] for k, v in client.series(second).items()} == {
        "b": [10.0],
        "c": [12.0],
        "d": [11.0],
        "e": [13.0],
    }
    system = client.history(second, stream="system").to_pylist()
    assert sorted((p["key"], p["value"]) for p in system) == [("a", 20.0), ("d", 21.0)]
    fields = requests.get(project + "/fields", headers=client.headers, timeout=30).json()["summary"]
    assert {k: fields[k] for k in "abcde"} == dict.fromkeys("abcde", "number")


def test_a_logged_number_widens_a_summary_string_field(client: Client) -> None:
    project = client.project()
    run = client.new_run(project)
    r = requests.patch(run, json={"summary": {"acc": "high"}}, headers=client.headers, timeout=30)
    assert r.ok, r.text
    client.points(run, arrow_points(["acc", "loss"]))
    fields = requests.get(project + "/fields", headers=client.headers, timeout=30).json()
    assert fields["summary"]["acc"] == "string" and fields["summary"]["loss"] == "number"


# -- item 2: limits, on a server of its own with small ones -------------------------------------


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """A server allowing 50 keys per request, 80 per run and keys of 16 characters."""
    tmp = tmp_path_factory.mktemp("limited")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABLENS_MAX_KEYS_PER_REQUEST", "50")
        mp.setenv("LABLENS_MAX_KEYS_PER_RUN", "80")
        mp.setenv("LABLENS_MAX_KEY_LENGTH", "16")
        (tmp / "home").mkdir()
        srv = start_server(tmp / "data", tmp / "home")
    yield Client(srv)
    stop_server(srv)


def _limit(r: requests.Response, limit: int) -> None:
    body = assert_problem(r, 400, "key", code="limit_exceeded")
    assert body["errors"][0]["limit"] == limit, body
    assert f"{limit}" in body["detail"]


def test_a_request_above_the_keys_per_request_limit_is_refused_whole(limited: Client) -> None:
    run = limited.new_run()
    first = [f"k{i}" for i in range(30)]
    assert limited.points(run, arrow_points(first)).ok
    before = limited.series(run)

    wide = [f"k{i}" for i in range(51)]  # 30 known + 21 new: 51 distinct keys
    _limit(limited.points(run, arrow_points(wide, [1] * 51), batch_id="wide"), 50)
    rows = {"rows": [{"step": 1, "timestamp": 1.7e9, "data": {k: 1.0 for k in wide}}]}
    _limit(limited.post(f"{run}/points", rows), 50)
    assert limited.series(run) == before
    # The refused batch's id was not kept: the same id with a batch within the limit stores.
    r = limited.points(run, arrow_points(wide[:50], [1] * 50), batch_id="wide")
    assert r.json() == {"stored": 50, "duplicate": False}
    # 50 distinct keys over many rows is within the limit.
    assert limited.points(run, arrow_points(wide[:50] * 3, [2] * 150)).ok


def test_a_batch_past_the_keys_per_run_limit_is_refused_and_earlier_data_kept(
    limited: Client,
) -> None:
    project = limited.project()
    run = limited.new_run(project)
    assert limited.points(run, arrow_points([f"a{i}" for i in range(50)])).ok
    assert limited.points(run, arrow_points([f"b{i}" for i in range(30)])).ok  # 80: the limit
    before = limited.series(run)
    assert len(before) == 80

    known_and_one_new = ["a1", "a2", "b3", "c0"]
    _limit(limited.points(run, arrow_points(known_and_one_new, [5] * 4)), 80)
    rows = {"rows": [{"step": 5, "timestamp": 1.7e9, "data": {"a1": 1.0, "zz": 2.0}}]}
    _limit(limited.post(f"{run}/points", rows), 80)
    assert limited.series(run) == before
    assert limited.run(run)["history_keys"]["a1"] == {"count": 1, "last_step": 0}
    # Known keys still log, and another run has its own 80.
    assert limited.points(run, arrow_points(["a1", "b29"], [9, 9])).ok
    assert limited.series(run)["a1"][-1][0] == 9
    assert limited.points(limited.new_run(project), arrow_points(["c0", "c1"])).ok


def test_a_key_longer_than_the_limit_is_refused(limited: Client) -> None:
    run = limited.new_run()
    assert limited.points(run, arrow_points(["x" * 16])).ok
    _limit(limited.points(run, arrow_points(["ok", "y" * 17])), 16)
    rows = {"rows": [{"step": 0, "timestamp": 1.7e9, "data": {"é" * 17: 1.0}}]}
    _limit(limited.post(f"{run}/points", rows), 16)
    assert list(limited.series(run)) == ["x" * 16]


# -- item 9: the hostile-input table -----------------------------------------------------------


def _rows(step: Any = 1, timestamp: Any = 1.7e9, data: Any = None) -> str:
    return json.dumps({"rows": [{"step": step, "timestamp": timestamp, "data": data or {"x": 1}}]})


def _arrow(**cols: Any) -> bytes:
    base: dict[str, Any] = {
        "key": pa.array(["x"], pa.string()),
        "step": pa.array([1], pa.int64()),
        "timestamp": pa.array([1.7e9], pa.float64()),
        "value": pa.array([1.0], pa.float64()),
    }
    return table_to_ipc(pa.table({**base, **cols}))


def _bad_utf8_key() -> pa.Array:
    offsets = pa.py_buffer(pa.array([0, 2], pa.int32()).buffers()[1])
    return pa.Array.from_buffers(pa.string(), 1, [None, offsets, pa.py_buffer(b"\xff\xfe")])


# (id, route, content type, body, status, field). Each row was a 500 before, or (marked
# "stored") was taken although it makes no sense.
HOSTILE: list[tuple[str, str, str, Callable[[], bytes | str], int, str]] = [
    ("json step 2^63", "points", JSON, lambda: _rows(step=2**63), 400, "rows[0].step"),
    ("json step 2^64", "points", JSON, lambda: _rows(step=2**64), 400, "rows[0].step"),
    ("json step -1 (stored)", "points", JSON, lambda: _rows(step=-1), 400, "rows[0].step"),
    ("json step 2^53 (stored)", "points", JSON, lambda: _rows(step=2**53), 400, "rows[0].step"),
    (
        "json value 2^1100",
        "points",
        JSON,
        lambda: _rows(data={"loss": 2**1100}),
        400,
        "rows[0].data.loss",
    ),
    (
        "json timestamp 2^1100",
        "points",
        JSON,
        lambda: _rows(timestamp=2**1100),
        400,
        "rows[0].timestamp",
    ),
    (
        "json timestamp NaN (stored)",
        "points",
        JSON,
        lambda: '{"rows": [{"step": 1, "timestamp": NaN, "data": {"x": 1}}]}',
        400,
        "rows[0].timestamp",
    ),
    (
        "json key lone surrogate",
        "points",
        JSON,
        lambda: '{"rows": [{"step": 1, "timestamp": 1.0, "data": {"\\ud800": 1}}]}',
        400,
        "rows[0].data.\\ud800",
    ),
    (
        "json third row's step 2^63, after good rows",
        "points",
        JSON,
        lambda: json.dumps(
            {
                "rows": [
                    {"step": 1, "timestamp": 1.0, "data": {"x": 1}},
                    {"step": 2, "timestamp": 1.0, "data": {"x": 2}},
                    {"step": 2**63, "timestamp": 1.0, "data": {"x": 3}},
                ]
            }
        ),
        400,
        "rows[2].step",
    ),
    (
        "json nested 5,000 deep",
        "points",
        JSON,
        lambda: (
            '{"rows": [{"step": 1, "timestamp": 1, "data": '
            + '{"a": ' * 5000
            + "1"
            + "}" * 5000
            + "}]}"
        ),
        400,
        "body",
    ),
    (
        "arrow uint64 step 2^63",
        "points",
        ARROW,
        lambda: _arrow(step=pa.array([2**63], pa.uint64())),
        400,
        "body.step",
    ),
    (
        "arrow step -5 (stored)",
        "points",
        ARROW,
        lambda: _arrow(step=pa.array([-5])),
        400,
        "body.step",
    ),
    (
        "arrow step 2^60 (stored)",
        "points",
        ARROW,
        lambda: _arrow(step=pa.array([2**60])),
        400,
        "body.step",
    ),
    (
        "arrow key dictionary of integers (stored)",
        "points",
        ARROW,
        lambda: _arrow(key=pa.array([7]).dictionary_encode()),
        400,
        "body.key",
    ),
    ("arrow key not UTF-8", "points", ARROW, lambda: _arrow(key=_bad_utf8_key()), 400, "body.key"),
    (
        "arrow timestamp NaN (stored)",
        "points",
        ARROW,
        lambda: _arrow(timestamp=pa.array([math.nan])),
        400,
        "body.timestamp",
    ),
    ("arrow step float", "points", ARROW, lambda: _arrow(step=pa.array([1.5])), 400, "body.step"),
    ("arrow value text", "points", ARROW, lambda: _arrow(value=pa.array(["x"])), 400, "body.value"),
    ("console no lines", "console", JSON, lambda: '{"lines": []}', 400, "lines"),
    (
        "console ts 2^1100",
        "console",
        JSON,
        lambda: json.dumps({"lines": [{"line": "x", "ts": 2**1100}]}),
        400,
        "lines[0].ts",
    ),
    (
        "console ts text",
        "console",
        JSON,
        lambda: json.dumps({"lines": [{"line": "x", "ts": "soon"}]}),
        400,
        "lines[0].ts",
    ),
    (
        "console line lone surrogate",
        "console",
        JSON,
        lambda: '{"lines": [{"line": "ok"}, {"line": "\\ud800"}]}',
        400,
        "lines[1].line",
    ),
    (
        "console line NUL",
        "console",
        JSON,
        lambda: '{"lines": [{"line": "a\\u0000b"}]}',
        400,
        "lines[0].line",
    ),
    (
        "console second line not text",
        "console",
        JSON,
        lambda: json.dumps({"lines": [{"line": "ok"}, {"line": 5}]}),
        400,
        "lines[1].line",
    ),
    ("history samples 10^30", "history", JSON, lambda: f'{{"samples": {10**30}}}', 400, "samples"),
    ("history min_x NaN", "history", JSON, lambda: '{"min_x": NaN}', 400, "min_x"),
    ("history max_x 2^1100", "history", JSON, lambda: f'{{"max_x": {2**1100}}}', 400, "max_x"),
    (
        "history keys lone surrogate",
        "history",
        JSON,
        lambda: '{"keys": ["\\ud800"]}',
        400,
        "keys[0]",
    ),
    (
        "history runs lone surrogate",
        "history",
        JSON,
        lambda: '{"runs": ["\\ud800"]}',
        400,
        "runs[0]",
    ),
    (
        "history filter lone surrogate",
        "history",
        JSON,
        lambda: '{"filters": {"config.\\ud800": 1}}',
        400,
        "filters.config.\\ud800",
    ),
]


@pytest.mark.parametrize(
    ("route", "ctype", "body", "status", "field"),
    [pytest.param(*row[1:], id=row[0]) for row in HOSTILE],
)
def test_hostile_input(
    client: Client,
    route: str,
    ctype: str,
    body: Callable[[], bytes | str],
    status: int,
    field: str,
) -> None:
    run = client.new_run()
    assert client.points(run, arrow_points(["x", "y"], [0, 0])).ok
    assert client.post(f"{run}/console", {"lines": [{"line": "hello", "ts": 1.0}]}).ok
    before = (client.series(run), client.console(run), client.run(run)["history_keys"])

    project, _, run_id = run.rpartition("/runs/")
    url = {"points": f"{run}/points", "console": f"{run}/console", "history": f"{project}/history"}
    data = body()
    if route == "history" and '"runs"' not in data:
        data = f'{{"runs": ["{run_id}"], {data.lstrip("{")}'  # the run, unless named
    r = client.post(url[route], data, ctype, batch_id=uuid.uuid4().hex)
    # Past a limit (samples; the JSON body's nesting, refused before any route) or plain wrong.
    limited = field == "samples" or (field == "body" and ctype == JSON)
    assert_problem(r, status, field, "limit_exceeded" if limited else "bad_request")
    assert (client.series(run), client.console(run), client.run(run)["history_keys"]) == before


def test_arrow_integer_columns_are_read_as_their_numbers(client: Client) -> None:
    run = client.new_run()
    table = pa.table(
        {
            "key": pa.array(["x", "x"], pa.large_string()),
            "step": pa.array([3, 5], pa.uint64()),
            "timestamp": pa.array([1_700_000_000, 1_700_000_001], pa.uint64()),
            "value": pa.array([2**64 - 1, 7], pa.uint64()),
        }
    )
    assert client.points(run, table).json() == {"stored": 2, "duplicate": False}
    assert client.series(run) == {"x": [(3, 1.7e9, float(2**64 - 1)), (5, 1.7e9 + 1, 7.0)]}


def test_console_lines_are_stored_in_order_in_one_batch(client: Client) -> None:
    run = client.new_run()
    lines = [
        {"line": f"line {i}", "ts": 1.0 + i, "stream": "stderr" if i % 3 else "stdout"}
        for i in range(5_000)
    ]
    assert client.post(f"{run}/console", {"lines": lines[:10]}).json()["stored"] == 10
    assert client.post(f"{run}/console", {"lines": lines[10:]}).json()["stored"] == 4_990
    got = client.console(run)
    assert got == [{"ts": x["ts"], "stream": x["stream"], "line": x["line"]} for x in lines]


def test_samples_past_the_limit_are_refused_naming_it(client: Client) -> None:
    # Past 50,000 points a series is sampled from its tiles, whose plan multiplies bucket
    # numbers by the sample count: a bound keeps that far from int64.
    run = client.new_run()
    n = 60_000
    table = pa.table(
        {
            "key": pa.array(["loss"] * n, pa.string()),
            "step": pa.array(range(n), pa.int64()),
            "timestamp": pa.array([1.7e9 + i for i in range(n)], pa.float64()),
            "value": pa.array([float(i % 97) for i in range(n)], pa.float64()),
        }
    )
    assert client.points(run, table).ok
    assert client.history(run, samples=1_000_000).num_rows == n
    assert client.history(run, samples=400).num_rows <= 400
    project, _, run_id = run.rpartition("/runs/")
    r = client.post(f"{project}/history", {"runs": [run_id], "samples": 2**62})
    body = assert_problem(r, 400, "samples", code="limit_exceeded")
    assert body["errors"][0]["limit"] == 1_000_000


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        pytest.param({"min_step": 2**200}, [], id="min_step 2^200"),
        pytest.param({"max_step": -(2**200)}, [], id="max_step -2^200"),
        pytest.param({"min_step": -(2**200), "max_step": 2**200}, [0, 1], id="every step"),
        pytest.param({"min_step": 2**63}, [], id="min_step 2^63"),
        pytest.param({"x_axis": "runtime", "min_x": -1e308, "max_x": 1e308}, [0, 1], id="runtime"),
        pytest.param({"x_axis": "timestamp", "min_x": 1.7e9 + 1}, [1], id="timestamp"),
    ],
)
def test_history_bounds_out_of_range_keep_every_step_or_none(
    client: Client, query: dict[str, Any], kept: list[int]
) -> None:
    run = client.new_run()
    assert client.points(run, arrow_points(["x", "x"], [0, 1])).ok
    assert client.history(run, **query)["step"].to_pylist() == kept


def test_a_series_growing_past_the_tile_threshold_samples_like_one_logged_at_once(
    client: Client,
) -> None:
    # Short series have no tiles; one that reaches 25,000 points gets them built from its
    # points, and merged from each batch after. "short" rides along in every batch, so batches
    # mix both kinds. Sampling reads the tiles once a series passes 50,000 points.
    run = client.new_run()
    n = 90_000
    values = [math.sin(i / 500) for i in range(n)]
    values[7_777], values[61_000], values[30_000] = 50.0, -50.0, math.nan
    for lo in range(0, n, 15_000):
        steps = list(range(lo, lo + 15_000))
        table = pa.table(
            {
                "key": pa.array(["long"] * len(steps) + ["short"] * 3, pa.string()),
                "step": pa.array(steps + [lo, lo + 1, lo + 2], pa.int64()),
                "timestamp": pa.array([1.7e9 + s for s in steps + [lo, lo + 1, lo + 2]]),
                "value": pa.array(values[lo : lo + 15_000] + [1.0, 2.0, 3.0]),
            }
        )
        assert client.points(run, table).ok
    got = client.history(run, keys=["long"], samples=400).to_pylist()
    steps = [p["step"] for p in got]
    assert 200 <= len(steps) <= 400 and steps == sorted(set(steps))
    assert {0, n - 1, 7_777, 61_000, 30_000} <= set(steps)
    for p in got:
        expected = values[p["step"]]
        assert p["value"] == expected or (math.isnan(expected) and math.isnan(p["value"]))
    short = client.series(run)["short"]
    assert len(short) == 18 and [p[2] for p in short] == [1.0, 2.0, 3.0] * 6
