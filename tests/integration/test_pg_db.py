"""The PostgreSQL store's database handle on a real PostgreSQL: migrations, locks, refusals."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from lablens._settings import free_port
from lablens.store.errors import SchemaTooNew, StoreError, StoreUnreachable
from lablens.store.postgres._db import Database, redact
from lablens.store.postgres.schema import MIGRATIONS


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


@pytest.mark.skipif(
    bool(os.environ.get("LABLENS_TEST_POSTGRES_URL")), reason="an outside server: its own settings"
)
def test_the_test_server_listens_on_loopback_only_and_syncs_its_commits(pg_database):
    with psycopg.connect(pg_database) as conn:
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in ("listen_addresses", "fsync", "synchronous_commit")
        }
        user = conn.execute("SELECT current_user").fetchone()[0]
    assert settings == {"listen_addresses": "127.0.0.1", "fsync": "on", "synchronous_commit": "on"}
    assert user == "postgres"


def test_opening_an_empty_database_applies_every_migration(pg_database):
    db = Database(pg_database)
    try:
        assert db.version == len(MIGRATIONS)
        assert {"users", "runs", "point_chunks", "tile_chunks", "artifacts", "media"} <= tables(
            pg_database
        )
        assert db.one("SELECT count(*) AS n FROM schema_version") == {"n": len(MIGRATIONS)}
    finally:
        db.close()


def test_several_servers_starting_together_migrate_exactly_once(pg_database):
    barrier = threading.Barrier(6)

    def open_one(_: int) -> int:
        barrier.wait(timeout=30)
        db = Database(pg_database, max_size=2)
        try:
            return db.version
        finally:
            db.close()

    with ThreadPoolExecutor(6) as pool:
        versions = list(pool.map(open_one, range(6), timeout=120))
    assert versions == [len(MIGRATIONS)] * 6
    with psycopg.connect(pg_database) as conn:
        rows = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert [r[0] for r in rows] == list(range(1, len(MIGRATIONS) + 1))


def test_a_later_migration_applies_on_top(pg_database):
    Database(pg_database).close()
    more = [*MIGRATIONS, "CREATE TABLE later (x integer)"]
    db = Database(pg_database, migrations=more)
    try:
        assert db.version == len(more)
        assert "later" in tables(pg_database)
    finally:
        db.close()


def test_a_failing_migration_leaves_the_database_as_it_was(pg_database):
    Database(pg_database).close()
    bad = [*MIGRATIONS, "CREATE TABLE half (x integer)", "CREATE TABLE runs (x integer)"]
    with pytest.raises(StoreError) as info:
        Database(pg_database, migrations=bad)
    message = str(info.value)
    assert f"schema version {len(MIGRATIONS) + 2} failed" in message
    assert f"stays at version {len(MIGRATIONS)}" in message
    assert "already exists" in message
    # Migration n+1 went with it: one transaction.
    assert "half" not in tables(pg_database)
    db = Database(pg_database)
    try:
        assert db.version == len(MIGRATIONS)
    finally:
        db.close()


def test_a_schema_newer_than_the_code_is_refused_naming_both_versions(pg_database):
    more = [*MIGRATIONS, "CREATE TABLE later (x integer)"]
    Database(pg_database, migrations=more).close()
    with psycopg.connect(pg_database) as conn:
        before = conn.execute("SELECT count(*) FROM schema_version").fetchone()[0]
    with pytest.raises(SchemaTooNew) as info:
        Database(pg_database)
    err = info.value
    assert (err.found, err.known) == (len(more), len(MIGRATIONS))
    assert f"schema version {len(more)}, newer than the {len(MIGRATIONS)}" in str(err)
    assert "Upgrade lablens" in str(err)
    with psycopg.connect(pg_database) as conn:
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == before


def test_an_unreachable_server_is_named_with_its_cause():
    port = free_port()  # nothing listens there
    url = f"postgresql://lablens:secret@127.0.0.1:{port}/team"
    started = time.monotonic()
    with pytest.raises(StoreUnreachable) as info:
        Database(url, connect_timeout=5)
    assert time.monotonic() - started < 30
    err = info.value
    assert (err.host, err.port) == ("127.0.0.1", port)
    text = str(err)
    assert f"at 127.0.0.1:{port}" in text and "'team'" in text
    assert "refused" in text.lower()
    assert "secret" not in text


def test_a_missing_database_is_unreachable_naming_it(postgres_url):
    url = postgres_url.rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(StoreUnreachable) as info:
        Database(url)
    assert 'database "no_such_database" does not exist' in str(info.value)


def test_not_a_postgres_url_is_refused():
    with pytest.raises(StoreError, match="not a PostgreSQL URL"):
        Database("mysql://x@y/z")


def test_redact_hides_the_password():
    assert redact("postgresql://u:p%40ss@h:5/d") == "postgresql://u:***@h:5/d"
    assert redact("postgresql://u@h/d") == "postgresql://u@h/d"


def test_a_transaction_commits_or_rolls_back_whole(pg_database):
    db = Database(pg_database)
    try:
        with db.transaction() as conn:
            conn.execute("INSERT INTO users (username) VALUES ('ada')")
        with pytest.raises(RuntimeError), db.transaction() as conn:
            conn.execute("INSERT INTO users (username) VALUES ('bob')")
            raise RuntimeError("cut short")
        assert [r["username"] for r in db.all("SELECT username FROM users")] == ["ada"]
        assert db.one("SELECT username FROM users WHERE username = %s", ["bob"]) is None
    finally:
        db.close()


def test_times_are_utc(pg_database):
    db = Database(pg_database)
    try:
        assert db.one("SELECT current_setting('TimeZone') AS tz") == {"tz": "UTC"}
    finally:
        db.close()


def test_the_first_admin_is_made_exactly_once_by_servers_starting_together(pg_database):
    Database(pg_database).close()
    barrier = threading.Barrier(8)
    made: list[int] = []

    def create_admin(conn: psycopg.Connection) -> str:
        time.sleep(0.2)  # a slow first start: the others must wait, then see the user
        conn.execute("INSERT INTO users (username, is_admin) VALUES ('admin', true)")
        made.append(1)
        return "admin"

    def start(_: int) -> str | None:
        db = Database(pg_database, max_size=2)
        try:
            barrier.wait(timeout=30)
            return db.first_admin_once(create_admin)
        finally:
            db.close()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(start, range(8), timeout=120))
    assert results.count("admin") == 1
    assert results.count(None) == 7
    assert made == [1]
    with psycopg.connect(pg_database) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 1


def test_a_failed_first_admin_leaves_no_user_and_the_next_start_tries_again(pg_database):
    db = Database(pg_database)
    try:

        def broken(conn: psycopg.Connection) -> None:
            conn.execute("INSERT INTO users (username) VALUES ('admin')")
            raise RuntimeError("no key")

        with pytest.raises(RuntimeError):
            db.first_admin_once(broken)
        assert db.one("SELECT count(*) AS n FROM users") == {"n": 0}
        assert db.first_admin_once(lambda conn: "made") == "made"
    finally:
        db.close()
