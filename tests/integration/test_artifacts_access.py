"""Who may read and write artifacts: the same rules as for runs.

Members of a workspace read and write its artifacts; others read only those of PUBLIC projects
(a private one answers 404, so its existence does not leak) and write nothing (403).
"""

from __future__ import annotations

import uuid

import pytest

import lablens
from lablens import errors as E
from lablens.sdk import init

QUIET = {"system_interval": 0, "console": False}


@pytest.fixture(scope="module")
def outsider(server):
    """An ``Api`` signed in as a user who belongs to no one else's workspace."""
    admin = lablens.Api(host=server.url, api_key=server.api_key)
    name = "bob" + uuid.uuid4().hex[:6]
    created = admin.client.post_json("/api/v1/users", {"username": name})
    return lablens.Api(host=server.url, api_key=created["api_key"])


@pytest.fixture(scope="module")
def projects(server, tmp_path_factory):
    """The admin's private and public projects, each holding ``weights:v0`` used by a run."""
    admin = lablens.Api(host=server.url, api_key=server.api_key)
    folder = tmp_path_factory.mktemp("access")
    (folder / "w.bin").write_bytes(b"weights")
    paths = {}
    for visibility in ("PRIVATE", "PUBLIC"):
        project = admin.create_project(
            f"acc-{visibility.lower()}-{uuid.uuid4().hex[:6]}", visibility=visibility
        )
        with init(
            project=project.name,
            host=server.url,
            api_key=server.api_key,
            settings=QUIET,
            dir=folder,
        ) as run:
            artifact = lablens.Artifact("weights", "model")
            artifact.add_file(folder / "w.bin")
            run.log_artifact(artifact)
            run.use_artifact("weights:v0")
        paths[visibility] = (project.path, run.path)
    return paths


def test_a_private_projects_artifacts_are_not_found_by_outsiders(outsider, projects):
    project, run_path = projects["PRIVATE"]
    with pytest.raises(E.NotFound):
        outsider.artifact(f"{project}/weights:v0")
    assert not outsider.artifact_exists(f"{project}/weights:v0")
    assert not outsider.artifact_collection_exists(f"{project}/weights", "model")
    with pytest.raises(E.NotFound):
        list(outsider.artifact_types(project))
    with pytest.raises(E.NotFound):
        list(outsider.artifact_collections(project, "model"))
    r = outsider.client.session.get(
        outsider.host + f"/api/v1/projects/{run_path.rsplit('/', 1)[0]}/runs/"
        f"{run_path.rsplit('/', 1)[1]}/logged_artifacts"
    )
    assert r.status_code == 404


def test_a_public_projects_artifacts_are_readable_but_not_writable(outsider, projects, tmp_path):
    project, run_path = projects["PUBLIC"]
    artifact = outsider.artifact(f"{project}/weights:v0")
    root = artifact.download(tmp_path / "w")
    artifact.verify(root)
    assert artifact.logged_by().path == run_path
    assert [r.path for r in artifact.used_by()] == [run_path]
    assert [a.name for a in outsider.artifact_types(project)] == ["model"]
    with pytest.raises(E.PermissionDenied):
        artifact.delete(delete_aliases=True)
    artifact.description = "mine now"
    with pytest.raises(E.PermissionDenied):
        artifact.save()
    with pytest.raises(E.PermissionDenied):
        artifact.collection.delete()
    with pytest.raises(E.PermissionDenied):
        artifact.link(f"{project}/stolen")
    entity, name = project.split("/")
    with pytest.raises(E.PermissionDenied):
        outsider.client.post_json(
            f"/api/v1/projects/{entity}/{name}/blobs/missing", {"digests": []}
        )
    with pytest.raises(E.PermissionDenied):
        outsider.client.request(
            "PUT", f"/api/v1/projects/{entity}/{name}/blobs/{'0' * 64}", data=b""
        )
    with pytest.raises(E.PermissionDenied):
        outsider.client.post_json(
            f"/api/v1/projects/{entity}/{name}/artifacts",
            {"name": "x", "type": "model", "files": []},
        )


def test_an_outsider_may_use_and_link_a_public_artifact_in_their_own_workspace(
    server, outsider, projects, tmp_path
):
    project, _ = projects["PUBLIC"]
    key = outsider.api_key
    with init(project="mine", host=server.url, api_key=key, settings=QUIET, dir=tmp_path) as run:
        used = run.use_artifact(f"{project}/weights:v0")
    assert used.qualified_name == f"{project}/weights:v0"
    assert [a.qualified_name for a in outsider.run(run.path).used_artifacts()] == [
        f"{project}/weights:v0"
    ]
    link = used.link(f"{outsider.default_entity}/mine/weights")
    assert link.source_qualified_name == used.qualified_name
    # The owner sees the outsider's run among the users only if they may read it: the admin may.
    admin = lablens.Api(host=server.url, api_key=server.api_key)
    assert run.path in [r.path for r in admin.artifact(f"{project}/weights:v0").used_by()]


def test_an_outsider_cannot_use_a_private_artifact(server, outsider, projects, tmp_path):
    project, _ = projects["PRIVATE"]
    admin = lablens.Api(host=server.url, api_key=server.api_key)
    artifact_id = admin.artifact(f"{project}/weights:v0").id
    with init(
        project="mine", host=server.url, api_key=outsider.api_key, settings=QUIET, dir=tmp_path
    ) as run:
        with pytest.raises(E.NotFound):
            run.use_artifact(f"{project}/weights:v0")
        entity, name = project.split("/")
        with pytest.raises(E.ArtifactNotFound):
            outsider.client.post_json(
                f"/api/v1/projects/{run.entity}/{run.project}/runs/{run.id}/used_artifacts",
                {"entity": entity, "project": name, "id": artifact_id},
            )


def test_used_by_hides_runs_the_caller_may_not_read(server, outsider, projects, tmp_path):
    project, run_path = projects["PUBLIC"]
    with init(
        project="hidden-" + uuid.uuid4().hex[:6],
        host=server.url,
        api_key=outsider.api_key,
        settings=QUIET,
        dir=tmp_path,
    ) as run:
        run.use_artifact(f"{project}/weights:v0")
    admin = lablens.Api(host=server.url, api_key=server.api_key)
    assert run.path in [r.path for r in admin.artifact(f"{project}/weights:v0").used_by()]
    # Another outsider reads the public artifact but not the private run that used it.
    created = admin.client.post_json("/api/v1/users", {"username": "eve" + uuid.uuid4().hex[:6]})
    eve = lablens.Api(host=server.url, api_key=created["api_key"])
    paths = [r.path for r in eve.artifact(f"{project}/weights:v0").used_by()]
    assert run_path in paths and run.path not in paths
