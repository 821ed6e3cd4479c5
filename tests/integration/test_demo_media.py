"""The media the demo logs (misclassified digits, the confusion matrix, weight histograms), read
back through the ``Api`` and checked against the run's own predictions and metrics."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from lablens.api import Api
from lablens.demo import PREDICTIONS, build_demo, demo_configs, run_name

EPOCHS = 4


@pytest.fixture(scope="module")
def runs(server) -> list:
    project = "demo-media-" + uuid.uuid4().hex[:8]
    build_demo(server.url, server.api_key, runs=2, epochs=EPOCHS, project=project, progress=False)
    api = Api(host=server.url, api_key=server.api_key)
    return list(api.runs(f"{api.default_entity}/{project}"))


def test_each_run_logs_three_media_keys_at_every_epoch_of_a_short_run(runs):
    for run in runs:
        keys = run.media_keys()
        assert {k: v["type"] for k, v in keys.items()} == {
            "val/misclassified": "image",
            "val/confusion": "table",
            "weights/layer1": "histogram",
        }
        for key in ("val/confusion", "weights/layer1"):
            assert keys[key]["count"] == EPOCHS
            assert (keys[key]["first_step"], keys[key]["last_step"]) == (1, EPOCHS)


def test_misclassified_digits_are_the_last_predictions_mistakes(runs):
    for run in runs:
        (predictions,) = [a for a in run.logged_artifacts() if a.type == "predictions"]
        assert predictions.name.startswith(PREDICTIONS)
        table = predictions.get("predictions")
        wrong = table[table["label"] != table["predicted"]].head(8)
        images = run.media("val/misclassified", steps=EPOCHS)
        assert [i.caption for i in images] == [
            f"pred {p} / true {t}" for p, t in zip(wrong["predicted"], wrong["label"], strict=True)
        ]
        assert [i.index for i in images] == list(range(len(images)))
        for image in images:
            pixels = image.to_numpy()
            assert pixels.shape == (32, 32)
            # Each digit pixel a 4x4 block of one grey: enlarged nearest-neighbour.
            blocks = pixels.reshape(8, 4, 8, 4)
            assert (blocks == blocks[:, :1, :, :1]).all()


def test_the_confusion_matrix_adds_up_to_the_accuracy(runs):
    for run in runs:
        (table,) = run.media("val/confusion", steps=EPOCHS)
        frame = table.to_pandas()
        assert list(frame.columns) == ["true", *(f"p{d}" for d in range(10))]
        assert frame["true"].tolist() == list(range(10))
        counts = frame.drop(columns="true").to_numpy()
        assert counts.sum() == 450  # the validation split
        assert np.trace(counts) / counts.sum() == pytest.approx(run.summary["val/acc"])


def test_weight_histograms_count_every_weight(runs):
    configs = {run_name(c): c for c in demo_configs(2, epochs=EPOCHS)}
    for run in runs:
        hidden = configs[run.name]["model"]["hidden"][0]
        items = run.media("weights/layer1")
        assert [i.step for i in items] == list(range(1, EPOCHS + 1))
        for item in items:
            counts, edges = item.to_numpy()
            assert counts.sum() == 64 * hidden and len(edges) == 33
