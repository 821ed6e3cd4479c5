"""SwanLab media: images, a gallery and text logged by the real swanlab in offline mode in the
test, imported, and read back with ``Run.media()`` pixel for pixel and character for
character."""

from __future__ import annotations

import numpy as np
import pytest

from lablens.importers import swanlab as swanlab_importer

swanlab = pytest.importorskip("swanlab")

CLIP = (np.sin(np.arange(800) / 7) * 0.5).astype(np.float32)


def pixels(step, shape=(6, 7, 3)):
    return ((np.arange(np.prod(shape)).reshape(shape) * 7 + step * 13) % 256).astype(np.uint8)


@pytest.fixture(scope="module")
def swanlog(tmp_path_factory):
    import uuid

    base = tmp_path_factory.mktemp("swanlab-media")
    project = "sm" + uuid.uuid4().hex[:10]
    logdir = base / "swanlog"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(base)
        run = swanlab.init(project=project, name="media", mode="offline", log_dir=str(logdir))
        for step in (0, 4):
            swanlab.log(
                {
                    "sample": swanlab.Image(pixels(step), caption=f"step {step}"),
                    "loss": 1.0 / (step + 1),
                },
                step=step,
            )
        swanlab.log(
            {
                "gallery": [
                    swanlab.Image(pixels(1), caption="a"),
                    swanlab.Image(pixels(2), caption="b"),
                ]
            },
            step=5,
        )
        swanlab.log(
            {"generated": swanlab.Text("a cat sat\non the mat ✓", caption="greedy")}, step=6
        )
        # swanlab.Audio encodes with soundfile (the import-test extra)
        swanlab.log({"speech": swanlab.Audio(CLIP, sample_rate=8000, caption="hi")}, step=7)
        swanlab.finish()
    (run_dir,) = logdir.glob("run-*")
    return logdir, project, run_dir.name.rsplit("-", 1)[1], run


def test_swanlab_media_come_in_exactly(api, make_project, swanlog):
    logdir, project, run_id, _ = swanlog
    make_project(project)

    report = swanlab_importer.import_(logdir, api=api, progress=False)

    assert report.problems == []
    run = api.run(f"{project}/{run_id}")
    keys = {k: (v["type"], v["count"]) for k, v in run.media_keys().items()}
    assert keys.pop("speech", ("audio", 1)) == ("audio", 1)
    assert keys == {"sample": ("image", 2), "gallery": ("image", 2), "generated": ("text", 1)}

    samples = run.media("sample")
    assert [(i.step, i.caption) for i in samples] == [(0, "step 0"), (4, "step 4")]
    for item in samples:
        np.testing.assert_array_equal(item.to_numpy(), pixels(item.step))
        # The PNG swanlab wrote, byte for byte.
        (local,) = logdir.glob(f"run-*/media/image/{item.step:03d}-{item.sha256[:8]}.png")
        assert local.read_bytes() == item.content()
    gallery = run.media("gallery")
    assert [(i.step, i.index, i.caption) for i in gallery] == [(5, 0, "a"), (5, 1, "b")]
    np.testing.assert_array_equal(gallery[0].to_numpy(), pixels(1))
    np.testing.assert_array_equal(gallery[1].to_numpy(), pixels(2))
    (text,) = run.media("generated")
    assert (text.step, text.caption, text.text()) == (6, "greedy", "a cat sat\non the mat ✓")

    loss = run.history(samples=None, keys=["loss"])
    assert loss["_step"].tolist() == [0, 4] and loss["loss"].tolist() == [1.0, 0.2]

    again = swanlab_importer.import_(logdir, api=api, progress=False)
    assert again.points == 0 and again.problems == []
    assert len(run.media()) == 6


def test_swanlab_audio_comes_in(api, make_project, swanlog):
    logdir, _, run_id, _ = swanlog
    project = make_project().name
    swanlab_importer.import_(logdir, project=project, api=api, progress=False)
    (clip,) = api.run(f"{project}/{run_id}").media("speech")
    assert (clip.step, clip.caption, clip.meta["sample_rate"]) == (7, "hi", 8000)
    (local,) = logdir.glob("run-*/media/audio/*.wav")
    assert clip.content() == local.read_bytes()


def test_a_missing_media_file_is_reported(api, make_project, swanlog, tmp_path):
    import shutil

    logdir, _, run_id, _ = swanlog
    copy = tmp_path / "swanlog"
    shutil.copytree(logdir, copy, symlinks=True)
    (gone,) = copy.glob("run-*/media/text/*.txt")
    gone.unlink()
    project = make_project().name

    report = swanlab_importer.import_(copy, project=project, api=api, progress=False)

    assert [p.path for p in report.problems] == [str(gone.resolve())]
    assert "generated at step 6" in report.problems[0].message
    assert len(api.run(f"{project}/{run_id}").media("sample")) == 2
