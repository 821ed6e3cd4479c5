"""Every filter operator on every kind of field, through the Api against a real server."""

from __future__ import annotations

import math

import pytest

import lablens

RUNS = {
    "a": dict(
        name="alpha",
        tags=["base", "cnn"],
        group="g1",
        job_type="train",
        config={"lr": 0.1, "bs": 64, "opt": {"name": "adam"}, "layers": [64, 32], "aug": True},
        summary={"loss": 0.5, "val.acc": 0.9},
        state="FINISHED",
    ),
    "b": dict(
        name="beta",
        tags=["cnn"],
        group="g1",
        job_type="eval",
        config={"lr": 0.01, "bs": 128, "opt": {"name": "sgd"}, "layers": [128], "aug": False},
        summary={"loss": math.nan, "val.acc": 0.7},
        state="CRASHED",
    ),
    "c": dict(
        name="gamma",
        tags=[],
        group="g2",
        job_type="train",
        config={"lr": 0.001, "bs": 64, "opt": {"name": "adam"}, "layers": [], "note": "x"},
        summary={"loss": math.inf, "val.acc": 0.8},
        state="RUNNING",
    ),
}


@pytest.fixture(scope="module")
def project(server):
    api = lablens.Api(host=server.url, api_key=server.api_key)
    name = "filters-matrix"
    api.create_project(name)
    ids = {}
    for key, spec in RUNS.items():
        spec = dict(spec)
        state = spec.pop("state")
        summary = spec.pop("summary")
        data = api.client.post_json(
            f"/api/v1/projects/{server.username}/{name}/runs", {"id": f"run-{key}", **spec}
        )
        changes = {"summary": summary}
        if state != "RUNNING":
            changes["state"] = state
        api.client.patch_json(
            f"/api/v1/projects/{server.username}/{name}/runs/{data['id']}", changes
        )
        ids[key] = data["id"]
    return api, f"{server.username}/{name}"


CASES = [
    # strings, names, state
    ({"state": "FINISHED"}, "a"),
    ({"state": "finished"}, "a"),
    ({"state": {"$ne": "RUNNING"}}, "ab"),
    ({"state": {"$in": ["crashed", "RUNNING"]}}, "bc"),
    ({"display_name": {"$regex": "^a"}}, "a"),
    ({"name": {"$regex": "MM", "$options": "i"}}, "c"),
    ({"group": "g1"}, "ab"),
    ({"job_type": {"$nin": ["eval"]}}, "ac"),
    # arrays match any element
    ({"tags": "cnn"}, "ab"),
    ({"tags": {"$in": ["base", "zzz"]}}, "a"),
    ({"tags": {"$nin": ["base"]}}, "bc"),
    ({"tags": {"$exists": True}}, "abc"),  # an empty list exists, as in MongoDB
    ({"tags": {"$ne": []}}, "ab"),
    ({"config.layers": 64}, "a"),
    ({"config.layers": {"$gt": 100}}, "b"),
    # numbers, nested keys, SwanLab's flat form
    ({"config.lr": {"$gte": 0.01}}, "ab"),
    ({"config.lr": {"$lt": 0.01}}, "c"),
    ({"config.lr": {"$gt": 0.001, "$lte": 0.01}}, "b"),
    ({"config.bs": "64"}, "ac"),
    ({"config.bs": 64}, "ac"),
    ({"config.opt.name": "adam"}, "ac"),
    ({"config.lr.value": 0.1}, "a"),
    ({"config.aug": True}, "a"),
    ({"config.note": {"$exists": True}}, "c"),
    ({"config.note": {"$exists": False}}, "ab"),
    # summary: keys with dots, NaN and inf as numbers
    ({"summary_metrics.val.acc": {"$gt": 0.75}}, "ac"),
    ({"summary.loss": {"$gt": 1.0}}, "c"),
    ({"summary_metrics.loss": {"$lt": 1.0}}, "a"),
    # logic
    ({"$or": [{"config.lr": 0.1}, {"state": "RUNNING"}]}, "ac"),
    ({"$and": [{"group": "g1"}, {"tags": "base"}]}, "a"),
    ({"$nor": [{"group": "g1"}]}, "c"),
    ({"$not": {"group": "g1"}}, "c"),
    ({"config.lr": {"$not": {"$gt": 0.005}}}, "c"),
    ({"created_at": {"$gt": "2000-01-01T00:00:00Z"}}, "abc"),
    ({"created_at": {"$lt": "2000-01-01T00:00:00Z"}}, ""),
]


@pytest.mark.parametrize(("filters", "expected"), CASES, ids=[str(c[0]) for c in CASES])
def test_filter_matches_exactly(project, filters, expected):
    api, path = project
    runs = api.runs(path, filters=filters)
    got = sorted(r.id.removeprefix("run-") for r in runs)
    assert got == sorted(expected)
    assert len(runs) == len(expected)
    # the run table takes the same filter in its one request
    assert sorted(api.runs(path, filters=filters).to_pandas()["id"]) == [
        f"run-{k}" for k in sorted(expected)
    ]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("+config.lr", "cba"),
        ("-config.lr", "abc"),
        ("-summary_metrics.val.acc", "acb"),
        ("+name", "abc"),
        ("-created_at", "cba"),
    ],
)
def test_order(project, order, expected):
    api, path = project
    assert "".join(r.id.removeprefix("run-") for r in api.runs(path, order=order)) == expected


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"colour": "red"}, "filters.colour"),
        (
            {"$and": [{"state": "FINISHED"}, {"config.lr": {"$gt": [1]}}]},
            "filters.$and[1].config.lr.$gt",
        ),
        ({"$or": []}, "filters.$or"),
        ({"config.lr": {"$in": 3}}, "filters.config.lr.$in"),
        ({"config.lr": {"$exists": "yes"}}, "filters.config.lr.$exists"),
        ({"name": {"$regex": "("}}, "filters.name.$regex"),
    ],
)
def test_bad_filters_name_the_bad_part(project, filters, field):
    api, path = project
    with pytest.raises(lablens.BadRequest) as exc:
        list(api.runs(path, filters=filters))
    assert exc.value.field == field
    assert exc.value.status == 400
    assert len(api.runs(path)) == 3  # nothing stored was touched
