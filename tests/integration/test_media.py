"""Media (images, tables, histograms, audio, text, html, plotly, video) logged by the SDK, kept by
a real server, read back through the ``Api`` with their values."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image as PILImage

import lablens
from lablens import errors as E
from lablens.api import Api
from lablens.contract.routes import project_media_route, run_media_route
from lablens.sdk import init
from lablens.transport import Transport
from servers import sync

QUIET = {"system_interval": 0, "console": False}


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


def test_an_image_keeps_the_pixels_its_buffer_held_at_the_call(start, api):
    # A training loop overwrites its batch buffer right after log(); the image copied at the
    # call (a contiguous buffer and a strided view of it) is what is stored.
    buffer = RGB.copy()
    run = start()
    for step in range(3):
        buffer[:] = np.roll(RGB, step, axis=0)
        run.log({"contiguous": lablens.Image(buffer), "strided": lablens.Image(buffer[::2, ::3])})
        buffer[:] = 0
    run.finish()
    remote = read(api, run)
    for step, item in enumerate(remote.media("contiguous")):
        np.testing.assert_array_equal(item.to_numpy(), np.roll(RGB, step, axis=0))
    for step, item in enumerate(remote.media("strided")):
        np.testing.assert_array_equal(item.to_numpy(), np.roll(RGB, step, axis=0)[::2, ::3])


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


def test_audio_text_html_plotly_and_video_round_trip(start, api, tmp_path):
    import plotly.graph_objects as go

    tone = np.sin(np.linspace(0, 40 * np.pi, 8000)).astype(np.float32) * 0.5
    stereo = RNG.integers(-32768, 32767, (500, 2), dtype=np.int16)
    figure = go.Figure(go.Scatter(x=[1, 2, 3], y=[4, 1, 9], name="curve"))
    frames = RNG.integers(0, 256, (3, 3, 12, 16), dtype=np.uint8)  # T x C x H x W
    run = start()
    run.log(
        {
            "tone": lablens.Audio(tone, sample_rate=8000, caption="440"),
            "stereo": lablens.Audio(stereo, sample_rate=22050),
            "sample": lablens.Text("héllo\nworld", caption="generated"),
            "page": lablens.Html("<h1>Epoch 3</h1>"),
            "fig": figure,
            "clip": lablens.Video(frames, fps=5),
            "lr": 0.001,
        }
    )
    figure.update_layout(title="changed after logging")  # what was logged stays as it was
    run.finish()
    remote = read(api, run)
    tone_item = remote.media("tone")[0]
    assert tone_item.meta == {"sample_rate": 8000, "seconds": 1.0, "channels": 1, "dtype": "float"}
    assert tone_item.caption == "440" and tone_item.format == "wav"
    np.testing.assert_allclose(tone_item.to_numpy(), tone, atol=1 / 32767)
    np.testing.assert_array_equal(remote.media("stereo")[0].to_numpy(), stereo)
    text = remote.media("sample")[0]
    assert (text.type, text.text(), text.caption) == ("text", "héllo\nworld", "generated")
    assert remote.media("page")[0].text() == "<h1>Epoch 3</h1>"
    fig = remote.media("fig")[0]
    assert fig.type == "plotly"
    logged = go.Figure(go.Scatter(x=[1, 2, 3], y=[4, 1, 9], name="curve"))
    assert json.loads(fig.text()) == json.loads(logged.to_json())
    assert fig.to_plotly().data[0].y == (4, 1, 9)
    clip = remote.media("clip")[0]
    assert (clip.format, clip.meta["frames"], clip.meta["width"]) == ("gif", 3, 16)
    with PILImage.open(io.BytesIO(clip.content())) as gif:
        assert gif.n_frames == 3
        gif.seek(1)
        np.testing.assert_array_equal(np.asarray(gif.convert("RGB")).shape, (12, 16, 3))
    assert remote.history(samples=None, keys=["lr"])["lr"].tolist() == [0.001]


def test_runs_media_reads_three_runs_in_one_request(start, api, unique, monkeypatch):
    made = []
    for n in range(3):
        run = start(name=f"r{n}")
        for step in range(2):
            run.log({"img": lablens.Image(np.full((4, 5), 40 * n + step, np.uint8))})
        run.finish()
        made.append(run)
    runs = api.runs(f"{made[0].entity}/{unique}", order="+created_at")
    assert len(runs) == 3
    list(runs)  # the runs themselves are read before: count only the media request
    calls = []
    real = api.client.request

    def counting(method, path, **kwargs):
        calls.append(path)
        return real(method, path, **kwargs)

    monkeypatch.setattr(api.client, "request", counting)
    items = runs.media("img")
    assert calls == [project_media_route(made[0].entity, unique)]
    assert [(i.run.name, i.step) for i in items] == [
        (f"r{n}", s) for n in range(3) for s in range(2)
    ]
    assert [int(i.to_numpy()[0, 0]) for i in items] == [0, 1, 40, 41, 80, 81]
    assert [i.run_id for i in runs.media("img", steps=1)] == [r.id for r in made]


def test_runs_media_keys_reads_every_runs_keys_in_one_request(start, api, unique, counted):
    made = []
    for n in range(3):
        run = start(name=f"k{n}")
        if n < 2:  # the last run logs no media
            for step in (3, 7):
                run.log({"img": lablens.Image(np.full((4, 5), n, np.uint8))}, step=step)
        if n == 1:
            run.log({"hist": lablens.Histogram(np.arange(10.0))}, step=9)
        run.log({"loss": 0.1 * n}, step=10)
        run.finish()
        made.append(run)
    runs = api.runs(f"{made[0].entity}/{unique}", order="+created_at")
    list(runs)  # the runs themselves are read before: count only the keys request
    counted.clear()
    keys = runs.media_keys()
    assert counted == [project_media_route(made[0].entity, unique) + "/keys"]
    img = {"type": "image", "count": 2, "first_step": 3, "last_step": 7}
    assert keys == {
        made[0].path: {"img": img},
        made[1].path: {
            "hist": {"type": "histogram", "count": 1, "first_step": 9, "last_step": 9},
            "img": img,
        },
        made[2].path: {},
    }
    # What each run's own call gives, and in the collection's order.
    assert list(keys) == [r.path for r in made]
    assert all(keys[r.path] == api.run(r.path).media_keys() for r in made)
    # A run that does not exist is a 404 naming it; no run at all is a 400 naming ``runs``.
    route = project_media_route(made[0].entity, unique) + "/keys"
    with pytest.raises(E.RunNotFound):
        api.client.get_json(route, params={"runs": f"{made[0].id},nope"})
    with pytest.raises(E.BadRequest) as bad:
        api.client.get_json(route, params={"runs": ","})
    assert bad.value.field == "runs"


def test_bad_items_and_missing_blobs_are_400s_naming_the_part(start, server, api):
    run = start()
    run.log({"x": 1})
    run.finish()
    http = Transport(server.url, server.api_key)
    route = run_media_route(run.entity, run.project, run.id)
    digest = hashlib.sha256(b"never uploaded").hexdigest()
    good = {
        "key": "img",
        "step": 0,
        "timestamp": 1.7e9,
        "type": "image",
        "format": "png",
        "sha256": digest,
        "size": 14,
    }
    with pytest.raises(E.BadRequest) as info:
        http.post_json(route, {"items": [good]})
    assert info.value.field == "items[0].sha256" and digest in str(info.value)
    for change, field in [
        ({"type": "gif"}, "items[1].type"),
        ({"format": "jpeg"}, "items[1].format"),
        ({"step": -1}, "items[1].step"),
        ({"sha256": "abc"}, "items[1].sha256"),
        ({"key": ""}, "items[1].key"),
        ({"size": "big"}, "items[1].size"),
        ({"caption": 3}, "items[1].caption"),
        ({"colour": "red"}, "items[1].colour"),
        ({"key": "a\x00b"}, "items[1].key"),
        ({"meta": {"note": "\ud800"}}, "items[1].meta.note"),
    ]:
        with pytest.raises(E.BadRequest) as info:
            http.post_json(route, {"items": [good, {**good, **change}]})
        assert info.value.field == field, change
    assert read(api, run).media() == []


def test_a_retried_media_batch_is_stored_once(start, server, api):
    run = start()
    run.log({"x": 1})
    run.finish()
    http = Transport(server.url, server.api_key)
    content = png(RGB)
    digest = hashlib.sha256(content).hexdigest()
    blobs = f"{project_media_route(run.entity, run.project).rsplit('/media', 1)[0]}/blobs"
    http.request("PUT", f"{blobs}/{digest}", data=content)
    item = {
        "key": "img",
        "step": 3,
        "timestamp": 1.7e9,
        "type": "image",
        "format": "png",
        "sha256": digest,
        "size": len(content),
        "meta": {"width": 24, "height": 16, "channels": 3},
    }
    route = run_media_route(run.entity, run.project, run.id)
    assert http.post_json(route, {"items": [item], "batch_id": "b1"})["stored"] == 1
    again = http.post_json(route, {"items": [item, {**item, "step": 4}], "batch_id": "b1"})
    assert again == {"stored": 0, "duplicate": True}
    assert [i.step for i in read(api, run).media("img")] == [3]


def test_another_users_private_project_media_are_unreadable(start, server, api):
    run = start()
    run.log({"secret": lablens.Image(RGB)})
    run.finish()
    item = read(api, run).media("secret")[0]
    name = "eve" + item.sha256[:6]
    created = api.client.post_json("/api/v1/users", {"username": name})
    outsider = Api(host=server.url, api_key=created["api_key"])
    with pytest.raises(E.NotFound):
        outsider.run(run.path).media("secret")
    http = Transport(server.url, created["api_key"])
    for route in (
        run_media_route(run.entity, run.project, run.id),
        f"{project_media_route(run.entity, run.project)}/{item.sha256}",
        f"{project_media_route(run.entity, run.project)}?runs={run.id}",
    ):
        with pytest.raises(E.NotFound):
            http.get_json(route)
    # Nor can a digest be read through a project that holds no item naming it.
    own = outsider.create_project("mine")
    with pytest.raises(E.NotFound):
        http.request("GET", f"{project_media_route(own.entity, own.name)}/{item.sha256}")


def test_deleting_a_run_deletes_its_media_items(start, server, api):
    run = start()
    run.log({"img": lablens.Image(RGB)})
    run.finish()
    item = read(api, run).media("img")[0]
    read(api, run).delete()
    http = Transport(server.url, server.api_key)
    with pytest.raises(E.NotFound):
        http.request("GET", f"{project_media_route(run.entity, run.project)}/{item.sha256}")


def test_strings_dataframes_and_sequences_of_numbers_are_logged_as_w_and_b_logs_them(start, api):
    # W&B's conversions of what wandb.log is given: a str is text, a DataFrame a table, and a
    # list or an array of numbers a histogram of its values.
    frame = pd.DataFrame({"label": ["cat", "dog"], "score": [0.25, 0.75]})
    values = np.arange(100, dtype=np.float64) ** 2
    run = start()
    run.log({"note": "lr halved", "preds": frame, "grads": values, "sizes": [3, 1, 4, 1, 5]})
    run.log({"notes": ["a", "b"], "loss": 0.5})
    run.finish()
    remote = read(api, run)
    note = remote.media("note")[0]
    assert (note.type, note.content()) == ("text", b"lr halved")
    pd.testing.assert_frame_equal(remote.media("preds")[0].to_pandas(), frame)
    counts, edges = remote.media("grads")[0].to_numpy()
    np.testing.assert_array_equal(counts, np.histogram(values, bins=64)[0])
    np.testing.assert_allclose(edges, np.histogram(values, bins=64)[1])
    counts, _ = remote.media("sizes")[0].to_numpy()
    assert counts.sum() == 5
    assert [i.content() for i in remote.media("notes")] == [b"a", b"b"]
    assert remote.history(samples=None, keys=["loss"])["loss"].tolist() == [0.5]


def test_values_that_are_neither_numbers_nor_media_are_refused(start):
    run = start()
    for value in (None, object(), np.array(["x", "y"]), [1, "x"], [lablens.Image(RGB), 3]):
        with pytest.raises(TypeError) as info:
            run.log({"bad": value, "ok": 1})
        assert info.value.field == "bad"
    with pytest.raises(E.UsageError) as info:
        lablens.Image(np.zeros((2, 2, 7)))
    assert info.value.field == "data_or_path"


def test_an_offline_runs_media_are_uploaded_by_sync(server, api, unique, tmp_path):
    run = init(project=unique, settings=QUIET, dir=tmp_path, mode="offline")
    for step in range(3):
        run.log({"img": lablens.Image(RGB[:, :, ::-1] // (step + 1)), "loss": 1 / (step + 1)})
    run.log({"hist": lablens.Histogram([1, 2, 2, 3])})
    run.finish()
    done = sync(str(tmp_path), "--host", server.url, "--api-key", server.api_key)
    assert done.returncode == 0, done.stderr
    assert "4 media items" in done.stdout
    remote = api.run(f"{server.username}/{unique}/{run.id}")
    items = remote.media("img")
    assert [i.step for i in items] == [0, 1, 2]
    for step, item in enumerate(items):
        np.testing.assert_array_equal(item.to_numpy(), RGB[:, :, ::-1] // (step + 1))
    assert remote.media("hist")[0].to_numpy()[0].sum() == 4
    assert remote.history(samples=None, keys=["loss"])["loss"].tolist() == [1, 0.5, 1 / 3]
    again = sync(str(tmp_path), "--host", server.url, "--api-key", server.api_key)
    assert again.returncode == 0 and "media items" not in again.stdout
    assert len(remote.media()) == 4


def test_history_rows_carry_wandb_style_references(start, api):
    run = start()
    run.log({"loss": 1.0, "img": lablens.Image(RGB, caption="zero")})  # step 0
    run.log({"loss": 0.5})  # step 1
    run.log({"weights": lablens.Histogram([1, 2, 3], num_bins=3)})  # step 2: no number
    run.log({"loss": 0.25, "pair": [lablens.Image(GRAY), lablens.Image(RGB)]})  # step 3
    run.log({"tab": lablens.Table(columns=["a"], data=[[1], [2]])})  # step 4
    run.finish()
    remote = read(api, run)
    rows = remote.history(samples=None, pandas=False)
    assert [r["_step"] for r in rows] == [0, 1, 2, 3, 4]
    assert [r.get("loss") for r in rows] == [1.0, 0.5, None, 0.25, None]
    img = rows[0]["img"]
    item = remote.media("img")[0]
    assert img == {
        "_type": "image-file",
        "path": item.path,
        "sha256": item.sha256,
        "size": item.size,
        "format": "png",
        "caption": "zero",
        "width": 24,
        "height": 16,
        "channels": 3,
    }
    hist = rows[2]["weights"]
    assert hist["_type"] == "histogram" and hist["values"] == [1, 1, 1]
    assert hist["bins"] == [1.0, pytest.approx(5 / 3), pytest.approx(7 / 3), 3.0]
    assert rows[2]["_timestamp"] > 1.7e9 and rows[2]["_runtime"] >= 0
    assert [ref["width"] for ref in rows[3]["pair"]] == [30, 24]
    assert rows[4]["tab"]["_type"] == "table-file" and rows[4]["tab"]["rows"] == 2
    # Only the keys asked for, numbers exact beside them.
    frame = remote.history(samples=None, keys=["loss", "img"])
    assert frame["_step"].tolist() == [0, 1, 3]
    assert frame["loss"].tolist() == [1.0, 0.5, 0.25]
    assert frame["img"].tolist()[0]["sha256"] == item.sha256
    assert frame["img"].tolist()[1:] == [None, None]
    only = remote.history(samples=None, keys=["weights"])
    assert only["_step"].tolist() == [2] and only["weights"][0]["_type"] == "histogram"
    scanned = list(remote.scan_history(keys=["loss", "pair"]))
    assert [(r["_step"], r["loss"], len(r["pair"])) for r in scanned] == [(3, 0.25, 2)]
    assert [r["_step"] for r in remote.scan_history(page_size=2)] == [0, 1, 2, 3, 4]
    assert [r["_step"] for r in remote.scan_history(keys=["img"])] == [0]


def test_many_distinct_images_in_one_record_all_arrive(start, api):
    # Enough blobs in one record to be uploaded a few at a time (media_upload.UPLOADS).
    images = [RNG.integers(0, 256, (6, 7, 3), dtype=np.uint8) for _ in range(30)]
    run = start()
    run.log({"many": [lablens.Image(a) for a in images]})
    run.finish()
    items = read(api, run).media("many")
    assert [i.index for i in items] == list(range(30))
    for item, image in zip(items, images, strict=True):
        np.testing.assert_array_equal(item.to_numpy(), image)


def test_a_pack_of_blobs_is_checked_blob_by_blob(start, server):
    from lablens.contract.media import pack

    run = start()
    run.finish()
    http = Transport(server.url, server.api_key)
    route = project_media_route(run.entity, run.project).rsplit("/media", 1)[0] + "/blobs/pack"
    good, bad = b"first blob", b"second blob"
    digests = [hashlib.sha256(b).hexdigest() for b in (good, bad)]
    answer = http.request("POST", route, data=pack({digests[0]: good})).json()
    assert answer == {"blobs": [{"digest": digests[0], "size": len(good), "stored": True}]}
    with pytest.raises(E.BadRequest) as info:
        http.request("POST", route, data=pack({digests[0]: good, digests[1]: b"changed"}))
    assert info.value.field == "blobs[1]"
    with pytest.raises(E.BadRequest) as info:
        http.request("POST", route, data=b"\x05\x00\x00\x00[oops")
    assert info.value.field == "blobs"
    with pytest.raises(E.BadRequest) as info:
        http.request("POST", route, data=pack({digests[1]: bad})[:-3])
    assert info.value.field == "blobs[0]"


def test_log_waits_for_the_server_past_the_media_buffer_and_loses_nothing(start, api, monkeypatch):
    from lablens.sdk import sender

    # Each 5x5 image holds 256 + 25 bytes: about three fit.
    monkeypatch.setattr(sender, "MAX_BUFFERED_MEDIA_BYTES", 900)
    run = start()
    images = [RNG.integers(0, 256, (5, 5), dtype=np.uint8) for _ in range(12)]
    for image in images:
        run.log({"img": lablens.Image(image), "n": 1})
    assert run._sender.media_unacked <= 900
    run.finish()
    assert run._sender.media_unacked == 0
    items = read(api, run).media("img")
    assert [i.step for i in items] == list(range(12))
    for item, image in zip(items, images, strict=True):
        np.testing.assert_array_equal(item.to_numpy(), image)
