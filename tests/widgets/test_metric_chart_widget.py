"""MetricChart against a real server: one read per project, zoom re-reads, code reproduces."""

from __future__ import annotations

import ipywidgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import traitlets as t

from lablens.api import UnknownKeyWarning
from lablens.widgets import MetricChart
from lablens.widgets.metric_chart import ema


@pytest.fixture
def runs(make_project, make_run):
    project = make_project()
    steps = np.arange(2000)
    return [
        make_run(
            project,
            name=f"r{i}",
            points={"loss": 1 / (steps + 1 + i), "acc": np.tanh(steps / 500 + i)},
        )
        for i in range(3)
    ]


def run_code(api, code: str) -> pd.DataFrame:
    scope = {"api": api}
    exec(code, scope)
    return scope["df"]


def test_two_runs_two_lines_and_code(api, runs):
    chart = MetricChart(api, runs=[r.path for r in runs[:2]], keys=["loss"], samples=100)
    assert len(chart.figure.data) == 2
    df = chart.to_pandas()
    assert set(df["run_id"]) == {runs[0].id, runs[1].id}
    assert df.groupby("run_id").size().max() <= 100
    pd.testing.assert_frame_equal(run_code(api, chart.code), df)


def test_zoom_reads_the_range_at_full_resolution(api, runs):
    chart = MetricChart(api, runs=[runs[0].path], keys=["loss"], samples=50)
    whole = chart.to_pandas()
    assert whole["_step"].between(100, 139).sum() < 10  # sampled over 2000 steps
    chart.figure.layout.xaxis.range = [100, 139]
    df = chart.to_pandas()
    assert df["_step"].tolist() == list(range(100, 140))  # every point of the visible range
    assert "min_x=100.0, max_x=139.0" in chart.code
    pd.testing.assert_frame_equal(run_code(api, chart.code), df)
    chart.figure.layout.xaxis.range = None
    assert chart.x_range is None and chart.to_pandas()["_step"].max() == 1999


def test_style_options_keep_the_points(api, runs):
    chart = MetricChart(api, runs=[runs[0].path], keys=["loss", "acc"], samples=100)
    before = chart.to_pandas()
    chart.smoothing, chart.log_y, chart.show_band = 0.9, True, True
    assert chart.figure.layout.yaxis.type == "log"
    assert len(chart.figure.data) == 6  # two lines, each with a band of two edges
    pd.testing.assert_frame_equal(chart.to_pandas(), before)
    chart.x_axis = "acc"
    assert "x_axis='acc'" in chart.code and chart.error == ""


def test_ema_skips_nan_and_debiases():
    out = ema(np.array([1.0, np.nan, 1.0, 1.0]), 0.9)
    assert np.isnan(out[1]) and np.allclose(out[[0, 2, 3]], 1.0)
    assert np.array_equal(ema(np.array([1.0, 2.0]), 0.0), np.array([1.0, 2.0]))


def test_repr_and_unknown_keyword(api, runs):
    assert repr(MetricChart(api, runs=[runs[0].path], keys=["loss"])) == (
        "<MetricChart 1 runs: loss vs _step>"
    )
    with pytest.raises(TypeError):
        MetricChart(api, run=[runs[0].path])


