"""Artifacts end to end: logged with the SDK, stored by a real server, read with the Api."""

from __future__ import annotations

import hashlib
import socket
import uuid
from pathlib import Path

import pandas as pd
import pytest

import lablens
from lablens import errors as E
from lablens.sdk import init
from lablens.transport import Transport

QUIET = {"system_interval": 0, "console": False}


@pytest.fixture
def start(server, unique, tmp_path):
    """``start(**kwargs)``: an SDK run in a project of its own, finished after the test."""
    runs = []

    def start(**kwargs):
        kwargs.setdefault("project", unique)
        kwargs.setdefault("settings", QUIET)
        kwargs.setdefault("dir", tmp_path / "runs")
        run = init(host=server.url, api_key=server.api_key, **kwargs)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.finish()


@pytest.fixture
def files(tmp_path):
    """``files(**{name: text})``: local files with these contents, in a fresh folder."""

    def make(**contents: str) -> Path:
        folder = tmp_path / uuid.uuid4().hex[:8]
        for name, text in contents.items():
            path = folder / name.replace("__", "/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return folder

    return make


def blobs(server) -> set[str]:
    """The sha256 names of every blob in the server's data dir."""
    root = server.data_dir / "blobs"
    return {p.parent.name + p.name for p in root.glob("*/*") if not p.name.startswith(".")}


def partial_uploads(server, digest: str) -> list:
    """Files of any kind (blob or temporary) for ``digest`` in the server's blob dir."""
    return [p for p in (server.data_dir / "blobs" / digest[:2]).glob("*") if digest[2:] in p.name]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_two_versions_sharing_a_file_store_it_once(server, start, files, api):
    shared, only0, only1 = (f"{name} {uuid.uuid4()}" for name in ("shared", "v0", "v1"))
    folder = files(shared=shared, a=only0, b=only1)
    before = blobs(server)
    run = start()
    first = lablens.Artifact("data", "dataset")
    first.add_file(folder / "shared", name="shared.txt")
    first.add_file(folder / "a", name="a.txt")
    run.log_artifact(first)
    second = lablens.Artifact("data", "dataset")
    second.add_file(folder / "shared", name="shared.txt")
    second.add_file(folder / "b", name="b.txt")
    run.log_artifact(second)

    assert (first.version, second.version) == ("v0", "v1")
    added = blobs(server) - before
    assert added == {sha(shared), sha(only0), sha(only1)}  # three contents, four files
    path = server.data_dir / "blobs" / sha(shared)[:2] / sha(shared)[2:]
    assert path.read_text() == shared
    v0 = api.artifact(f"{run.project}/data:v0")
    v1 = api.artifact(f"{run.project}/data:v1")
    assert v0.get_entry("shared.txt").digest == v1.get_entry("shared.txt").digest == sha(shared)
    assert v1.size == len(shared) + len(only1) and v1.file_count == 2


def test_the_client_uploads_only_what_the_server_lacks(server, start, files, monkeypatch):
    folder = files(big=f"big {uuid.uuid4()}" * 1000, small=f"small {uuid.uuid4()}")
    run = start()
    first = lablens.Artifact("model", "model")
    first.add_file(folder / "big")
    run.log_artifact(first)
    puts = []
    original = Transport.request

    def spy(self, method, path, **kwargs):
        if method == "PUT":
            puts.append(path.rsplit("/", 1)[-1])
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(Transport, "request", spy)
    second = lablens.Artifact("model", "model")
    second.add_file(folder / "big")
    second.add_file(folder / "small")
    run.log_artifact(second)
    assert puts == [second.get_entry("small").digest]


def test_latest_moves_by_itself_and_aliases_move_when_given(start, files, api):
    folder = files(x="one", y="two", z="three")
    run = start()
    versions = []
    for name, aliases in (("x", ["best"]), ("y", []), ("z", ["best"])):
        artifact = lablens.Artifact("mlp", "model")
        artifact.add_file(folder / name)
        run.log_artifact(artifact, aliases=aliases)
        versions.append(artifact)
        assert api.artifact(f"{run.project}/mlp:latest").version == artifact.version
        assert api.artifact(f"{run.project}/mlp").version == artifact.version  # latest
    aliases = {a.version: a.aliases for a in api.artifacts("model", f"{run.project}/mlp")}
    assert aliases == {"v2": ["best", "latest"], "v1": [], "v0": []}
    assert [a.version for a in api.artifacts("model", f"{run.project}/mlp")] == ["v2", "v1", "v0"]


def test_the_same_content_again_gives_back_the_same_version(start, files, api):
    folder = files(x=str(uuid.uuid4()))
    run = start()
    first = lablens.Artifact("same", "dataset")
    first.add_file(folder / "x")
    run.log_artifact(first)
    again = lablens.Artifact("same", "dataset")
    again.add_file(folder / "x")
    run.log_artifact(again, aliases=["again"])
    assert again.id == first.id and again.version == "v0"
    assert api.artifact(f"{run.project}/same:again").version == "v0"
    assert len(api.artifacts("dataset", f"{run.project}/same")) == 1


def test_download_then_verify_passes_and_a_tampered_file_fails_naming_it(
    start, files, api, tmp_path
):
    folder = files(**{"weights.bin": "0123456789", "config__train.yaml": "lr: 0.1\n"})
    run = start()
    artifact = lablens.Artifact("checked", "model", metadata={"acc": 0.9})
    artifact.add_dir(folder)
    run.log_artifact(artifact)
    stored = api.artifact(f"{run.project}/checked:latest")
    root = Path(stored.download(tmp_path / "dl"))
    assert (root / "config" / "train.yaml").read_text() == "lr: 0.1\n"
    stored.verify(root)  # passes

    (root / "config" / "train.yaml").write_text("lr: 0.2\n")  # same size, other content
    with pytest.raises(ValueError, match=r"config/train\.yaml: content changed"):
        stored.verify(root)
    (root / "config" / "train.yaml").unlink()
    (root / "stray.txt").write_text("?")
    with pytest.raises(ValueError) as exc:
        stored.verify(root)
    assert "config/train.yaml: missing" in str(exc.value)
    assert "stray.txt: not in the artifact" in str(exc.value)

    stored.download(root)  # fetches what is missing, keeps what is right
    (root / "stray.txt").unlink()
    stored.verify(root)


def test_checkout_removes_what_is_not_in_the_artifact(start, files, api, tmp_path):
    folder = files(a="A", b="B")
    run = start()
    artifact = lablens.Artifact("co", "dataset")
    artifact.add_dir(folder)
    run.log_artifact(artifact)
    root = tmp_path / "co"
    (root / "old" / "deep").mkdir(parents=True)
    (root / "old" / "deep" / "file").write_text("x")
    (root / "a").write_text("changed")
    artifact.checkout(root)
    assert sorted(p.name for p in root.rglob("*")) == ["a", "b"]
    assert (root / "a").read_text() == "A"
    artifact.verify(root)


def test_lineage_both_ways(start, files, api):
    folder = files(x=str(uuid.uuid4()))
    producer = start(name="producer")
    artifact = lablens.Artifact("digits", "dataset")
    artifact.add_file(folder / "x")
    producer.log_artifact(artifact)
    consumers = [start(name=f"consumer-{i}") for i in range(2)]
    for consumer in consumers:
        used = consumer.use_artifact("digits:latest", type="dataset")
        assert used.id == artifact.id
    consumers[0].use_artifact("digits:v0")  # twice is recorded once

    stored = api.artifact(f"{producer.project}/digits:v0")
    assert stored.logged_by().id == producer.id
    assert [run.id for run in stored.used_by()] == [c.id for c in consumers]
    assert [a.id for a in api.run(producer.path).logged_artifacts()] == [artifact.id]
    assert list(api.run(producer.path).used_artifacts()) == []
    for consumer in consumers:
        assert [a.id for a in api.run(consumer.path).used_artifacts()] == [artifact.id]
        assert list(api.run(consumer.path).logged_artifacts()) == []


def test_using_an_artifact_not_logged_yet_commits_it_without_a_producer(start, api):
    table = pd.DataFrame({"pixel": [0.0, 0.5], "label": [3, 7]})
    runs = [start(), start()]
    for run in runs:
        data = lablens.Artifact("digits-table", "dataset")
        data.add(table, "digits")
        used = run.use_artifact(data)
        assert used.version == "v0"  # the same content each time: one version
    stored = api.artifact(f"{runs[0].project}/digits-table:v0")
    assert stored.logged_by() is None
    assert [r.id for r in stored.used_by()] == [r.id for r in runs]
    pd.testing.assert_frame_equal(stored.get("digits"), table)


def test_deleting_a_version_with_aliases_needs_delete_aliases(start, files, api):
    folder = files(a="1", b="2", c="3")
    run = start()
    for name in "abc":
        artifact = lablens.Artifact("weights", "model")
        artifact.add_file(folder / name)
        run.log_artifact(artifact, aliases=["best"] if name == "a" else [])
    path = f"{run.project}/weights"
    with pytest.raises(E.Conflict, match="best.*delete_aliases=True"):
        api.artifact(f"{path}:v0").delete()
    with pytest.raises(E.Conflict, match="latest"):
        api.artifact(f"{path}:v2").delete()
    api.artifact(f"{path}:v1").delete()  # no aliases: deleted
    assert not api.artifact_exists(f"{path}:v1")

    api.artifact(f"{path}:v2").delete(delete_aliases=True)
    assert not api.artifact_exists(f"{path}:v2")
    latest = api.artifact(f"{path}:latest")  # moved to the newest version left
    assert latest.version == "v0" and latest.aliases == ["best", "latest"]

    again = lablens.Artifact("weights", "model")
    again.add_file(folder / "c")
    run.log_artifact(again)
    assert again.version == "v3"  # numbers are never reused


@pytest.mark.parametrize(
    "bad", ["../escape.txt", "a/../../b", "/etc/passwd", "..", "a\\b", "C:/x", "a//b", "./a"]
)
def test_a_path_with_dotdot_or_absolute_is_rejected_by_the_client(bad, files):
    folder = files(x="x")
    artifact = lablens.Artifact("paths", "dataset")
    with pytest.raises(E.UsageError) as exc:
        artifact.add_file(folder / "x", name=bad)
    assert repr(bad) in str(exc.value) and exc.value.field == "name"
    with pytest.raises(E.UsageError):
        artifact.add_dir(folder, name=bad)
    with pytest.raises(E.UsageError):
        artifact.add(pd.DataFrame({"x": [1]}), bad)
    assert len(artifact.manifest) == 0


@pytest.mark.parametrize("bad", ["../escape.txt", "a/../../b", "/etc/passwd", "C:/x", "a\\b"])
def test_a_path_with_dotdot_or_absolute_is_rejected_by_the_server(bad, server, unique, api):
    http = api.client
    base = f"/api/v1/projects/{api.default_entity}/{unique}"
    digest = sha("x")
    http.request("PUT", f"{base}/blobs/{digest}", data=b"x")
    good = {"path": "fine.txt", "digest": digest, "size": 1}
    body = {
        "name": "evil",
        "type": "dataset",
        "files": [good, {"path": bad, "digest": digest, "size": 1}],
    }
    r = http.session.post(server.url + f"{base}/artifacts", json=body)
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["code"] == "bad_request"
    assert problem["errors"][0]["field"] == "files[1].path"
    assert repr(bad) in problem["detail"]
    assert not api.artifact_exists(f"{unique}/evil:latest")


def test_an_interrupted_upload_leaves_no_version(server, start, files, api, monkeypatch):
    folder = files(a=str(uuid.uuid4()), b=str(uuid.uuid4()))
    run = start()
    artifact = lablens.Artifact("cut", "dataset")
    artifact.add_dir(folder)
    original = Transport.request

    def cut(self, method, path, **kwargs):
        if method == "POST" and path.endswith("/artifacts"):
            raise E.ConnectionFailed("the connection dropped")
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(Transport, "request", cut)
    with pytest.raises(E.ConnectionFailed):
        run.log_artifact(artifact)
    monkeypatch.undo()
    # The blobs arrived, but no version: it exists only once its manifest is committed.
    assert sha(Path(folder / "a").read_text()) in blobs(server)
    assert not api.artifact_exists(f"{run.project}/cut:latest")
    assert not api.artifact_collection_exists(f"{run.project}/cut", "dataset")
    run.log_artifact(artifact)  # trying again completes it
    assert artifact.version == "v0" and artifact.file_count == 2


def test_a_blob_whose_bytes_do_not_match_its_digest_is_refused(server, unique, api):
    base = f"/api/v1/projects/{api.default_entity}/{unique}"
    digest = sha("the whole file")
    r = api.client.session.put(server.url + f"{base}/blobs/{digest}", data=b"the whole")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "digest"
    assert digest not in blobs(server)
    assert not partial_uploads(server, digest)
    r = api.client.session.put(server.url + f"{base}/blobs/{digest}", data=b"the whole file")
    assert r.status_code == 201 and r.json() == {"digest": digest, "size": 14, "stored": True}
    r = api.client.session.put(server.url + f"{base}/blobs/{digest}", data=b"the whole file")
    assert r.status_code == 200 and not r.json()["stored"]


def test_an_upload_cut_off_mid_body_leaves_no_blob(server, unique, api):
    content = b"x" * 100_000
    digest = hashlib.sha256(content).hexdigest()
    host, port = server.url.removeprefix("http://").split(":")
    path = f"/api/v1/projects/{api.default_entity}/{unique}/blobs/{digest}"
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"PUT {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer"
            f" {server.api_key}\r\nContent-Length: {len(content)}\r\n\r\n".encode()
        )
        sock.sendall(content[:30_000])  # and the connection drops
    api.flush()
    assert api.viewer.username  # the server goes on
    assert digest not in blobs(server)
    assert not partial_uploads(server, digest)
    assert api.client.post_json(path.rsplit("/", 1)[0] + "/missing", {"digests": [digest]}) == {
        "missing": [digest]
    }


