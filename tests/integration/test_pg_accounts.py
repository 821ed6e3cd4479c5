"""The PostgreSQL store's accounts, projects and liveness parts answer as the embedded ones do:
the same calls on both engines (a real PostgreSQL, a DuckDB file) give equal answers and equal
refusals; and what several servers do at once on one database happens once."""

from __future__ import annotations

import datetime as dt
import re
import struct
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from lablens.store.common.accounts import Accounts
from lablens.store.common.liveness import Liveness
from lablens.store.common.projects import Projects
from lablens.store.embedded._db import Database as DuckDatabase
from lablens.store.embedded._sql import EmbeddedSql
from lablens.store.errors import StoreError
from lablens.store.postgres._db import Database
from lablens.store.postgres._sql import PostgresSql
from lablens.store.sql import Sql

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class Engines:
    """The same parts on both engines; :meth:`call` runs one call on each."""

    def __init__(self, duck: DuckDatabase, pg: Database) -> None:
        self.duck_db, self.pg_db = duck, pg
        # The same parts (``store/common``), each over one engine's ``Sql``.
        self.duck = _parts(EmbeddedSql(duck))
        self.pg = _parts(PostgresSql(pg))

    def both(self, part: str, fn: Callable[[Any], Any]) -> tuple[Any, Any]:
        """``fn`` on the embedded part and on the PostgreSQL one: their answers, or their
        refusals as ``(type name, message)``."""
        return _outcome(lambda: fn(self.duck[part])), _outcome(lambda: fn(self.pg[part]))

    def same(self, part: str, fn: Callable[[Any], Any]) -> Any:
        """Assert both engines answer ``fn`` alike (times and random ids aside); the answer."""
        duck, pg = self.both(part, fn)
        assert _shape(pg) == _shape(duck)
        return pg


def _parts(sql: Sql) -> dict[str, Any]:
    accounts = Accounts(sql)
    return {"accounts": accounts, "projects": Projects(sql, accounts), "liveness": Liveness(sql)}


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except StoreError as exc:
        return ("refused", type(exc).__name__, str(exc))


