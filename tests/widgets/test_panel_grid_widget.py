"""PanelGrid against a real server: one read for every panel, the buffers sent, the recorded
code, sections, groups, colours, and the live read of what is new."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import traitlets as t

from lablens.widgets import PanelGrid
from lablens.widgets._colors import PALETTE, run_colors
from lablens.widgets.panels.data import pack
from lablens.widgets.panels.sections import section_of, sections
from servers import log_points

KEYS = ["train/loss", "train/acc", "val/loss", "val/acc", "lr"]


def run_code(api, code: str) -> pd.DataFrame:
    scope = {"api": api}
    exec(code, scope)
    return scope["df"]


def capture(grid: PanelGrid) -> list[tuple[dict, list]]:
    """What the grid sends to the page, in order."""
    sent: list[tuple[dict, list]] = []
    grid.send = lambda content, buffers=None: sent.append((content, list(buffers or [])))
    return sent


def decode(content: dict, buffers: list) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """The series of a data message, as the page cuts them out of the two buffers."""
    xs = np.frombuffer(buffers[0], "<f8") if buffers and buffers[0] else np.empty(0)
    ys = np.frombuffer(buffers[1], "<f8") if buffers and buffers[1] else np.empty(0)
    out, at, xat, cut = {}, 0, 0, []
    for s in content["series"]:
        if "x" in s:  # the x values of an earlier series, not sent again
            x = cut[s["x"]]
        else:
            x = xs[xat : xat + s["n"]]
            xat += s["n"]
        cut.append(x)
        assert len(x) == s["n"]
        out[(s["run"], s["key"])] = (x, ys[at : at + s["n"]])
        at += s["n"]
    assert xat == len(xs) and at == len(ys)
    return out


@pytest.fixture
def runs(make_project, make_run):
    project = make_project()
    steps = np.arange(50)
    made = []
    for i in range(3):
        points = {k: np.sin(steps / 7 + i) + j for j, k in enumerate(KEYS)}
        made.append(
            make_run(
                project,
                name=f"r{i}",
                group="a" if i < 2 else "b",
                config={"optim": {"lr": 0.1 if i else 0.01}},
                points=points,
            )
        )
    return made


def test_one_read_for_all_panels_sent_as_buffers(api, runs, counted):
    grid = PanelGrid(api)
    sent = capture(grid)
    counted.clear()
    grid.runs = [r.path for r in runs]
    assert sum("/history" in c for c in counted) == 1  # every panel in one history request
    # Panels default to every metric logged, in sections by prefix.
    assert grid._sections == [
        {"title": "train", "keys": ["train/acc", "train/loss"]},
        {"title": "val", "keys": ["val/acc", "val/loss"]},
        {"title": "Charts", "keys": ["lr"]},
    ]
    content, buffers = sent[-1]
    assert content["type"] == "data" and content["mode"] == "full"
    series = decode(content, buffers)
    assert len(series) == 3 * len(KEYS)
    x, y = series[(runs[1].path, "val/acc")]
    assert x.tolist() == list(range(50))
    np.testing.assert_allclose(y, np.sin(np.arange(50) / 7 + 1) + 3)
    df = grid.to_pandas()
    pd.testing.assert_frame_equal(run_code(api, grid.code), df)
    assert len(df) == 3 * len(KEYS) * 50
    assert grid._names == {r.path: r.name for r in runs}


def test_panel_code_reads_that_panel(api, runs):
    grid = PanelGrid(api, runs=runs, panels=["val/acc", "train/loss"])
    code = grid.panel_code("val/acc")
    assert "keys=['val/acc']" in code and code.startswith("import lablens")
    df = run_code(api, code)
    assert set(df["key"]) == {"val/acc"} and df["run_id"].nunique() == 3
    assert grid._codes["val/acc"] == code
    assert [s["title"] for s in grid._sections] == ["train", "val"]
    with pytest.raises(Exception, match="no panel 'nope'"):
        grid.panel_code("nope")


def test_picking_a_panel_reads_it(api, runs):
    grid = PanelGrid(api, runs=runs[:2], panels=["train/loss"])
    sent = capture(grid)
    grid.panels = [*grid.panels, "val/acc"]
    content, buffers = sent[-1]
    assert {s["key"] for s in content["series"]} == {"train/loss", "val/acc"}
    assert {s["run"] for s in content["series"]} == {runs[0].path, runs[1].path}
    assert "keys=['train/loss', 'val/acc']" in grid.code
    grid.panels = ["val/acc", "nope"]
    assert "no metric 'nope'" in grid.error  # shown, and val/acc still drawn
    assert set(grid.to_pandas()["key"]) == {"val/acc"}


def test_groups_and_colors(api, runs):
    grid = PanelGrid(api, runs=runs, panels=["val/acc"], run_colors={runs[0].path: "#000000"})
    assert grid._colors[runs[0].path] == "#000000"
    assert grid._colors[runs[1].path] == PALETTE[1]  # the palette's, in run order
    grid.group_by = "group"
    assert grid._groups == {runs[0].path: "a", runs[1].path: "a", runs[2].path: "b"}
    assert set(grid._group_colors) == {"a", "b"}
    grid.group_by = "config.optim.lr"
    assert grid._groups[runs[0].path] == "0.01" and grid._groups[runs[2].path] == "0.1"
    assert grid._group_options[:3] == ["group", "job_type", "config.optim.lr"]
    with pytest.raises(t.TraitError, match="group_by takes"):
        grid.group_by = "optim.lr"


def test_run_colors_are_kept_while_the_selection_changes():
    first = run_colors(["a", "b", "c"])
    assert list(first.values()) == list(PALETTE[:3])
    again = run_colors(["c", "d"], previous=first)
    assert again["c"] == first["c"] and again["d"] == PALETTE[0]  # a freed colour
    many = run_colors([str(i) for i in range(25)])
    assert len(set(many.values())) == len(PALETTE)
    with pytest.raises(ValueError):
        run_colors(["a"], palette=[])


def test_sections_by_prefix():
    assert section_of("train/loss") == "train" and section_of("loss") == "Charts"
    assert section_of("/x") == "Charts" and section_of("a/b/c") == "a"
    titles = [s["title"] for s in sections(["system/gpu", "z", "val/a", "opt/x", "train/b"])]
    assert titles == ["train", "val", "opt", "Charts", "system"]


def test_empty_grid_sends_no_points(api):
    grid = PanelGrid(api)
    sent = capture(grid)
    grid._on_msg(grid, {"type": "ready"}, [])
    content, buffers = sent[-1]
    assert content["series"] == [] and buffers == [b"", b""]
    assert grid._sections == [] and not grid.live
    assert repr(grid) == "<PanelGrid 0 runs, 0 panels vs _step>"


def test_live_reads_only_what_is_new(api, make_project, make_run):
    project = make_project()
    steps = np.arange(10)
    running = make_run(project, name="live", points={"loss": steps * 1.0}, state=None)
    done = make_run(project, name="done", points={"loss": steps * 2.0})
    grid = PanelGrid(api, runs=[running.path, done.path])
    assert grid.live  # a run drawn is running
    sent = capture(grid)
    log_points(api, running.path, {"loss": (np.arange(10, 15), np.arange(10, 15) * 1.0)})
    grid._on_msg(grid, {"type": "poll"}, [])
    content, buffers = sent[0]
    assert content["mode"] == "append"
    series = decode(content, buffers)
    assert list(series) == [(running.path, "loss")]  # the finished run is not read again
    assert series[(running.path, "loss")][0].tolist() == [10, 11, 12, 13, 14]
    assert sent[-1][0] == {"type": "polled", "live": True}
    assert "min_step=9" in grid.last_poll  # from the last step held
    df = grid.to_pandas()
    assert df[df["run_id"] == running.id]["_step"].tolist() == list(range(15))
    # Nothing new: nothing drawn. Paused: nothing read.
    assert grid.poll() == 0
    grid.paused = True
    log_points(api, running.path, {"loss": ([15], [15.0])})
    grid._on_msg(grid, {"type": "poll"}, [])
    assert len(grid.to_pandas()) == 25
    grid.paused = False
    running.finish()
    assert grid.poll() == 1  # the last points of a run that has just finished
    assert not grid.live


def test_histories_min_step(api, runs):
    project = f"{runs[0].entity}/{runs[0].project}"
    df = api.runs(project).histories(keys=["lr"], min_step=45, format="long")
    assert sorted(set(df["_step"])) == [45, 46, 47, 48, 49]
    with pytest.raises(Exception, match="min_step must be an integer"):
        api.runs(project).histories(min_step="3")


def test_long_series_are_sampled_short_ones_read_whole(api, runs):
    grid = PanelGrid(api, runs=runs[:2], panels=["val/acc"])
    assert "samples=None" in grid.code  # 50 points a series: every point, unsampled
    assert len(grid.to_pandas()) == 2 * 50
    grid.samples = 20
    assert "samples=20" in grid.code and "samples=20" in grid.panel_code("val/acc")
    df = grid.to_pandas()
    assert df.groupby("run_id").size().max() <= 20
    # The spikes survive: each run's min and max are among the points read.
    whole = run_code(api, grid.code.replace("samples=20, ", ""))
    assert (df.groupby("run_id")["value"].max() == whole.groupby("run_id")["value"].max()).all()
    pd.testing.assert_frame_equal(run_code(api, grid.code), df)


def test_series_that_fit_are_read_whole_past_the_histories_default(api, make_project, make_run):
    # 800 points: more than histories()'s own default (500), fewer than the grid's samples.
    project = make_project()
    steps = np.arange(800)
    runs = [
        make_run(project, name=f"r{i}", points={"loss": np.cos(steps / 50 + i)}) for i in (0, 1)
    ]
    grid = PanelGrid(api, runs=[r.path for r in runs])
    sent = capture(grid)
    grid.refresh()
    assert "histories(samples=None, x_axis='_step', format='long')" in grid.code
    df = grid.to_pandas()
    assert df.groupby("run_id").size().to_dict() == {r.id: 800 for r in runs}
    pd.testing.assert_frame_equal(run_code(api, grid.code), df)
    # Both runs logged at the same steps: the second series names the first's x values.
    content, buffers = sent[-1]
    assert [s.get("x") for s in content["series"]] == [None, 0]
    assert len(buffers[0]) == 800 * 8 and len(buffers[1]) == 2 * 800 * 8
    series = decode(content, buffers)
    x, y = series[(runs[1].path, "loss")]
    np.testing.assert_array_equal(x, steps.astype(float))
    np.testing.assert_allclose(y, np.cos(steps / 50 + 1))


def _long(rows: list[tuple[str, str, list[float], list[float]]], strings: str) -> pd.DataFrame:
    """A long history frame: per (run id, key, x, y) a series, rows in that order."""
    frame = pd.DataFrame(
        {
            "run_id": [r for r, _, xs, _ in rows for _ in xs],
            "key": [k for _, k, xs, _ in rows for _ in xs],
            "_step": [x for _, _, xs, _ in rows for x in xs],
            "value": [y for *_, ys in rows for y in ys],
        }
    ).astype({"run_id": strings, "key": strings})
    frame["_timestamp"] = 1.7e9 + frame["_step"]
    frame["_runtime"] = frame["_step"] * 1.0
    return frame


@pytest.mark.parametrize("strings", ["str", "object"])
def test_pack_cuts_series_shares_x_and_keeps_order(strings):
    nan = float("nan")
    same = _long(
        [
            ("r1", "loss", [0, 1, 2], [1.0, nan, 3.0]),
            ("r1", "acc", [0, 1, 2], [4.0, 5.0, 6.0]),
            ("r2", "loss", [0, 1, 2], [7.0, 8.0, 9.0]),
        ],
        strings,
    )
    other = _long(
        [("r3", "loss", [0, 1, 2], [1.5, 2.5, 3.5]), ("r4", "loss", [0, 5], [0.0, 1.0])], strings
    )
    packed = pack({"e/p": same, "e/q": other}, "_step")
    # Every series with the steps 0 1 2 names the first one's x, across projects too.
    assert packed.series == [
        {"run": "e/p/r1", "key": "loss", "n": 3},
        {"run": "e/p/r1", "key": "acc", "n": 3, "x": 0},
        {"run": "e/p/r2", "key": "loss", "n": 3, "x": 0},
        {"run": "e/q/r3", "key": "loss", "n": 3, "x": 0},
        {"run": "e/q/r4", "key": "loss", "n": 2},
    ]
    assert np.frombuffer(packed.x, "<f8").tolist() == [0, 1, 2, 0, 5]
    y = np.frombuffer(packed.y, "<f8")
    np.testing.assert_array_equal(y, [1, nan, 3, 4, 5, 6, 7, 8, 9, 1.5, 2.5, 3.5, 0, 1])
    series = decode({"series": packed.series}, [packed.x, packed.y])
    assert series[("e/q/r4", "loss")][0].tolist() == [0, 5]


def test_pack_sorts_x_and_leaves_out_points_without_x():
    frame = _long([("r1", "loss", [2, 0, 1], [3.0, 1.0, 2.0])], "str")
    frame["acc"] = [0.5, float("nan"), 0.25]
    by_step = pack({"e/p": frame}, "_step")
    assert np.frombuffer(by_step.x, "<f8").tolist() == [0, 1, 2]
    assert np.frombuffer(by_step.y, "<f8").tolist() == [1, 2, 3]
    by_acc = pack({"e/p": frame}, "acc")  # the point without acc cannot be placed
    assert by_acc.series == [{"run": "e/p/r1", "key": "loss", "n": 2}]
    assert np.frombuffer(by_acc.x, "<f8").tolist() == [0.25, 0.5]
    assert np.frombuffer(by_acc.y, "<f8").tolist() == [2, 3]
