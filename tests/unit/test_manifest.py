"""The artifact manifest of the client contract, and checking a local copy against it."""

from __future__ import annotations

import hashlib

import pytest

from lablens import _artifact_names as rules
from lablens.contract.manifest import (
    ArtifactManifest,
    ManifestEntry,
    hash_file,
    is_current,
    local_target,
    prune_copy,
    verify_copy,
    write_checked,
)
from lablens.errors import LablensError


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry(path: str, data: bytes | None = None, **more) -> ManifestEntry:
    if data is None:
        return ManifestEntry({"path": path, **more})
    return ManifestEntry({"path": path, "digest": sha(data), "size": len(data), **more})


def test_an_entry_round_trips_to_the_servers_json():
    e = entry("w/model.npz", b"abc", mimetype="application/octet-stream")
    assert e.to_json() == {
        "path": "w/model.npz",
        "digest": sha(b"abc"),
        "size": 3,
        "mimetype": "application/octet-stream",
    }
    assert ManifestEntry(e.to_json()).to_json() == e.to_json()
    ref = entry("raw.csv", ref="s3://b/raw.csv")
    assert ref.to_json() == {"path": "raw.csv", "ref": "s3://b/raw.csv"}
    assert ref.is_reference and ref.ref_target() == "s3://b/raw.csv" and ref.name == "raw.csv"
    assert repr(ref) == "<ArtifactManifestEntry raw.csv -> s3://b/raw.csv>"
    assert repr(e) == "<ArtifactManifestEntry w/model.npz (3 bytes)>"


def test_the_manifest_json_names_each_file():
    m = ArtifactManifest({"a": entry("a", b"1"), "r": entry("r", ref="s3://x")}, "d")
    assert len(m) == 2 and [e.path for e in m] == ["a", "r"]
    assert m.get_entry_by_path("a").size == 1 and m.get_entry_by_path("b") is None
    assert m.to_manifest_json() == {
        "digest": "d",
        "contents": {"a": {"digest": sha(b"1"), "size": 1}, "r": {"ref": "s3://x"}},
    }
    assert repr(m) == "<ArtifactManifest 2 files>"


def test_hash_file_copies_on_the_way(tmp_path):
    src = tmp_path / "src"
    src.write_bytes(b"x" * 3_000_000)
    digest, size = hash_file(src, tmp_path / "copy")
    assert (digest, size) == (sha(b"x" * 3_000_000), 3_000_000)
    assert (tmp_path / "copy").read_bytes() == src.read_bytes()


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../b", "a\\b"])
def test_a_path_that_climbs_out_of_the_root_is_refused(tmp_path, bad):
    with pytest.raises(LablensError, match="unsafe path"):
        local_target(tmp_path, bad, check_path=rules.check_path)
    assert local_target(tmp_path, "a/b", check_path=rules.check_path) == tmp_path / "a" / "b"


def test_write_checked_keeps_only_content_that_matches(tmp_path):
    good = entry("f", b"hello")
    target = tmp_path / "sub" / "f"
    with pytest.raises(LablensError, match="nothing was written"):
        write_checked([b"hel", b"lo!"], target, good)
    assert not target.exists() and list((tmp_path / "sub").iterdir()) == []
    assert not is_current(target, good)
    write_checked([b"hel", b"lo"], target, good)
    assert target.read_bytes() == b"hello" and is_current(target, good)


def test_verify_copy_names_every_file_missing_changed_or_extra(tmp_path):
    entries = [entry("a", b"A"), entry("d/b", b"BB"), entry("c", b"C"), entry("r", ref="s3://r")]
    (tmp_path / "d").mkdir()
    (tmp_path / "a").write_bytes(b"A")
    (tmp_path / "d" / "b").write_bytes(b"XX")  # same size, other content
    (tmp_path / "extra").write_bytes(b"?")
    with pytest.raises(ValueError) as exc:
        verify_copy(entries, str(tmp_path), "me/p/x:v0", check_path=rules.check_path)
    assert str(exc.value) == (
        f"{tmp_path} does not match me/p/x:v0: c: missing; d/b: content changed (sha256"
        " differs); extra: not in the artifact"
    )
    prune_copy(str(tmp_path), {"a", "d/b", "c"})
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "d"]
    (tmp_path / "d" / "b").write_bytes(b"BB")
    (tmp_path / "c").write_bytes(b"C")
    verify_copy(entries, str(tmp_path), "me/p/x:v0", check_path=rules.check_path)
