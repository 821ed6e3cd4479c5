"""``lablens.Artifact`` once logged is the stored version, over HTTP, without the ``Api``:
its files, a checked local copy, and the changes training code makes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

import lablens
from lablens import errors as E
from lablens.sdk import init

QUIET = {"system_interval": 0, "console": False}


@pytest.fixture
def run(server, unique, tmp_path):
    run = init(
        project=unique, host=server.url, api_key=server.api_key, settings=QUIET, dir=tmp_path
    )
    yield run
    run.finish()


@pytest.fixture
def logged(run, tmp_path) -> lablens.Artifact:
    """``weights``, v0: two files under ``w/`` and a reference."""
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"A" + uuid.uuid4().bytes)
    (folder / "b.bin").write_bytes(b"B" + uuid.uuid4().bytes)
    artifact = lablens.Artifact("weights", "model", metadata={"acc": 0.5})
    artifact.add_dir(folder, name="w")
    artifact.add_reference("s3://bucket/raw.csv")
    return run.log_artifact(artifact)


def test_the_logged_artifact_reads_its_files_from_the_server(logged, api, tmp_path):
    assert type(logged) is lablens.Artifact and logged.version == "v0"
    assert logged.state == "COMMITTED" and logged.file_count == 3
    stored = api.artifact(logged.qualified_name)
    assert logged.digest == stored.digest and logged.size == stored.size
    assert sorted(logged.manifest.entries) == ["raw.csv", "w/a.bin", "w/b.bin"]
    for path in ("w/a.bin", "raw.csv"):
        assert logged.get_entry(path).to_json() == {
            k: v for k, v in stored.get_entry(path).json().items() if v is not None
        }
    with pytest.raises(KeyError, match=f"{logged.qualified_name} has no file 'nope'"):
        logged.get_entry("nope")

    root = Path(logged.download(tmp_path / "dl", path_prefix="w/a"))
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == ["a.bin"]
    with pytest.raises(ValueError, match=r"w/b\.bin: missing"):
        logged.verify(root)
    logged.download(root)
    logged.verify(root)
    stored.verify(root)  # the Api agrees


def test_save_link_and_delete_reach_the_server(logged, api, run):
    logged.aliases.append("best")
    logged.metadata["acc"] = 0.9
    logged.description = "better"
    assert logged.save() is logged
    best = api.artifact(f"{run.project}/weights:best")
    assert best.id == logged.id and best.metadata == {"acc": 0.9}
    assert best.description == "better" and logged.aliases == ["best", "latest"]

    registry = "reg-" + uuid.uuid4().hex[:6]
    link = logged.link(f"{registry}/weights", aliases=["production"])
    assert type(link) is lablens.Artifact and link.is_link
    assert link.source_qualified_name == logged.qualified_name
    assert link.qualified_name == f"{run.entity}/{registry}/weights:v0"
    assert link.aliases == ["latest", "production"]
    assert api.artifact(link.qualified_name).digest == logged.digest
    link.delete(delete_aliases=True)
    assert not api.artifact_exists(link.qualified_name)
    assert logged.wait() is logged


def test_use_artifact_gives_a_stored_artifact_and_takes_the_apis_too(logged, api, run, tmp_path):
    used = run.use_artifact("weights:v0", type="model")
    assert type(used) is lablens.Artifact and used.id == logged.id
    with pytest.raises(ValueError, match="has 3 files"):
        used.file(tmp_path / "one")
    used.verify(used.checkout(tmp_path / "co"))
    with pytest.raises(E.UsageError, match="has type 'model', not 'dataset'"):
        run.use_artifact("weights:v0", type="dataset")
    from_api = api.artifact(logged.qualified_name)
    assert run.use_artifact(from_api) is from_api
    assert [r.id for r in from_api.used_by()] == [run.id]
    with pytest.raises(E.UsageError, match="takes an artifact name or an Artifact, not int"):
        run.use_artifact(3)


def test_a_draft_says_what_it_holds_and_refuses_server_methods(tmp_path):
    (tmp_path / "f").write_text("f")
    draft = lablens.Artifact("draft", "dataset")
    added = draft.add_file(tmp_path / "f", name="x/f")
    assert draft.get_entry("x/f") is added and added.size == 1
    assert list(draft.manifest.entries) == ["x/f"]
    for call in (draft.download, draft.verify, draft.checkout, draft.save):
        with pytest.raises(E.UsageError, match="'draft' is not logged yet"):
            call()
    with pytest.raises(KeyError, match="'draft' has no file 'y'"):
        draft.get_entry("y")
    draft.remove("x/f")
    assert len(draft.manifest) == 0
