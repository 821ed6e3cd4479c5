"""Media (images, tables, histograms, audio, text, html, plotly, video) logged by the SDK, kept by
a real server, read back through the ``Api`` with their values."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image as PILImage

import lablens
from lablens.api import Api
from lablens.sdk import init

QUIET = {"system_interval": 0, "console": False}


@pytest.fixture
def start(server, unique, tmp_path):
    """``start(**kwargs)``: a run in a project of its own; finished after the test if still open."""
    runs = []

    def start(**kwargs):
        kwargs.setdefault("project", unique)
        kwargs.setdefault("settings", QUIET)
        kwargs.setdefault("dir", tmp_path)
        run = init(host=server.url, api_key=server.api_key, **kwargs)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.finish()


def read(api: Api, run):
    return api.run(run.path)


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    PILImage.fromarray(array).save(out, format="PNG")
    return out.getvalue()


RNG = np.random.default_rng(7)
GRAY = RNG.integers(0, 256, (20, 30), dtype=np.uint8)
RGB = RNG.integers(0, 256, (16, 24, 3), dtype=np.uint8)
RGBA = RNG.integers(0, 256, (10, 12, 4), dtype=np.uint8)
FLOAT = RNG.random((8, 9, 3))


def test_images_round_trip_pixel_exact_with_captions(start, api, tmp_path):
    path = tmp_path / "cat.png"
    path.write_bytes(png(RGB[::-1]))
    pil = PILImage.fromarray(RGBA[:, ::-1])
    run = start()
    run.log(
        {
            "gray": lablens.Image(GRAY, caption="gray"),
            "rgb": lablens.Image(RGB, caption="rgb"),
            "rgba": lablens.Image(RGBA),
            "float": lablens.Image(FLOAT, caption="float"),
            "pil": lablens.Image(pil, caption="pil"),
            "path": lablens.Image(str(path), caption="from a file"),
            "loss": 0.5,
        }
    )
    run.finish()
    remote = read(api, run)
    got = {k: remote.media(k) for k in ("gray", "rgb", "rgba", "float", "pil", "path")}
    assert {k: len(v) for k, v in got.items()} == dict.fromkeys(got, 1)
    np.testing.assert_array_equal(got["gray"][0].to_numpy(), GRAY)
    np.testing.assert_array_equal(got["rgb"][0].to_numpy(), RGB)
    np.testing.assert_array_equal(got["rgba"][0].to_numpy(), RGBA)
    np.testing.assert_array_equal(got["float"][0].to_numpy(), np.rint(FLOAT * 255).astype(np.uint8))
    np.testing.assert_array_equal(got["pil"][0].to_numpy(), RGBA[:, ::-1])
    np.testing.assert_array_equal(got["path"][0].to_numpy(), RGB[::-1])
    assert [got[k][0].caption for k in got] == ["gray", "rgb", None, "float", "pil", "from a file"]
    rgb = got["rgb"][0]
    assert (rgb.type, rgb.format, rgb.step, rgb.index, rgb.key) == ("image", "png", 0, 0, "rgb")
    assert rgb.meta == {"width": 24, "height": 16, "channels": 3}
    assert got["gray"][0].meta == {"width": 30, "height": 20, "channels": 1}
    assert rgb.sha256 == hashlib.sha256(rgb.content()).hexdigest()
    assert rgb.size == len(rgb.content())
    assert rgb.run.id == run.id
    # The file keeps its bytes: the PNG the user logged is the PNG stored.
    assert got["path"][0].content() == path.read_bytes()
    saved = rgb.download(tmp_path / "dl")
    assert saved.read_bytes() == rgb.content() and saved.suffix == ".png"
    assert saved.relative_to(tmp_path / "dl").parts[:2] == ("media", "images")
    assert remote.history(samples=None, keys=["loss"])["loss"].tolist() == [0.5]


def test_a_list_of_images_is_one_steps_gallery(start, api):
    run = start()
    frames = [RGB, RGB[::-1], RGB[:, ::-1]]
    for step in range(3):
        run.log(
            {
                "batch": [lablens.Image(f, caption=f"s{step}i{i}") for i, f in enumerate(frames)],
                "acc": step / 10,
            }
        )
    run.finish()
    remote = read(api, run)
    items = remote.media("batch")
    assert [(i.step, i.index, i.caption) for i in items] == [
        (s, i, f"s{s}i{i}") for s in range(3) for i in range(3)
    ]
    for item in items:
        np.testing.assert_array_equal(item.to_numpy(), frames[item.index])
    assert [i.step for i in remote.media("batch", steps=1)] == [1, 1, 1]
    assert [i.step for i in remote.media("batch", steps=[0, 2])] == [0, 0, 0, 2, 2, 2]
    assert remote.media_keys() == {
        "batch": {"type": "image", "count": 9, "first_step": 0, "last_step": 2}
    }
    # Metrics logged in the same calls are unharmed.
    frame = remote.history(samples=None, keys=["acc"])
    assert frame["_step"].tolist() == [0, 1, 2]
    assert frame["acc"].tolist() == [0.0, 0.1, 0.2]


def test_the_same_image_twice_is_stored_once(start, api, server, tmp_path):
    run = start()
    for _ in range(5):
        run.log({"same": lablens.Image(RGB)})
    run.finish()
    items = read(api, run).media("same")
    assert [i.step for i in items] == [0, 1, 2, 3, 4]
    assert len({i.sha256 for i in items}) == 1
    blob = server.data_dir / "blobs" / items[0].sha256[:2] / items[0].sha256[2:]
    assert blob.read_bytes() == items[0].content()
    # Sent once: one blob in the run's log too.
    from lablens.sdk.wal import read_log

    records = [r for r in read_log(run.dir).records if r.kind == "media"]
    assert sum(len(r.header["blobs"]) for r in records) == 1


def test_thumbnails_are_at_most_n_pixels(start, api):
    big = RNG.integers(0, 256, (300, 120, 3), dtype=np.uint8)
    run = start()
    run.log({"big": lablens.Image(big)})
    run.finish()
    item = read(api, run).media("big")[0]
    for n in (64, 100, 299):
        with PILImage.open(io.BytesIO(item.thumbnail(n))) as im:
            assert im.format == "PNG" and max(im.size) == n
            assert im.size[1] == n  # the long side is the height
    with PILImage.open(io.BytesIO(item.thumbnail(1000))) as im:
        assert im.size == (120, 300)  # never enlarged


def test_a_table_equals_its_dataframe(start, api):
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "label": ["cat", "dog", "bird"],
            "score": [0.5, 0.25, 1.0],
            "ok": [True, False, True],
        }
    )
    run = start()
    run.log({"preds": lablens.Table(dataframe=frame), "epoch": 1})
    run.log({"rows": lablens.Table(columns=["a", "b"], data=[[1, "x"], [2, "y"]])})
    run.finish()
    remote = read(api, run)
    item = remote.media("preds")[0]
    assert (item.type, item.format) == ("table", "parquet")
    assert item.meta == {"rows": 3, "columns": ["id", "label", "score", "ok"]}
    pd.testing.assert_frame_equal(item.to_pandas(), frame)
    rows = remote.media("rows")[0]
    assert rows.step == 1
    pd.testing.assert_frame_equal(rows.to_pandas(), pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))


def test_a_table_holding_images(start, api):
    table = lablens.Table(columns=["id", "image", "pred"])
    table.add_data(0, lablens.Image(RGB, caption="first"), "cat")
    table.add_data(1, lablens.Image(GRAY), "dog")
    run = start()
    run.log({"samples": table})
    run.finish()
    item = read(api, run).media("samples")[0]
    assert item.meta["media_columns"] == {"image": "image-file"}
    frame = item.to_pandas()
    assert frame["id"].tolist() == [0, 1] and frame["pred"].tolist() == ["cat", "dog"]
    first, second = frame["image"]
    assert first.type == "image" and first.caption == "first"
    np.testing.assert_array_equal(first.to_numpy(), RGB)
    np.testing.assert_array_equal(second.to_numpy(), GRAY)
    assert first.meta["width"] == 24


def test_a_histograms_counts_add_up_with_the_right_edges(start, api):
    values = RNG.normal(size=10_000)
    run = start()
    run.log({"weights": lablens.Histogram(values), "loss": 1.5})
    run.log({"weights": lablens.Histogram(values * 2, num_bins=10), "loss": 1.25})
    counts, edges = np.histogram(RNG.random(50), bins=5)
    run.log({"given": lablens.Histogram(np_histogram=(counts, edges))})
    run.finish()
    remote = read(api, run)
    first, second = remote.media("weights")
    got_counts, got_edges = first.to_numpy()
    assert got_counts.sum() == 10_000 and len(got_counts) == 64
    np.testing.assert_array_equal(got_edges, np.histogram(values, bins=64)[1])
    np.testing.assert_array_equal(got_counts, np.histogram(values, bins=64)[0])
    assert first.meta["num_bins"] == 64 and first.meta["count"] == 10_000
    got_counts, got_edges = second.to_numpy()
    assert got_counts.sum() == 10_000 and len(got_edges) == 11
    assert got_edges[0] == pytest.approx(values.min() * 2)
    assert got_edges[-1] == pytest.approx(values.max() * 2)
    given = remote.media("given")[0].to_numpy()
    np.testing.assert_array_equal(given[0], counts)
    np.testing.assert_array_equal(given[1], edges)
    frame = remote.history(samples=None, keys=["loss"])
    assert frame["loss"].tolist() == [1.5, 1.25]