def _shape(value: Any) -> Any:
    """Times become ``"<time>"`` (checked to be ISO 8601 UTC), cursors ``"<cursor>"``."""
    if isinstance(value, dict):
        return {k: "<cursor>" if k == "next" and v else _shape(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_shape(v) for v in value)
    if isinstance(value, str) and ISO.match(value):
        return "<time>"
    return value


@pytest.fixture
def engines(pg_database: str, tmp_path) -> Iterator[Engines]:
    duck = DuckDatabase(tmp_path / "lablens.duckdb")
    pg = Database(pg_database, max_size=4)
    try:
        yield Engines(duck, pg)
    finally:
        pg.close()
        duck.close()


def test_users_and_their_lookups_answer_alike(engines):
    made = engines.same(
        "accounts", lambda a: a.create_user("ada", name="Ada L", email="ada@example.com")
    )
    assert made["username"] == "ada" and made["teams"] == [] and ISO.match(made["created_at"])
    engines.same("accounts", lambda a: a.create_user("bob", is_admin=True, password_hash="h$1"))
    assert engines.same("accounts", lambda a: a.get_user("ada@example.com"))["name"] == "Ada L"
    assert engines.same("accounts", lambda a: a.get_user("nobody")) == (
        "refused",
        "NotFound",
        "user not found: nobody",
    )
    assert [u["username"] for u in engines.same("accounts", lambda a: a.list_users())] == [
        "ada",
        "bob",
    ]
    assert engines.same("accounts", lambda a: [u["username"] for u in a.list_users("EXAMPLE")])
    assert engines.same("accounts", lambda a: a.password_hash("bob")) == ("bob", "h$1")
    engines.same("accounts", lambda a: a.set_password("ada", "h$2"))
    assert engines.same("accounts", lambda a: a.password_hash("ada@example.com")) == ("ada", "h$2")
    assert engines.same("accounts", lambda a: a.password_hash("zed")) is None
    assert engines.same("accounts", lambda a: a.user_count()) == 2
    for bad in ("", "-x", "a b", "x" * 300):
        refused = engines.same("accounts", lambda a, bad=bad: a.create_user(bad))
        assert refused[0] == "refused" and refused[1] in ("InvalidInput", "LimitExceeded")


def test_names_are_one_namespace_whatever_the_case(engines):
    engines.same("accounts", lambda a: a.create_user("Alice"))
    assert engines.same("accounts", lambda a: a.create_user("alice")) == (
        "refused",
        "Conflict",
        "the name 'alice' is already taken as 'Alice': names that differ only in case are one name",
    )
    assert engines.same("accounts", lambda a: a.create_team("ALICE", "Alice"))[1] == "Conflict"
    assert engines.same("accounts", lambda a: a.create_team("Alice", "Alice"))[2] == (
        "the name 'Alice' is already taken"
    )
    assert engines.same("accounts", lambda a: a.user_count()) == 1


def test_api_keys_answer_alike(engines):
    engines.same("accounts", lambda a: a.create_user("ada"))
    engines.same("accounts", lambda a: a.create_user("eve"))
    chosen = "ll_" + "a" * 48
    duck, pg = engines.both("accounts", lambda a: a.create_api_key("ada", name="ci", key=chosen))
    assert _shape({**pg, "id": 0}) == _shape({**duck, "id": 0})
    assert pg["key"] == chosen and pg["expires_at"] is None and len(pg["id"]) == 12
    duck_old, pg_old = engines.both(
        "accounts", lambda a: a.create_api_key("ada", expires_in=dt.timedelta(seconds=-1))
    )
    assert pg_old["key"].startswith("ll_") and len(pg_old["key"]) == 51 and pg_old["expires_at"]
    assert engines.same("accounts", lambda a: a.user_for_key(chosen)) == {
        "username": "ada",
        "name": "ada",
        "email": None,
        "is_admin": False,
        "created_at": engines.pg["accounts"].get_user("ada")["created_at"],
        "key_expired": False,
    }
    assert engines.duck["accounts"].user_for_key(duck_old["key"])["key_expired"] is True
    assert engines.pg["accounts"].user_for_key(pg_old["key"])["key_expired"] is True
    assert engines.same("accounts", lambda a: a.user_for_key("ll_unknown")) is None

    duck_keys, pg_keys = engines.both("accounts", lambda a: a.list_api_keys("ada"))
    assert [k["name"] for k in pg_keys] == [k["name"] for k in duck_keys] == ["ci", None]
    assert [k["id"] for k in pg_keys] == [pg["id"], pg_old["id"]]
    assert all(set(k) == {"id", "name", "created_at", "expires_at"} for k in pg_keys)
    assert pg_keys[1]["expires_at"] == pg_old["expires_at"]

    # Another user's key is not theirs to revoke; a key is revoked by its id or by itself.
    assert engines.same("accounts", lambda a: a.delete_api_key("eve", chosen)) == (
        "refused",
        "NotFound",
        f"key not found: {chosen}",
    )
    engines.same("accounts", lambda a: a.delete_api_key("ada", chosen))
    engines.pg["accounts"].delete_api_key("ada", pg_old["id"])
    engines.duck["accounts"].delete_api_key("ada", duck_old["id"])
    assert engines.same("accounts", lambda a: a.list_api_keys("ada")) == []
    assert engines.same("accounts", lambda a: a.user_for_key(chosen)) is None


def test_teams_members_and_workspaces_answer_alike(engines):
    for name, email in (("ada", "ada@x.org"), ("bob", None), ("Cy", None)):
        engines.same("accounts", lambda a, n=name, e=email: a.create_user(n, email=e))
    team = engines.same("accounts", lambda a: a.create_team("lab", "ada"))
    assert team["workspace_type"] == "TEAM" and team["role"] == "OWNER" and team["profile"] == {}
    assert engines.same("accounts", lambda a: a.create_team("x/y", "ada"))[1] == "InvalidInput"
    assert engines.same("accounts", lambda a: a.create_team("t2", "nobody"))[1] == "NotFound"
    engines.same("accounts", lambda a: a.create_team("Zeta", "ada"))
    engines.same("accounts", lambda a: a.create_team("beta", "ada"))

    assert engines.same("accounts", lambda a: a.add_member("lab", "Cy", "MEMBER"))["role"] == (
        "MEMBER"
    )
    assert engines.same("accounts", lambda a: a.add_member("lab", "bob", "OWNER"))["role"] == (
        "OWNER"
    )
    assert engines.same("accounts", lambda a: a.add_member("lab", "bob", "MEMBER")) == (
        "refused",
        "Conflict",
        "bob is already a member of lab",
    )
    assert engines.same("accounts", lambda a: a.add_member("lab", "x", "BOSS"))[1] == (
        "InvalidInput"
    )
    assert engines.same("accounts", lambda a: a.add_member("ada", "bob", "MEMBER")) == (
        "refused",
        "NotFound",
        "team not found: ada",
    )
    members = engines.same("accounts", lambda a: a.list_members("lab"))
    # Owners first, then by name as bytes (upper case before lower case).
    assert [(m["username"], m["role"]) for m in members] == [
        ("ada", "OWNER"),
        ("bob", "OWNER"),
        ("Cy", "MEMBER"),
    ]
    assert engines.same("accounts", lambda a: a.get_user("ada"))["teams"] == ["Zeta", "beta", "lab"]
    spaces = engines.same("accounts", lambda a: a.list_workspaces("ada"))
    assert [(w["username"], w["role"]) for w in spaces] == [
        ("ada", "OWNER"),
        ("Zeta", "OWNER"),
        ("beta", "OWNER"),
        ("lab", "OWNER"),
    ]
    assert spaces[0]["profile"] == {"email": "ada@x.org"}
    assert engines.same("accounts", lambda a: a.get_workspace("lab", viewer="Cy"))["role"] == (
        "MEMBER"
    )
    assert engines.same("accounts", lambda a: a.get_workspace("lab"))["role"] is None
    assert engines.same("accounts", lambda a: a.role("lab", "nobody")) is None
    users = engines.same("accounts", lambda a: a.list_users())
    assert {u["username"]: u["teams"] for u in users} == {
        "ada": ["Zeta", "beta", "lab"],
        "bob": ["lab"],
        "Cy": ["lab"],
    }

    engines.same("accounts", lambda a: a.remove_member("lab", "ada"))
    assert engines.same("accounts", lambda a: a.remove_member("lab", "bob")) == (
        "refused",
        "Conflict",
        "bob is the last owner of lab; make another member an owner first",
    )
    assert engines.same("accounts", lambda a: a.remove_member("lab", "ada")) == (
        "refused",
        "NotFound",
        "member not found: lab/ada",
    )
    engines.same("accounts", lambda a: a.remove_member("lab", "Cy"))
    assert engines.same("accounts", lambda a: [m["username"] for m in a.list_members("lab")]) == [
        "bob"
    ]
    assert engines.same("accounts", lambda a: a.workspace_id("nowhere"))[1] == "NotFound"


def test_the_first_admin_is_made_once(engines):
    key = "ll_" + "b" * 48
    duck, pg = engines.both("accounts", lambda a: a.create_first_admin("root", key=key))
    assert _shape({**pg, "id": 0}) == _shape({**duck, "id": 0})
    assert pg["username"] == "root" and pg["key"] == key and pg["name"] == "admin"
    assert engines.same("accounts", lambda a: a.create_first_admin("other")) is None
    assert engines.same("accounts", lambda a: a.get_user("root"))["is_admin"] is True
    assert engines.same("accounts", lambda a: a.user_for_key(key))["username"] == "root"
    assert engines.same("accounts", lambda a: a.user_count()) == 1


def test_several_servers_starting_together_make_exactly_one_admin(pg_database):
    barrier = threading.Barrier(5)

    def start(i: int) -> dict[str, Any] | None:
        db = Database(pg_database, max_size=2)
        try:
            barrier.wait(timeout=60)
            return Accounts(PostgresSql(db)).create_first_admin(f"admin{i}")
        finally:
            db.close()

    with ThreadPoolExecutor(5) as pool:
        made = list(pool.map(start, range(5), timeout=120))
    winners = [m for m in made if m is not None]
    assert len(winners) == 1
    db = Database(pg_database)
    try:
        accounts = Accounts(PostgresSql(db))
        assert [u["username"] for u in accounts.list_users()] == [winners[0]["username"]]
        assert accounts.user_for_key(winners[0]["key"])["is_admin"] is True
        assert len(accounts.list_api_keys(winners[0]["username"])) == 1
    finally:
        db.close()


def test_servers_making_names_that_differ_in_case_at_once_make_one(pg_database):
    Database(pg_database).close()
    names = ["Sam", "sam", "SAM", "sAm", "saM", "SaM"]
    barrier = threading.Barrier(len(names))

    def make(name: str) -> str:
        db = Database(pg_database, max_size=1)
        try:
            barrier.wait(timeout=60)
            try:
                Accounts(PostgresSql(db)).create_user(name)
                return "made"
            except StoreError as exc:
                return type(exc).__name__
        finally:
            db.close()

    with ThreadPoolExecutor(len(names)) as pool:
        outcomes = list(pool.map(make, names, timeout=120))
    assert sorted(outcomes) == ["Conflict"] * 5 + ["made"]
    db = Database(pg_database)
    try:
        assert Accounts(PostgresSql(db)).user_count() == 1
    finally:
        db.close()


def test_projects_answer_alike(engines):
    for user in ("ada", "eve"):
        engines.same("accounts", lambda a, u=user: a.create_user(u))
    made = engines.same("projects", lambda p: p.create_project("ada", "vision", labels=["cv", "x"]))
    assert made == {
        "id": made["id"],
        "name": "vision",
        "entity": "ada",
        "path": "ada/vision",
        "description": None,
        "labels": ["cv", "x"],
        "visibility": "PRIVATE",
        "created_at": made["created_at"],
        "updated_at": made["updated_at"],
        "count": {"runs": 0},
    }
    assert engines.same("projects", lambda p: p.create_project("ada", "vision")) == (
        "refused",
        "Conflict",
        "project ada/vision already exists",
    )
    assert engines.same(
        "projects", lambda p: p.create_project("ada", "vision", exist_ok=True)
    ) == engines.pg["projects"].get_project("ada", "vision")
    for bad in ("a/b", " x", "..", ""):
        assert engines.same("projects", lambda p, b=bad: p.create_project("ada", b))[1] in (
            "InvalidInput",
            "LimitExceeded",
        )
    assert engines.same("projects", lambda p: p.create_project("ada", "v", visibility="x"))[1] == (
        "InvalidInput"
    )
    assert engines.same("projects", lambda p: p.create_project("nobody", "v")) == (
        "refused",
        "NotFound",
        "workspace not found: nobody",
    )
    for name in ("Beta", "alpha", "_under", "Zed", "gamma"):
        engines.same("projects", lambda p, n=name: p.create_project("ada", n, visibility="PUBLIC"))
    assert engines.same("projects", lambda p: p.get_project("ada", "nope")) == (
        "refused",
        "NotFound",
        "project not found: ada/nope",
    )
    assert engines.same("projects", lambda p: p.project_id("nobody", "x"))[2] == (
        "workspace not found: nobody"
    )
    assert engines.same("projects", lambda p: p.project_for_write("ada", "auto")) == (
        engines.pg["projects"].project_id("ada", "auto")
    )
    engines.same(
        "projects",
        lambda p: p.update_project("ada", "vision", {"description": "d", "visibility": "public"}),
    )
    assert engines.same("projects", lambda p: p.update_project("ada", "vision", {"labels": 3}))[
        1
    ] == ("InvalidInput")

    # Every order, a page at a time: the same projects in the same order on both.
    for sort in (None, "name", "-name", "created_at", "-updated_at"):

        def pages(p: Any, sort: str | None = sort) -> list[list[str]]:
            out, cursor = [], None
            while True:
                page = p.list_projects("ada", sort=sort, cursor=cursor, limit=3)
                assert page["total"] == 7
                out.append([x["name"] for x in page["items"]])
                cursor = page["next"]
                if cursor is None:
                    return out

        got = engines.same("projects", pages)
        if sort == "name":
            assert got == [["Beta", "Zed", "_under"], ["alpha", "auto", "gamma"], ["vision"]]
    assert engines.same("projects", lambda p: p.list_projects("ada", sort="size"))[1] == (
        "InvalidInput"
    )
    seen = engines.same("projects", lambda p: p.list_projects("ada", viewer="eve", search="A"))
    # An outsider sees the public projects only; the search ignores case.
    assert sorted(x["name"] for x in seen["items"]) == ["Beta", "alpha", "gamma"]
    assert seen["total"] == 3
    assert engines.same("projects", lambda p: p.list_projects("nobody"))[1] == "NotFound"


def _add_runs(engines: Engines, rows: list[tuple[str, str, Any, Any]]) -> None:
    """Runs (id, state, created_at, heartbeat_at) of project ``ada/vision``, on both engines."""
    for name, db, mark in (("duck", engines.duck_db, "?"), ("pg", engines.pg_db, "%s")):
        pid = getattr(engines, name)["projects"].project_id("ada", "vision")
        for run_id, state, created, beat in rows:
            sql = (
                "INSERT INTO runs (project_id, id, state, created_at, heartbeat_at)"
                f" VALUES ({', '.join([mark] * 5)})"
            )
            params = [pid, run_id, state, created, beat]
            if name == "duck":
                with db.write() as con:
                    con.execute(sql, params)
            else:
                with db.transaction() as conn:
                    conn.execute(sql, params)


def test_liveness_crashes_the_same_silent_runs(engines):
    engines.same("accounts", lambda a: a.create_user("ada"))
    engines.same("projects", lambda p: p.create_project("ada", "vision"))
    t = dt.datetime.now(dt.UTC)
    old = t - dt.timedelta(minutes=10)
    _add_runs(
        engines,
        [
            ("silent", "RUNNING", old, old + dt.timedelta(seconds=5)),
            ("neverbeat", "RUNNING", old, None),
            ("alive", "RUNNING", old, t),
            ("done", "FINISHED", old, None),
        ],
    )
    assert engines.same("liveness", lambda v: v.crash_silent_runs(60)) == 2
    assert engines.same("liveness", lambda v: v.crash_silent_runs(60)) == 0
    q = "SELECT id, state, finished_at = coalesce(heartbeat_at, created_at) AS at FROM runs"
    duck = engines.duck_db.all(q + " ORDER BY id")
    pg = engines.pg_db.all(q + " ORDER BY id")
    assert (
        pg
        == duck
        == [
            {"id": "alive", "state": "RUNNING", "at": None},
            {"id": "done", "state": "FINISHED", "at": None},
            {"id": "neverbeat", "state": "CRASHED", "at": True},
            {"id": "silent", "state": "CRASHED", "at": True},
        ]
    )
    assert engines.same("projects", lambda p: p.get_project("ada", "vision"))["count"] == {
        "runs": 4
    }


def test_deleting_a_project_s_rows_empties_every_run_table(engines):
    engines.same("accounts", lambda a: a.create_user("ada"))
    engines.same("projects", lambda p: p.create_project("ada", "vision"))
    engines.same("projects", lambda p: p.create_project("ada", "kept"))
    t = dt.datetime.now(dt.UTC)
    _add_runs(engines, [("r1", "FINISHED", t, None)])
    pg = engines.pg_db
    pid = engines.pg["projects"].project_id("ada", "vision")
    kept = engines.pg["projects"].project_id("ada", "kept")
    with pg.transaction() as conn:
        run_pk = conn.execute("SELECT pk FROM runs WHERE project_id = %s", [pid]).fetchone()[0]
        conn.execute(
            "INSERT INTO point_chunks (run_pk, key_id, first_step, last_step, n, steps, ts, vals)"
            " VALUES (%s, 1, 0, 0, 1, %s, %s, %s)",
            [run_pk, bytes(8), bytes(8), struct.pack("<d", 1.0)],
        )
        conn.execute("INSERT INTO run_keys VALUES (%s, 1, 1, 0, 0, 0)", [run_pk])
        conn.execute("INSERT INTO console VALUES (%s, 0, 0, 'stdout', 'hi')", [run_pk])
        conn.execute(
            "INSERT INTO project_fields VALUES (%s, 'config', 'lr', 'number'),"
            " (%s, 'config', 'lr', 'number')",
            [pid, kept],
        )
    assert engines.pg["projects"].project_fields("ada", "vision") == {
        "config": {"lr": "number"},
        "summary": {},
    }
    with engines.pg["projects"].sql.transaction() as tx:
        engines.pg["projects"].delete_rows(tx, pid)
    counts = {
        table: pg.one(f"SELECT count(*) AS n FROM {table}")["n"]
        for table in ("runs", "point_chunks", "run_keys", "console", "project_fields", "projects")
    }
    assert counts == {
        "runs": 0,
        "point_chunks": 0,
        "run_keys": 0,
        "console": 0,
        "project_fields": 1,
        "projects": 1,
    }
    assert engines.pg["projects"].get_project("ada", "kept")["name"] == "kept"


def test_servers_making_one_project_at_once_make_it_once(pg_database):
    db = Database(pg_database)
    Accounts(PostgresSql(db)).create_user("ada")
    db.close()
    barrier = threading.Barrier(5)

    def make(_: int) -> int:
        db = Database(pg_database, max_size=1)
        try:
            projects = Projects(PostgresSql(db), Accounts(PostgresSql(db)))
            barrier.wait(timeout=60)
            return projects.project_for_write("ada", "shared")
        finally:
            db.close()

    with ThreadPoolExecutor(5) as pool:
        ids = list(pool.map(make, range(5), timeout=120))
    assert len(set(ids)) == 1


def test_two_owners_removing_each_other_at_once_leave_one_owner(pg_database):
    db = Database(pg_database)
    accounts = Accounts(PostgresSql(db))
    for user in ("ann", "ben"):
        accounts.create_user(user)
    accounts.create_team("lab", "ann")
    accounts.add_member("lab", "ben", "OWNER")
    db.close()
    for _ in range(5):
        barrier = threading.Barrier(2)

        def remove(user: str, barrier: threading.Barrier = barrier) -> str:
            db = Database(pg_database, max_size=1)
            try:
                barrier.wait(timeout=60)
                try:
                    Accounts(PostgresSql(db)).remove_member("lab", user)
                    return "removed"
                except StoreError as exc:
                    return type(exc).__name__
            finally:
                db.close()

        with ThreadPoolExecutor(2) as pool:
            outcomes = sorted(pool.map(remove, ["ann", "ben"], timeout=120))
        assert outcomes == ["Conflict", "removed"]
        db = Database(pg_database)
        try:
            accounts = Accounts(PostgresSql(db))
            (owner,) = accounts.list_members("lab")
            assert owner["role"] == "OWNER"
            gone = "ben" if owner["username"] == "ann" else "ann"
            accounts.add_member("lab", gone, "OWNER")
        finally:
            db.close()