@pytest.fixture
def timed_runs(api, make_project):
    """Two runs of 1000 steps started at different times: ``loss`` = step², ``epoch`` =
    step // 10; ``_runtime`` is 10 + step for ``a`` and 3 + 2 * step for ``b``."""
    project = make_project()
    made = []
    for name, created, first, pace in (
        ("a", 1.7e9, 1.7e9 + 10, 1.0),
        ("b", 1.7e9 + 1000.25, 1.7e9 + 1003.25, 2.0),
    ):
        run = api.create_run(project=project.name, name=name, created_at=created)
        step = np.arange(1000)
        run.log_points(
            {
                "key": ["loss"] * 1000 + ["epoch"] * 1000,
                "step": np.concatenate([step, step]),
                "timestamp": np.concatenate([first + pace * step] * 2),
                "value": np.concatenate([step * step, step // 10]).astype(float),
            }
        )
        made.append(run)
    return made


def full_resolution(api, runs, x_axis: str, lo: float, hi: float) -> pd.DataFrame:
    df = api.runs(f"{runs[0].entity}/{runs[0].project}", order="created_at").histories(
        samples=None, keys=["loss"], x_axis=x_axis, format="long"
    )
    return df[df[x_axis].between(lo, hi)].reset_index(drop=True)


@pytest.mark.parametrize(
    ("x_axis", "lo", "hi", "counts"),
    [
        ("_runtime", 100.0, 119.5, {"a": 20, "b": 10}),  # a: steps 90..109, b: steps 49..58
        ("epoch", 20.0, 21.0, {"a": 20, "b": 20}),  # steps 200..219
        ("_step", 300.0, 314.0, {"a": 15, "b": 15}),
    ],
)
def test_zoom_on_any_x_axis_reads_the_range_at_full_resolution(
    api, timed_runs, x_axis, lo, hi, counts
):
    chart = MetricChart(
        api, runs=[r.path for r in timed_runs], keys=["loss"], x_axis=x_axis, samples=20
    )
    whole = chart.to_pandas()
    assert whole[x_axis].between(lo, hi).sum() < 10  # sampled over 1000 steps
    chart.figure.layout.xaxis.range = [lo, hi]  # what a zoom in the browser does
    df = chart.to_pandas()
    assert chart.x_range == (lo, hi)
    assert df[x_axis].between(lo, hi).all()
    by_name = {r.id: r.name for r in timed_runs}
    assert df.groupby("run_id").size().rename(by_name).to_dict() == counts
    pd.testing.assert_frame_equal(df, full_resolution(api, timed_runs, x_axis, lo, hi))
    assert f"min_x={lo!r}, max_x={hi!r}" in chart.code
    pd.testing.assert_frame_equal(run_code(api, chart.code), df)
    assert [len(trace.x) for trace in chart.figure.data] == list(counts.values())
    chart.figure.layout.xaxis.range = None
    assert chart.x_range is None
    pd.testing.assert_frame_equal(chart.to_pandas(), whole)


def test_zoom_on_timestamp_takes_plotly_dates(api, timed_runs):
    a = timed_runs[0]
    chart = MetricChart(api, runs=[a.path], keys=["loss"], x_axis="_timestamp", samples=20)
    assert chart.figure.layout.xaxis.type == "date"
    # plotly answers a zoom on a date axis with dates, as drawn: in UTC
    chart.figure.layout.xaxis.range = ["2023-11-14 22:15:00", "2023-11-14 22:15:19.5"]
    start = pd.Timestamp("2023-11-14 22:15:00", tz="UTC").timestamp()
    assert chart.x_range == (start, start + 19.5)
    df = chart.to_pandas()
    assert df["_timestamp"].between(start, start + 19.5).all() and len(df) == 20
    assert np.array_equal(chart.figure.data[0].x, df["_timestamp"].to_numpy() * 1000)
    pd.testing.assert_frame_equal(run_code(api, chart.code), df)


def test_setting_x_range_zooms_the_figure(api, timed_runs):
    chart = MetricChart(
        api, runs=[r.path for r in timed_runs], keys=["loss"], x_axis="epoch", samples=20
    )
    chart.x_range = (5, 5)
    assert tuple(chart.figure.layout.xaxis.range) == (5.0, 5.0)
    df = chart.to_pandas()
    assert df["epoch"].eq(5).all() and df["_step"].tolist() == [*range(50, 60)] * 2
    pd.testing.assert_frame_equal(run_code(api, chart.code), df)
    with pytest.raises(t.TraitError):
        chart.x_range = (3, 1)
    chart.x_axis = "_step"
    assert chart.x_range is None and chart.to_pandas()["_step"].max() == 999


def test_legend_shows_run_names_and_hover_the_run_id(api, make_project, make_run):
    project = make_project()
    points = {"loss": [1.0, 0.5], "acc": [0.1, 0.2]}
    a = make_run(project, name="baseline", points=points)
    b = make_run(project, name="wide", points=points)
    chart = MetricChart(api, runs=[a.path, b.path], keys=["loss"])
    assert [trace.name for trace in chart.figure.data] == ["baseline", "wide"]
    assert chart.figure.data[0].meta[:2] == ("baseline", a.id)
    assert "%{meta[1]}" in chart.figure.data[0].hovertemplate
    chart.keys = ["loss", "acc"]
    assert [trace.name for trace in chart.figure.data] == [
        "baseline · loss",
        "baseline · acc",
        "wide · loss",
        "wide · acc",
    ]
    assert "run_names" not in chart.to_pandas().columns


def test_runs_with_the_same_name_stay_apart(api, make_project, make_run):
    project = make_project()
    same = [make_run(project, name="sweep-run", points={"loss": [1.0, 0.5]}) for _ in range(2)]
    chart = MetricChart(api, runs=[r.path for r in same], keys=["loss"])
    names = [trace.name for trace in chart.figure.data]
    assert names == [f"sweep-run ({r.id[:8]})" for r in same] and len(set(names)) == 2


@pytest.fixture
def figure_messages(monkeypatch):
    """The messages each plotly figure sends to the browser: ``(state, buffer_paths)``."""
    sent: list[tuple[dict, list]] = []

    def send(widget, msg, buffers=None):
        if isinstance(widget, go.FigureWidget) and msg.get("method") == "update":
            sent.append((msg["state"], msg["buffer_paths"]))

    monkeypatch.setattr(ipywidgets.Widget, "_send", send)
    return sent


@pytest.mark.parametrize("x_axis", ["_step", "_timestamp"])
def test_points_reach_the_browser_as_binary_arrays(api, runs, figure_messages, x_axis):
    chart = MetricChart(api, runs=[r.path for r in runs], keys=["loss"], x_axis=x_axis, samples=200)
    for trace in chart.figure.data:  # steps as int32, times as float64 milliseconds
        assert trace.x.dtype == (np.int32 if x_axis == "_step" else np.float64)
        assert trace.y.dtype == np.float64
    [(state, paths)] = [m for m in figure_messages if m[0].get("_py2js_addTraces")]
    assert sorted(map(tuple, paths)) == sorted(
        ("_py2js_addTraces", "trace_data", i, axis, "buffer")
        for i in range(3)
        for axis in ("x", "y")
    )
    figure_messages.clear()
    chart.figure.layout.xaxis.range = (
        ["2023-11-14 22:15:00", "2023-11-14 22:30:00"] if x_axis == "_timestamp" else [100, 900]
    )
    [(state, paths)] = [m for m in figure_messages if m[0].get("_py2js_update")]
    assert sorted(map(tuple, paths)) == sorted(
        ("_py2js_update", "style_data", axis, i, "buffer") for i in range(3) for axis in "xy"
    )


def test_metrics_read_are_offered_as_x_axes(api, runs):
    chart = MetricChart(api, runs=[runs[0].path])
    assert list(chart._x_control.options) == ["_step", "_timestamp", "_runtime", "acc", "loss"]
    chart.x_axis = "acc"
    assert list(chart._x_control.options) == ["_step", "_timestamp", "_runtime", "acc", "loss"]
    assert chart.figure.layout.xaxis.title.text == "acc"
    x = np.asarray(chart.figure.data[0].x)
    assert len(x) and np.all((x >= -1) & (x <= 1))  # tanh values: acc is the x now


def test_lines_are_the_long_history_as_read(api, runs, make_project, make_run):
    other = make_run(make_project(), name="elsewhere", points={"loss": [3.0, 2.0, np.nan, 1.0]})
    chart = MetricChart(api, runs=[runs[0].path, other.path], keys=["loss", "acc"], samples=50)
    df = chart.to_pandas()
    assert list(df.columns) == ["run_id", "key", "_step", "_timestamp", "_runtime", "value"]
    assert chart.code.startswith("import lablens\nimport pandas as pd\n\napi = lablens.Api(")
    assert "\ndf = pd.concat([" in chart.code  # two projects
    assert chart.code.count("format='long'") == 2
    assert chart.error == ""  # acc is drawn from the first project
    # Run alone, the second project's call says it has no acc.
    with pytest.warns(UnknownKeyWarning, match="no metric 'acc' in the runs of"):
        pd.testing.assert_frame_equal(run_code(api, chart.code), df)
    lines = {(t.meta[1], t.meta[2]): t for t in chart.figure.data}
    assert set(lines) == {(r, k) for r in (runs[0].id, other.id) for k in ("loss", "acc")}
    for (run_id, key), trace in lines.items():
        points = df[(df["run_id"] == run_id) & (df["key"] == key) & df["value"].notna()]
        assert np.array_equal(trace.x, points["_step"].to_numpy())
        assert np.array_equal(trace.y, points["value"].to_numpy())
    assert len(lines[(other.id, "loss")].y) == 3 and len(lines[(other.id, "acc")].y) == 0
    # A metric x axis: its values at each point's step, the other metric against it.
    chart.runs, chart.keys, chart.x_axis = [runs[0].path], ["loss"], "acc"
    df = chart.to_pandas()
    assert list(df.columns)[-1] == "acc" and set(df["key"]) == {"loss"}
    [trace] = chart.figure.data
    assert np.array_equal(trace.x, df["acc"].to_numpy())
    assert np.array_equal(trace.y, df["value"].to_numpy())
