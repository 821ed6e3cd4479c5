"""Copying the data dir's tables (all but metric points) row for row into PostgreSQL.

The tables and their columns are read from both catalogs, so a table added to both schemas is
copied without a change here, and a table or column missing from PostgreSQL is refused by name.
Rows keep their ids. DuckDB is read through Arrow a bounded batch at a time; each batch goes
into a temporary table by ``COPY``, then into its table in one statement that skips the rows
already there, so a migration cut short is taken up by running it again:

- a table with a primary key PostgreSQL checks at once: a transaction per batch,
  ``INSERT ... ON CONFLICT (key) DO NOTHING``;
- a table without one (artifact usage, blob grants), or whose key is checked only at commit
  (artifact aliases; ``ON CONFLICT`` cannot use such a key): the whole table in one
  transaction, inserting the rows the table lacks, counted with their repeats (``EXCEPT ALL``).

Afterwards each identity column is moved past the largest id copied (and past the embedded
sequence, so the id of a row deleted before the move is not given again).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import psycopg
from psycopg import sql

from lablens.store.migrate._checksums import RowSum
from lablens.store.migrate._ends import MigrationRefused
from lablens.store.postgres._db import Database

#: The order tables are copied and reported in (accounts, then projects and runs, then what
#: hangs off them); a table not named here follows, by name.
ORDER = (
    "users",
    "api_keys",
    "workspaces",
    "members",
    "projects",
    "project_fields",
    "runs",
    "metric_keys",
    "points",
    "run_keys",
    "point_tiles",
    "batches",
    "files",
    "console",
    "sweeps",
    "sweep_trials",
    "reports",
    "artifact_types",
    "artifact_collections",
    "artifacts",
    "artifact_aliases",
    "artifact_files",
    "artifact_usage",
    "blob_grants",
    "media",
    "media_batches",
    "custom_charts",
    "run_queues",
    "run_queue_items",
    "registries",
    "registry_members",
    "integrations",
    "automations",
    "automation_deliveries",
    "automation_attempts",
)
#: Tables the migration does not copy: the schema's own bookkeeping (its version, the access
#: epoch each database keeps for its servers' caches).
SKIPPED = frozenset({"schema_version", "auth_epoch"})
#: The staging table a batch is copied into (dropped at the end of its transaction).
STAGE = "_lablens_migrate_stage"

#: Called after each committed step with the table's name and its rows copied so far.
Hook = Callable[[str, int], None]


@dataclass(frozen=True)
class Table:
    """One table to copy: its columns (the embedded schema's), which of them hold JSON and which
    times, and the primary key PostgreSQL checks at once (``None``: copied whole, by
    difference)."""

    name: str
    columns: tuple[str, ...]
    json_columns: tuple[bool, ...]
    time_columns: tuple[bool, ...]
    key: tuple[str, ...] | None


def source_tables(source: duckdb.DuckDBPyConnection) -> list[str]:
    """The data dir's tables in copy order."""
    names = {
        r[0]
        for r in source.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
        ).fetchall()
    } - SKIPPED
    return [t for t in ORDER if t in names] + sorted(names - set(ORDER))


def plan(source: duckdb.DuckDBPyConnection, target: Database, name: str) -> Table:
    """How to copy table ``name``: refused when PostgreSQL lacks it or one of its columns."""
    columns = source.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [name],
    ).fetchall()
    theirs = {
        r["column_name"]
        for r in target.all(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s",
            [name],
        )
    }
    if not theirs:
        raise MigrationRefused(
            f"the PostgreSQL schema has no table {name!r}, which the data dir has: this"
            " lablens cannot migrate it"
        )
    missing = [c for c, _ in columns if c not in theirs]
    if missing:
        raise MigrationRefused(
            f"the PostgreSQL table {name!r} has no column {missing[0]!r}, which the data dir's"
            " has: this lablens cannot migrate it"
        )
    pk = target.one(
        "SELECT c.condeferrable, array_agg(a.attname ORDER BY k.i) AS cols"
        " FROM pg_constraint c"
        " CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, i)"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum"
        " WHERE c.conrelid = to_regclass(%s) AND c.contype = 'p'"
        " GROUP BY c.condeferrable",
        [name],
    )
    key = tuple(pk["cols"]) if pk and not pk["condeferrable"] else None
    return Table(
        name,
        tuple(c for c, _ in columns),
        tuple(t.upper() == "JSON" for _, t in columns),
        tuple(t.upper().startswith("TIMESTAMP") for _, t in columns),
        key,
    )


def count_source(source: duckdb.DuckDBPyConnection, name: str) -> int:
    """The rows of table ``name`` in the data dir."""
    return source.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]


def count_target(target: Database, name: str) -> int:
    """The rows of table ``name`` in PostgreSQL."""
    row = target.one(sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(name)))
    return row["n"] if row else 0


def _batches(
    source: duckdb.DuckDBPyConnection, table: Table, batch_rows: int
) -> Any:  # an iterator of lists of row tuples
    cols = ", ".join(f'"{c}"' for c in table.columns)
    # A cursor of its own: DuckDB runs nothing else on a connection while a result streams.
    with source.cursor() as cur:
        reader = cur.sql(f'SELECT {cols} FROM "{table.name}"').to_arrow_reader(batch_rows)
        for batch in reader:
            yield list(zip(*(col.to_pylist() for col in batch.columns), strict=True))


