"""The names, aliases and paths an artifact may have, and how artifact names are parsed."""

from __future__ import annotations

import pytest

from lablens.contract import artifact_names as rules
from lablens.contract.artifact_paths import ArtifactPath, parse_artifact_name
from lablens.errors import UsageError


@pytest.mark.parametrize(
    "path", ["a.txt", "weights/model.npz", "a/b/c d.txt", "..a", "a..b", ".hidden", "x" * 1024]
)
def test_relative_paths_are_allowed(path):
    assert rules.check_path(path) == path


@pytest.mark.parametrize(
    "path, reason",
    [
        ("", "non-empty"),
        ("..", "'..'"),
        ("../a", "'..'"),
        ("a/../../b", "'..'"),
        ("a/..", "'..'"),
        ("/etc/passwd", "absolute"),
        ("C:/x", "absolute"),
        ("c:x", "absolute"),
        ("a\\b", "'\\\\'"),
        ("a//b", "empty"),
        ("./a", "'.'"),
        ("a/", "empty"),
        ("a\x00", "NUL"),
        ("x" * 1025, "too long"),
    ],
)
def test_paths_that_could_leave_the_root_are_refused_naming_the_path(path, reason):
    with pytest.raises(ValueError, match=reason) as exc:
        rules.check_path(path)
    assert repr(path) in str(exc.value)


def test_names_aliases_tags_and_digests():
    assert rules.check_name("mlp-64x32_v1.2") == "mlp-64x32_v1.2"
    for bad in ("", "a/b", "a:b", "-a", ".a", "a b", "x" * 129, None):
        with pytest.raises(ValueError):
            rules.check_name(bad)
    assert rules.check_alias("best") == "best"
    for bad in ("v3", "v10", "a:b"):
        with pytest.raises(ValueError):
            rules.check_alias(bad)
    assert rules.check_alias("v3a") == "v3a"
    assert rules.check_tag("two words") == "two words"
    for bad in (" x", "a/b", "a,b", ""):
        with pytest.raises(ValueError):
            rules.check_tag(bad)
    assert rules.check_digest("a" * 64)
    for bad in ("A" * 64, "a" * 63, "g" * 64):
        with pytest.raises(ValueError):
            rules.check_digest(bad)


def test_manifest_digest_ignores_order_and_sees_every_field():
    a = {"path": "a", "digest": "1" * 64, "size": 1}
    b = {"path": "b", "digest": "2" * 64, "size": 2}
    assert rules.manifest_digest([a, b]) == rules.manifest_digest([b, a])
    assert rules.manifest_digest([a, b]) != rules.manifest_digest([a])
    assert rules.manifest_digest([a]) != rules.manifest_digest([{**a, "path": "c"}])
    assert rules.manifest_digest([a]) != rules.manifest_digest([{**a, "size": 3}])
    ref = {"path": "r", "ref": "s3://b/k"}
    assert rules.manifest_digest([ref]) != rules.manifest_digest([{**ref, "ref": "s3://b/j"}])


@pytest.mark.parametrize(
    "name, expected",
    [
        ("alice/mnist/mlp:v3", ArtifactPath("alice", "mnist", "mlp", "v3")),
        ("mnist/mlp:latest", ArtifactPath("me", "mnist", "mlp", "latest")),
        ("mlp:best", ArtifactPath("me", "proj", "mlp", "best")),
        ("mlp", ArtifactPath("me", "proj", "mlp", None)),
    ],
)
def test_parse_artifact_name(name, expected):
    assert parse_artifact_name(name, "me", "proj") == expected


def test_parse_artifact_name_defaults_to_uncategorized_and_asks_for_an_entity_lazily():
    calls = []

    def entity():
        calls.append(1)
        return "me"

    assert parse_artifact_name("a/b/c:v0", entity).entity == "a" and not calls
    assert parse_artifact_name("mlp:v0", entity).project == "uncategorized"
    with pytest.raises(UsageError, match="no entity"):
        parse_artifact_name("mlp:v0", None)


@pytest.mark.parametrize(
    "name", ["", "  ", "a/b/c/d", "a//b", "mlp:", "mlp:v1:v2", "m lp", "mlp/:v1"]
)
def test_malformed_artifact_names_are_value_errors(name):
    with pytest.raises(ValueError):
        parse_artifact_name(name, "me", "proj")
