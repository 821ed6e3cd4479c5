"""TensorBoard media: images, galleries, histograms and audio written by tensorboardX in the test,
imported, and read back with ``Run.media()`` pixel for pixel and count for count."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest
from PIL import Image

from lablens.importers import tensorboard

tensorboardX = pytest.importorskip("tensorboardX")
from tensorboardX.proto.summary_pb2 import Summary  # noqa: E402

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

RNG = np.random.default_rng(7)
SAMPLES = {s: RNG.integers(0, 256, (12, 10, 3), dtype=np.uint8) for s in (0, 50)}
GRAY = RNG.integers(0, 256, (1, 6, 9), dtype=np.uint8)  # CHW, one channel
BATCH = RNG.integers(0, 256, (4, 3, 8, 8), dtype=np.uint8)  # NCHW: tensorboardX tiles a grid
WEIGHTS = {s: RNG.normal(s / 10, 1.0, 2000) for s in (0, 10, 20)}
CLIP = np.sin(np.linspace(0, 40, 800)) * 0.5


def write_logs(root):
    with tensorboardX.SummaryWriter(str(root / "cnn")) as w:
        for step, pixels in SAMPLES.items():
            w.add_image("samples/digit", pixels, global_step=step, dataformats="HWC")
            w.add_scalar("loss", 1.0 / (step + 1), global_step=step)
        w.add_image("gray", GRAY, global_step=3)
        w.add_images("batch", BATCH, global_step=7)
        for step, values in WEIGHTS.items():
            w.add_histogram("layer1/weights", values, global_step=step, bins=10)
        # add_audio needs soundfile to encode the WAV; the summary it writes, made here.
        wav = io.BytesIO()
        with wave.open(wav, "wb") as f:
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(8000)
            f.writeframes((CLIP * 32767).round().astype("<i2").tobytes())
        audio = Summary.Audio(
            sample_rate=8000,
            num_channels=1,
            length_frames=len(CLIP),
            encoded_audio_string=wav.getvalue(),
            content_type="audio/wav",
        )
        summary = Summary(value=[Summary.Value(tag="speech", audio=audio)])
        w._get_file_writer().add_summary(summary, global_step=4)


def written_images(run_dir, tag):
    """The images of ``tag`` as TensorBoard's own reader gives them: step -> pixels."""
    acc = event_accumulator.EventAccumulator(str(run_dir), size_guidance={"images": 0})
    acc.Reload()
    return {
        e.step: np.asarray(Image.open(io.BytesIO(e.encoded_image_string))) for e in acc.Images(tag)
    }


def test_images_histograms_and_audio_come_in_exactly(api, make_project, tmp_path):
    project = make_project()
    write_logs(tmp_path / "logs")

    report = tensorboard.import_(tmp_path / "logs", project=project.name, api=api, progress=False)

    assert report.problems == []
    (path,) = report.runs
    run = api.run(path)
    keys = run.media_keys()
    assert {k: (v["type"], v["count"]) for k, v in keys.items()} == {
        "samples/digit": ("image", 2),
        "gray": ("image", 1),
        "batch": ("image", 1),
        "layer1/weights": ("histogram", 3),
        "speech": ("audio", 1),
    }

    samples = run.media("samples/digit")
    assert [i.step for i in samples] == [0, 50]
    for item in samples:
        assert item.type == "image" and item.format == "png"
        assert (item.meta["width"], item.meta["height"]) == (10, 12)
        np.testing.assert_array_equal(item.to_numpy(), SAMPLES[item.step])
    (gray,) = run.media("gray")
    assert gray.step == 3
    # tensorboardX writes one channel as RGB, each the same.
    np.testing.assert_array_equal(gray.to_numpy(), np.repeat(GRAY[0][:, :, None], 3, axis=2))
    (grid,) = run.media("batch")
    np.testing.assert_array_equal(
        grid.to_numpy(), written_images(tmp_path / "logs/cnn", "batch")[7]
    )
    # tensorboardX's grid: the batch's images side by side, unpadded.
    np.testing.assert_array_equal(
        grid.to_numpy(), np.concatenate([b.transpose(1, 2, 0) for b in BATCH], axis=1)
    )

    histograms = run.media("layer1/weights")
    assert [h.step for h in histograms] == [0, 10, 20]
    for h in histograms:
        counts, edges = h.to_numpy()
        want_counts, want_edges = np.histogram(WEIGHTS[h.step], bins=10)
        assert counts.tolist() == want_counts.tolist()
        assert edges.tolist() == want_edges.tolist()
        assert counts.sum() == 2000

    (clip,) = run.media("speech")
    assert clip.type == "audio" and clip.step == 4 and clip.meta["sample_rate"] == 8000
    with wave.open(io.BytesIO(clip.content())) as w:
        assert w.getnframes() == len(CLIP)
    samples_back = clip.to_numpy().astype(np.float64) / 32767.0
    assert np.abs(samples_back - CLIP).max() < 1e-4

    # The numbers logged beside them are untouched.
    loss = run.history(samples=None, keys=["loss"])
    assert loss["_step"].tolist() == [0, 50]
    assert loss["loss"].tolist() == [np.float32(1.0).item(), np.float32(1 / 51).item()]


def test_media_reimport_stores_nothing_new(api, make_project, tmp_path):
    project = make_project()
    write_logs(tmp_path / "logs")
    tensorboard.import_(tmp_path / "logs", project=project.name, api=api, progress=False)
    (run,) = api.runs(project.name)
    before = [(i.key, i.step, i.index, i.sha256) for i in run.media()]

    again = tensorboard.import_(tmp_path / "logs", project=project.name, api=api, progress=False)

    assert again.points == 0 and again.problems == []
    after = [(i.key, i.step, i.index, i.sha256) for i in run.media()]
    assert after == before and len(after) == 8
