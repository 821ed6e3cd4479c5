"""``lablens server --store postgresql://...``: a server refuses to start, naming the reason and
the fix, when its PostgreSQL store cannot be used (no blob store given, a database that cannot be
reached, one a newer lablens migrated), and several servers starting together on a new database
make one admin. Real ``lablens server`` subprocesses, a real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from lablens._settings import free_port, server_argv, stop_process
from lablens.api import Api
from lablens.store.postgres.schema import MIGRATIONS
from servers import spawn_server

ADMIN_KEY = "ll_" + "7" * 48


def refused(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[str, float]:
    """Start a server that must refuse to: its stderr, and how long it took to give up."""
    started = time.monotonic()
    done = subprocess.run(
        [*server_argv(free_port(), tmp_path / "data"), *args],
        env={**os.environ, **(env or {}), "LABLENS_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stderr, time.monotonic() - started


def test_a_postgresql_store_without_a_blob_store_is_refused_naming_the_fix(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "LABLENS_BLOBS"}
    err, _ = refused(tmp_path, "--store", "postgresql://u@127.0.0.1:5/team", env=env)
    assert "a PostgreSQL store needs a blob store" in err
    assert "--blobs s3://BUCKET/PREFIX" in err and "LABLENS_BLOBS" in err
    assert not (tmp_path / "data").exists()  # a team server keeps nothing on its disk


def test_an_unreachable_database_stops_the_server_naming_host_port_and_cause(tmp_path):
    port = free_port()  # nothing listens there
    url = f"postgresql://team:secret@127.0.0.1:{port}/team"
    err, took = refused(tmp_path, "--store", url, "--blobs", (tmp_path / "blobs").as_uri())
    assert f"cannot reach the PostgreSQL database 'team' at 127.0.0.1:{port}" in err
    assert "refused" in err.lower()
    assert "secret" not in err
    assert took < 60


def test_a_database_a_newer_lablens_migrated_stops_the_server_untouched(tmp_path, pg_database):
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_version (version integer PRIMARY KEY)")
        conn.execute(
            "INSERT INTO schema_version SELECT generate_series(1, %s)", [len(MIGRATIONS) + 1]
        )
    blobs = (tmp_path / "blobs").as_uri()
    err, _ = refused(tmp_path, "--store", pg_database, "--blobs", blobs)
    newer = len(MIGRATIONS) + 1
    assert f"has schema version {newer}, newer than the {len(MIGRATIONS)} this lablens knows" in err
    assert "Upgrade lablens" in err
    with psycopg.connect(pg_database) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    assert [t[0] for t in tables] == ["schema_version"]


def test_servers_starting_together_on_a_new_database_make_one_admin(tmp_path, pg_database):
    blobs = (tmp_path / "blobs").as_uri()
    env = {"LABLENS_ADMIN_API_KEY": ADMIN_KEY}
    ports = [free_port() for _ in range(3)]

    def start(i: int) -> subprocess.Popen:
        args = ["--store", pg_database, "--blobs", blobs]
        return spawn_server(ports[i], tmp_path / f"data{i}", tmp_path / f"home{i}", args, env)

    with ThreadPoolExecutor(3) as pool:
        procs = list(pool.map(start, range(3), timeout=180))
    try:
        for port in ports:
            api = Api(host=f"http://127.0.0.1:{port}", api_key=ADMIN_KEY)
            assert api.viewer.is_admin is True
            assert [u.username for u in api.users()] == [api.viewer.username]
        for i in range(3):
            assert not (tmp_path / f"data{i}").exists()
        with psycopg.connect(pg_database) as conn:
            assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 1
            assert conn.execute("SELECT count(*) FROM api_keys").fetchone()[0] == 1
    finally:
        for proc in procs:
            stop_process(proc)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_open_store_takes_both_schemes_and_wants_blobs(scheme):
    from lablens.store import open_store

    with pytest.raises(ValueError, match="a PostgreSQL store needs a blob store"):
        open_store(f"{scheme}://u@127.0.0.1:5/team")