def _stage(conn: psycopg.Connection[Any], table: Table, rows: list[tuple]) -> None:
    """``rows`` into the staging table, made in this transaction if it is not there yet."""
    conn.execute(
        sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {}) ON COMMIT DROP").format(
            sql.Identifier(STAGE), sql.Identifier(table.name)
        )
    )
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(STAGE), sql.SQL(", ").join(map(sql.Identifier, table.columns))
    )
    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row(row)


def copy_table(
    source: duckdb.DuckDBPyConnection,
    conn: psycopg.Connection[Any],
    table: Table,
    *,
    batch_rows: int,
    progress: Callable[[int], None],
    hook: Hook | None = None,
) -> int:
    """Copy the rows of ``table`` that PostgreSQL lacks; answers how many were new."""
    cols = sql.SQL(", ").join(map(sql.Identifier, table.columns))
    name = sql.Identifier(table.name)
    new = done = 0
    try:
        if table.key is not None:
            insert = sql.SQL(
                "INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) DO NOTHING"
            ).format(
                name,
                cols,
                cols,
                sql.Identifier(STAGE),
                sql.SQL(", ").join(map(sql.Identifier, table.key)),
            )
            for rows in _batches(source, table, batch_rows):
                with conn.transaction():
                    _stage(conn, table, rows)
                    new += conn.execute(insert).rowcount
                done += len(rows)
                progress(len(rows))
                if hook:
                    hook(table.name, done)
            return new
        # Repeats count: a row twice in the data dir is there twice after.
        insert = sql.SQL(
            "INSERT INTO {} ({}) SELECT {} FROM {} EXCEPT ALL SELECT {} FROM {}"
        ).format(name, cols, cols, sql.Identifier(STAGE), cols, name)
        with conn.transaction():
            staged = False
            for rows in _batches(source, table, batch_rows):
                _stage(conn, table, rows)
                staged = True
                done += len(rows)
                progress(len(rows))
            if staged:
                new = conn.execute(insert).rowcount
        if hook:
            hook(table.name, done)
        return new
    except psycopg.Error as exc:
        raise MigrationRefused(
            f"copying table {table.name!r} into PostgreSQL failed after {done} rows (those"
            f" committed stay; run the migration again to go on): {' '.join(str(exc).split())}"
        ) from exc


# -- checksums ---------------------------------------------------------------------------------


def checksum_source(source: duckdb.DuckDBPyConnection, table: Table, batch_rows: int) -> RowSum:
    """The checksum of the data dir's rows of ``table``."""
    total = RowSum(table.json_columns, table.time_columns)
    for rows in _batches(source, table, batch_rows):
        total.add(rows)
    return total


def checksum_target(conn: psycopg.Connection[Any], table: Table, batch_rows: int) -> RowSum:
    """The checksum of PostgreSQL's rows of ``table``: JSON read as its text, to be read the
    way the data dir's is."""
    total = RowSum(table.json_columns, table.time_columns)
    fields = sql.SQL(", ").join(
        sql.SQL("{}::text").format(sql.Identifier(c)) if j else sql.Identifier(c)
        for c, j in zip(table.columns, table.json_columns, strict=True)
    )
    query = sql.SQL("SELECT {} FROM {}").format(fields, sql.Identifier(table.name))
    with conn.transaction(), conn.cursor(name="lablens_migrate_check") as cur:
        cur.itersize = batch_rows
        cur.execute(query)
        while rows := cur.fetchmany(batch_rows):
            total.add(rows)
    return total


# -- identities --------------------------------------------------------------------------------


def _source_sequences(source: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    """The last value each embedded sequence gave, by the (table, column) it numbers."""
    last = dict(
        source.execute(
            "SELECT sequence_name, coalesce(last_value, 0) FROM duckdb_sequences()"
        ).fetchall()
    )
    out = {}
    for table, column, default in source.execute(
        "SELECT table_name, column_name, column_default FROM information_schema.columns"
        " WHERE column_default LIKE 'nextval(%'"
    ).fetchall():
        match = re.search(r"nextval\('([^']+)'", default or "")
        if match and match.group(1) in last:
            out[(table, column)] = int(last[match.group(1)])
    return out


def advance_identities(source: duckdb.DuckDBPyConnection, conn: psycopg.Connection[Any]) -> None:
    """Move each identity of the tables copied past the largest id in it and past the id the
    embedded sequence gave last, never back: the next row a server makes gets a new id."""
    floors = _source_sequences(source)
    with conn.transaction():
        identities = conn.execute(
            "SELECT table_name, column_name, pg_get_serial_sequence(table_name, column_name)"
            " FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'"
        ).fetchall()
        for table, column, seq in identities:
            if (table, column) not in floors and table not in ORDER:
                continue  # not a copied table's (point_chunks numbers its own rows)
            largest = conn.execute(
                sql.SQL("SELECT coalesce(max({}), 0) FROM {}").format(
                    sql.Identifier(column), sql.Identifier(table)
                )
            ).fetchone()[0]
            current = conn.execute(
                "SELECT coalesce(last_value, 0) FROM pg_sequences"
                " WHERE format('%%I.%%I', schemaname, sequencename) = %s",
                [seq],
            ).fetchone()
            value = max(int(largest), floors.get((table, column), 0), int(current[0] or 0))
            if value > 0:
                conn.execute("SELECT setval(%s, %s)", [seq, value])
