"""The registries part answers alike on both engines (a DuckDB file, a real PostgreSQL): the
same calls give equal answers and equal refusals; and on PostgreSQL, several servers making one
registry at once make it once."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from lablens.store import open_store
from lablens.store.base import Store
from lablens.store.errors import Conflict, StoreError

# What differs between two stores by nature: random ids, serial ids and times.
_VOLATILE = {"id", "created_at", "updated_at", "digest"}


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return value


def _outcome(step: Callable[[Store], Any], store: Store) -> Any:
    try:
        return _shape(step(store))
    except StoreError as exc:
        return ("refused", type(exc).__name__, str(exc), getattr(exc, "field", None))


@pytest.fixture
def stores(tmp_path, pg_database) -> Iterator[tuple[Store, Store]]:
    duck = open_store(tmp_path / "duck")
    pg = open_store(pg_database, blobs=(tmp_path / "pg-blobs").as_uri())
    try:
        yield duck, pg
    finally:
        duck.close()
        pg.close()


def _world(store: Store) -> str:
    """Users, a team, and two versions (a model, a dataset) logged into ``acme/zoo``; the
    model's id."""
    for user in ("alice", "bob", "carol"):
        store.create_user(user)
    store.create_team("acme", "alice")
    store.add_member("acme", "bob", "MEMBER")
    store.add_member("acme", "carol", "MEMBER")
    store.create_team("squad", "carol")
    ids = []
    for name, type_name, content in (("mlp", "model", b"w"), ("digits", "dataset", b"d")):
        digest = hashlib.sha256(content).hexdigest()
        store.put_blob("acme", digest, io.BytesIO(content), username="alice")
        made, _ = store.commit_artifact(
            "acme",
            "zoo",
            {
                "name": name,
                "type": type_name,
                "metadata": {"acc": 0.5},
                "files": [{"path": "f", "digest": digest, "size": 1}],
            },
            username="alice",
        )
        ids.append(made["id"])
    return ids[0]


def test_registries_answer_alike_on_both_engines(stores):
    duck, pg = stores
    model = {id(s): _world(s) for s in (duck, pg)}
    digits = {id(s): s.get_artifact("acme", "zoo", "digits", "latest")["id"] for s in (duck, pg)}
    steps: list[Callable[[Store], Any]] = [
        lambda s: s.create_registry(
            "acme", "model", visibility="restricted", artifact_types=["model"], username="alice"
        ),
        lambda s: s.create_registry("acme", "model", visibility="organization"),
        lambda s: s.create_registry("acme", "data", visibility="Organization", description="d"),
        lambda s: s.create_registry("acme", "bad/name", visibility="organization"),
        lambda s: s.create_registry("acme", "x", visibility="public"),
        lambda s: s.link_artifact(
            "acme",
            "zoo",
            model[id(s)],
            target_workspace="acme",
            target_project="wandb-registry-model",
            target_name="clf",
            aliases=["prod"],
            username="alice",
        ),
        lambda s: s.link_artifact(
            "acme",
            "zoo",
            digits[id(s)],
            target_workspace="acme",
            target_project="wandb-registry-model",
            target_name="ds",
            username="alice",
        ),
        lambda s: s.link_artifact(
            "acme",
            "zoo",
            digits[id(s)],
            target_workspace="acme",
            target_project="wandb-registry-data",
            target_name="ds",
            username="alice",
        ),
        lambda s: s.commit_artifact(
            "acme",
            "wandb-registry-data",
            {"name": "x", "type": "t", "files": []},
            username="alice",
        ),
        lambda s: [s.registry_role("acme", "model", u) for u in ("alice", "bob", "carol")],
        lambda s: s.add_registry_member("acme", "model", "bob", kind="user", role="viewer"),
        lambda s: s.add_registry_member("acme", "model", "squad", kind="team", role="member"),
        lambda s: s.add_registry_member("acme", "model", "squad", kind="team", role="admin"),
        lambda s: s.add_registry_member("acme", "model", "nobody", kind="user"),
        lambda s: s.add_registry_member("acme", "model", "bob", kind="user", role="owner"),
        lambda s: [s.registry_role("acme", "model", u) for u in ("alice", "bob", "carol")],
        lambda s: s.list_registry_members("acme", "model"),
        lambda s: s.list_registries(viewer="bob"),
        lambda s: s.list_registries(viewer="carol", filter={"name": {"$in": ["model", "x"]}}),
        lambda s: s.list_registries(filter={"description": {"$exists": True}}),
        lambda s: s.list_registries(filter={"name": {"$regex": "("}}),
        lambda s: s.list_registry_collections(viewer="bob", filter={"type": "model"}),
        lambda s: s.list_registry_versions(filter={"alias": "prod"}),
        lambda s: s.list_registry_versions(filter={"metadata.acc": {"$lt": 1}}, limit=1),
        lambda s: s.update_registry("acme", "model", {"artifact_types": ["dataset"]}),
        lambda s: s.update_registry(
            "acme", "model", {"artifact_types": ["model", "dataset"], "description": "m"}
        ),
        lambda s: s.remove_registry_member("acme", "model", "bob", kind="user"),
        lambda s: s.remove_registry_member("acme", "model", "bob", kind="user"),
        lambda s: [p["name"] for p in s.list_projects("acme")["items"]],
        lambda s: s.delete_registry("acme", "data"),
        lambda s: s.list_registries(),
        lambda s: s.get_registry("acme", "data"),
    ]
    answers = []
    for i, step in enumerate(steps):
        answer = _outcome(step, pg)
        assert answer == _outcome(step, duck), f"step {i}"
        answers.append(answer)
    # What the engines agree on is what the rules say.
    assert answers[1][:2] == ("refused", "Conflict")
    assert answers[3][3] == "name" and answers[4][3] == "visibility"
    assert answers[5]["qualified_name"] == "acme/wandb-registry-model/clf:v0"
    assert answers[6][3] == "type" and answers[8][3] == "project"
    assert answers[9] == ["admin", None, None]
    assert answers[15] == ["admin", "viewer", "admin"]
    assert [r["name"] for r in answers[17]["items"]] == ["data", "model"]
    assert answers[20][1] == "InvalidFilter"
    assert answers[23]["total"] == 2 and answers[23]["next"] is not None
    assert answers[24][3] == "artifact_types"
    assert answers[28] == ["zoo"]
    assert answers[31][1] == "NotFound"


def test_one_registry_made_at_once_by_several_servers(pg_database, tmp_path):
    blobs = (tmp_path / "blobs").as_uri()
    servers = [open_store(pg_database, blobs=blobs) for _ in range(4)]
    try:
        servers[0].create_user("alice")

        def make(store: Store) -> str:
            try:
                store.create_registry("alice", "model", visibility="organization")
            except Conflict:
                return "conflict"
            return "made"

        with ThreadPoolExecutor(len(servers)) as pool:
            outcomes = sorted(pool.map(make, servers))
        assert outcomes == ["conflict"] * 3 + ["made"]
        assert [r["name"] for r in servers[1].list_registries()["items"]] == ["model"]
    finally:
        for store in servers:
            store.close()
