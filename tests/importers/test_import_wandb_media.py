"""W&B media: an offline run logged by the real wandb (its own venv, ``.compat/wandb``) with
images, a gallery, a table, histograms and audio, imported, and read back with ``Run.media()``
pixel for pixel and value for value."""

from __future__ import annotations

import io
import json
import sys
import wave
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lablens.importers import wandb as wandb_importer

pytest.importorskip("wandb.sdk.internal.datastore")  # the reader of .wandb files (wandb < 0.30)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))
from clients import COMPAT_DIR, client_json  # noqa: E402

SCRIPT = """
import json, sys, wave
import numpy as np
import wandb

def pixels(step, shape=(6, 7, 3)):
    return ((np.arange(np.prod(shape)).reshape(shape) * 7 + step * 13) % 256).astype(np.uint8)

base, project = sys.argv[1], sys.argv[2]
with wave.open(base + "/beep.wav", "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(8000)
    w.writeframes((np.sin(np.arange(400) / 5) * 10000).astype("<i2").tobytes())
run = wandb.init(
    project=project,
    mode="offline",
    dir=base,
    settings=wandb.Settings(x_disable_stats=True, console="off"),
)
for step in (0, 5):
    run.log({"sample": wandb.Image(pixels(step), caption=f"step {step}"), "loss": 1 / (step + 1)},
            step=step)
run.log(
    {
        "gallery": [wandb.Image(pixels(1), caption="a"), wandb.Image(pixels(2), caption="b")],
        "val": {"gray": wandb.Image(pixels(3, (5, 4)))},
    },
    step=6,
)
run.log({"preds": wandb.Table(columns=["id", "label", "score"],
                              data=[[1, "cat", 0.5], [2, "dog", None], [3, "cow", 0.25]])},
        step=7)
values = np.arange(100.0) ** 1.5
run.log({"weights": wandb.Histogram(values, num_bins=8),
         "given": wandb.Histogram(np_histogram=([1, 0, 3], [0.0, 0.5, 2.0, 4.0]))}, step=9)
run.log({"beep": wandb.Audio(base + "/beep.wav", caption="beep")}, step=11)
run.finish()
print(json.dumps({"id": run.id}))
"""


def pixels(step, shape=(6, 7, 3)):
    return ((np.arange(np.prod(shape)).reshape(shape) * 7 + step * 13) % 256).astype(np.uint8)


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory):
    if not (COMPAT_DIR / "wandb" / "bin" / "python").exists():
        pytest.skip("the wandb client venv is missing: make compat")
    import uuid

    base = tmp_path_factory.mktemp("wandb-media")
    project = "wm" + uuid.uuid4().hex[:10]
    env = {
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "WANDB_CONSOLE": "off",
        "WANDB_DISABLE_GIT": "true",
        "WANDB_DISABLE_CODE": "true",
        "WANDB_ERROR_REPORTING": "false",
        "HOME": str(base),
    }
    argv = "import sys; sys.argv = [''] + " + json.dumps([str(base), project]) + "\n"
    out = client_json("wandb", argv + SCRIPT, env=env, cwd=base, timeout=240)
    return base / "wandb", project, out["id"]


def test_wandb_media_come_in_exactly(api, make_project, offline_run):
    root, project, run_id = offline_run
    make_project(project)

    report = wandb_importer.import_(root, api=api, progress=False)

    assert report.problems == []
    run = api.run(f"{project}/{run_id}")
    keys = run.media_keys()
    assert {k: (v["type"], v["count"]) for k, v in keys.items()} == {
        "sample": ("image", 2),
        "gallery": ("image", 2),
        "val.gray": ("image", 1),
        "preds": ("table", 1),
        "weights": ("histogram", 1),
        "given": ("histogram", 1),
        "beep": ("audio", 1),
    }

    samples = run.media("sample")
    assert [(i.step, i.caption) for i in samples] == [(0, "step 0"), (5, "step 5")]
    for item in samples:
        np.testing.assert_array_equal(item.to_numpy(), pixels(item.step))
    gallery = run.media("gallery")
    assert [(i.step, i.index, i.caption) for i in gallery] == [(6, 0, "a"), (6, 1, "b")]
    np.testing.assert_array_equal(gallery[0].to_numpy(), pixels(1))
    np.testing.assert_array_equal(gallery[1].to_numpy(), pixels(2))
    (gray,) = run.media("val.gray")
    np.testing.assert_array_equal(gray.to_numpy(), pixels(3, (5, 4)))

    (table,) = run.media("preds")
    assert table.step == 7
    want = pd.DataFrame(
        {"id": [1, 2, 3], "label": ["cat", "dog", "cow"], "score": [0.5, None, 0.25]}
    )
    pd.testing.assert_frame_equal(table.to_pandas(), want)

    (weights,) = run.media("weights")
    counts, edges = weights.to_numpy()
    want_counts, want_edges = np.histogram(np.arange(100.0) ** 1.5, bins=8)
    assert weights.step == 9
    assert counts.tolist() == want_counts.tolist() and edges.tolist() == want_edges.tolist()
    (given,) = run.media("given")
    assert [a.tolist() for a in given.to_numpy()] == [[1, 0, 3], [0.0, 0.5, 2.0, 4.0]]

    (beep,) = run.media("beep")
    assert (beep.step, beep.caption, beep.meta["sample_rate"]) == (11, "beep", 8000)
    with wave.open(io.BytesIO(beep.content())) as w:
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert frames.tolist() == (np.sin(np.arange(400) / 5) * 10000).astype("<i2").tolist()

    # The numbers logged beside them are untouched.
    loss = run.history(samples=None, keys=["loss"])
    assert loss["_step"].tolist() == [0, 5] and loss["loss"].tolist() == [1.0, 1 / 6]

    again = wandb_importer.import_(root, api=api, progress=False)
    assert again.points == 0 and again.problems == []
    assert len(run.media()) == 9


def test_a_missing_media_file_is_reported_and_the_rest_imported(
    api, make_project, offline_run, tmp_path
):
    import shutil

    root, _, run_id = offline_run
    copy = tmp_path / "wandb"
    shutil.copytree(root, copy, symlinks=True)
    (gone,) = copy.glob(f"offline-run-*-{run_id}/files/media/table/*.table.json")
    gone.unlink()
    project = make_project().name

    report = wandb_importer.import_(copy, project=project, api=api, progress=False)

    assert len(report.problems) == 1
    assert "preds at step 7" in report.problems[0].message
    assert "no such file" in report.problems[0].message
    run = api.run(f"{project}/{run_id}")
    assert "preds" not in run.media_keys() and len(run.media("sample")) == 2
