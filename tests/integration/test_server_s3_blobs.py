"""A real ``lablens server --blobs s3://BUCKET/PREFIX`` on a real S3 server (SeaweedFS): run files,
artifact files and media go to the bucket, not the data dir, are read back byte-exact through
the ``Api``, and are there for a second server over the same data dir; a server whose bucket
refuses its credentials, or is missing, does not start."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

import lablens
from lablens._settings import free_port, server_argv
from lablens.api import Api
from lablens.sdk import init
from servers import QUIET, start_server, stop_server

PREFIX = "team/blobs"
RNG = np.random.default_rng(11)
RGB = RNG.integers(0, 256, (16, 24, 3), dtype=np.uint8)


def keys_in(s3_endpoint, bucket: str) -> set[str]:
    """Every object key in ``bucket``."""
    client = s3_endpoint.client()
    return {
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    }


def key_of(digest: str) -> str:
    return f"{PREFIX}/{digest[:2]}/{digest[2:]}"


def local_blobs(data_dir: Path) -> list[Path]:
    root = data_dir / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    PILImage.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def test_files_artifacts_and_media_live_in_the_bucket_and_survive_a_restart(
    s3_endpoint, s3_bucket, tmp_path, unique
):
    data_dir, home = tmp_path / "data", tmp_path / "home"
    args = ["--blobs", f"s3://{s3_bucket}/{PREFIX}"]
    env = s3_endpoint.env()
    srv = start_server(data_dir, home, args, env)
    try:
        # A run file through the Api, an artifact of a multi-MB file and an image through the SDK.
        big = os.urandom(19 << 20)  # three multipart parts of 8 MiB
        (tmp_path / "w").mkdir()
        (tmp_path / "w" / "model.bin").write_bytes(big)
        (tmp_path / "out").mkdir()
        notes = b"notes of the run\n" * 1000
        (tmp_path / "out" / "notes.txt").write_bytes(notes)
        run = init(
            project=unique,
            host=srv.url,
            api_key=srv.api_key,
            settings=QUIET,
            dir=tmp_path / "sdk",
        )
        run.log({"img": lablens.Image(RGB, caption="rgb")})
        artifact = lablens.Artifact("weights", "model")
        artifact.add_file(tmp_path / "w" / "model.bin", name="model.bin")
        run.log_artifact(artifact)
        run.finish()
        api = Api(host=srv.url, api_key=srv.api_key)
        api.run(run.path).upload_file(tmp_path / "out" / "notes.txt", root=tmp_path / "out")

        digests = {
            "file": hashlib.sha256(notes).hexdigest(),
            "artifact": hashlib.sha256(big).hexdigest(),
        }
        media = api.run(run.path).media("img")
        assert len(media) == 1 and media[0].caption == "rgb"
        digests["media"] = media[0].sha256
        assert np.array_equal(np.asarray(PILImage.open(io.BytesIO(media[0].content()))), RGB)

        # In the bucket under the prefix, byte-exact; nothing in the data dir's blobs/.
        stored = keys_in(s3_endpoint, s3_bucket)
        assert {key_of(d) for d in digests.values()} <= stored
        assert all(k.startswith(PREFIX + "/") for k in stored)
        got = s3_endpoint.client().get_object(Bucket=s3_bucket, Key=key_of(digests["artifact"]))
        assert got["ContentLength"] == len(big)
        assert local_blobs(data_dir) == []
        first_read = read_back(api, run.path, unique, tmp_path / "dl1")
        assert first_read == {"notes.txt": notes, "model.bin": big, "img": media[0].content()}
    finally:
        stop_server(srv)

    # A second server over the same data dir and bucket reads everything.
    srv = start_server(data_dir, home, args, env)
    try:
        api = Api(host=srv.url, api_key=srv.api_key)
        assert read_back(api, run.path, unique, tmp_path / "dl2") == first_read
        assert local_blobs(data_dir) == []
    finally:
        stop_server(srv)


def read_back(api: Api, path: str, project: str, into: Path) -> dict[str, bytes]:
    """The run file, the artifact file (streamed to disk) and the image, through the Api."""
    remote = api.run(path)
    saved = remote.file("notes.txt").download(into)
    stored = api.artifact(f"{project}/weights:v0")
    (entry,) = list(stored.files())
    model = Path(entry.download(into))
    return {
        "notes.txt": saved.read_bytes(),
        "model.bin": model.read_bytes(),
        "img": remote.media("img")[0].content(),
    }


def refused_start(tmp_path: Path, blobs: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``lablens server --blobs BLOBS`` run to its end (it must not start)."""
    argv = [*server_argv(free_port(), tmp_path / "data"), "--blobs", blobs]
    return subprocess.run(
        argv,
        env={**os.environ, **env, "LABLENS_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_wrong_secret_stops_the_server_naming_the_bucket_and_key(
    s3_endpoint, s3_bucket, tmp_path
):
    env = {**s3_endpoint.env(), "AWS_SECRET_ACCESS_KEY": "not-the-secret"}
    done = refused_start(tmp_path, f"s3://{s3_bucket}/{PREFIX}", env)
    assert done.returncode != 0
    err = done.stderr
    assert f"s3://{s3_bucket}/{PREFIX}/" in err and s3_endpoint.endpoint in err
    assert "refused the credentials" in err and s3_endpoint.access_key in err
    assert "not-the-secret" not in err
    assert "Traceback" not in err


def test_a_missing_bucket_or_a_bad_url_stops_the_server(s3_endpoint, tmp_path):
    done = refused_start(tmp_path / "a", "s3://no-such-bucket-here/x", s3_endpoint.env())
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "the bucket 'no-such-bucket-here' does not exist" in done.stderr
    done = refused_start(tmp_path / "b", "ftp://host/blobs", s3_endpoint.env())
    assert done.returncode != 0 and "no blob store for the scheme 'ftp'" in done.stderr


def test_lablens_blobs_in_the_environment_is_the_default(s3_endpoint, s3_bucket, tmp_path, unique):
    env = {**s3_endpoint.env(), "LABLENS_BLOBS": f"s3://{s3_bucket}/{PREFIX}"}
    srv = start_server(tmp_path / "data", tmp_path / "home", env=env)
    try:
        run = init(project=unique, host=srv.url, api_key=srv.api_key, settings=QUIET, dir=tmp_path)
        run.finish()
        content = b"made with LABLENS_BLOBS " + os.urandom(64)
        (tmp_path / "f.bin").write_bytes(content)
        api = Api(host=srv.url, api_key=srv.api_key)
        api.run(run.path).upload_file(tmp_path / "f.bin", root=tmp_path)
        assert key_of(hashlib.sha256(content).hexdigest()) in keys_in(s3_endpoint, s3_bucket)
        assert local_blobs(tmp_path / "data") == []
        assert api.run(run.path).file("f.bin").download(tmp_path / "dl").read_bytes() == content
    finally:
        stop_server(srv)


def test_a_bucket_gone_while_serving_is_a_503_and_the_server_keeps_answering(
    s3_endpoint, tmp_path, unique
):
    import requests

    from lablens.api.files import file_route
    from s3 import drop_bucket, make_bucket

    bucket = make_bucket(s3_endpoint)
    srv = start_server(
        tmp_path / "data", tmp_path / "home", ["--blobs", f"s3://{bucket}/x"], s3_endpoint.env()
    )
    try:
        run = init(project=unique, host=srv.url, api_key=srv.api_key, settings=QUIET, dir=tmp_path)
        run.finish()
        (tmp_path / "f.txt").write_bytes(b"kept in the bucket")
        api = Api(host=srv.url, api_key=srv.api_key)
        remote = api.run(run.path)
        remote.upload_file(tmp_path / "f.txt", root=tmp_path)
        drop_bucket(s3_endpoint, bucket)  # the operator deletes it under the running server

        headers = {"Authorization": f"Bearer {srv.api_key}"}
        got = requests.get(srv.url + file_route(remote, "f.txt"), headers=headers, timeout=30)
        assert got.status_code == 503
        assert got.headers["content-type"] == "application/problem+json"
        body = got.json()
        assert body["code"] == "blob_store_unavailable" and "try again" in body["detail"]
        assert bucket not in body["detail"]  # where the store is stays in the server's log
        log = (tmp_path / f"server-{srv.url.rsplit(':', 1)[1]}.log").read_text()
        assert f"the bucket '{bucket}' does not exist" in log
        # Metadata does not need the bucket.
        assert api.run(run.path).files()[0].name == "f.txt"
    finally:
        stop_server(srv)
