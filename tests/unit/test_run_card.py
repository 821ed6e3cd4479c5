"""The run card's HTML and terminal lines, drawn from given values (no server, no kernel)."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

import pytest

from lablens.sdk import run_card
from lablens.sdk.run_card import (
    CardView,
    RunCard,
    Series,
    card_html,
    finish_line,
    format_duration,
    format_value,
    sparkline_svg,
    start_line,
)


def polyline(svg: str) -> list[tuple[float, float]]:
    found = re.search(r'<polyline points="([^"]*)"', svg)
    assert found, svg
    return [tuple(map(float, p.split(","))) for p in found.group(1).split()]  # type: ignore[misc]


def view(**kwargs: Any) -> CardView:
    base: dict[str, Any] = {
        "name": "bright-fox",
        "id": "ab12cd34",
        "project": "mnist",
        "entity": "alice",
        "url": "http://127.0.0.1:8080/alice/mnist/runs/ab12cd34",
    }
    return CardView(**{**base, **kwargs})


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (3, "3"),
        (True, "True"),
        (0.123456, "0.1235"),
        (2.0, "2"),
        (1e-7, "1e-07"),
        (123456.7, "1.235e+05"),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
    ],
)
def test_values_are_shown_short(value, shown):
    assert format_value(value) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0.4, "0s"), (45, "45s"), (185, "3m 05s"), (7620, "2h 07m")]
)
def test_durations(seconds, shown):
    assert format_duration(seconds) == shown


def test_sparkline_spans_the_box_highest_value_on_top():
    svg = sparkline_svg([(0, 1.0), (5, 3.0), (10, 2.0)], width=100, height=20)
    assert 'width="100" height="20"' in svg
    assert polyline(svg) == [(2.0, 18.0), (50.0, 2.0), (98.0, 10.0)]
    assert '<circle cx="98.0" cy="10.0"' in svg  # the last point is marked


def test_sparkline_leaves_out_non_finite_values_and_draws_a_flat_line_mid_height():
    svg = sparkline_svg([(0, 1.0), (1, float("nan")), (2, 1.0), (3, float("inf"))], 100, 20)
    assert polyline(svg) == [(2.0, 10.0), (98.0, 10.0)]
    assert "<polyline" not in sparkline_svg([(0, float("nan"))])


def test_a_series_keeps_a_bounded_sample_and_always_its_last_point():
    series = Series()
    for step in range(10_001):
        series.add(step, float(step))
    drawn = series.drawn()
    assert run_card.SPARK_POINTS <= len(drawn) <= 2 * run_card.SPARK_POINTS + 1
    assert drawn[0] == (0, 0.0) and drawn[-1] == (10_000, 10_000.0)
    steps = [s for s, _ in drawn[:-1]]
    assert len({b - a for a, b in zip(steps, steps[1:], strict=False)}) == 1  # evenly spaced
    assert series.last == (10_000, 10_000.0)


def test_the_card_shows_the_run_its_link_and_a_sparkline_per_metric():
    html = card_html(
        view(
            seconds=65,
            metrics=[
                ("loss", [(0, 1.0), (1, 0.5), (2, 0.25)], 0.25, 2),
                ("val/acc", [(2, 0.75)], 0.75, 2),
            ],
        )
    )
    assert 'data-state="running"' in html and 'data-run="ab12cd34"' in html
    assert 'href="http://127.0.0.1:8080/alice/mnist/runs/ab12cd34"' in html
    assert ">bright-fox</a>" in html and "(ab12cd34)" in html
    assert "in alice/mnist" in html and "running for 1m 05s" in html
    rows = re.findall(r'<tr class="ll-card-metric" data-key="([^"]+)"', html)
    assert rows == ["loss", "val/acc"]
    loss = html[html.index('data-key="loss"') : html.index('data-key="val/acc"')]
    assert len(polyline(loss)) == 3 and ">0.25</td>" in loss and "step 2" in loss


def test_the_finished_card_says_how_it_ended_and_how_long_it_ran():
    html = card_html(view(state="crashed", seconds=12, metrics=[("loss", [], 0.5, 9)]))
    assert 'data-state="crashed"' in html and ">crashed</span>" in html and "ran 12s" in html
    assert "#cf222e" in html  # red


def test_the_card_escapes_what_users_type():
    html = card_html(view(name="<b>x</b>", metrics=[("a<script>", [(0, 1.0)], 1.0, 0)]))
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<script>" not in html


def test_the_card_counts_the_metrics_it_leaves_out_and_says_when_none_are_logged():
    many = [(f"m{i}", [(0, 1.0)], 1.0, 0) for i in range(run_card.CARD_METRICS + 3)]
    html = card_html(view(metrics=many))
    assert html.count('class="ll-card-metric"') == run_card.CARD_METRICS
    assert "and 3 more metrics" in html
    assert "no metrics logged yet" in card_html(view())


def test_an_offline_card_has_no_link_and_says_how_to_upload():
    html = card_html(view(url=None, offline=True, dir="/tmp/lablens/run-x"))
    assert "<a " not in html
    assert "lablens sync /tmp/lablens/run-x" in html


def test_terminal_lines():
    v = view(seconds=83, state="finished", metrics=[("loss", [], 0.0312, 9), ("acc", [], 1, 9)])
    assert start_line(v) == (
        "lablens: run bright-fox (ab12cd34) → http://127.0.0.1:8080/alice/mnist/runs/ab12cd34"
    )
    assert finish_line(v) == (
        "lablens: run bright-fox (ab12cd34) finished in 1m 23s · loss 0.0312 · acc 1"
        " → http://127.0.0.1:8080/alice/mnist/runs/ab12cd34"
    )
    many = [(f"m{i}", [], i, 0) for i in range(run_card.LINE_METRICS + 2)]
    assert finish_line(view(metrics=many)).endswith(" · m5 5 · +2 more → " + v.url)  # type: ignore[operator]


def test_offline_terminal_lines_say_where_the_run_is_and_how_to_upload_it():
    v = view(url=None, offline=True, dir="/d/run-x", seconds=5, state="finished")
    assert start_line(v) == "lablens: offline run bright-fox (ab12cd34) in mnist, kept in /d/run-x"
    assert finish_line(v, points=1234) == (
        "lablens: offline run bright-fox (ab12cd34) finished in 5s; 1,234 points kept in "
        "/d/run-x; upload it with: lablens sync /d/run-x"
    )


class FakeRun:
    """What the card reads of a run."""

    def __init__(self) -> None:
        self.id = "ab12cd34"
        self.entity = "alice"
        self.project = "mnist"
        self.host = "http://h:1"
        self.offline = False
        self.dir = Path("/d/run-x")
        self.start_time = time.time() - 3
        self.url = "http://h:1/alice/mnist/runs/ab12cd34"
        self.name = "bright-fox"
        self.state = "running"
        self.summary = {"loss": 0.5, "note": "text", "_private": 1.0}


def test_a_terminal_card_prints_one_line_at_start_and_one_at_finish():
    run, out = FakeRun(), io.StringIO()
    card = RunCard(run, notebook=False, stream=out)
    card.start()
    run.state = "finished"
    card.finish()
    assert out.getvalue().splitlines() == [
        "lablens: run bright-fox (ab12cd34) → http://h:1/alice/mnist/runs/ab12cd34",
        "lablens: run bright-fox (ab12cd34) finished in 3s · loss 0.5"
        " → http://h:1/alice/mnist/runs/ab12cd34",
    ]


def test_a_notebook_card_draws_what_the_run_logged_in_order():
    card = RunCard(FakeRun(), notebook=True)
    logged = {"loss": 1.0, "acc": 0.1}
    for step in range(5):
        logged["loss"] = 1.0 / (step + 1)  # a dict the caller reuses: the card keeps copies
        card.observe(logged, step)
    card.observe({"val/acc": 0.9}, 4)
    v = card.view()
    assert [(k, len(p), last, step) for k, p, last, step in v.metrics] == [
        ("loss", 5, 0.2, 4),
        ("acc", 5, 0.1, 4),
        ("val/acc", 1, 0.9, 4),
    ]
    assert [value for _, value in v.metrics[0][1]] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert v.url == "http://h:1/alice/mnist/runs/ab12cd34" and v.seconds >= 3


def test_no_card_outside_a_kernel_and_none_when_silent(capsys):
    assert run_card._kernel_shell() is None  # pytest is no IPython kernel
    assert run_card.start_card(FakeRun(), silent=True) is None
    assert capsys.readouterr().err == ""
    card = run_card.start_card(FakeRun(), silent=False)
    assert card is not None and not card.notebook
    assert capsys.readouterr().err.startswith("lablens: run bright-fox (ab12cd34) → ")
