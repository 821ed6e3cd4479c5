"""The server's routes and error answers, spoken to over plain HTTP as any client would."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
import requests

from lablens import errors
from lablens.transport import ARROW, Transport, ipc_to_table, table_to_ipc


@pytest.fixture
def http(server) -> Transport:
    return Transport(server.url, server.api_key)


@pytest.fixture
def run_path(http, server, unique) -> str:
    http.post_json(
        f"/api/v1/projects/{server.username}/{unique}/runs",
        {"id": "run00001", "config": {"lr": 0.1}},
    )
    return f"/api/v1/projects/{server.username}/{unique}/runs/run00001"


def post_points(
    http: Transport,
    run_path: str,
    table: pa.Table,
    batch_id: str | None = None,
    stream: str = "default",
) -> dict:
    headers = {"Content-Type": ARROW}
    if batch_id:
        headers["X-Lablens-Batch-Id"] = batch_id
    r = http.request(
        "POST",
        run_path + "/points",
        data=table_to_ipc(table),
        headers=headers,
        params={"stream": stream},
    )
    return r.json()


def history(http: Transport, run_path: str, **body) -> pa.Table:
    project_path, _, run_id = run_path.rpartition("/runs/")
    return http.post_arrow(project_path + "/history", {"runs": [run_id], **body})


def points(keys, steps, values, ts=None) -> pa.Table:
    n = len(steps)
    return pa.table(
        {
            "key": pa.array(keys if isinstance(keys, list) else [keys] * n, pa.string()),
            "step": pa.array(steps, pa.int64()),
            "timestamp": pa.array(
                ts if ts is not None else [1.7e9 + s for s in steps], pa.float64()
            ),
            "value": pa.array(values, pa.float64()),
        }
    )


def assert_problem(response: requests.Response, status: int, code: str, field: str | None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["title"] and body["detail"] and body["type"]
    if field is not None:
        assert body["errors"][0]["field"] == field, body


def test_health_needs_no_key(server):
    r = requests.get(server.url + "/health", timeout=5)
    assert r.json()["status"] == "ok"


@pytest.mark.parametrize("header", [None, "Bearer wrong-key", "Basic abc", "Bearer "])
def test_routes_refuse_missing_or_wrong_key(server, header):
    headers = {"Authorization": header} if header else {}
    r = requests.get(server.url + "/api/v1/viewer", headers=headers, timeout=5)
    assert_problem(r, 401, "unauthorized", None)
    with pytest.raises(errors.Unauthorized):
        Transport(server.url, "wrong").get_json("/api/v1/viewer")


def test_every_openapi_route_but_health_and_login_needs_a_key(server):
    spec = requests.get(server.url + "/openapi.json", timeout=5).json()
    for path, methods in spec["paths"].items():
        if path in ("/health", "/api/v1/login"):
            continue
        url = server.url + path.replace("{name}", "x").replace("{", "").replace("}", "")
        for method in methods:
            r = requests.request(method.upper(), url, timeout=5)
            assert r.status_code == 401, (method, path, r.status_code)


def test_points_logged_equal_points_read_with_nan_inf_and_sparse_keys(http, run_path):
    values = [0.5, math.nan, math.inf, -math.inf, -0.0, 1e-300, 3.0]
    post_points(http, run_path, points("loss", list(range(7)), values))
    # a sparse key: only every third step
    post_points(http, run_path, points("acc", [0, 3, 6], [0.1, 0.2, 0.3]))
    table = history(http, run_path)
    loss = table.filter(pa.compute.equal(table["key"].cast(pa.string()), "loss"))
    got = loss["value"].to_pylist()
    assert loss["step"].to_pylist() == list(range(7))
    assert [str(v) for v in got] == [str(v) for v in values]
    acc = table.filter(pa.compute.equal(table["key"].cast(pa.string()), "acc"))
    assert acc["step"].to_pylist() == [0, 3, 6]
    assert acc["value"].to_pylist() == [0.1, 0.2, 0.3]
    assert set(table["run_id"].cast(pa.string()).to_pylist()) == {"run00001"}
    run = http.get_json(run_path)
    assert run["history_keys"] == {
        "acc": {"count": 3, "last_step": 6},
        "loss": {"count": 7, "last_step": 6},
    }
    assert run["last_history_step"] == 6
    assert run["summary"]["loss"] == 3.0 and run["summary"]["acc"] == 0.3


def test_a_million_steps_round_trip_exactly(http, run_path):
    n = 1_000_000
    rng = np.random.default_rng(1)
    values = rng.normal(size=n)
    steps = np.arange(n, dtype=np.int64)
    table = pa.table(
        {
            "key": pa.array(["loss"] * n),
            "step": steps,
            "timestamp": 1.7e9 + steps * 0.001,
            "value": values,
        }
    )
    for start in range(0, n, 300_000):
        post_points(http, run_path, table.slice(start, 300_000))
    got = history(http, run_path, keys=["loss"])
    assert got.num_rows == n
    assert np.array_equal(got["step"].to_numpy(), steps)
    assert np.array_equal(got["value"].to_numpy(), values)
    assert np.array_equal(got["timestamp"].to_numpy(), 1.7e9 + steps * 0.001)


def test_retried_batch_is_stored_once(http, run_path):
    batch = points("loss", [0, 1, 2], [1.0, 2.0, 3.0])
    assert post_points(http, run_path, batch, batch_id="b-1") == {"stored": 3, "duplicate": False}
    assert post_points(http, run_path, batch, batch_id="b-1") == {"stored": 0, "duplicate": True}
    assert history(http, run_path).num_rows == 3


def test_sampling_keeps_extrema_first_and_last(http, run_path):
    n = 100_000
    values = np.sin(np.arange(n) / 1000.0)
    values[31_337] = 50.0  # a spike
    values[77_777] = -40.0  # a dip
    post_points(http, run_path, points("loss", list(range(n)), values.tolist()))
    got = history(http, run_path, keys=["loss"], samples=200)
    steps = got["step"].to_pylist()
    assert len(steps) <= 200
    assert steps == sorted(steps)
    assert {0, n - 1, 31_337, 77_777} <= set(steps)
    assert max(got["value"].to_pylist()) == 50.0 and min(got["value"].to_pylist()) == -40.0


def test_system_metrics_stream_is_separate(http, run_path):
    post_points(http, run_path, points("system.cpu", [0, 1], [10.0, 20.0]), stream="system")
    post_points(http, run_path, points("loss", [0], [1.0]))
    assert history(http, run_path)["key"].cast(pa.string()).to_pylist() == ["loss"]
    sys_table = history(http, run_path, stream="system")
    assert sys_table["value"].to_pylist() == [10.0, 20.0]
    run = http.get_json(run_path)
    assert run["system_metrics"] == {"system.cpu": 20.0}
    assert "system.cpu" not in run["summary"]


def test_non_numeric_value_is_refused_naming_the_key_and_nothing_is_lost(http, run_path):
    post_points(http, run_path, points("loss", [0, 1], [1.0, 2.0]))
    r = http.session.post(
        http.base_url + run_path + "/points",
        json={
            "rows": [
                {"step": 2, "timestamp": 1.0, "data": {"loss": 3.0}},
                {"step": 3, "timestamp": 1.0, "data": {"loss": 4.0, "image": "cat.png"}},
            ]
        },
    )
    assert_problem(r, 400, "bad_request", "rows[1].data.image")
    assert "image" in r.json()["detail"]
    assert history(http, run_path)["value"].to_pylist() == [1.0, 2.0]


def test_arrow_points_with_a_string_value_column_are_refused(http, run_path):
    bad = pa.table({"key": ["loss"], "step": [0], "timestamp": [1.0], "value": ["high"]})
    r = http.session.post(
        http.base_url + run_path + "/points",
        data=table_to_ipc(bad),
        headers={"Content-Type": ARROW},
    )
    assert_problem(r, 400, "bad_request", "body.value")
    r = http.session.post(
        http.base_url + run_path + "/points", data=b"not arrow", headers={"Content-Type": ARROW}
    )
    assert_problem(r, 400, "bad_request", "body")


def test_malformed_filter_names_the_bad_part(http, server, run_path):
    project = run_path.rpartition("/runs/")[0]
    url = http.base_url + project + "/runs/query"
    r = http.session.post(
        url, json={"filters": {"$and": [{"state": "FINISHED"}, {"config.lr": {"$gt": {"x": 1}}}]}}
    )
    assert_problem(r, 400, "invalid_filter", "filters.$and[1].config.lr.$gt")
    r = http.session.post(url, json={"filters": {"colour": "red"}})
    assert_problem(r, 400, "invalid_filter", "filters.colour")
    r = http.session.post(url, json={"filters": {"config.lr": {"$near": 1}}})
    assert_problem(r, 400, "invalid_filter", None)
    assert "$near" in r.json()["detail"]
    r = http.session.post(url, json={"limit": "many"})
    assert_problem(r, 400, "bad_request", "limit")
    r = http.session.post(url, json={"order": "-colour"})
    assert_problem(r, 400, "invalid_filter", "order")
    # the run is still there
    assert http.post_json(project + "/runs/query", {})["total"] == 1


def test_not_found_answers_name_the_path(http, server, run_path):
    project = run_path.rpartition("/runs/")[0]
    r = http.session.get(http.base_url + project + "/runs/nosuchid")
    assert_problem(r, 404, "run_not_found", None)
    assert r.json()["path"].endswith("/nosuchid")
    r = http.session.get(http.base_url + f"/api/v1/projects/{server.username}/no-such-project")
    assert_problem(r, 404, "project_not_found", None)
    r = http.session.get(http.base_url + "/api/v1/workspaces/nobody-here")
    assert_problem(r, 404, "workspace_not_found", None)
    with pytest.raises(errors.RunNotFound) as exc:
        http.get_json(project + "/runs/nosuchid")
    assert exc.value.status == 404


def test_file_names_with_dotdot_or_absolute_paths_are_refused(http, run_path):
    for name in ("../../etc/passwd", "a/../../b", "/abs"):
        r = http.session.put(http.base_url + run_path + "/files/" + name, data=b"x")
        assert r.status_code in (400, 404), (name, r.status_code)
        if r.status_code == 400:
            assert r.json()["errors"][0]["field"] == "name"
    r = http.session.put(http.base_url + run_path + "/files/logs/out.txt", data=b"hello")
    assert r.status_code == 201 and r.json()["size"] == 5
    assert http.request("GET", run_path + "/files/logs/out.txt").content == b"hello"


def test_run_update_persists_and_validates(http, run_path):
    run = http.patch_json(
        run_path,
        {
            "name": "renamed",
            "tags": ["a", "b"],
            "config": {"lr": 0.2, "opt": {"name": "adam"}},
            "summary": {"best": math.inf},
        },
    )
    assert run["name"] == "renamed" and run["tags"] == ["a", "b"]
    assert run["config"] == {"lr": 0.2, "opt": {"name": "adam"}}
    assert run["summary"]["best"] == "Infinity"  # JSON's spelling; the Api decodes it
    r = http.session.patch(http.base_url + run_path, json={"state": "sleeping"})
    assert_problem(r, 400, "bad_request", "state")
    r = http.session.patch(http.base_url + run_path, json={"tags": "not-a-list"})
    assert_problem(r, 400, "bad_request", "tags")
    assert http.get_json(run_path)["name"] == "renamed"


def test_creating_an_existing_run_needs_resume(http, server, run_path):
    project = run_path.rpartition("/runs/")[0]
    r = http.session.post(http.base_url + project + "/runs", json={"id": "run00001"})
    assert_problem(r, 409, "conflict", None)
    again = http.post_json(project + "/runs", {"id": "run00001", "resume": "allow"})
    assert again["id"] == "run00001" and again["state"] == "RUNNING"
    r = http.session.post(http.base_url + project + "/runs", json={"id": "zz", "resume": "must"})
    assert_problem(r, 404, "run_not_found", None)


def test_run_table_is_arrow_with_flat_config_and_summary(http, server, unique):
    base = f"/api/v1/projects/{server.username}/{unique}"
    for i in range(3):
        http.post_json(
            base + "/runs", {"id": f"r{i}", "config": {"lr": i / 10, "opt": {"name": f"o{i}"}}}
        )
        http.patch_json(base + f"/runs/r{i}", {"summary": {"loss": float(i)}})
    r = http.request("POST", base + "/runs/table", json_body={"order": "-summary.loss"})
    assert r.headers["content-type"] == ARROW
    table = ipc_to_table(r.content)
    assert table["id"].to_pylist() == ["r2", "r1", "r0"]
    assert table["config.lr"].to_pylist() == [0.2, 0.1, 0.0]
    assert table["config.opt.name"].to_pylist() == ["o2", "o1", "o0"]
    assert table["summary.loss"].to_pylist() == [2.0, 1.0, 0.0]
    fields = http.get_json(base + "/fields")
    assert fields["config"] == {"lr": "number", "opt.name": "string"}
    assert fields["summary"] == {"loss": "number"}
    # The plain run fields come from the one catalogue, in its order, with the widgets' types.
    assert list(fields["run"])[:3] == ["state", "name", "id"]
    assert fields["run"]["tags"] == "list"
    assert fields["run"]["created_at"] == "time"
    assert "display_name" not in fields["run"]


def test_sampling_long_series_from_tiles_keeps_every_guarantee(http, run_path):
    # Long enough to be sampled from the tile pyramid, logged in uneven batches, out of order.
    n = 180_000
    rng = np.random.default_rng(7)
    values = rng.normal(size=n)
    values[12_345] = 99.0
    values[150_000] = -99.0
    values[90_000] = math.nan
    values[n - 1] = 0.123
    order = [(60_000, 130_000), (0, 60_000), (130_000, n)]
    for lo, hi in order:
        post_points(http, run_path, points("loss", list(range(lo, hi)), values[lo:hi].tolist()))
    got = history(http, run_path, keys=["loss"], samples=1000)
    steps = np.array(got["step"].to_pylist())
    vals = np.array(got["value"].to_pylist())
    assert 500 <= len(steps) <= 1000
    assert list(steps) == sorted(set(steps))
    assert {0, n - 1, 12_345, 150_000, 90_000} <= set(steps.tolist())
    # every sampled point is a logged point, value for value
    same = np.isclose(vals, values[steps], equal_nan=True)
    assert same.all()
    # the raw path gives every point back when not sampled
    assert history(http, run_path, keys=["loss"]).num_rows == n


def test_console_lines_with_a_batch_id_are_stored_once(http, run_path):
    lines = {
        "lines": [
            {"ts": 1.0, "stream": "stdout", "line": "epoch 1"},
            {"ts": 2.0, "stream": "stderr", "line": "warning"},
        ]
    }
    for _ in range(2):
        http.request(
            "POST", run_path + "/console", json_body=lines, headers={"X-Lablens-Batch-Id": "c-1"}
        )
    got = http.get_json(run_path + "/console")["items"]
    assert [(x["stream"], x["line"]) for x in got] == [("stdout", "epoch 1"), ("stderr", "warning")]
    r = http.session.post(http.base_url + run_path + "/console", json={"lines": [{"line": 5}]})
    assert_problem(r, 400, "bad_request", "lines[0].line")
