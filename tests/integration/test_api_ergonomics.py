"""What a newcomer reaches for first: slices of ``Runs`` that keep the bulk reads,
``Runs.compare()``, a warning that names the metrics when a key is a typo, and reprs that say
how many runs and which one."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from IPython.lib.pretty import pretty

from lablens.api import Runs, UnknownKeyWarning
from lablens.errors import UsageError


@pytest.fixture
def three_runs(make_project, make_run):
    project = make_project()
    runs = [
        make_run(
            project,
            name="a",
            config={"lr": 0.1, "data": {"bs": 64}, "opt": "adam", "seed": 1},
            points={"loss": ([0, 1, 2], [3.0, 2.0, 1.0]), "acc": ([1, 2], [0.5, 0.75])},
        ),
        make_run(
            project,
            name="b",
            config={"lr": 0.2, "data": {"bs": 32}, "seed": 1},
            points={"loss": ([0, 5], [4.0, 2.5])},
        ),
        make_run(project, name="c", config={"lr": 0.3, "seed": 1}, state=None),
    ]
    return project, runs


# -- slices keep the bulk reads ------------------------------------------------------------------


def test_a_slice_is_a_runs_with_to_pandas_and_histories(api, three_runs, counted):
    project, made = three_runs
    runs = api.runs(project.path)
    first_two = runs[:2]
    assert isinstance(first_two, Runs)
    assert len(first_two) == 2 and [r.name for r in first_two] == ["a", "b"]
    assert first_two[0].id == made[0].id and first_two[-1].id == made[1].id
    assert repr(first_two) == f"<Runs {project.path}: 2 runs>"
    counted.clear()
    frame = first_two.to_pandas(columns=["name", "config.lr"])
    assert len(counted) == 1 and counted[0].endswith("/runs/table")
    assert frame["name"].tolist() == ["a", "b"]
    assert frame["config.lr"].tolist() == [0.1, 0.2]
    counted.clear()
    hist = first_two.histories(keys=["loss"], format="pandas")
    assert len(counted) == 1 and counted[0].endswith("/history")
    assert hist["run_id"].unique().tolist() == [made[0].id, made[1].id]
    assert hist["loss"].tolist() == [3.0, 2.0, 1.0, 4.0, 2.5]
    # A slice of a slice is one too.
    assert [r.name for r in first_two[1:]] == ["b"]


def test_a_list_of_positions_picks_runs_in_that_order(api, three_runs):
    project, made = three_runs
    runs = api.runs(project.path)
    picked = runs[[2, 0]]
    assert isinstance(picked, Runs)
    assert [r.name for r in picked] == ["c", "a"]
    assert picked.to_pandas()["name"].tolist() == ["c", "a"]
    page = picked.to_arrow(["name"], offset=1, limit=1)
    assert page.column("name").to_pylist() == ["a"] and page.schema.metadata[b"total"] == b"2"
    long = picked.histories(keys=["loss"], format="long")
    assert long["run_id"].unique().tolist() == [made[0].id]  # c logged nothing
    assert long.attrs["run_names"] == {made[2].id: "c", made[0].id: "a"}
    assert [r.name for r in runs[[-1]]] == ["c"]
    assert len(runs[3:]) == 0 and runs[3:].to_pandas().empty


def test_bad_positions_name_what_runs_takes(api, three_runs):
    project, _ = three_runs
    runs = api.runs(project.path)
    with pytest.raises(TypeError, match="integer, a slice or a list of integers.*str"):
        runs[[0, "a"]]
    with pytest.raises(IndexError, match="3 runs, positions 0 to 2"):
        runs[[0, 7]]


# -- compare ---------------------------------------------------------------------------------


def test_compare_shows_the_keys_that_differ(api, three_runs, counted):
    project, made = three_runs
    runs = api.runs(project.path)
    counted.clear()
    diff = runs.compare()
    assert len(counted) == 1  # the run table
    assert list(diff.columns) == ["a", "b", "c"] and diff.columns.name == "run"
    assert diff.attrs["run_ids"] == {"a": made[0].id, "b": made[1].id, "c": made[2].id}
    # seed is the same everywhere; a key some runs lack differs.
    assert list(diff.index) == [
        "config.data.bs",
        "config.lr",
        "config.opt",
        "summary.acc",
        "summary.loss",
    ]
    assert diff.loc["config.lr"].tolist() == [0.1, 0.2, 0.3]
    assert diff.loc["config.opt", "a"] == "adam" and pd.isna(diff.loc["config.opt", "b"])
    assert diff.loc["summary.loss", "b"] == 2.5


def test_compare_given_keys_and_a_slice(api, three_runs):
    project, _ = three_runs
    runs = api.runs(project.path)
    diff = runs[:2].compare(keys=["lr", "seed", "summary_metrics.loss"])
    assert list(diff.index) == ["config.lr", "config.seed", "summary.loss"]
    assert diff.loc["config.seed"].tolist() == [1, 1]  # asked for: shown though equal
    assert diff.loc["summary.loss"].tolist() == [1.0, 2.5]
    assert runs[:1].compare().empty  # one run: nothing differs
    with pytest.raises(UsageError, match=r"no config or summary key 'lrr'.*config\.lr"):
        runs.compare(keys=["lrr"])


def test_compare_names_repeated_runs_by_id(api, make_project, make_run):
    project = make_project()
    one = make_run(project, name="same", config={"lr": 1})
    two = make_run(project, name="same", config={"lr": 2})
    nameless = make_run(project, config={"lr": 3})
    diff = api.runs(project.path).compare()
    assert list(diff.columns) == [f"same ({one.id})", f"same ({two.id})", nameless.id]


# -- a typo in a metric key --------------------------------------------------------------------


def test_run_history_warns_naming_the_closest_keys(api, three_runs):
    _, made = three_runs
    run = api.run(made[0].path)
    with pytest.warns(UnknownKeyWarning, match=r"no metric 'los' in run .*did you mean 'loss'\?"):
        frame = run.history(keys=["los"])
    assert frame.empty  # what W&B answers: no rows, and no word
    with pytest.warns(UnknownKeyWarning) as caught:
        frame = run.history(keys=["loss", "acc_"])
    warning = caught[0].message
    assert warning.unknown == ["acc_"] and warning.known[0] == "acc"
    assert set(warning.known) == {"acc", "loss"}
    assert frame["loss"].tolist() == [3.0, 2.0, 1.0]  # the known key still comes back
    with pytest.warns(UnknownKeyWarning, match="'los'"):
        run.metrics(keys=["los"])


def test_known_keys_do_not_warn(api, three_runs):
    _, made = three_runs
    run = api.run(made[0].path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run.history(keys=["loss", "acc"])["acc"].count() == 2
        # A key that exists, but has no point in the range read: no warning.
        assert (
            api.runs(f"{run.entity}/{run.project}")
            .histories(keys=["acc"], min_x=50, max_x=60, format="pandas")
            .empty
        )


def test_runs_histories_warn_for_unknown_keys(api, three_runs):
    project, _ = three_runs
    runs = api.runs(project.path)
    with pytest.warns(UnknownKeyWarning, match=r"no metric 'loss_' in the runs of .*'loss'"):
        runs.histories(keys=["loss_"])  # not read yet: the project's keys name the choices
    list(runs)
    with pytest.warns(UnknownKeyWarning, match=r"no metrics 'x', 'y' in the runs of"):
        runs.histories(keys=["x", "y", "loss"], format="long")
    with pytest.warns(UnknownKeyWarning, match="these runs of"):
        runs[:2].histories(keys=["acc", "lossy"])


def test_an_unknown_key_can_be_an_error(api, three_runs):
    _, made = three_runs
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownKeyWarning)
        with pytest.raises(UnknownKeyWarning):
            api.run(made[0].path).history(keys=["los"])


# -- reprs -------------------------------------------------------------------------------------


def test_runs_repr_counts_from_the_first_page(api, three_runs, counted):
    project, _ = three_runs
    runs = api.runs(project.path)
    counted.clear()
    assert repr(runs) == f"<Runs {project.path}: 3 runs>"
    assert len(counted) == 1  # the first page, kept
    assert [r.name for r in runs] == ["a", "b", "c"] and len(counted) == 1
    assert repr(api.runs(project.path, filters={"name": "a"})) == f"<Runs {project.path}: 1 run>"


def test_run_repr_names_the_run(api, make_project, make_run):
    project = make_project()
    named = make_run(project, name='lr "0.01"', summary={"best_acc": 0.975})
    plain = make_run(project, state=None)
    assert repr(named) == f'<Run {named.path} "lr \\"0.01\\"" finished>'
    assert repr(plain) == f"<Run {plain.path} running>"
    shown = pretty(named)
    assert shown.splitlines()[0] == repr(named)
    assert "best_acc  0.975" in shown
    assert "<b>summary</b>" in named._repr_html_() and "0.975" in named._repr_html_()


def test_runs_pretty_lists_the_first_runs(api, three_runs):
    project, made = three_runs
    lines = pretty(api.runs(project.path)).splitlines()
    assert lines[0] == f"<Runs {project.path}: 3 runs>"
    assert lines[1].split() == ["id", "name", "state", "created_at"]
    assert lines[2].split()[:3] == [made[0].id, "a", "finished"]
    assert lines[4].split()[:3] == [made[2].id, "c", "running"]


def test_repr_of_an_unreachable_server_says_what_it_can():
    from lablens.api import Api

    api = Api(host="http://127.0.0.1:9", api_key="x", timeout=0.5)
    runs = api.runs("alice/mnist")
    assert repr(runs) == "<Runs alice/mnist>"
    assert runs.objects == []


# -- widgets take what the Api returns ---------------------------------------------------------


def test_chart_takes_run_objects_and_their_api(api, three_runs):
    from lablens.widgets import MetricChart

    project, made = three_runs
    runs = api.runs(project.path)
    chart = MetricChart(runs=[runs[0], made[1].path], keys="loss")
    assert chart._api is api  # the Api of the Run objects, not a default one
    assert chart.runs == [made[0].path, made[1].path] and chart.keys == ["loss"]
    assert chart.error == "" and len(chart.figure.data) == 2
    chart.runs = runs[[1]]  # a Runs collection works too
    assert chart.runs == [made[1].path] and len(chart.figure.data) == 1
    chart.runs = made[0]  # one run alone is a list of one
    assert chart.runs == [made[0].path]


def test_widgets_name_the_argument_of_a_wrong_type(api, three_runs):
    from lablens.widgets import ArtifactBrowser, Explorer, MetricChart, RunTable

    project, made = three_runs
    with pytest.raises(TypeError, match=r"MetricChart\.runs takes run paths .*Run objects.*item 1"):
        MetricChart(api, runs=[made[0], 5])
    with pytest.raises(TypeError, match=r"MetricChart\.keys takes .*metric names.*int"):
        MetricChart(api, runs=[made[0]], keys=[3])
    with pytest.raises(
        TypeError, match=r"MetricChart\(api=\.\.\.\) takes a lablens\.Api, not list"
    ):
        MetricChart([made[0]])
    with pytest.raises(
        TypeError, match=r"RunTable\.path takes a project path.*not Run.*run\.project"
    ):
        RunTable(api, path=made[0])
    with pytest.raises(TypeError, match=r"RunTable\.selected takes run paths"):
        RunTable(api, path=project, selected=[project])
    with pytest.raises(TypeError, match=r"ArtifactBrowser\.path takes a project path.*not int"):
        ArtifactBrowser(api, path=7)
    with pytest.raises(TypeError, match=r"Explorer\(path=\.\.\.\) takes a workspace"):
        Explorer(api, path=3.5)


def test_run_table_takes_a_project_or_a_runs(api, three_runs):
    from lablens.widgets import RunTable

    project, made = three_runs
    table = RunTable(path=project, selected=[made[2], made[0]])
    assert table._api is api and table.path == project.path and table.total == 3
    assert table.selected == [made[2].path, made[0].path]
    cut = RunTable(path=api.runs(project.path)[[0, 2]])  # a slice: those runs
    assert cut.total == 2 and cut.to_pandas()["name"].tolist() == ["a", "c"]
    only_a = RunTable(path=api.runs(project.path, filters={"name": "a"}, order="-name"))
    assert only_a.filters == {"name": "a"} and only_a.order == "-name" and only_a.total == 1


def test_run_table_selection_as_runs_and_as_a_frame(api, three_runs):
    from lablens.widgets import RunTable

    project, made = three_runs
    table = RunTable(api, path=project.path, order="-name", columns=["name", "config.lr"])
    assert table.to_pandas(selected=True).empty and len(table.selected_runs()) == 0
    table.selected = [made[0].path, made[2].path]
    picked = table.selected_runs()
    assert [r.name for r in picked] == ["c", "a"]  # the table's order
    frame = table.to_pandas(selected=True)
    assert list(frame.columns) == ["id", "name", "config.lr"]
    assert frame["name"].tolist() == ["c", "a"] and frame["config.lr"].tolist() == [0.3, 0.1]
    assert len(table.to_pandas()) == 3  # the whole table, as before
    assert list(picked.compare().index) == ["config.data.bs", "config.lr", "config.opt"] + [
        "summary.acc",
        "summary.loss",
    ]


def test_chart_names_an_unknown_key_in_its_status(api, three_runs):
    from lablens.widgets import MetricChart

    project, made = three_runs
    chart = MetricChart(api, runs=[made[0].path, made[1].path], keys=["los"])
    assert "no metric 'los' in these runs; did you mean 'loss'?" in chart.error
    assert "The metrics logged: loss, acc" in chart.error
    assert "did you mean 'loss'" in chart._controls.status.value  # shown, in red
    chart.keys = ["loss", "acc_"]  # the known key is drawn; the typo is named
    drawn = [t for t in chart.figure.data if len(t.x)]
    assert "'acc_'" in chart.error and {t.meta[2] for t in drawn} == {"loss"} and len(drawn) == 2
    chart.keys = ["loss"]
    assert chart.error == "" and "2 runs" in chart._controls.status.value


def test_explorer_takes_a_run_or_a_runs(api, three_runs):
    from lablens.widgets import Explorer

    project, made = three_runs
    ex = Explorer(path=made[1])
    assert ex._api is api and ex.table.path == project.path
    assert ex.table.selected == [made[1].path] and ex.panels.runs == [made[1].path]
    ex = Explorer(path=api.runs(project.path, filters={"state": "RUNNING"}))
    assert ex.table.filters == {"state": "RUNNING"} and ex.table.total == 1


def test_project_repr_counts_its_runs(api, three_runs):
    project, _ = three_runs
    assert repr(api.project(project.path)) == f"<Project {project.path}: 3 runs>"
