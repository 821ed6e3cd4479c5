"""The reads the widgets need from the Api: table pages, project fields, x-ranged histories."""

from __future__ import annotations

import pandas as pd
import pytest

from lablens.errors import UsageError


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
    by_time = runs.histories(keys=["loss"], x_axis="_timestamp", format="pandas",
                             min_x=1.7e9 + 10, max_x=1.7e9 + 12)
    assert by_time["_step"].tolist() == [10, 11, 12]
    assert isinstance(zoomed, pd.DataFrame) and zoomed["run_id"].eq(run.id).all()
    with pytest.raises(UsageError):
        runs.histories(keys=["loss"], x_axis="_runtime", min_x=1)
