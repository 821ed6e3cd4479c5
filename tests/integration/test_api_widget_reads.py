"""The reads the widgets need from the Api: table pages, project fields, x-ranged histories."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import lablens
from lablens.api import UnknownKeyWarning
from lablens.errors import UsageError
from lablens.store.sampling import sample_numpy


def test_runs_to_arrow_pages_carry_the_total(api, make_project, make_run):
    project = make_project()
    for i in range(7):
        make_run(project, name=f"r{i}", config={"lr": i / 10}, summary={"loss": 1 / (i + 1)})
    runs = api.runs(project.path, filters={"config.lr": {"$gte": 0.2}}, order="-config.lr")
    page = runs.to_arrow(["name", "config.lr"], offset=1, limit=2)
    assert page.column_names == ["id", "name", "config.lr"]
    assert int(page.schema.metadata[b"total"]) == 5
    assert page.column("name").to_pylist() == ["r5", "r4"]
    whole = runs.to_arrow()
    assert whole.num_rows == 5 and int(whole.schema.metadata[b"total"]) == 5


def test_runs_to_pandas_picks_columns_in_order(api, make_project, make_run):
    project = make_project()
    make_run(project, name="a", config={"lr": 0.1}, summary={"loss": 0.5})
    df = api.runs(project.path).to_pandas(columns=["summary.loss", "name"])
    assert list(df.columns) == ["id", "summary.loss", "name"]
    with pytest.raises(UsageError):
        api.runs(project.path).to_pandas(columns=["config.nope"])


def test_project_fields_lists_config_and_summary_types(api, make_project, make_run):
    project = make_project()
    make_run(project, config={"lr": 0.1, "opt": {"name": "adam"}}, summary={"acc": 0.9})
    fields = api.project(project.path).fields()
    assert fields["config"] == {"lr": "number", "opt.name": "string"}
    assert fields["summary"]["acc"] == "number"


def test_histories_x_range_is_cut_before_sampling(api, make_project, make_run):
    project = make_project()
    run = make_run(project, points={"loss": [float(i) for i in range(1000)]})
    runs = api.runs(project.path)
    whole = runs.histories(keys=["loss"], samples=20, format="pandas")
    zoomed = runs.histories(keys=["loss"], samples=20, format="pandas", min_x=100, max_x=119)
    assert whole["_step"].max() == 999
    assert zoomed["_step"].tolist() == list(range(100, 120))  # full resolution in the range
    by_time = runs.histories(
        keys=["loss"], x_axis="_timestamp", format="pandas", min_x=1.7e9 + 10, max_x=1.7e9 + 12
    )
    assert by_time["_step"].tolist() == [10, 11, 12]
    assert isinstance(zoomed, pd.DataFrame) and zoomed["run_id"].eq(run.id).all()


def _logged(api, project, name: str, created: float, first: float, pace: float, per_epoch: int):
    """A run of 1000 steps: ``loss`` = step², ``epoch`` = step // per_epoch, logged at
    ``first + pace * step`` seconds (so ``_runtime`` = ``first - created + pace * step``)."""
    run = api.create_run(project=project.name, name=name, created_at=created)
    step = np.arange(1000)
    run.log_points(
        {
            "key": ["loss"] * 1000 + ["epoch"] * 1000,
            "step": np.concatenate([step, step]),
            "timestamp": np.concatenate([first + pace * step] * 2),
            "value": np.concatenate([step * step, step // per_epoch]).astype(float),
        }
    )
    run.finish()
    return run


@pytest.fixture
def two_runs(api, make_project):
    project = make_project()
    a = _logged(api, project, "alpha", created=1.7e9, first=1.7e9 + 10, pace=1.0, per_epoch=10)
    b = _logged(
        api, project, "beta", created=1.7e9 + 1000.25, first=1.7e9 + 1003.25, pace=2.0, per_epoch=5
    )
    return project, a, b


def _in_range(full: pd.DataFrame, column: str, lo: float, hi: float) -> pd.DataFrame:
    return full[full[column].between(lo, hi)].reset_index(drop=True)


def test_histories_runtime_range_is_cut_before_sampling(api, two_runs):
    project, a, b = two_runs
    runs = api.runs(project.path, order="created_at")
    full = runs.histories(samples=None, keys=["loss"], format="pandas")
    whole = runs.histories(samples=20, keys=["loss"], x_axis="_runtime", format="pandas")
    zoomed = runs.histories(
        samples=20, keys=["loss"], x_axis="_runtime", format="pandas", min_x=100, max_x=119.5
    )

    assert zoomed["_runtime"].between(100, 119.5).all()
    # a: runtime 10 + step, steps 90..109; b: runtime 3 + 2 * step, steps 49..58
    assert zoomed.groupby("run_id").size().to_dict() == {a.id: 20, b.id: 10}
    assert whole["_runtime"].between(100, 119.5).sum() < 10  # what sampling the run leaves
    pd.testing.assert_frame_equal(zoomed, _in_range(full, "_runtime", 100, 119.5))
    assert zoomed.loc[zoomed["run_id"] == a.id, "_step"].tolist() == list(range(90, 110))
    assert (zoomed["loss"] == zoomed["_step"] ** 2).all()


def test_histories_metric_range_keeps_the_steps_where_it_lies(api, two_runs):
    project, a, b = two_runs
    runs = api.runs(project.path, order="created_at")
    full = runs.histories(samples=None, keys=["loss"], x_axis="epoch", format="pandas")
    zoomed = runs.histories(
        samples=20, keys=["loss"], x_axis="epoch", format="pandas", min_x=20, max_x=21
    )
    whole = runs.histories(samples=20, keys=["loss"], x_axis="epoch", format="pandas")

    assert list(zoomed.columns) == ["run_id", "_step", "loss", "epoch", "_timestamp", "_runtime"]
    assert zoomed["epoch"].between(20, 21).all()
    # a: epoch = step // 10, steps 200..219; b: epoch = step // 5, steps 100..109
    assert zoomed.groupby("run_id").size().to_dict() == {a.id: 20, b.id: 10}
    assert whole["epoch"].between(20, 21).sum() < 10
    pd.testing.assert_frame_equal(zoomed, _in_range(full, "epoch", 20, 21))
    assert (zoomed["loss"] == zoomed["_step"] ** 2).all()
    only_x = runs.histories(
        samples=None, keys=["epoch"], x_axis="epoch", format="pandas", min_x=99, max_x=99
    )
    assert only_x.groupby("run_id")["_step"].agg(list).to_dict() == {
        a.id: list(range(990, 1000)),
        b.id: list(range(495, 500)),
    }


def test_histories_metric_axis_keeps_x_at_every_sampled_step(api, two_runs):
    project, a, b = two_runs
    sampled = api.runs(project.path).histories(
        samples=20, keys=["loss"], x_axis="epoch", format="pandas", min_x=0, max_x=150
    )
    for run, per_epoch, last in ((a, 10, 999), (b, 5, 754)):
        rows = sampled[sampled["run_id"] == run.id]
        steps = np.arange(last + 1)
        # Every point sampling keeps of loss has its epoch: no row is lost for want of its x.
        assert rows["_step"].tolist() == steps[sample_numpy(steps, steps**2, 20)].tolist()
        assert (rows["epoch"] == rows["_step"] // per_epoch).all()
        assert (rows["loss"] == rows["_step"] ** 2).all()


def test_histories_bad_ranges_name_the_field(api, two_runs):
    project, a, _ = two_runs
    runs = api.runs(project.path)
    bad = [
        ({"x_axis": "_runtime", "min_x": 5, "max_x": 1}, "min_x"),
        ({"min_x": math.nan}, "min_x"),
        ({"max_x": "10"}, "max_x"),
        ({"x_axis": "", "min_x": 1}, "x_axis"),
    ]
    for kwargs, field in bad:
        with pytest.raises(UsageError) as caught:
            runs.histories(keys=["loss"], **kwargs)
        assert caught.value.field == field
    route = f"/api/v1/projects/{project.path}/history"
    for body, field in [
        ({"x_axis": "metric", "min_x": 0}, "x_key"),
        ({"x_axis": "step", "x_key": "epoch", "min_x": 0}, "x_key"),
        ({"x_axis": "wallclock", "min_x": 0}, "x_axis"),
        ({"x_axis": "runtime", "min_x": 9, "max_x": 1}, "min_x"),
    ]:
        with pytest.raises(lablens.BadRequest) as caught:
            api.client.post_arrow(route, {"runs": [a.id], **body})
        assert caught.value.status == 400 and caught.value.field == field
    with pytest.warns(UnknownKeyWarning, match="no metric 'never_logged'"):
        none = runs.histories(keys=["loss"], x_axis="never_logged", min_x=0, format="pandas")
    assert none.empty


def test_histories_carry_run_names_beside_the_columns(api, two_runs):
    project, a, b = two_runs
    runs = api.runs(project.path, order="created_at")
    df = runs.histories(samples=10, keys=["loss"], format="pandas")
    assert df.attrs["run_names"] == {a.id: "alpha", b.id: "beta"}
    assert list(df.columns) == ["run_id", "_step", "loss", "_timestamp", "_runtime"]
    listed = api.runs(project.path, order="-created_at")
    list(listed)  # loaded: the ids are sent instead of the filter
    assert listed.histories(samples=10, keys=["loss"], format="pandas").attrs["run_names"] == {
        b.id: "beta",
        a.id: "alpha",
    }
