"""Registries on a real server: made, linked into with aliases, listed and filtered, and who may
read and write them (``LABLENS_TEST_STORE=postgres`` runs the same on PostgreSQL).

The world: a team ``org`` (the organization) with its OWNER and three MEMBERs, a team ``squad``
holding one of them, and an outsider in no team. The OWNER logs ``mlp`` (a model) and ``digits``
(a dataset) into the project ``org/zoo``; each test makes its own registries.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

import lablens
from lablens.api import Api, Registry
from lablens.errors import (
    ArtifactNotFound,
    BadRequest,
    Conflict,
    NotFound,
    PermissionDenied,
    RegistryNotFound,
    UsageError,
)
from lablens.sdk import init

QUIET = {"system_interval": 0, "console": False}


@dataclass
class World:
    admin: Api
    owner: Api
    m1: Api  # an org member, listed nowhere
    m2: Api  # an org member, in team squad
    m3: Api  # an org member
    outsider: Api
    org: str
    squad: str
    names: dict[str, str]
    model: str  # org/zoo/mlp:v0
    dataset: str  # org/zoo/digits:v0


@pytest.fixture(scope="module")
def world(server, tmp_path_factory) -> World:
    admin = Api(host=server.url, api_key=server.api_key)
    tag = uuid.uuid4().hex[:6]
    apis, names = {}, {}
    for who in ("owner", "m1", "m2", "m3", "outsider"):
        user = admin.create_user(username=f"{who}{tag}")
        names[who] = user.username
        apis[who] = Api(host=server.url, api_key=user.api_key)
    org = apis["owner"].create_team(f"org{tag}")
    for who in ("m1", "m2", "m3"):
        org.invite(names[who])
    squad = apis["m2"].create_team(f"squad{tag}")
    folder = tmp_path_factory.mktemp("registry")
    (folder / "w.bin").write_bytes(b"weights of an mlp")
    (folder / "d.csv").write_bytes(b"x,y\n1,2\n")
    with init(
        entity=org.name,
        project="zoo",
        host=server.url,
        api_key=apis["owner"].api_key,
        settings=QUIET,
        dir=folder,
    ) as run:
        model = lablens.Artifact("mlp", "model", metadata={"acc": 0.9})
        model.add_file(folder / "w.bin")
        run.log_artifact(model)
        data = lablens.Artifact("digits", "dataset")
        data.add_file(folder / "d.csv")
        run.log_artifact(data)
    return World(
        admin=admin,
        owner=apis["owner"],
        m1=apis["m1"],
        m2=apis["m2"],
        m3=apis["m3"],
        outsider=apis["outsider"],
        org=org.name,
        squad=squad.name,
        names=names,
        model=f"{org.name}/zoo/mlp:v0",
        dataset=f"{org.name}/zoo/digits:v0",
    )


def _name(prefix: str = "reg") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_a_registry_is_made_and_read_with_the_seeds_attributes(world):
    name = _name("models")
    made = world.owner.create_registry(
        name,
        "restricted",
        organization=world.org,
        description="our best models",
        artifact_types=["model"],
    )
    assert isinstance(made, Registry)
    assert (made.name, made.full_name) == (name, f"wandb-registry-{name}")
    assert (made.organization, made.entity) == (world.org, world.org)
    assert made.path == [world.org, f"wandb-registry-{name}"]
    assert made.description == "our best models"
    assert made.visibility == "restricted"
    assert made.artifact_types == ["model"] and made.allow_all_artifact_types is False
    assert made.created_at and made.updated_at and made.role == "admin"
    again = world.owner.registry(name, organization=world.org)
    assert (again.id, again.full_name, again.description) == (
        made.id,
        made.full_name,
        made.description,
    )
    # The prefix may be given; no organization: the one holding a registry of that name.
    assert world.owner.registry(f"wandb-registry-{name}").organization == world.org
    assert made.members() == [{"kind": "user", "name": world.names["owner"], "role": "admin"}]
    with pytest.raises(Conflict):
        world.owner.create_registry(name, "organization", organization=world.org)


def test_an_artifact_links_into_a_registry_with_aliases(world, tmp_path):
    name = _name("models")
    registry = world.owner.create_registry(name, "organization", organization=world.org)
    source = world.owner.artifact(world.model)
    # W&B's form: the registry's project without the organization.
    link = source.link(f"wandb-registry-{name}/digit-classifier", aliases=["production"])
    assert (link.entity, link.project) == (world.org, f"wandb-registry-{name}")
    assert link.name == "digit-classifier:v0"
    assert sorted(link.aliases) == ["latest", "production"]
    assert link.is_link and link.source_qualified_name == source.qualified_name
    # The same version linked again is the same link; its aliases move.
    again = source.link(f"{world.org}/wandb-registry-{name}/digit-classifier", aliases=["best"])
    assert again.id == link.id and "best" in again.aliases

    assert [c.name for c in registry.collections()] == ["digit-classifier"]
    collection = registry.collections()[0]
    assert (collection.type, collection.version_count) == ("model", 1)
    versions = list(registry.versions())
    assert [v.qualified_name for v in versions] == [
        f"{world.org}/wandb-registry-{name}/digit-classifier:v0"
    ]
    assert versions[0].metadata == {"acc": 0.9}
    # Every artifact call reads it by its path, alias included, files and all.
    got = world.m3.artifact(f"{world.org}/wandb-registry-{name}/digit-classifier:production")
    assert got.id == link.id
    root = Path(got.download(tmp_path / "dl"))
    assert (root / "w.bin").read_bytes() == b"weights of an mlp"
    # An alias moved with the artifact calls is seen by the registry's lists.
    got.aliases = ["staging"]
    got.save()
    assert [v.aliases for v in registry.versions(filter={"alias": "staging"})] == [
        ["latest", "staging"]
    ]
    assert list(registry.versions(filter={"alias": "production"})) == []


def test_a_registry_accepts_only_its_artifact_types(world):
    name = _name("models")
    registry = world.owner.create_registry(
        name, "organization", organization=world.org, artifact_types=["model"]
    )
    data = world.owner.artifact(world.dataset)
    with pytest.raises(BadRequest) as refused:
        data.link(f"{world.org}/wandb-registry-{name}/digits")
    assert refused.value.field == "type"
    registry.artifact_types.append("dataset")
    registry.save()
    assert registry.artifact_types == ["model", "dataset"]
    assert data.link(f"{world.org}/wandb-registry-{name}/digits").type == "dataset"
    # A type accepted cannot be removed again (W&B's rule).
    registry.artifact_types = ["model"]
    with pytest.raises(BadRequest) as removed:
        registry.save()
    assert removed.value.field == "artifact_types"
    # A link into a registry that does not exist makes none.
    with pytest.raises(RegistryNotFound):
        data.link(f"{world.org}/wandb-registry-{_name('none')}/digits")


def test_a_restricted_registry_is_hidden_from_those_not_listed(world):
    name = _name("secret")
    registry = world.owner.create_registry(name, "restricted", organization=world.org)
    world.owner.artifact(world.model).link(f"{world.org}/wandb-registry-{name}/mlp")
    version = f"{world.org}/wandb-registry-{name}/mlp:latest"
    model = world.m1.artifact(world.model)  # m1 reads the org's own project
    for who in (world.m1, world.outsider):
        with pytest.raises(RegistryNotFound):
            who.registry(name, organization=world.org)
        with pytest.raises(NotFound):
            who.artifact(version)
        assert name not in [r.name for r in who.registries()]
        assert f"wandb-registry-{name}" not in {v.project for v in who.registries().versions()}
    with pytest.raises(RegistryNotFound):
        model.link(f"{world.org}/wandb-registry-{name}/mlp")

    # Listed as a viewer: m1 reads, and may not link or change aliases.
    registry.add_members(world.names["m1"], role="viewer")
    assert world.m1.registry(name, organization=world.org).role == "viewer"
    seen = world.m1.artifact(version)
    assert seen.aliases == ["latest"]
    with pytest.raises(PermissionDenied):
        model.link(f"{world.org}/wandb-registry-{name}/mlp")
    seen.aliases = ["mine"]
    with pytest.raises(PermissionDenied):
        seen.save()
    with pytest.raises(PermissionDenied):
        world.m1.registry(name, organization=world.org).delete()

    # A team listed as members: its members link; taken off, they read nothing.
    registry.add_members(f"team:{world.squad}", role="member")
    assert {(m["kind"], m["name"], m["role"]) for m in registry.team_members()} == {
        ("team", world.squad, "member")
    }
    linked = world.m2.artifact(world.model).link(
        f"{world.org}/wandb-registry-{name}/mlp", aliases=["by-squad"]
    )
    assert "by-squad" in linked.aliases
    registry.remove_members(f"team:{world.squad}")
    with pytest.raises(RegistryNotFound):
        world.m2.registry(name, organization=world.org)
    # The outsider stays out even when listed: a registry is read within its organization.
    registry.add_members(world.names["outsider"], role="admin")
    with pytest.raises(RegistryNotFound):
        world.outsider.registry(name, organization=world.org)


def test_an_organization_registry_is_read_by_every_member_only(world):
    name = _name("shared")
    world.owner.create_registry(name, "organization", organization=world.org)
    assert world.m3.registry(name, organization=world.org).role == "member"
    link = world.m3.artifact(world.model).link(f"wandb-registry-{name}/mlp")
    assert link.entity == world.org
    assert name in [r.name for r in world.m3.registries(organization=world.org)]
    with pytest.raises(RegistryNotFound):
        world.outsider.registry(name, organization=world.org)
    assert name not in [r.name for r in world.outsider.registries()]
    # Members may not change or delete it, nor make registries; the OWNER does.
    mine = world.m3.registry(name, organization=world.org)
    mine.description = "changed"
    with pytest.raises(PermissionDenied):
        mine.save()
    with pytest.raises(PermissionDenied):
        world.m3.create_registry(_name(), "organization", organization=world.org)
    theirs = world.owner.registry(name, organization=world.org)
    theirs.visibility = "restricted"
    theirs.description = "now restricted"
    theirs.save()
    assert world.owner.registry(name, organization=world.org).description == "now restricted"
    with pytest.raises(RegistryNotFound):
        world.m3.registry(name, organization=world.org)
    theirs.delete()
    with pytest.raises(RegistryNotFound):
        world.owner.registry(name, organization=world.org)
    # The version linked stays in its project.
    assert world.owner.artifact(world.model).version == "v0"


def test_registries_collections_and_versions_are_filtered(world):
    stem = _name("flt")
    first = world.owner.create_registry(f"{stem}-a", "organization", organization=world.org)
    world.owner.create_registry(
        f"{stem}-b", "organization", organization=world.org, description="datasets"
    )
    world.owner.artifact(world.model).link(f"{world.org}/wandb-registry-{stem}-a/cnn")
    world.owner.artifact(world.model).link(
        f"{world.org}/wandb-registry-{stem}-a/mlp", aliases=["prod"]
    )
    world.owner.artifact(world.dataset).link(f"{world.org}/wandb-registry-{stem}-b/digits")
    collection = first.collections(filter={"name": "cnn"})[0]
    collection.tags = ["vision"]
    collection.save()

    mine = world.owner.registries(filter={"name": {"$regex": f"^{stem}"}})
    assert [r.name for r in mine] == [f"{stem}-a", f"{stem}-b"]
    assert len(mine) == 2
    assert [
        r.name
        for r in world.owner.registries(
            organization=world.org,
            filter={"$and": [{"name": {"$regex": stem}}, {"description": "datasets"}]},
        )
    ] == [f"{stem}-b"]
    assert [c.name for c in mine.collections()] == ["cnn", "mlp", "digits"]
    assert [c.name for c in mine.collections(filter={"tag": "vision"})] == ["cnn"]
    assert [c.name for c in mine.collections(filter={"type": "dataset"})] == ["digits"]
    assert [v.project for v in mine.versions(filter={"alias": "prod"})] == [
        f"wandb-registry-{stem}-a"
    ]
    assert len(mine.versions(filter={"metadata.acc": {"$gt": 0.5}})) == 2
    assert len(mine.versions(filter={"metadata.acc": {"$exists": False}})) == 1
    # Small pages follow the keyset to the end.
    assert [c.name for c in first.collections(per_page=1)] == ["cnn", "mlp"]
    with pytest.raises(BadRequest) as bad:
        list(world.owner.registries(filter={"name": {"$near": 1}}))
    assert bad.value.field == "filter.name.$near"
    with pytest.raises(BadRequest) as unknown:
        list(first.versions(filter={"colour": "red"}))
    assert unknown.value.field == "filter.colour"


def test_a_registrys_project_is_no_ordinary_project(world):
    name = _name("hidden")
    world.owner.create_registry(name, "organization", organization=world.org)
    assert f"wandb-registry-{name}" not in [p.name for p in world.owner.projects(world.org)]
    with pytest.raises(BadRequest):
        world.owner.create_project(f"wandb-registry-{_name()}", entity=world.org)
    # Versions are linked into a registry, never logged into it.
    r = world.owner.client.session.post(
        f"{world.owner.host}/api/v1/projects/{world.org}/wandb-registry-{name}/artifacts",
        json={"name": "x", "type": "model", "files": []},
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "project"
    with pytest.raises(BadRequest) as bad_name:
        world.owner.create_registry("no/slash", "organization", organization=world.org)
    assert bad_name.value.field == "name"
    with pytest.raises(BadRequest) as bad_visibility:
        world.owner.create_registry(_name(), "public", organization=world.org)
    assert bad_visibility.value.field == "visibility"


def test_a_registry_name_in_several_organizations_needs_one(world):
    name = _name("twice")
    world.owner.create_registry(name, "organization", organization=world.org)
    world.m2.create_registry(name, "organization", organization=world.squad)
    assert world.m2.registry(name, organization=world.squad).organization == world.squad
    # m2 belongs to both: the short forms are ambiguous.
    with pytest.raises(UsageError):
        world.m2.registry(name)
    with pytest.raises(BadRequest) as ambiguous:
        world.m2.artifact(world.model).link(f"wandb-registry-{name}/mlp")
    assert ambiguous.value.field == "entity"
    with pytest.raises(ArtifactNotFound):
        world.m2.artifact(f"{world.squad}/wandb-registry-{name}/mlp:latest")


def test_a_run_links_its_artifact_into_a_registry(world, server, tmp_path):
    name = _name("runs")
    world.owner.create_registry(name, "organization", organization=world.org)
    (tmp_path / "w.bin").write_bytes(b"fresh weights")
    with init(
        entity=world.org,
        project="zoo",
        host=server.url,
        api_key=world.m3.api_key,
        settings=QUIET,
        dir=tmp_path,
    ) as run:
        model = lablens.Artifact(f"cnn-{name}", "model")
        model.add_file(tmp_path / "w.bin")
        # Not logged yet: the run logs it, then links it (W&B's run.link_artifact).
        link = run.link_artifact(model, f"wandb-registry-{name}/cnn", aliases=["candidate"])
        with pytest.raises(UsageError):
            run.link_artifact("not an artifact", f"wandb-registry-{name}/cnn")
    assert model.version == "v0"
    assert world.owner.artifact(model.qualified_name).logged_by().id == run.id
    assert (link.entity, link.project, link.name) == (world.org, f"wandb-registry-{name}", "cnn:v0")
    assert sorted(link.aliases) == ["candidate", "latest"]
    stored = world.owner.registry(name, organization=world.org).versions()[0]
    assert stored.source_qualified_name == model.qualified_name
