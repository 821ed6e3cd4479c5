"""The two ends of a migration, opened or refused: an embedded data dir read-only, a PostgreSQL
database through ``postgres._db.Database`` (which applies its migrations).

Each refusal names the part at fault (the data dir, the database) and what to do, and leaves
both ends as they were, except that a data dir of an older lablens is first upgraded in place,
as ``lablens server`` would on its next start.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from lablens.store.embedded._db import Database as EmbeddedDatabase
from lablens.store.embedded.schema import MIGRATIONS as EMBEDDED_MIGRATIONS
from lablens.store.errors import StoreError
from lablens.store.postgres._db import Database, is_postgres_url, redact

#: The DuckDB file inside a data dir.
DATABASE_FILE = "lablens.duckdb"
#: The most memory DuckDB may use while the data dir is read.
SOURCE_MEMORY = "128MB"


class MigrationRefused(StoreError):
    """A migration that cannot start: the message names the data dir or database at fault."""


def _source_version(path: Path) -> int:
    """The schema version of the DuckDB file, read without writing anything."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            pid = re.search(r"PID (\d+)", str(exc))
            who = f" (pid {pid.group(1)})" if pid else ""
            raise MigrationRefused(
                f"the data dir {path.parent} is in use by a running lablens server{who}: stop it"
                " first ('lablens server stop', or end that process), then migrate, so that"
                " nothing is written to it while it is copied"
            ) from None
        raise MigrationRefused(f"cannot open the data dir {path.parent}: {exc}") from None
    try:
        has = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        ).fetchall()[0][0]
        return (
            (con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0] or 0)
            if has
            else 0
        )
    finally:
        con.close()


def open_source(data_dir: str | Path) -> duckdb.DuckDBPyConnection:
    """The data dir's DuckDB file, opened read-only (which also keeps a server from opening it
    for writing meanwhile).

    Raises:
        MigrationRefused: the data dir does not exist, is no lablens data dir, is in use by a
            running server, or was written by a newer lablens.
    """
    root = Path(data_dir)
    if not root.exists():
        raise MigrationRefused(f"the data dir {root} does not exist")
    if not root.is_dir():
        raise MigrationRefused(f"the data dir {root} is not a directory")
    path = root / DATABASE_FILE
    if not path.is_file():
        raise MigrationRefused(
            f"{root} is not a lablens data dir: it has no {DATABASE_FILE} (give the directory"
            " 'lablens server --data' was started with)"
        )
    found, known = _source_version(path), len(EMBEDDED_MIGRATIONS)
    if found > known:
        raise MigrationRefused(
            f"the data dir {root} has schema version {found}, newer than the {known} this"
            " lablens knows: it was written by a newer lablens. Migrate it with that version;"
            " nothing was written."
        )
    if found < known:
        # Copied as the current schema has it: upgrade in place first, as a server would.
        EmbeddedDatabase(path).close()
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    # Sorting the points of a big data dir spills to disk: somewhere else than the data dir.
    spill = Path(tempfile.gettempdir(), "lablens-migrate").as_posix().replace("'", "''")
    con.execute(f"SET temp_directory = '{spill}'")
    # Bounded memory whatever the data dir's size: DuckDB spills past it rather than holding a
    # big table's sort (the points in series order) in memory.
    con.execute(f"SET memory_limit = '{SOURCE_MEMORY}'")
    return con


def open_target(url: str) -> Database:
    """The PostgreSQL database at ``url``, its schema migrated to this lablens's.

    Raises:
        MigrationRefused: ``url`` is not a PostgreSQL URL.
        StoreUnreachable, SchemaTooNew, StoreError: from ``postgres._db.Database``.
    """
    if not is_postgres_url(url):
        raise MigrationRefused(
            f"the target {redact(url)!r} is not a PostgreSQL database: --to takes a"
            " postgresql://USER@HOST:PORT/DB URL"
        )
    return Database(url, min_size=1, max_size=2)


def check_target_users(source: duckdb.DuckDBPyConnection, target: Database) -> None:
    """Refuse a database whose users are not the data dir's own (a server already made its
    admin there, or another data dir went into it): copying would mix two sets of accounts.

    A target holding some of the data dir's users, with their ids, is a migration cut short,
    and is taken up where it stopped.
    """
    theirs: list[dict[str, Any]] = target.all("SELECT id, username FROM users ORDER BY id")
    if not theirs:
        return
    ours = dict(source.execute("SELECT id, username FROM users").fetchall())
    for row in theirs:
        if ours.get(row["id"]) != row["username"]:
            raise MigrationRefused(
                f"the PostgreSQL database {target.dbname!r} at {target.host}:{target.port}"
                f" already holds user {row['username']!r} (id {row['id']}), who is not the data"
                " dir's: migrate into a new, empty database (one no lablens server has used)"
            )
