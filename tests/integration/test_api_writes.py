"""Writing runs through the Api: ``create_run``, ``Run.log_points``, ``Run.finish``."""

from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa
import pytest

import lablens


def test_create_run_keeps_its_start_time_and_fields(api, make_project):
    project = make_project()

    run = api.create_run(
        "imported-1",
        project.name,
        name="from elsewhere",
        config={"lr": 0.01, "model": {"depth": 3}},
        tags=["old"],
        notes="n",
        group="g",
        job_type="train",
        host="box",
        metadata={"source": {"type": "test"}},
        created_at="2021-03-04T05:06:07.890Z",
    )

    assert run.path == f"{api.default_entity}/{project.name}/imported-1"
    assert run.state == "running"
    again = api.run(run.path)
    assert again.created_at == "2021-03-04T05:06:07.890Z"
    assert again.name == "from elsewhere" and again.tags == ["old"] and again.host == "box"
    assert again.config == {"lr": 0.01, "model": {"depth": 3}}
    assert again.metadata == {"source": {"type": "test"}}
    with pytest.raises(lablens.Conflict):
        api.create_run("imported-1", project.name)


def test_create_run_takes_epoch_seconds_and_defaults(api, make_project):
    project = make_project()
    run = api.create_run(project=project.name, created_at=1_600_000_000.25)
    assert run.created_at == "2020-09-13T12:26:40.250Z"
    assert len(run.id) == 8


def test_log_points_keeps_steps_and_times_and_stores_a_batch_once(api, make_project):
    run = api.create_run(project=make_project().name)
    points = pa.table(
        {
            "key": ["loss", "loss", "acc"],
            "step": [10, 3, 7],
            "timestamp": [1.5e9 + 0.125, 1.5e9, 1.4e9],
            "value": [0.5, math.nan, 0.25],
        }
    )

    first = run.log_points(points, batch_id="b-1")
    again = run.log_points(points, batch_id="b-1")
    frame = run.log_points(
        pd.DataFrame({"key": ["acc"], "step": [8], "timestamp": [1.4e9 + 1], "value": [0.75]}),
        batch_id="b-2",
    )

    assert first == {"stored": 3, "duplicate": False}
    assert again == {"stored": 0, "duplicate": True}
    assert frame["stored"] == 1
    loss = api.run(run.path).history(samples=None, keys=["loss"])
    assert loss["_step"].tolist() == [3, 10]
    assert loss["_timestamp"].tolist() == [1.5e9, 1.5e9 + 0.125]
    assert math.isnan(loss["loss"][0]) and loss["loss"][1] == 0.5
    assert api.run(run.path).history_keys["acc"]["count"] == 2


def test_log_points_names_a_missing_column(api, make_project):
    run = api.create_run(project=make_project().name)
    with pytest.raises(lablens.UsageError, match="timestamp"):
        run.log_points({"key": ["a"], "step": [0], "value": [1.0]})


def test_finish_sets_state_and_end_time(api, make_project):
    run = api.create_run(project=make_project().name, created_at=1_600_000_000)

    run.finish("crashed", finished_at=1_600_000_060.5, exit_code=2)

    again = api.run(run.path)
    assert again.state == "crashed"
    assert again.finished_at == "2020-09-13T12:27:40.500Z"
    assert again.heartbeat_at == again.finished_at
    assert again.json()["exit_code"] == 2
    run.finish()  # now, by default
    assert api.run(run.path).finished_at > "2024"
    with pytest.raises(lablens.UsageError):
        run.finish("done")


def test_a_bad_time_is_a_bad_request_naming_it(api, make_project):
    project = make_project()
    with pytest.raises(lablens.BadRequest) as caught:
        api.create_run(project=project.name, created_at="yesterday")
    assert "created_at" in str(caught.value.field)
    run = api.create_run(project=project.name)
    with pytest.raises(lablens.BadRequest) as caught:
        run.finish(finished_at="soon")
    assert "finished_at" in str(caught.value.field)
