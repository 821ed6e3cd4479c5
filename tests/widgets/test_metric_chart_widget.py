"""MetricChart against a real server: one read per project, zoom re-reads, code reproduces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lablens.widgets import MetricChart
from lablens.widgets.metric_chart import ema


@pytest.fixture
def runs(make_project, make_run):
    project = make_project()
    steps = np.arange(2000)
    return [
        make_run(project, name=f"r{i}",
                 points={"loss": 1 / (steps + 1 + i), "acc": np.tanh(steps / 500 + i)})
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
        "<MetricChart 1 runs: loss vs _step>")
    with pytest.raises(TypeError):
        MetricChart(api, run=[runs[0].path])