def test_a_commit_naming_a_blob_never_uploaded_is_refused(server, unique, api):
    base = f"/api/v1/projects/{api.default_entity}/{unique}"
    digest = sha(str(uuid.uuid4()))
    missing = api.client.post_json(f"{base}/blobs/missing", {"digests": [digest, digest]})
    assert missing == {"missing": [digest]}
    with pytest.raises(E.BadRequest) as exc:
        api.client.post_json(
            f"{base}/artifacts",
            {
                "name": "ghost",
                "type": "dataset",
                "files": [{"path": "x", "digest": digest, "size": 3}],
            },
        )
    assert exc.value.field == "files[0].digest"


def test_tables_references_and_single_files(start, files, api, tmp_path):
    folder = files(note="a note")
    run = start()
    df = pd.DataFrame({"label": [1, 2, 3], "predicted": [1, 2, 2], "p": [0.9, 0.8, 0.4]})
    artifact = lablens.Artifact("preds", "predictions", description="validation predictions")
    artifact.add(df, "predictions")
    artifact.add_reference("s3://bucket/raw/digits.csv")
    artifact.add_reference((folder / "note").as_uri(), name="refs/note")
    with artifact.new_file("README.md") as f:
        f.write("# predictions\n")
    run.log_artifact(artifact, tags=["val"])

    stored = api.artifact(f"{run.project}/preds:latest", type="predictions")
    pd.testing.assert_frame_equal(stored.get("predictions"), df)
    entries = {e.path: e for e in stored.files()}
    assert set(entries) == {"README.md", "predictions.parquet", "digits.csv", "refs/note"}
    assert entries["digits.csv"].ref == "s3://bucket/raw/digits.csv"
    assert entries["refs/note"].digest == sha("a note") and entries["refs/note"].size == 6
    assert entries["README.md"].read() == b"# predictions\n"
    root = Path(stored.download(tmp_path / "preds"))
    assert sorted(p.name for p in root.iterdir()) == ["README.md", "predictions.parquet"]
    stored.verify(root)  # references are not verified
    assert stored.tags == ["val"] and stored.description == "validation predictions"
    assert stored.size == sum(e.size or 0 for e in entries.values())  # references too, as W&B

    one = lablens.Artifact("config", "config")
    one.add_file(folder / "note", name="note.txt")
    run.log_artifact(one)
    assert Path(one.file(tmp_path / "cfg")).read_text() == "a note"
    with pytest.raises(ValueError, match="4 files"):
        stored.file()


