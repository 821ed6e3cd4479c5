"""The artifact resources of the ``Api`` as the W&B seeds name them, against a real server."""

from __future__ import annotations

import uuid

import pytest

import lablens
from lablens import errors as E
from lablens.api import ArtifactCollection, ArtifactType
from lablens.sdk import init

QUIET = {"system_interval": 0, "console": False}


@pytest.fixture(scope="module")
def logged(server, tmp_path_factory):
    """A project with types ``dataset`` and ``model``: ``digits`` (v0), ``mlp`` (v0..v2, v1
    tagged ``good``, v2 ``best``) and ``cnn`` (v0)."""
    folder = tmp_path_factory.mktemp("files")
    project = "arts-" + uuid.uuid4().hex[:8]
    with init(
        project=project,
        host=server.url,
        api_key=server.api_key,
        settings=QUIET,
        dir=folder / "runs",
    ) as run:
        for name, type_, count in (
            ("digits", "dataset", 1),
            ("mlp", "model", 3),
            ("cnn", "model", 1),
        ):
            for i in range(count):
                path = folder / f"{name}-{i}.txt"
                path.write_text(f"{name} {i} {uuid.uuid4()}")
                artifact = lablens.Artifact(name, type_, metadata={"i": i})
                artifact.add_file(path, name="data.txt")
                run.log_artifact(
                    artifact,
                    aliases=["best"] if (name, i) == ("mlp", 2) else [],
                    tags=["good"] if (name, i) == ("mlp", 1) else [],
                )
    return f"{run.entity}/{project}", run


def test_artifact_types_and_type(api, logged):
    project, _ = logged
    types = api.artifact_types(project)
    assert [t.name for t in types] == ["dataset", "model"] and len(types) == 2
    model = api.artifact_type("model", project)
    assert isinstance(model, ArtifactType) and model.collection_count == 2
    assert [c.name for c in model.collections()] == ["cnn", "mlp"]
    assert model.collection("mlp").version_count == 3
    with pytest.raises(E.ArtifactNotFound):
        api.artifact_type("nope", project)
    assert repr(model) == f"<ArtifactType {project} model>"


def test_artifact_collections_and_collection(api, logged):
    project, _ = logged
    collections = api.artifact_collections(project, "model", per_page=1)
    assert len(collections) == 2 and [c.name for c in collections] == ["cnn", "mlp"]
    mlp = api.artifact_collection("model", f"{project}/mlp")
    assert isinstance(mlp, ArtifactCollection) and mlp.is_sequence()
    assert mlp.aliases == ["best", "latest"] and mlp.type == "model"
    assert [a.version for a in mlp.artifacts()] == ["v2", "v1", "v0"]
    assert [a.version for a in mlp.versions()] == ["v2", "v1", "v0"]
    with pytest.raises(E.ArtifactNotFound):
        api.artifact_collection("dataset", f"{project}/mlp")  # another type
    assert "mlp" in mlp._repr_html_() and repr(mlp) == f"<ArtifactCollection {project}/mlp (model)>"


def test_artifacts_pages_newest_first_and_filters_tags(api, logged):
    project, _ = logged
    versions = api.artifacts("model", f"{project}/mlp", per_page=1)
    assert len(versions) == 3
    assert [a.version for a in versions] == ["v2", "v1", "v0"]
    assert [a.version for a in api.artifacts("model", f"{project}/mlp", tags=["good"])] == ["v1"]
    assert "v2" in versions._repr_html_()


def test_artifact_versions_is_deprecated(api, logged):
    project, _ = logged
    with pytest.warns(DeprecationWarning, match="artifacts"):
        versions = api.artifact_versions("model", f"{project}/mlp")
    assert len(versions) == 3


def test_artifact_by_version_alias_digest_and_default_entity(api, logged):
    project, _ = logged
    best = api.artifact(f"{project}/mlp:best")
    assert best.version == "v2" and best.aliases == ["best", "latest"]
    assert api.artifact(f"{project}/mlp:{best.digest}").id == best.id
    assert api.artifact(project.split("/")[1] + "/mlp:v2").id == best.id
    scoped = lablens.Api(
        host=api.host, api_key=api.api_key, overrides={"project": project.split("/")[1]}
    )
    assert scoped.artifact("mlp:v2").id == best.id
    assert best.name == "mlp:v2" and best.qualified_name == f"{project}/mlp:v2"
    assert best.collection.name == "mlp" and best.type == "model"
    assert best.metadata == {"i": 2} and best.state == "COMMITTED"
    assert best.file_count == 1 and list(best.manifest.entries) == ["data.txt"]
    assert best.created_at.endswith("Z") and best.updated_at


