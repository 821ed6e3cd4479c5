"""Comparing runs against a real server: ``compare(only_differences=False)``, the parallel
coordinates and scatter figures of ``Runs`` and ``Sweep``, their data equal to the runs'."""

from __future__ import annotations

import math

import pytest

import lablens
from lablens.errors import UsageError

QUIET = {"console": False, "system_interval": 0, "flush_timeout": 20, "silent": True}


@pytest.fixture
def four_runs(api, make_project, make_run):
    project = make_project()
    made = [
        make_run(
            project,
            name=f"r{i}",
            config={"optim": {"lr": lr, "name": opt}, "hidden": hidden, "seed": 0},
            summary={"val/acc": acc, "loss": 1 - acc},
        )
        for i, (lr, opt, hidden, acc) in enumerate(
            [
                (0.001, "adam", [64], 0.5),
                (0.01, "adam", [64, 32], 0.75),
                (0.1, "sgd", [128], 0.25),
                (0.01, "sgd", [64], 0.9),
            ]
        )
    ]
    return project, made


def test_compare_all_rows_puts_differences_first(api, four_runs, counted):
    project, made = four_runs
    counted.clear()
    full = api.runs(project.path).compare(only_differences=False)
    assert len(counted) == 1
    rows = list(full.index)
    config = [r for r in rows if r.startswith("config.")]
    summary = [r for r in rows if r.startswith("summary.")]
    assert rows == config + summary  # config above, summary below
    assert config == ["config.hidden", "config.optim.lr", "config.optim.name", "config.seed"]
    assert full.attrs["differs"] == [
        "config.hidden",
        "config.optim.lr",
        "config.optim.name",
        "summary.loss",
        "summary.val/acc",
    ]
    assert full.loc["config.seed"].tolist() == [0, 0, 0, 0]
    assert full.loc["summary.val/acc"].tolist() == [0.5, 0.75, 0.25, 0.9]
    assert list(full.columns) == ["r0", "r1", "r2", "r3"]
    diff = api.runs(project.path).compare()
    assert list(diff.index) == full.attrs["differs"] == diff.attrs["differs"]


def test_parallel_coordinates_holds_the_runs_values(api, four_runs, counted):
    project, made = four_runs
    runs = api.runs(project.path)
    counted.clear()
    fig = runs.parallel_coordinates(["optim.lr", "optim.name", "hidden"], metric="val/acc")
    assert len(counted) == 1
    (trace,) = fig.data
    assert trace.type == "parcoords"
    dims = {d.label: d for d in trace.dimensions}
    assert list(dims) == [
        "config.optim.lr",
        "config.optim.name",
        "config.hidden",
        "summary.val/acc",
    ]
    # learning rates spanning two decades: a log axis, ticks labelled with the values
    lr = dims["config.optim.lr"]
    assert fig.layout.meta["log_axes"] == ["config.optim.lr"]
    assert [10**v for v in lr.values] == pytest.approx([r.config["optim"]["lr"] for r in made])
    assert list(lr.ticktext) == ["0.001", "0.01", "0.1"]
    assert list(dims["summary.val/acc"].values) == [r.summary["val/acc"] for r in made]
    # text values: an axis of the distinct values, each run at its own
    names = dims["config.optim.name"]
    assert list(names.ticktext) == ["adam", "sgd"]
    assert [names.ticktext[int(v)] for v in names.values] == ["adam", "adam", "sgd", "sgd"]
    hidden = dims["config.hidden"]
    assert list(hidden.ticktext) == ["[64]", "[128]", "[64, 32]"]
    assert [hidden.ticktext[int(v)] for v in hidden.values] == [
        str(r.config["hidden"]) for r in made
    ]
    assert list(trace.line.color) == [r.summary["val/acc"] for r in made]
    assert fig.layout.meta["run_ids"] == [r.id for r in made]
    assert fig.layout.meta["run_names"] == ["r0", "r1", "r2", "r3"]
    # by default: the config keys that differ (seed does not)
    default = runs.parallel_coordinates(metric="summary_metrics.val/acc")
    assert [d.label for d in default.data[0].dimensions] == [
        "config.hidden",
        "config.optim.lr",
        "config.optim.name",
        "summary.val/acc",
    ]