def test_log_artifact_takes_a_path_too(start, files, api):
    folder = files(a="a", b="b")
    run = start()
    logged = run.log_artifact(folder, name="raw", type="dataset")
    assert logged.name == "raw:v0" and logged.file_count == 2
    single = run.log_artifact(folder / "a")
    assert single.name == f"run-{run.id}-a:v0" and single.type == "unspecified"


def test_a_logged_artifact_cannot_change(start, files):
    folder = files(a="a")
    run = start()
    artifact = lablens.Artifact("frozen", "dataset")
    artifact.add_file(folder / "a")
    run.log_artifact(artifact)
    with pytest.raises(E.UsageError, match="logged"):
        artifact.add_file(folder / "a", name="b")
    with pytest.raises(E.UsageError, match="logged"):
        run.log_artifact(artifact)


def test_a_mutable_file_is_copied_when_added(start, files, api):
    folder = files(ckpt="epoch 1")
    run = start()
    artifact = lablens.Artifact("ckpt", "model")
    artifact.add_file(folder / "ckpt")
    (folder / "ckpt").write_text("epoch 2")  # training goes on and overwrites it
    run.log_artifact(artifact)
    assert api.artifact(f"{run.project}/ckpt:v0").get_entry("ckpt").read() == b"epoch 1"


def test_a_deleted_run_leaves_its_artifacts_without_a_producer(start, files, api):
    folder = files(a=str(uuid.uuid4()))
    producer, consumer = start(), start()
    artifact = lablens.Artifact("orphan", "dataset")
    artifact.add_file(folder / "a")
    producer.log_artifact(artifact)
    consumer.use_artifact(artifact)
    producer.finish()
    consumer.finish()
    api.run(producer.path).delete()
    stored = api.artifact(f"{producer.project}/orphan:v0")
    assert stored.logged_by() is None
    api.run(consumer.path).delete()
    assert stored.used_by() == []