def test_artifact_type_mismatch_and_bad_names_are_value_errors(api, logged):
    project, _ = logged
    with pytest.raises(ValueError, match="has type 'model', not 'dataset'"):
        api.artifact(f"{project}/mlp:v0", type="dataset")
    for bad in ("", "a/b/c/d:v0", "mlp:v0:x", f"{project}/m lp:v0"):
        with pytest.raises(ValueError):
            api.artifact(bad)


def test_exists(api, logged):
    project, _ = logged
    assert api.artifact_exists(f"{project}/mlp:v1")
    assert api.artifact_exists(f"{project}/mlp:v1", type="model")
    assert not api.artifact_exists(f"{project}/mlp:v1", type="dataset")
    assert not api.artifact_exists(f"{project}/mlp:v9")
    assert not api.artifact_exists(f"{project}/nope:latest")
    assert not api.artifact_exists(f"{api.default_entity}/no-such-project/mlp:v0")
    assert api.artifact_collection_exists(f"{project}/mlp", "model")
    assert not api.artifact_collection_exists(f"{project}/mlp", "dataset")
    assert not api.artifact_collection_exists(f"{project}/nope", "model")


def test_not_found_is_a_problem_naming_the_path(api, logged):
    project, _ = logged
    with pytest.raises(E.ArtifactNotFound) as exc:
        api.artifact(f"{project}/mlp:v9")
    assert exc.value.status == 404 and exc.value.code == "artifact_not_found"
    assert exc.value.path == f"{project}/mlp:v9"
    r = api.client.session.get(api.host + f"/api/v1/projects/{project}/artifact_collections/x")
    assert r.status_code == 404 and r.json()["code"] == "artifact_collection_not_found"
    assert r.headers["content-type"].startswith("application/problem+json")


def test_save_sets_description_metadata_aliases_and_tags(api, logged):
    project, _ = logged
    v0 = api.artifact(f"{project}/mlp:v0")
    v0.description = "the first"
    v0.metadata["val_acc"] = 0.5
    v0.aliases += ["best", "baseline", "latest"]  # latest is the server's: ignored here
    v0.tags = ["first"]
    v0.save()
    again = api.artifact(f"{project}/mlp:baseline")
    assert again.version == "v0" and again.description == "the first"
    assert again.metadata == {"i": 0, "val_acc": 0.5} and again.tags == ["first"]
    assert again.aliases == ["baseline", "best"]  # best moved here from v2
    assert api.artifact(f"{project}/mlp:latest").aliases == ["latest"]
    again.aliases = []
    again.save()
    assert api.artifact(f"{project}/mlp:v0").aliases == []
    with pytest.raises(E.BadRequest) as exc:
        again.aliases = ["v7"]
        again.save()
    assert exc.value.field == "aliases[0]"


def test_collection_save_renames_and_delete_removes_every_version(api, server, tmp_path):
    project = "coll-" + uuid.uuid4().hex[:8]
    with init(
        project=project, host=server.url, api_key=server.api_key, settings=QUIET, dir=tmp_path
    ) as run:
        for i in range(2):
            (tmp_path / "f").write_text(str(i))
            artifact = lablens.Artifact("old-name", "dataset")
            artifact.add_file(tmp_path / "f")
            run.log_artifact(artifact)
    collection = api.artifact_collection("dataset", f"{run.entity}/{project}/old-name")
    collection.name, collection.description, collection.tags = "new-name", "renamed", ["x"]
    collection.save()
    assert collection.path == f"{run.entity}/{project}/new-name"
    fresh = api.artifact_collection("dataset", f"{run.entity}/{project}/new-name")
    assert (fresh.description, fresh.tags, fresh.version_count) == ("renamed", ["x"], 2)
    assert api.artifact(f"{run.entity}/{project}/new-name:v1").name == "new-name:v1"
    fresh.delete()
    assert not api.artifact_collection_exists(f"{run.entity}/{project}/new-name", "dataset")
    assert [t.name for t in api.artifact_types(f"{run.entity}/{project}")] == ["dataset"]


