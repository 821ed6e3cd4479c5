"""MediaPanel against a real server: what it reads (one public Api call per action, recorded as
code that gives the same bytes), and what it hands the page (thumbnails as binary buffers, table
pages as Arrow, histograms over steps)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from ipywidgets.widgets.widget import _remove_buffers
from PIL import Image as PILImage

import lablens
from lablens.contract.arrow import ipc_to_table
from lablens.widgets import MediaPanel

RNG = np.random.default_rng(3)
BIG = RNG.integers(0, 256, (200, 300, 3), dtype=np.uint8)  # a thumbnail is 160 x 107
SMALL = RNG.integers(0, 256, (32, 32), dtype=np.uint8)
STEPS = (0, 10, 20)


def pixels(png: bytes) -> np.ndarray:
    with PILImage.open(io.BytesIO(png)) as im:
        return np.asarray(im).copy()


@pytest.fixture(scope="module")
def logged(server, tmp_path_factory):
    """Two runs of one project: a gallery, a table, histograms, audio, text and html at steps
    0, 10 and 20 (the second run's gallery only at 10 and 20), and a run with no media."""
    from lablens.sdk import init

    project = "media-panel-" + str(RNG.integers(1 << 30))
    settings = {"system_interval": 0, "console": False}
    paths = []
    for r in range(2):
        run = init(
            project=project,
            name=f"run-{r}",
            host=server.url,
            api_key=server.api_key,
            settings=settings,
            dir=tmp_path_factory.mktemp("runs"),
        )
        for step in STEPS:
            row = {"loss": 1.0 / (step + 1)}
            if r == 0 or step > 0:
                row["samples"] = [
                    lablens.Image(BIG, caption=f"r{r} s{step} big"),
                    lablens.Image(SMALL + step, caption=f"r{r} s{step} small"),
                ]
            frame = {"label": list(range(45)), "score": [step + i / 10 for i in range(45)]}
            row["preds"] = lablens.Table(
                columns=list(frame), data=list(zip(*frame.values(), strict=True))
            )
            row["weights"] = lablens.Histogram(
                np_histogram=([r + 1, step + 1, 3], [0.0, 1.0, 2.0, 3.0 + step])
            )
            row["note"] = lablens.Text(f"step {step} of run {r}")
            row["page"] = lablens.Html(f"<b>step {step}</b><script>alert(1)</script>")
            row["sound"] = lablens.Audio(np.zeros(800, dtype=np.float32), sample_rate=8000)
            run.log(row, step=step)
        run.finish()
        paths.append(run.path)
    bare = init(
        project=project,
        name="bare",
        host=server.url,
        api_key=server.api_key,
        settings=settings,
        dir=tmp_path_factory.mktemp("runs"),
    )
    bare.log({"loss": 1.0})
    bare.finish()
    return paths, bare.path


def test_images_of_two_runs_at_the_last_step_with_code(api, logged):
    paths, _ = logged
    heard: list[str] = []
    panel = MediaPanel(api, run_colors={paths[1].rsplit("/", 1)[1]: "#123456"})
    panel.on_api_call(heard.append)
    panel.runs = paths
    assert panel.error == ""
    keys = [(k["key"], k["type"], k["runs"]) for k in panel._keys]
    assert keys == [
        ("samples", "image", 2),
        ("preds", "table", 2),
        ("weights", "histogram", 2),
        ("sound", "audio", 2),
        ("note", "text", 2),
        ("page", "html", 2),
    ]
    assert panel.key == "samples" and panel._steps == [0, 10, 20] and panel.step == 20
    ids = [p.rsplit("/", 1)[1] for p in paths]
    assert [(c["path"], c["name"]) for c in panel._columns] == [
        (paths[0], "run-0"),
        (paths[1], "run-1"),
    ]
    assert panel._columns[1]["color"] == "#123456"
    assert panel._columns[0]["color"].startswith("#")

    view = panel._view
    assert (view["type"], view["step"], view["key"]) == ("image", 20, "samples")
    for r, path in enumerate(paths):
        big, small = view["cells"][path]["items"]
        assert [big["caption"], small["caption"]] == [f"r{r} s20 big", f"r{r} s20 small"]
        assert (big["width"], big["height"], big["thumb_width"], big["thumb_height"]) == (
            300,
            200,
            160,
            107,
        )
        assert (small["thumb_width"], small["thumb_height"]) == (32, 32)  # never enlarged
        np.testing.assert_array_equal(pixels(small["png"]), SMALL + 20)
        expected = PILImage.fromarray(BIG)
        expected.thumbnail((160, 160))
        np.testing.assert_array_equal(pixels(big["png"]), np.asarray(expected))

    # The thumbnails travel as binary buffers, not inside the JSON.
    _, paths_of_buffers, buffers = _remove_buffers(panel.get_state())
    pngs = [p for p in paths_of_buffers if p[0] == "_view" and p[-1] == "png"]
    assert len(pngs) == 4 and all(bytes(b).startswith(b"\x89PNG") for b in buffers)

    # What was read, as code: runs and keys, the items, then the thumbnails at the step.
    filters = {"id": {"$in": ids}}
    project = paths[0].rsplit("/", 1)[0]
    assert heard == [
        f"runs = api.runs({project!r}, filters={filters!r})\nkeys = runs.media_keys()",
        f"items = api.runs({project!r}, filters={filters!r}).media('samples')",
        "thumbs = [item.thumbnail(160) for item in items if item.step == 20]",
    ]
    # The code runs in a fresh namespace (the key comes from the stored credentials).
    assert panel.code.startswith(f"import lablens\n\napi = lablens.Api(host={api.host!r})\n")
    scope: dict = {}
    exec(panel.code, scope)
    shown = [i["png"] for path in paths for i in view["cells"][path]["items"]]
    assert scope["thumbs"] == shown
    assert panel.to_pandas()["caption"].tolist() == [
        "r0 s20 big",
        "r0 s20 small",
        "r1 s20 big",
        "r1 s20 small",
    ]


def test_the_step_moves_and_a_run_without_items_there_has_none(api, logged):
    paths, _ = logged
    panel = MediaPanel(api, runs=paths, key="samples")
    panel.step = 0
    cells = panel._view["cells"]
    assert panel._view["step"] == 0 and paths[1] not in cells
    assert [i["caption"] for i in cells[paths[0]]["items"]] == ["r0 s0 big", "r0 s0 small"]
    assert "if item.step == 0]" in panel.code
    panel.step = 12  # no media there: the closest step that has some
    assert panel.step == 10 and panel._view["step"] == 10
    assert [i["caption"] for i in panel._view["cells"][paths[1]]["items"]][0] == "r1 s10 big"


def test_a_click_reads_the_full_image(api, logged):
    paths, _ = logged
    heard: list[str] = []
    panel = MediaPanel(api, runs=paths[:1])
    panel.on_api_call(heard.append)
    big = panel._view["cells"][paths[0]]["items"][0]
    panel._on_msg(panel, {"type": "full", "n": big["n"]}, [])
    full = panel._full
    assert (full["n"], full["width"], full["height"], full["caption"]) == (
        big["n"],
        300,
        200,
        "r0 s20 big",
    )
    np.testing.assert_array_equal(pixels(full["png"]), BIG)
    assert heard == [f"png = items[{big['n']}].content()"]
    panel.open_full(10_000)
    assert "IndexError" in panel.error


def test_tables_are_paged_by_twenty_rows(api, logged):
    paths, _ = logged
    panel = MediaPanel(api, runs=paths, key="preds", step=10)
    (table,) = panel._view["cells"][paths[0]]["items"]
    assert (table["total"], table["pages"], table["page"]) == (45, 3, 0)
    rows = ipc_to_table(table["arrow"]).to_pydict()
    assert rows["label"] == list(range(20)) and rows["score"][0] == 10.0
    assert "tables = [item.to_pandas() for item in items if item.step == 10]" in panel.code
    panel._on_msg(panel, {"type": "page", "run": paths[0], "n": table["n"], "page": 2}, [])
    (last,) = panel._view["cells"][paths[0]]["items"]
    assert last["page"] == 2 and ipc_to_table(last["arrow"]).to_pydict()["label"] == list(
        range(40, 45)
    )


def test_histograms_over_every_step(api, logged):
    paths, _ = logged
    panel = MediaPanel(api, runs=paths, key="weights")
    assert panel._view["type"] == "histogram" and panel._view["step"] is None
    hist = panel._view["cells"][paths[1]]
    assert hist["steps"] == [0, 10, 20]
    assert hist["counts"] == [[2, 1, 3], [2, 11, 3], [2, 21, 3]]
    assert hist["edges"][2] == [0.0, 1.0, 2.0, 23.0]
    # Counts and edges come with the item list: no read per step.
    assert panel.code.splitlines()[-1].startswith("items = api.runs(")


def test_text_html_and_audio(api, logged):
    paths, _ = logged
    panel = MediaPanel(api, runs=paths[:1], key="page", step=10)
    (page,) = panel._view["cells"][paths[0]]["items"]
    assert page["text"].startswith("<b>step 10</b>")  # the page shows it in a sandboxed frame
    panel.key = "note"
    assert panel._view["cells"][paths[0]]["items"][0]["text"] == "step 10 of run 0"
    assert "texts = [item.text() for item in items if item.step == 10]" in panel.code
    panel.key = "sound"
    (sound,) = panel._view["cells"][paths[0]]["items"]
    assert sound["bytes"][:4] == b"RIFF" and sound["meta"]["sample_rate"] == 8000


def test_empty_states(api, logged):
    paths, bare = logged
    panel = MediaPanel(api)
    assert panel._view == {"empty": "no-runs"} and panel.code == ""
    panel.runs = [bare]
    assert panel._view == {"empty": "no-media"} and panel._keys == []
    assert panel._columns[0]["name"] == "bare"
    panel.runs = paths
    panel.key = "nope"
    assert panel._view["empty"] == "unknown-key"
    assert "'nope'" in panel.error and "samples" in panel.error


def test_bad_arguments_are_named(api):
    with pytest.raises(TypeError, match="runs"):
        MediaPanel(api, runs=3)
    with pytest.raises(TypeError, match="unexpected keyword"):
        MediaPanel(api, keys=["a"])


def test_the_explorer_shows_the_media_of_the_selected_rows(api, logged):
    from lablens.widgets import Explorer

    paths, _ = logged
    explorer = Explorer(api, path=paths[0].rsplit("/", 1)[0])
    assert explorer.media._view == {"empty": "no-runs"}
    explorer.table.selected = paths
    media = explorer.media
    assert media.runs == paths and media.key == "samples" and media.step == 20
    ids = [p.rsplit("/", 1)[1] for p in paths]
    assert list(media.run_colors) == ids
    assert [c["color"] for c in media._columns] == [media.run_colors[i] for i in ids]
    assert explorer.children.index(media) > explorer.children.index(explorer.panels)
    # Its reads are in the explorer's log, as every part's are.
    # (the compare view's read of the same selection follows them).
    log = explorer.actions
    at = next(i for i, a in enumerate(log) if "media_keys()" in a)
    assert log[at].endswith("\nkeys = runs.media_keys()")
    assert log[at + 1].endswith(".media('samples')")
    assert log[at + 2] == "thumbs = [item.thumbnail(160) for item in items if item.step == 20]"


def test_runs_of_two_projects(api, logged, server, tmp_path):
    from lablens.sdk import init

    paths, _ = logged
    other = init(
        project="media-panel-other-" + str(RNG.integers(1 << 30)),
        name="elsewhere",
        host=server.url,
        api_key=server.api_key,
        settings={"system_interval": 0, "console": False},
        dir=tmp_path,
    )
    other.log({"samples": [lablens.Image(SMALL, caption="far")]}, step=20)
    other.finish()
    panel = MediaPanel(api)
    heard: list[str] = []
    panel.on_api_call(heard.append)
    panel.runs = [paths[0], other.path, paths[1]]
    # One column per run in the order given, though the reads go project by project.
    assert [c["name"] for c in panel._columns] == ["run-0", "elsewhere", "run-1"]
    assert [i["caption"] for i in panel._view["cells"][other.path]["items"]] == ["far"]
    # The keys of each project's runs in one request each, the runs joined in that order.
    lines = heard[0].splitlines()
    assert lines[0].startswith("runs_1 = api.runs(") and lines[1].startswith("runs_2 = api.runs(")
    assert lines[2:] == [
        "runs = [*runs_1, *runs_2]",
        "keys = {**runs_1.media_keys(), **runs_2.media_keys()}",
    ]
    keys_scope: dict = {"api": api}
    exec(heard[0], keys_scope)
    assert set(keys_scope["keys"]) == {*paths, other.path}
    assert keys_scope["keys"][other.path]["samples"]["count"] == 1
    items_line = panel.code.splitlines()[-2]
    assert items_line.count(".media('samples')") == 2 and " + " in items_line
    scope: dict = {}
    exec(panel.code, scope)
    shown = [i["png"] for p in (*paths, other.path) for i in panel._view["cells"][p]["items"]]
    assert scope["thumbs"] == shown


def test_a_long_histogram_series_is_thinned_keeping_both_ends():
    from lablens.api import MediaItem
    from lablens.widgets.media import cells

    def item(step: int) -> MediaItem:
        data = {
            "key": "w",
            "step": step,
            "type": "histogram",
            "format": "json",
            "sha256": "0" * 64,
            "meta": {"values": [step, 1], "bins": [0.0, 1.0, 2.0]},
        }
        return MediaItem(None, "e", "p", data, None)  # type: ignore[arg-type]

    hist = cells.histogram([item(s) for s in range(1000, 0, -1)])
    assert len(hist["steps"]) == cells.MAX_HIST_STEPS and hist["of"] == 1000
    assert hist["steps"][0] == 1 and hist["steps"][-1] == 1000
    assert hist["steps"] == sorted(hist["steps"])
    assert hist["counts"][-1] == [1000.0, 1.0]
