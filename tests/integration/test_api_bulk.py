"""Bulk reads, one request each: ``Runs.to_pandas()`` and ``Runs.histories()``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lablens.errors import UsageError


@pytest.fixture
def three_runs(make_project, make_run):
    project = make_project()
    runs = [
        make_run(
            project,
            name="a",
            tags=["x", "y"],
            group="g1",
            job_type="train",
            config={"lr": 0.1, "data": {"bs": 64}, "opt": "adam"},
            points={"loss": ([0, 1, 2], [3.0, 2.0, 1.0]), "acc": ([1, 2], [0.5, 0.75])},
            summary={"best": math.nan},
        ),
        make_run(
            project,
            name="b",
            config={"lr": 0.2, "data": {"bs": 32}},
            points={"loss": ([0, 5], [4.0, math.inf])},
        ),
        make_run(project, name="c", config={"lr": 0.3}, state=None),
    ]
    return project, runs


def test_to_pandas_one_row_per_run_in_one_request(api, three_runs, counted):
    project, runs = three_runs
    frame = api.runs(project.path).to_pandas()
    assert len(counted) == 1 and counted[0].endswith("/runs/table")
    assert frame["id"].tolist() == [r.id for r in runs]
    assert list(frame.columns[:13]) == [
        "id", "name", "state", "tags", "group", "job_type", "created_at", "finished_at",
        "heartbeat_at", "username", "host", "notes", "sweep",
    ]  # fmt: skip
    assert frame["sweep"].isna().all()  # none of these runs came from a sweep
    assert frame["name"].tolist() == ["a", "b", "c"]
    assert frame["state"].tolist() == ["FINISHED", "FINISHED", "RUNNING"]
    assert list(frame["tags"][0]) == ["x", "y"]
    assert frame["group"][0] == "g1" and frame["job_type"][0] == "train"
    assert frame["config.lr"].tolist() == [0.1, 0.2, 0.3]
    assert frame["config.data.bs"].tolist()[:2] == [64, 32]
    assert pd.isna(frame["config.data.bs"][2])
    assert frame["config.opt"][0] == "adam"
    assert frame["summary.loss"].tolist()[:2] == [1.0, math.inf]
    assert math.isnan(frame["summary.best"][0])


def test_to_pandas_with_filter(api, three_runs):
    project, _ = three_runs
    frame = api.runs(project.path, filters={"state": "FINISHED", "config.lr": {"$gt": 0.15}})
    assert frame.to_pandas()["name"].tolist() == ["b"]


def test_histories_pandas_equal_what_was_written(api, three_runs, counted):
    project, runs = three_runs
    frame = api.runs(project.path).histories(samples=None, format="pandas")
    assert len(counted) == 1 and counted[0].endswith("/history")  # all runs, one request
    assert list(frame.columns) == ["run_id", "_step", "acc", "loss", "_timestamp", "_runtime"]
    a, b = runs[0].id, runs[1].id
    assert frame["run_id"].tolist() == [a, a, a, b, b]
    assert frame["_step"].tolist() == [0, 1, 2, 0, 5]
    assert frame["loss"].tolist() == [3.0, 2.0, 1.0, 4.0, math.inf]
    np.testing.assert_array_equal(frame["acc"], [np.nan, 0.5, 0.75, np.nan, np.nan])
    assert frame["_timestamp"].tolist() == [1.7e9, 1.7e9 + 1, 1.7e9 + 2, 1.7e9, 1.7e9 + 5]
    started = {r.id: pd.Timestamp(r.created_at).timestamp() for r in runs}
    expected = frame["_timestamp"] - frame["run_id"].map(started)
    np.testing.assert_allclose(frame["_runtime"], expected, atol=1e-3)


def test_histories_default_format_is_dicts_with_run_id(api, three_runs):
    project, runs = three_runs
    rows = api.runs(project.path).histories(keys=["loss"])
    assert [(r["run_id"], r["_step"], r["loss"]) for r in rows] == [
        (runs[0].id, 0, 3.0),
        (runs[0].id, 1, 2.0),
        (runs[0].id, 2, 1.0),
        (runs[1].id, 0, 4.0),
        (runs[1].id, 5, math.inf),
    ]


def test_histories_follow_the_runs_order(api, three_runs):
    project, runs = three_runs
    frame = api.runs(project.path, order="-created_at").histories(keys=["loss"], format="pandas")
    assert frame["run_id"].drop_duplicates().tolist() == [runs[1].id, runs[0].id]


def test_histories_after_iterating_need_one_request(api, three_runs, counted):
    project, _ = three_runs
    runs = api.runs(project.path)
    list(runs)
    counted.clear()
    runs.histories(keys=["loss"], format="pandas")
    assert len(counted) == 1 and counted[0].endswith("/history")


def test_histories_of_no_runs(api, make_project):
    assert api.runs(make_project().path).histories(format="pandas").empty
    assert api.runs(make_project().path).histories() == []


def test_histories_bad_format(api, three_runs):
    project, _ = three_runs
    with pytest.raises(UsageError):
        api.runs(project.path).histories(format="csv")


def test_many_points_of_one_key(api, make_run):
    n = 200_000
    values = np.random.default_rng(0).random(n)
    run = make_run(points={"loss": values})
    frame = run.history(keys=["loss"], samples=None)
    np.testing.assert_array_equal(frame["loss"].to_numpy(), values)
    assert frame["_step"].to_numpy().tolist() == list(range(n))
    metrics = run.metrics(keys=["loss"])
    np.testing.assert_array_equal(metrics["loss"].to_numpy(), values)


def test_histories_long_one_row_per_point_in_one_request(api, three_runs, counted):
    project, runs = three_runs
    frame = api.runs(project.path, order="-created_at").histories(samples=None, format="long")
    assert len(counted) == 1 and counted[0].endswith("/history")
    assert list(frame.columns) == ["run_id", "key", "_step", "_timestamp", "_runtime", "value"]
    a, b = runs[0].id, runs[1].id
    # Runs in the collection's order, then keys by name, then steps.
    assert list(
        zip(frame["run_id"], frame["key"], frame["_step"], frame["value"], strict=True)
    ) == [
        (b, "loss", 0, 4.0),
        (b, "loss", 5, math.inf),
        (a, "acc", 1, 0.5),
        (a, "acc", 2, 0.75),
        (a, "loss", 0, 3.0),
        (a, "loss", 1, 2.0),
        (a, "loss", 2, 1.0),
    ]
    assert frame["_timestamp"].tolist()[:2] == [1.7e9, 1.7e9 + 5]
    started = {r.id: pd.Timestamp(r.created_at).timestamp() for r in runs}
    expected = frame["_timestamp"] - frame["run_id"].map(started)
    np.testing.assert_allclose(frame["_runtime"], expected, atol=1e-3)
    assert frame.attrs["run_names"] == {runs[2].id: "c", b: "b", a: "a"}


def test_histories_long_on_a_metric_x_axis(api, three_runs):
    project, runs = three_runs
    frame = api.runs(project.path).histories(
        keys=["loss"], x_axis="acc", samples=None, format="long"
    )
    # Only the steps where acc was logged, acc as the x column, no rows of acc itself.
    assert frame["key"].unique().tolist() == ["loss"]
    assert list(zip(frame["_step"], frame["acc"], frame["value"], strict=True)) == [
        (1, 0.5, 2.0),
        (2, 0.75, 1.0),
    ]
    assert set(frame["run_id"]) == {runs[0].id}


def test_histories_wide_on_a_metric_x_axis_have_its_column(api, three_runs):
    project, runs = three_runs
    frame = api.runs(project.path).histories(keys=["loss"], x_axis="acc", format="pandas")
    assert {"run_id", "_step", "loss", "acc"} <= set(frame.columns)
    assert list(zip(frame["_step"], frame["acc"], frame["loss"], strict=True)) == [
        (1, 0.5, 2.0),
        (2, 0.75, 1.0),
    ]
    rows = api.runs(project.path).histories(keys=["loss"], x_axis="acc")
    assert [(r["run_id"], r["_step"], r["acc"], r["loss"]) for r in rows] == [
        (runs[0].id, 1, 0.5, 2.0),
        (runs[0].id, 2, 0.75, 1.0),
    ]


def test_histories_long_of_no_runs_and_a_bad_format(api, make_project):
    empty = api.runs(make_project().path).histories(format="long")
    assert empty.empty and "value" in empty.columns
    with pytest.raises(UsageError) as info:
        api.runs(make_project().path).histories(format="wide")
    assert info.value.field == "format"