def test_link_makes_a_version_in_another_collection_without_copying(api, logged, tmp_path):
    project, _ = logged
    source = api.artifact(f"{project}/cnn:v0")
    registry = "registry-" + uuid.uuid4().hex[:6]
    link = source.link(f"{registry}/digits-classifier", aliases=["production"])
    assert link.is_link and link.qualified_name == (
        f"{api.default_entity}/{registry}/digits-classifier:v0"
    )
    assert link.aliases == ["latest", "production"]
    assert link.source_qualified_name == source.qualified_name
    assert link.digest == source.digest and link.logged_by().id == source.logged_by().id
    root = link.download(tmp_path / "linked")
    link.verify(root)
    assert link.get_entry("data.txt").read() == source.get_entry("data.txt").read()
    assert source.link(f"{registry}/digits-classifier").id == link.id  # once
    collection = link.collection
    assert not collection.is_sequence()
    with pytest.raises(E.Conflict, match="is linked as .*digits-classifier:v0"):
        source.delete(delete_aliases=True)
    with init(
        project=registry, host=api.host, api_key=api.api_key, settings=QUIET, dir=tmp_path
    ) as run:
        other = lablens.Artifact("digits-classifier", "model")
        (tmp_path / "w").write_text("w")
        other.add_file(tmp_path / "w")
        with pytest.raises(E.Conflict, match="holds links"):
            run.log_artifact(other)
    link.delete(delete_aliases=True)
    with pytest.raises(E.Conflict, match="has the aliases latest"):
        source.delete()


def test_an_artifact_name_is_unique_in_its_project_whatever_its_type(server, tmp_path):
    with init(
        project="u-" + uuid.uuid4().hex[:8],
        host=server.url,
        api_key=server.api_key,
        settings=QUIET,
        dir=tmp_path,
    ) as run:
        (tmp_path / "f").write_text("f")
        first = lablens.Artifact("thing", "dataset")
        first.add_file(tmp_path / "f")
        run.log_artifact(first)
        second = lablens.Artifact("thing", "model")
        second.add_file(tmp_path / "f")
        with pytest.raises(E.Conflict, match="has type 'dataset', not 'model'"):
            run.log_artifact(second)


def test_reprs_and_html(api, logged):
    project, run = logged
    artifact = api.artifact(f"{project}/mlp:v2")
    assert repr(artifact) == f"<Artifact {project}/mlp:v2 (model)>"
    html = artifact._repr_html_()
    assert "mlp:v2" in html and "latest" in html and run.path in html
    draft = lablens.Artifact("draft", "dataset")
    assert repr(draft) == "<Artifact draft (dataset, not logged)>"
    assert "draft" in draft._repr_html_()
    entry = artifact.get_entry("data.txt")
    assert repr(entry).startswith("<ArtifactManifestEntry data.txt (")
    assert repr(artifact.manifest) == "<ArtifactManifest 1 files>"
    logged_list = lablens.Api(host=api.host, api_key=api.api_key).run(run.path).logged_artifacts()
    assert len(logged_list) == 5 and "cnn:v0" in logged_list._repr_html_()


def test_a_draft_has_no_server_side_until_logged():
    draft = lablens.Artifact("draft", "dataset")
    with pytest.raises(E.UsageError, match="not logged yet"):
        draft.download()
    with pytest.raises(E.UsageError, match="not logged yet"):
        draft.save()
    with pytest.raises(E.UsageError):
        lablens.Artifact("bad name", "dataset")
    with pytest.raises(E.UsageError):
        lablens.Artifact("ok", "bad/type")


def test_deleting_a_project_takes_its_artifacts_unless_one_is_linked_elsewhere(
    api, server, tmp_path
):
    projects = ["del-" + uuid.uuid4().hex[:8] for _ in range(2)]
    logged = {}
    for project in projects:
        with init(
            project=project, host=server.url, api_key=server.api_key, settings=QUIET, dir=tmp_path
        ) as run:
            (tmp_path / "f").write_text(project)
            artifact = lablens.Artifact("weights", "model")
            artifact.add_file(tmp_path / "f")
            logged[project] = run.log_artifact(artifact)
            run.use_artifact(artifact)
    kept, gone = projects
    registry = "reg-" + uuid.uuid4().hex[:6]
    link = logged[kept].link(f"{registry}/weights")
    with pytest.raises(E.Conflict, match="linked as"):
        api.project(f"{api.default_entity}/{kept}").delete()
    assert api.artifact_exists(logged[kept].qualified_name)

    api.project(f"{api.default_entity}/{gone}").delete()
    assert not api.artifact_exists(logged[gone].qualified_name)
    link.delete(delete_aliases=True)
    api.project(f"{api.default_entity}/{kept}").delete()
    assert not api.artifact_exists(logged[kept].qualified_name)
