"""``CompareView``, ``ParallelCoordinates`` and ``ScatterPlot`` against a real server: each shows
what one recorded ``Api`` call returns, and that code gives the same result in a fresh kernel."""

from __future__ import annotations

import pandas as pd
import pytest

import lablens
from lablens.widgets import CompareView, Explorer, ParallelCoordinates, ScatterPlot

QUIET = {"console": False, "system_interval": 0, "flush_timeout": 20, "silent": True}


def fresh(code: str, name: str):
    scope: dict = {}
    exec(code, scope)
    return scope[name]


@pytest.fixture
def runs(api, make_project, make_run):
    project = make_project()
    made = [
        make_run(
            project,
            name=f"r{i}",
            config={"lr": lr, "opt": opt, "seed": 1},
            summary={"acc": acc},
        )
        for i, (lr, opt, acc) in enumerate(
            [(0.1, "adam", 0.5), (0.2, "sgd", 0.7), (0.3, "adam", 0.6)]
        )
    ]
    return project, made


@pytest.fixture
def sweep(api, server, make_project):
    project = make_project()
    path = lablens.sweep(
        {
            "method": "grid",
            "metric": {"name": "acc", "goal": "maximize"},
            "parameters": {"lr": {"values": [0.01, 0.1, 1.0]}, "opt": {"values": ["a", "b"]}},
        },
        *project.path.split("/"),
        host=server.url,
        api_key=server.api_key,
    )

    def train() -> None:
        with lablens.init(settings=QUIET) as run:
            run.log({"acc": run.config["lr"] + (run.config["opt"] == "b")})

    assert lablens.agent(path, train, host=server.url, api_key=server.api_key) == 6
    return api.sweep(path)


def test_compare_view_shows_what_its_code_gives(api, runs):
    project, made = runs
    view = CompareView(api, runs=[r.path for r in made[:2]])
    df = view.to_pandas()
    assert list(df.columns) == ["r0", "r1"]
    assert list(df.index) == ["config.lr", "config.opt", "config.seed", "summary.acc"]
    assert df.attrs["differs"] == ["config.lr", "config.opt", "summary.acc"]
    assert ".compare(only_differences=False)" in view.code
    pd.testing.assert_frame_equal(fresh(view.code, "df"), df)
    html = view._table.value
    assert html.count("class='diff'") == 3 and html.count("class='same'") == 1
    assert html.index("<th title='config.lr'>") < html.index("<th title='config.seed'>")
    assert "2 runs · 3 keys differ" in view._title.value
    view.only_differences = True
    assert ".compare(only_differences=True)" in view.code
    assert list(view.to_pandas().index) == ["config.lr", "config.opt", "summary.acc"]
    assert view._toggle.value is True
    actions: list[str] = []
    view.on_api_call(actions.append)
    view.runs = made  # Run objects are kept as paths
    assert view.runs == [r.path for r in made] and len(actions) == 1
    assert list(view.to_pandas().columns) == ["r0", "r1", "r2"]


def test_compare_view_empty_and_bad_input(api):
    view = CompareView(api)
    assert view.to_pandas().empty and view.code == ""
    assert "Select runs in the table" in view._table.value
    with pytest.raises(TypeError, match="unexpected keyword argument.*colour"):
        CompareView(api, colour="red")
    view.runs = ["nobody/nothing/x1"]
    assert "WorkspaceNotFound: workspace not found: nobody" in view.error
    assert "workspace not found: nobody" in view._status.value


def test_parallel_coordinates_of_a_sweep(api, sweep):
    pc = ParallelCoordinates(api, sweep)
    assert pc.code.endswith(f"fig = api.sweep({sweep.path!r}).parallel_coordinates()")
    fig = fresh(pc.code, "fig")
    assert [d.label for d in fig.data[0].dimensions] == [
        "config.lr",
        "config.opt",
        "summary.acc",
    ]
    shown = pc.figure.data[0].to_plotly_json()
    shown.pop("uid", None)  # the FigureWidget names its traces
    assert fig.data[0].to_plotly_json() == shown
    df = pc.to_pandas()
    by_id = {r.id: r for r in sweep.runs}
    assert sorted(df["run_id"]) == sorted(by_id)
    for _, row in df.iterrows():
        run = by_id[row["run_id"]]
        assert row["config.lr"] == run.config["lr"] and row["config.opt"] == run.config["opt"]
        assert row["summary.acc"] == pytest.approx(run.summary["acc"])
    # the pickers offer the project's keys; picking changes the call
    assert "config.lr" in pc._params_box.allowed_tags
    pc.params = ["config.opt"]
    assert "parallel_coordinates(params=['config.opt'])" in pc.code
    assert list(pc.to_pandas().columns) == ["run_id", "config.opt", "summary.acc"]
    pc.params = ["config.nope"]
    assert "UsageError: params: no column 'config.nope'" in pc.error


def test_scatter_plot_of_a_sweep_and_of_runs(api, sweep, runs):
    sp = ScatterPlot(api, sweep.path, x="config.lr", log_x=True)
    assert sp.code.endswith(f"fig = api.sweep({sweep.path!r}).scatter(x='config.lr', log_x=True)")
    fig = fresh(sp.code, "fig")
    assert fig.layout.xaxis.type == "log" and sp.figure.layout.xaxis.type == "log"
    df = sp.to_pandas()
    assert list(df.columns) == ["run_id", "name", "config.lr", "summary.acc"]
    assert list(df["config.lr"]) == list(fig.data[0].x)
    project, made = runs
    on_runs = ScatterPlot(api, api.runs(project.path, filters={"config.opt": "adam"}))
    assert on_runs.code.endswith(
        f"fig = api.runs({project.path!r}, filters={{'config.opt': 'adam'}})"
        ".scatter(y='summary.acc')"
    )
    picked = on_runs.to_pandas()  # x: the first config key that differs
    assert list(picked["name"]) == ["r0", "r2"] and list(picked["config.lr"]) == [0.1, 0.3]
    assert on_runs._logx_box.value is False  # 0.1 to 0.3: linear, and the box says so
    on_runs._logx_box.value = True
    assert on_runs.log_x is True and "log_x=True" in on_runs.code
    with pytest.raises(TypeError, match=r"ScatterPlot\(source\) takes a Sweep.*not int"):
        ScatterPlot(api, 42)


def test_explorer_compares_selected_runs_and_plots_a_sweep(api, sweep, runs):
    project, made = runs
    ex = Explorer(api, path=project.path)
    ex.table.selected = [r.path for r in made[:2]]
    assert ex.compare.runs == [r.path for r in made[:2]]
    assert list(ex.compare.to_pandas().columns) == ["r0", "r1"]
    assert any(".compare(only_differences=False)" in a for a in ex.actions)
    assert ex.parallel_coordinates not in ex.sweep_plots.children  # no sweep shown yet
    ex.tree.selected = f"{sweep.entity}/{sweep.project}/sweeps/{sweep.id}"
    assert ex.parallel_coordinates.sweep == sweep.path
    assert ex.scatter_plot.sweep == sweep.path
    assert ex.sweep_plots.children == (ex.parallel_coordinates, ex.scatter_plot)
    assert len(ex.parallel_coordinates.to_pandas()) == 6
    assert any("parallel_coordinates()" in a for a in ex.actions)
    ex.table.filters = {}
    assert ex.parallel_coordinates not in ex.sweep_plots.children
