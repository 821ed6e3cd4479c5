"""The real ``wandb`` client, unmodified, logs images, a gallery, a table and histograms into a
lablens server (online mode); ``Run.media()`` reads them back pixel for pixel and value for
value, at their steps, with their captions."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pandas as pd
import pytest
import requests
from test_wandb_logging import run_script, wandb_env

from lablens.api import Api

SCRIPT = """
import json, sys, wave
import numpy as np
import wandb

with wave.open("beep.wav", "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(8000)
    w.writeframes((np.sin(np.arange(400) / 5) * 10000).astype("<i2").tobytes())

def pixels(step, shape=(6, 7, 3)):
    return ((np.arange(np.prod(shape)).reshape(shape) * 7 + step * 13) % 256).astype(np.uint8)

run = wandb.init(entity=sys.argv[1], project=sys.argv[2], name="media")
for step in range(12):
    row = {"loss": 1.0 / (step + 1)}
    if step % 5 == 0:
        row["sample"] = wandb.Image(pixels(step), caption=f"step {step}")
    if step == 3:
        row["gallery"] = [wandb.Image(pixels(1), caption="a"), wandb.Image(pixels(2), caption="b")]
        row["val"] = {"gray": wandb.Image(pixels(3, (5, 4)))}
    if step == 4:
        row["weights"] = wandb.Histogram(np.arange(100.0) ** 1.5, num_bins=8)
        row["given"] = wandb.Histogram(np_histogram=([1, 0, 3], [0.0, 0.5, 2.0, 4.0]))
    if step == 8:
        row["beep"] = wandb.Audio("beep.wav", caption="beep")
        row["report"] = wandb.Html("<h1>Epoch 8</h1>")
    if step == 7:
        row["preds"] = wandb.Table(
            columns=["id", "label", "score"],
            data=[[1, "cat", 0.5], [2, "dog", None], [3, "cow", 0.25]],
        )
    run.log(row, step=step)
run.finish()
print(json.dumps({"id": run.id}))
"""


def pixels(step, shape=(6, 7, 3)):
    return ((np.arange(np.prod(shape)).reshape(shape) * 7 + step * 13) % 256).astype(np.uint8)


@pytest.fixture(scope="module")
def logged(server, tmp_path_factory):
    project = "wandb-media-" + uuid.uuid4().hex[:8]
    cwd = tmp_path_factory.mktemp("wandb-media")
    env = wandb_env(server.url, server.api_key, cwd / "home")
    out = run_script(SCRIPT, [server.username, project], env, cwd)
    api = Api(api_key=server.api_key, host=server.url)
    return api.run(f"{server.username}/{project}/{out['id']}")


def test_images_and_galleries_are_media_items(logged) -> None:
    samples = logged.media("sample")
    assert [(i.step, i.caption) for i in samples] == [(s, f"step {s}") for s in (0, 5, 10)]
    for item in samples:
        assert (item.type, item.format) == ("image", "png")
        assert (item.meta["width"], item.meta["height"]) == (7, 6)
        np.testing.assert_array_equal(item.to_numpy(), pixels(item.step))
    gallery = logged.media("gallery")
    assert [(i.step, i.index, i.caption) for i in gallery] == [(3, 0, "a"), (3, 1, "b")]
    np.testing.assert_array_equal(gallery[0].to_numpy(), pixels(1))
    np.testing.assert_array_equal(gallery[1].to_numpy(), pixels(2))
    (gray,) = logged.media("val.gray")
    np.testing.assert_array_equal(gray.to_numpy(), pixels(3, (5, 4)))


def test_histograms_and_tables_are_media_items(logged) -> None:
    (weights,) = logged.media("weights")
    counts, edges = weights.to_numpy()
    want_counts, want_edges = np.histogram(np.arange(100.0) ** 1.5, bins=8)
    assert weights.step == 4 and counts.sum() == 100
    assert counts.tolist() == want_counts.tolist() and edges.tolist() == want_edges.tolist()
    (given,) = logged.media("given")
    assert [a.tolist() for a in given.to_numpy()] == [[1, 0, 3], [0.0, 0.5, 2.0, 4.0]]
    (table,) = logged.media("preds")
    assert table.step == 7
    want = pd.DataFrame(
        {"id": [1, 2, 3], "label": ["cat", "dog", "cow"], "score": [0.5, None, 0.25]}
    )
    pd.testing.assert_frame_equal(table.to_pandas(), want)


def test_audio_and_html_are_media_items(logged) -> None:
    (beep,) = logged.media("beep")
    assert (beep.step, beep.caption, beep.meta["sample_rate"]) == (8, "beep", 8000)
    want = (np.sin(np.arange(400) / 5) * 10000).astype("<i2")
    assert beep.to_numpy().tolist() == want.tolist()
    (report,) = logged.media("report")
    assert report.step == 8 and "<h1>Epoch 8</h1>" in report.text()


def test_media_keys_and_metrics_beside_them(logged) -> None:
    keys = {k: (v["type"], v["count"]) for k, v in logged.media_keys().items()}
    assert keys == {
        "sample": ("image", 3),
        "gallery": ("image", 2),
        "val.gray": ("image", 1),
        "weights": ("histogram", 1),
        "given": ("histogram", 1),
        "preds": ("table", 1),
        "beep": ("audio", 1),
        "report": ("html", 1),
    }
    rows = list(logged.scan_history(keys=["loss"]))
    assert [(r["_step"], r["loss"]) for r in rows] == [(s, 1.0 / (s + 1)) for s in range(12)]


def test_a_reference_whose_file_comes_later_becomes_an_item(server, api) -> None:
    """The client may upload a media file after it streams the row naming it."""
    project = "wandb-late-" + uuid.uuid4().hex[:8]
    auth = ("api", server.api_key)
    upsert = """mutation UpsertBucket($name: String, $project: String) {
        upsertBucket(input: {name: $name, modelName: $project}) { bucket { id } } }"""
    variables = {"name": "late1", "project": project}
    done = requests.post(
        f"{server.url}/graphql",
        json={"query": upsert, "variables": variables},
        auth=auth,
        timeout=30,
    )
    assert done.status_code == 200, done.text
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.fromarray(pixels(9)).save(png, format="PNG")
    name = "media/images/späť_9_abc.png"  # escaped in the kept line
    ref = {"_type": "image-file", "path": name, "caption": "late", "format": "png"}
    row = {
        "_step": 9,
        "_timestamp": 1.7e9,
        "img": ref,
        "hist": {"_type": "histogram", "values": [2, 3], "bins": [0.0, 1.0, 2.0]},
    }
    post = {"files": {"wandb-history.jsonl": {"offset": 0, "content": [json.dumps(row)]}}}
    url = f"{server.url}/files/{server.username}/{project}/late1/file_stream"
    assert requests.post(url, json=post, auth=auth, timeout=30).status_code == 200
    run = api.run(f"{server.username}/{project}/late1")
    # The histogram is inline: an item at once; the image waits for its file.
    assert [(i.key, i.step) for i in run.media()] == [("hist", 9)]

    create = """mutation CreateRunFiles($entity: String!, $project: String!, $run: String!,
        $files: [String!]!) { createRunFiles(input: {entityName: $entity, projectName: $project,
        runName: $run, files: $files}) { files { name uploadUrl } } }"""
    variables = {"entity": server.username, "project": project, "run": "late1", "files": [name]}
    answer = requests.post(
        f"{server.url}/graphql",
        json={"query": create, "variables": variables},
        auth=auth,
        timeout=30,
    ).json()
    (upload,) = answer["data"]["createRunFiles"]["files"]
    assert requests.put(upload["uploadUrl"], data=png.getvalue(), timeout=30).status_code == 200

    (image,) = run.media("img")
    assert (image.step, image.caption, image.timestamp) == (9, "late", 1.7e9)
    assert image.content() == png.getvalue()
    np.testing.assert_array_equal(image.to_numpy(), pixels(9))
    # A retried post stores nothing twice.
    assert requests.post(url, json=post, auth=auth, timeout=30).status_code == 200
    assert [(i.key, i.step) for i in run.media()] == [("hist", 9), ("img", 9)]


def test_a_file_that_is_not_an_image_stays_a_run_file(server, api) -> None:
    project = "wandb-bad-" + uuid.uuid4().hex[:8]
    auth = ("api", server.api_key)
    upsert = """mutation UpsertBucket($name: String, $project: String) {
        upsertBucket(input: {name: $name, modelName: $project}) { bucket { id } } }"""
    variables = {"name": "bad1", "project": project}
    requests.post(
        f"{server.url}/graphql",
        json={"query": upsert, "variables": variables},
        auth=auth,
        timeout=30,
    )
    create = """mutation CreateRunFiles($entity: String!, $project: String!, $run: String!,
        $files: [String!]!) { createRunFiles(input: {entityName: $entity, projectName: $project,
        runName: $run, files: $files}) { files { name uploadUrl } } }"""
    name = "media/images/bad_1_x.png"
    variables = {"entity": server.username, "project": project, "run": "bad1", "files": [name]}
    answer = requests.post(
        f"{server.url}/graphql",
        json={"query": create, "variables": variables},
        auth=auth,
        timeout=30,
    ).json()
    (upload,) = answer["data"]["createRunFiles"]["files"]
    assert requests.put(upload["uploadUrl"], data=b"not a png", timeout=30).status_code == 200
    row = {"_step": 1, "img": {"_type": "image-file", "path": name}, "x": 1.0}
    post = {"files": {"wandb-history.jsonl": {"offset": 0, "content": [json.dumps(row)]}}}
    url = f"{server.url}/files/{server.username}/{project}/bad1/file_stream"
    assert requests.post(url, json=post, auth=auth, timeout=30).status_code == 200
    run = api.run(f"{server.username}/{project}/bad1")
    assert run.media() == []
    assert [r["x"] for r in run.scan_history()] == [1.0]
    assert name in {f.name for f in run.files()}
