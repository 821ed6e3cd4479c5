"""The PostgreSQL store's artifact parts answer as the embedded store's: the same calls on a real
embedded store and a real PostgreSQL store give equal answers (commits, versions, aliases, files,
lineage, links, deletes), and commits through two stores on one database at once (two servers)
get distinct version numbers."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lablens.store.blobs import LocalBlobs
from lablens.store.embedded.store import EmbeddedStore
from lablens.store.errors import Conflict, InvalidInput, NotFound, StoreError
from lablens.store.postgres.store import PostgresStore

USER = "alice"
# What differs between two stores by nature: the times of writes.
TIMES = {"created_at", "updated_at", "heartbeat_at", "finished_at"}
ARTIFACT_ID = re.compile(r"\b[0-9a-f]{16}\b")


# -- the two engines side by side ----------------------------------------------------------------
class Engines:
    """An embedded store and a PostgreSQL store holding the same users, projects and runs."""

    def __init__(self, tmp: Path, url: str) -> None:
        self.emb = EmbeddedStore(tmp / "embedded")
        self.blobs_dir = tmp / "pg-blobs"
        self.pg = PostgresStore(url, LocalBlobs(self.blobs_dir))
        self.db = self.pg.db
        # artifact id of the PostgreSQL store -> the embedded store's id of the same version
        self.ids: dict[str, str] = {}
        self.both("create_user", USER)

    def close(self) -> None:
        self.emb.close()
        self.pg.close()

    def project(self, name: str) -> None:
        self.both("create_project", USER, name)

    def run(self, project: str, run_id: str) -> None:
        self.both("create_run", USER, project, {"id": run_id, "name": run_id}, username=USER)

    def blob(self, path: str, text: str) -> dict[str, Any]:
        """A manifest entry of ``path`` holding ``text``, its content uploaded to both."""
        data = text.encode()
        digest = hashlib.sha256(data).hexdigest()
        self.both("put_blobs", USER, [(digest, data)], username=USER)
        return {"path": path, "digest": digest, "size": len(data)}

    def same(self, p_value: Any) -> Any:
        """A value of the PostgreSQL store with its artifact ids as the embedded store's."""
        if isinstance(p_value, str):
            return ARTIFACT_ID.sub(lambda m: self.ids.get(m.group(0), m.group(0)), p_value)
        if isinstance(p_value, dict):
            return {k: self.same(v) for k, v in p_value.items() if k not in TIMES}
        if isinstance(p_value, (list, tuple)):
            return [self.same(v) for v in p_value]
        return p_value

    def both(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``method`` on both engines (artifact ids in the arguments are the embedded
        store's, given to the PostgreSQL store as its own), assert equal answers or equal
        errors, and return the embedded answer."""
        back = {e: p for p, e in self.ids.items()}
        p_args = [back.get(a, a) if isinstance(a, str) else a for a in args]
        p_kwargs = {k: back.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
        e_out = p_out = e_err = p_err = None
        try:
            e_out = getattr(self.emb, method)(*args, **kwargs)
        except StoreError as exc:
            e_err = exc
        try:
            p_out = getattr(self.pg, method)(*p_args, **p_kwargs)
        except StoreError as exc:
            p_err = exc
        if e_err or p_err:
            assert (type(p_err), self.same(str(p_err))) == (type(e_err), str(e_err)), method
            raise e_err
        # Both through same(): it drops the times, and leaves the embedded store's ids as they are.
        assert self.same(p_out) == self.same(e_out), method
        return e_out

    def commit(self, project: str, data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Commit on both engines; the versions' ids are paired from then on."""
        e_out, e_created = self.emb.commit_artifact(USER, project, data, username=USER)
        p_out, p_created = self.pg.commit_artifact(USER, project, data, username=USER)
        self.ids.setdefault(p_out["id"], e_out["id"])
        assert (self.same(p_out), p_created) == (self.same(e_out), e_created)
        return e_out, e_created

    def link(self, project: str, artifact_id: str, **kwargs: Any) -> dict[str, Any]:
        back = {e: p for p, e in self.ids.items()}
        e_out = self.emb.link_artifact(USER, project, artifact_id, username=USER, **kwargs)
        p_out = self.pg.link_artifact(USER, project, back[artifact_id], username=USER, **kwargs)
        self.ids.setdefault(p_out["id"], e_out["id"])
        assert self.same(p_out) == self.same(e_out)
        return e_out

    def delete_project(self, name: str) -> None:
        self.both("delete_project", USER, name)


@pytest.fixture
def eng(tmp_path: Path, pg_database: str) -> Iterator[Engines]:
    engines = Engines(tmp_path, pg_database)
    engines.project("p")
    engines.run("p", "run1")
    engines.run("p", "run2")
    yield engines
    engines.close()


def raises(kind: type[Exception], call: Callable[[], Any], match: str) -> None:
    with pytest.raises(kind, match=match):
        call()


# -- logging versions ----------------------------------------------------------------------------
def test_versions_aliases_and_files_answer_alike(eng: Engines) -> None:
    a, b, c = eng.blob("a.txt", "alpha"), eng.blob("dir/b.csv", "x,y\n1,2\n"), eng.blob("c", "γ")
    ref = {"path": "remote/data.bin", "ref": "s3://bucket/data.bin"}
    v0, created = eng.commit(
        "p",
        {
            "name": "ds",
            "type": "dataset",
            "files": [a, b, ref],
            "aliases": ["best"],
            "metadata": {"rows": 2, "nan": float("nan")},
            "description": "first",
            "tags": ["raw"],
            "run_id": "run1",
        },
    )
    assert created and v0["version"] == "v0" and v0["aliases"] == ["best", "latest"]
    assert v0["logged_by"]["path"] == f"{USER}/p/run1" and v0["metadata"]["nan"] == "NaN"
    v1, created = eng.commit("p", {"name": "ds", "type": "dataset", "files": [a, c]})
    assert created and v1["version"] == "v1" and v1["aliases"] == ["latest"]
    # The same content again: the version already stored, with the aliases asked for.
    again, created = eng.commit(
        "p", {"name": "ds", "type": "dataset", "files": [a, b, ref], "aliases": ["again"]}
    )
    assert not created and again["id"] == v0["id"]
    assert again["aliases"] == ["again", "best"]

    for selector in ("v0", "v1", "latest", "best", "again", v1["digest"]):
        eng.both("get_artifact", USER, "p", "ds", selector)
    raises(NotFound, lambda: eng.both("get_artifact", USER, "p", "ds", "v7"), "v7")
    raises(
        NotFound,
        lambda: eng.both("get_artifact", USER, "p", "ds", "v0", type_name="model"),
        "model",
    )
    eng.both("get_artifact_by_id", USER, "p", v1["id"])
    listed = eng.both("list_artifacts", USER, "p", "ds")
    assert [v["version"] for v in listed["items"]] == ["v1", "v0"]
    page = eng.both("list_artifacts", USER, "p", "ds", limit=1)
    eng.both("list_artifacts", USER, "p", "ds", limit=1, cursor=page["next"])
    assert eng.both("list_artifacts", USER, "p", "ds", tags=["raw"])["total"] == 1

    # Aliases move: "best" to v1; "latest" stays on the newest whatever is asked.
    moved = eng.both(
        "update_artifact",
        USER,
        "p",
        v1["id"],
        {"aliases": ["best", "latest"], "tags": ["clean"], "metadata": {"k": [1, 2]}},
    )
    assert moved["aliases"] == ["best", "latest"] and moved["tags"] == ["clean"]
    assert eng.both("get_artifact", USER, "p", "ds", "v0")["aliases"] == ["again"]
    eng.both("update_artifact", USER, "p", v0["id"], {"aliases": [], "description": None})
    raises(
        InvalidInput, lambda: eng.both("update_artifact", USER, "p", v0["id"], {"tags": 3}), "tags"
    )

    eng.both("list_artifact_types", USER, "p")
    eng.both("get_artifact_type", USER, "p", "dataset")
    eng.both("list_artifact_collections", USER, "p")
    assert eng.both("get_artifact_collection", USER, "p", "ds")["aliases"] == ["best", "latest"]
    raises(NotFound, lambda: eng.both("get_artifact_type", USER, "p", "model"), "model")

    # Files: listed, filtered, paged in byte order, opened; a reference is not stored here.
    eng.both("list_artifact_files", USER, "p", v0["id"])
    eng.both("list_artifact_files", USER, "p", v0["id"], prefix="dir/")
    eng.both("list_artifact_files", USER, "p", v0["id"], names=["a.txt", "nope"])
    first = eng.both("list_artifact_files", USER, "p", v0["id"], limit=2)
    eng.both("list_artifact_files", USER, "p", v0["id"], limit=2, cursor=first["next"])
    back = {e: p for p, e in eng.ids.items()}
    entry, content = eng.pg.open_artifact_file(USER, "p", back[v1["id"]], "c")
    with content:
        assert content.read() == "γ".encode() and entry["size"] == 2
    raises(
        InvalidInput,
        lambda: eng.both("open_artifact_file", USER, "p", v0["id"], ref["path"]),
        "reference",
    )
    raises(NotFound, lambda: eng.both("open_artifact_file", USER, "p", v0["id"], "zz"), "zz")

    # Refusals, worded alike.
    missing = {"path": "m", "digest": "0" * 64, "size": 1}
    raises(
        InvalidInput,
        lambda: eng.both(
            "commit_artifact",
            USER,
            "p",
            {"name": "ds", "type": "dataset", "files": [missing]},
            username=USER,
        ),
        "not uploaded",
    )
    raises(
        Conflict,
        lambda: eng.both(
            "commit_artifact",
            USER,
            "p",
            {"name": "ds", "type": "model", "files": [a]},
            username=USER,
        ),
        "type 'dataset'",
    )
    raises(
        InvalidInput,
        lambda: eng.both(
            "commit_artifact",
            USER,
            "p",
            {"name": "bad name", "type": "t", "files": []},
            username=USER,
        ),
        "name",
    )


# -- lineage -------------------------------------------------------------------------------------
def test_lineage_used_and_logged_answer_alike(eng: Engines) -> None:
    a, b = eng.blob("a", "one"), eng.blob("b", "two")
    v0, _ = eng.commit("p", {"name": "m", "type": "model", "files": [a], "run_id": "run1"})
    v1, _ = eng.commit("p", {"name": "m", "type": "model", "files": [b], "run_id": "run1"})
    eng.project("q")
    eng.run("q", "other")
    for run, version in (("run2", v0), ("run2", v0), ("run2", v1)):
        used = eng.both(
            "use_artifact",
            USER,
            "p",
            run,
            artifact_workspace=USER,
            artifact_project="p",
            artifact_id=version["id"],
        )
        assert used["id"] == version["id"]
    # Used from a run of another project.
    eng.both(
        "use_artifact",
        USER,
        "q",
        "other",
        artifact_workspace=USER,
        artifact_project="p",
        artifact_id=v0["id"],
    )
    users = eng.both("artifact_users", USER, "p", v0["id"])
    assert [u["path"] for u in users] == [f"{USER}/p/run2", f"{USER}/q/other"]
    logged = eng.both("run_artifacts", USER, "p", "run1")
    assert [v["version"] for v in logged["items"]] == ["v0", "v1"]
    page = eng.both("run_artifacts", USER, "p", "run1", limit=1)
    eng.both("run_artifacts", USER, "p", "run1", limit=1, cursor=page["next"])
    used = eng.both("run_artifacts", USER, "p", "run2", used=True)
    assert used["total"] == 2
    assert eng.both("run_artifacts", USER, "p", "run2")["total"] == 0
    raises(NotFound, lambda: eng.both("run_artifacts", USER, "p", "nope"), "nope")
    raises(
        NotFound,
        lambda: eng.both(
            "use_artifact",
            USER,
            "p",
            "run2",
            artifact_workspace=USER,
            artifact_project="q",
            artifact_id=v0["id"],
        ),
        "artifact",
    )


# -- links and deletes ---------------------------------------------------------------------------
def test_links_across_projects_and_deletes_answer_alike(eng: Engines) -> None:
    a, b, c = eng.blob("a", "1"), eng.blob("b", "2"), eng.blob("c", "3")
    v0, _ = eng.commit("p", {"name": "m", "type": "model", "files": [a], "run_id": "run1"})
    v1, _ = eng.commit("p", {"name": "m", "type": "model", "files": [b]})
    v2, _ = eng.commit("p", {"name": "m", "type": "model", "files": [c]})
    eng.project("reg")
    link = eng.link(
        "p",
        v1["id"],
        target_workspace=USER,
        target_project="reg",
        target_name="prod",
        aliases=["champion"],
    )
    assert link["is_link"] and link["source"]["qualified_name"] == f"{USER}/p/m:v1"
    assert (
        link["aliases"] == ["champion", "latest"]
        and link["qualified_name"] == f"{USER}/reg/prod:v0"
    )
    # Linking the same version again: the same link, the aliases moved to it.
    again = eng.link("p", v1["id"], target_workspace=USER, target_project="reg", target_name="prod")
    assert again["id"] == link["id"]
    # A link into a project that does not exist yet makes it.
    eng.link("p", v0["id"], target_workspace=USER, target_project="newreg", target_name="prod")
    eng.both("list_artifact_files", USER, "reg", link["id"])
    eng.both("get_artifact", USER, "reg", "prod", "champion")
    eng.both("get_artifact_collection", USER, "reg", "prod")
    # A portfolio holds links only, a sequence logged versions only.
    raises(
        Conflict,
        lambda: eng.both(
            "commit_artifact",
            USER,
            "reg",
            {"name": "prod", "type": "model", "files": [a]},
            username=USER,
        ),
        "holds links",
    )

    # A linked version is not deleted, nor its collection, nor its project.
    raises(
        Conflict,
        lambda: eng.both("delete_artifact", USER, "p", v1["id"], delete_aliases=True),
        "linked",
    )
    raises(Conflict, lambda: eng.both("delete_artifact_collection", USER, "p", "m"), "linked")
    raises(Conflict, lambda: eng.delete_project("p"), "linked")
    # Aliases are deleted only when asked; "latest" then moves to the newest version left.
    raises(Conflict, lambda: eng.both("delete_artifact", USER, "p", v2["id"]), "latest")
    eng.both("delete_artifact", USER, "p", v2["id"], delete_aliases=True)
    assert eng.both("get_artifact", USER, "p", "m", "latest")["version"] == "v1"
    # A deleted version's number is not reused.
    v3, _ = eng.commit("p", {"name": "m", "type": "model", "files": [eng.blob("d", "4")]})
    assert v3["version"] == "v3"

    # Renames: refused onto a taken name, then done.
    eng.commit("p", {"name": "other", "type": "model", "files": [a]})
    raises(
        Conflict,
        lambda: eng.both("update_artifact_collection", USER, "p", "m", {"name": "other"}),
        "exists",
    )
    renamed = eng.both(
        "update_artifact_collection",
        USER,
        "p",
        "m",
        {"name": "mlp", "tags": ["x"], "description": "d"},
    )
    assert renamed["path"] == f"{USER}/p/mlp"
    assert eng.both("get_artifact", USER, "reg", "prod", "v0")["source"]["collection"] == "mlp"

    # The links deleted, the project goes with its artifacts; the links' projects keep theirs.
    eng.both("delete_artifact", USER, "reg", link["id"], delete_aliases=True)
    eng.both("delete_artifact_collection", USER, "newreg", "prod")
    eng.delete_project("p")
    assert eng.both("list_artifact_collections", USER, "reg")["items"][0]["version_count"] == 0
    raises(NotFound, lambda: eng.both("list_artifact_types", USER, "p"), "p")
    left = eng.db.one(
        "SELECT (SELECT count(*) FROM artifacts) AS versions,"
        " (SELECT count(*) FROM artifact_files) AS files,"
        " (SELECT count(*) FROM artifact_aliases) AS aliases,"
        " (SELECT count(*) FROM artifact_usage) AS uses,"
        " (SELECT count(*) FROM artifact_collections) AS collections"
    )
    assert left == {"versions": 0, "files": 0, "aliases": 0, "uses": 0, "collections": 1}


# -- several servers at once ---------------------------------------------------------------------
def test_commits_through_two_servers_at_once_get_distinct_versions(
    tmp_path: Path, pg_database: str
) -> None:
    eng = Engines(tmp_path, pg_database)
    try:
        eng.project("p")
        second = PostgresStore(pg_database, LocalBlobs(eng.blobs_dir))
        servers = [eng.pg, second]
        n = 16
        entries = [eng.blob(f"f{i}", f"content {i}") for i in range(n)]
        barrier = threading.Barrier(n)
        answers: list[tuple[dict[str, Any], bool]] = []
        errors: list[BaseException] = []

        def commit(i: int, files: list[dict[str, Any]], name: str) -> None:
            try:
                barrier.wait(timeout=30)
                out = servers[i % 2].commit_artifact(
                    USER, "p", {"name": name, "type": "dataset", "files": files}, username=USER
                )
                answers.append(out)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        def run_all(jobs: list[tuple[int, list[dict[str, Any]], str]]) -> None:
            threads = [threading.Thread(target=commit, args=job) for job in jobs]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            assert not errors, errors

        # n different contents into one new collection: one collection, versions v0..v15.
        run_all([(i, [entries[i]], "ds") for i in range(n)])
        assert sorted(v["version_index"] for v, _ in answers) == list(range(n))
        assert all(created for _, created in answers)
        newest = max(answers, key=lambda a: a[0]["version_index"])[0]
        listed = servers[1].list_artifacts(USER, "p", "ds", limit=100)["items"]
        assert [v["version_index"] for v in listed] == list(range(n - 1, -1, -1))
        latest = servers[0].get_artifact(USER, "p", "ds", "latest")
        assert latest["id"] == newest["id"] and latest["aliases"] == ["latest"]
        assert eng.db.one("SELECT count(*) AS n FROM artifact_collections")["n"] == 1

        # The same content n times at once (retries through both servers): one version.
        answers.clear()
        run_all([(i, [entries[0], entries[1]], "same") for i in range(n)])
        assert len({v["id"] for v, _ in answers}) == 1
        assert sorted(created for _, created in answers) == [False] * (n - 1) + [True]
        assert servers[0].get_artifact_collection(USER, "p", "same")["version_count"] == 1
        second.close()
    finally:
        eng.close()


def test_names_aliases_and_paths_sort_by_bytes_as_in_the_embedded_store(eng: Engines) -> None:
    # The test database sorts text by an ICU locale (a, B, _x), DuckDB by bytes (B, _x, a).
    paths = ["a", "B", "_x", "b/Z", "b/a", "Ä", "10", "9"] + [f"many/{i:04}" for i in range(3000)]
    files = [eng.blob(p, f"file {p}") for p in paths[:8]]
    files += [{"path": p, "ref": f"s3://bucket/{p}", "size": 1} for p in paths[8:]]
    version, _ = eng.commit(
        "p", {"name": "zeta", "type": "Zt", "files": files, "aliases": ["b", "B", "_a", "Alpha"]}
    )
    for name, kind in (("Alpha", "Zt"), ("_u", "ab"), ("beta", "ab")):
        eng.commit("p", {"name": name, "type": kind, "files": files[:1]})
    assert version["aliases"] == ["Alpha", "B", "_a", "b", "latest"]
    assert [t["name"] for t in eng.both("list_artifact_types", USER, "p")] == ["Zt", "ab"]
    names = [c["name"] for c in eng.both("list_artifact_collections", USER, "p")["items"]]
    assert names == ["Alpha", "_u", "beta", "zeta"]
    page = eng.both("list_artifact_collections", USER, "p", limit=2)
    eng.both("list_artifact_collections", USER, "p", limit=2, cursor=page["next"])
    eng.both("get_artifact_collection", USER, "p", "zeta")
    listed: list[str] = []
    cursor = None
    while True:
        page = eng.both("list_artifact_files", USER, "p", version["id"], limit=700, cursor=cursor)
        listed += [f["path"] for f in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert listed == sorted(paths, key=lambda p: p.encode())