def test_scatter_is_one_dot_per_run(api, four_runs):
    project, made = four_runs
    fig = api.runs(project.path).scatter("optim.lr", "val/acc", log_x=True)
    (trace,) = fig.data
    assert list(trace.x) == [r.config["optim"]["lr"] for r in made]
    assert list(trace.y) == [r.summary["val/acc"] for r in made]
    assert list(trace.text) == ["r0", "r1", "r2", "r3"]
    assert list(trace.customdata) == [r.id for r in made]
    assert "%{text}" in trace.hovertemplate
    assert fig.layout.xaxis.type == "log"
    assert fig.layout.xaxis.title.text == "config.optim.lr"
    assert list(fig.layout.xaxis.ticktext) == ["0.001", "0.01", "0.1"]  # a tick at each value
    # by default: a log axis for values spanning two decades, a linear one otherwise
    assert api.runs(project.path).scatter("optim.lr", "val/acc").layout.xaxis.type == "log"
    linear = api.runs(project.path).scatter("summary.loss", "val/acc")
    assert linear.layout.xaxis.type is None and linear.layout.yaxis.type is None
    # no x: the first config key that differs
    assert api.runs(project.path).scatter(y="val/acc").layout.xaxis.title.text == "config.hidden"


def test_bad_keys_name_the_argument_and_the_closest(api, four_runs):
    project, _ = four_runs
    runs = api.runs(project.path)
    with pytest.raises(UsageError, match=r"params: no column 'optim.lrr'.*config\.optim\.lr") as e:
        runs.parallel_coordinates(["optim.lrr"])
    assert e.value.field == "params"
    with pytest.raises(UsageError, match="y: no column 'val/ac'") as e:
        runs.scatter("optim.lr", "val/ac")
    assert e.value.field == "y"
    with pytest.raises(UsageError, match="x must be a column name"):
        runs.scatter(3, "val/acc")
    with pytest.raises(UsageError, match="scatter\\(\\) needs y"):
        runs.scatter("optim.lr")


def test_sweep_figures_default_to_its_parameters_and_metric(api, server, make_project):
    project = make_project()
    sweep_id = lablens.sweep(
        {
            "method": "grid",
            "metric": {"name": "score", "goal": "maximize"},
            "parameters": {
                "lr": {"values": [0.01, 0.1]},
                "model": {"parameters": {"depth": {"values": [1, 2]}}},
            },
        },
        *project.path.split("/"),
        host=server.url,
        api_key=server.api_key,
    )

    def train() -> None:
        with lablens.init(settings=QUIET) as run:
            run.log({"score": run.config["lr"] * 10 + run.config["model"]["depth"]})

    assert lablens.agent(sweep_id, train, host=server.url, api_key=server.api_key) == 4
    sweep = api.sweep(sweep_id)
    assert sweep.parameters == ["config.lr", "config.model.depth"]
    assert sweep.metric == "summary.score"
    runs = list(sweep.runs)
    fig = sweep.parallel_coordinates()
    dims = fig.data[0].dimensions
    assert [d.label for d in dims] == ["config.lr", "config.model.depth", "summary.score"]
    assert list(dims[2].values) == pytest.approx([r.summary["score"] for r in runs])
    assert list(dims[0].values) == [r.config["lr"] for r in runs]  # 0.01 to 0.1: linear
    assert list(dims[0].ticktext) == ["0.01", "0.1"]
    assert all(math.isfinite(v) for v in dims[2].values)
    scatter = sweep.scatter()
    assert list(scatter.data[0].x) == [r.config["lr"] for r in runs]
    assert list(scatter.data[0].y) == pytest.approx([r.summary["score"] for r in runs])
