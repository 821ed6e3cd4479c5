"""The real ``swanlab`` client, unmodified, logs images, a gallery and text into a lablens
server; ``Run.media()`` reads them back pixel for pixel, at their steps, with their captions.

``swanlab.Image`` needs numpy and Pillow, which the client's own venv (``.compat/swanlab``) does
not hold, so the script runs in a child process of this venv's python, whose swanlab is the same
version (``requirements-swanlab.txt``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import requests

SCRIPT = """
import json, os
import numpy as np
import swanlab

def pixels(step, shape=(6, 7, 3)):
    return ((np.arange(np.prod(shape)).reshape(shape) * 7 + step * 13) % 256).astype(np.uint8)

host, key, ws, project = (os.environ[k] for k in ("LL_HOST", "LL_KEY", "LL_WS", "LL_PROJECT"))
swanlab.login(api_key=key, host=host)
run = swanlab.init(workspace=ws, project=project, name="media")
for step in range(12):
    row = {"loss": 1.0 / (step + 1)}
    if step % 5 == 0:
        row["sample"] = swanlab.Image(pixels(step), caption=f"step {step}")
    if step == 3:
        row["gallery"] = [
            swanlab.Image(pixels(1), caption="a"),
            swanlab.Image(pixels(2), caption="b"),
        ]
    if step == 4:
        row["generated"] = swanlab.Text("a cat sat\\non the mat", caption="greedy")
    swanlab.log(row, step=step)
swanlab.finish()
print(json.dumps({"id": run.id}))
"""


def pixels(step, shape=(6, 7, 3)):
    return ((np.arange(np.prod(shape)).reshape(shape) * 7 + step * 13) % 256).astype(np.uint8)


@pytest.fixture(scope="module")
def logged(server, tmp_path_factory):
    import uuid

    from lablens.api import Api

    project = "swan-media-" + uuid.uuid4().hex[:8]
    home = tmp_path_factory.mktemp("swanlab-media")
    env = {
        "HOME": str(home),
        "LL_HOST": server.url,
        "LL_KEY": server.api_key,
        "LL_WS": server.username,
        "LL_PROJECT": project,
        "SWANLAB_SAVE_DIR": str(home / "swanlog"),
    }
    pytest.importorskip("swanlab")
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SWANLAB_", "LABLENS_"))
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**base, **env},
        cwd=home,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-8000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    api = Api(api_key=server.api_key, host=server.url)
    yield api.run(f"{server.username}/{project}/{out['id']}")
    api.project(f"{server.username}/{project}").delete()


def test_swanlab_images_and_text_are_media_items(logged) -> None:
    keys = {k: (v["type"], v["count"]) for k, v in logged.media_keys().items()}
    assert keys == {"sample": ("image", 3), "gallery": ("image", 2), "generated": ("text", 1)}
    samples = logged.media("sample")
    assert [(i.step, i.caption) for i in samples] == [(s, f"step {s}") for s in (0, 5, 10)]
    for item in samples:
        np.testing.assert_array_equal(item.to_numpy(), pixels(item.step))
    gallery = logged.media("gallery")
    assert [(i.step, i.index, i.caption) for i in gallery] == [(3, 0, "a"), (3, 1, "b")]
    np.testing.assert_array_equal(gallery[0].to_numpy(), pixels(1))
    np.testing.assert_array_equal(gallery[1].to_numpy(), pixels(2))
    (text,) = logged.media("generated")
    assert (text.step, text.caption, text.text()) == (4, "greedy", "a cat sat\non the mat")
    frame = logged.metrics(keys=["loss"])
    assert list(frame["loss"]) == [1.0 / (s + 1) for s in range(12)]


def test_an_upload_url_is_for_its_run_and_path_only(logged, server) -> None:
    session = requests.Session()
    session.headers["authorization"] = server.api_key  # as the client's sid cookie
    answer = session.post(
        f"{server.url}/api/resources/presigned/put",
        json={"experimentId": logged.id, "paths": ["media/image/099-abc.png"]},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    (url,) = answer.json()["urls"]
    forged = url.replace("099-abc.png", "098-abc.png")
    assert requests.put(forged, data=b"x", timeout=30).status_code == 403
    bad = session.post(
        f"{server.url}/api/resources/presigned/put",
        json={"experimentId": logged.id, "paths": ["../etc/passwd"]},
        timeout=30,
    )
    assert bad.status_code == 400 and "paths[0]" in bad.json()["message"]
    unknown = session.post(
        f"{server.url}/api/resources/presigned/put",
        json={"experimentId": "no-such-run", "paths": ["media/image/1.png"]},
        timeout=30,
    )
    assert unknown.status_code == 404


def test_audio_sent_as_the_client_sends_it_in_either_order(logged, server) -> None:
    """A WAV clip (``swanlab.Audio`` needs soundfile, which neither venv holds), sent by hand as
    the client sends media: here the metrics post first, its file after."""
    import io
    import wave

    clip = (np.sin(np.arange(400) / 5) * 10000).astype("<i2")
    wav = io.BytesIO()
    with wave.open(wav, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(clip.tobytes())
    session = requests.Session()
    session.headers["authorization"] = server.api_key
    name = "media/audio/020-0a1b2c3d.wav"
    post = {
        "type": "media",
        "projectId": f"{logged.entity}/{logged.project}",
        "experimentId": logged.id,
        "metrics": [
            {
                "key": "speech",
                "index": 20,
                "data": [name],
                "more": [{"caption": "hello"}],
                "create_time": "2026-01-02T03:04:05.000000+00:00",
            }
        ],
    }
    done = session.post(f"{server.url}/api/house/metrics", json=post, timeout=30)
    assert done.status_code == 200, done.text
    assert logged.media("speech") == []  # its file is not here yet
    answer = session.post(
        f"{server.url}/api/resources/presigned/put",
        json={"experimentId": logged.id, "paths": [name]},
        timeout=30,
    )
    (url,) = answer.json()["urls"]
    assert requests.put(url, data=wav.getvalue(), timeout=30).status_code == 200

    (speech,) = logged.media("speech")
    assert (speech.step, speech.caption, speech.meta["sample_rate"]) == (20, "hello", 8000)
    assert speech.timestamp == 1767323045.0
    assert speech.to_numpy().tolist() == clip.tolist()
    # The post again (a retry) stores nothing twice.
    assert session.post(f"{server.url}/api/house/metrics", json=post, timeout=30).ok
    assert len(logged.media("speech")) == 1
