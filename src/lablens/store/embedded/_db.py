"""The DuckDB connection of the embedded store: migrations, locking, small query helpers."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from lablens.store.embedded.schema import MIGRATIONS

# Times go out as ISO 8601 UTC with milliseconds, as the seeds show them.
ISO = "'%Y-%m-%dT%H:%M:%S.%gZ'"


def iso(column: str) -> str:
    """SQL rendering a TIMESTAMPTZ column as an ISO 8601 UTC string."""
    return f"strftime({column}, {ISO})"


def now() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class Database:
    """One DuckDB file owned by this process.

    Writes are serialized by one lock, because DuckDB aborts concurrent writers of the same rows;
    reads run on their own cursors without it, and see a consistent snapshot.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.con = duckdb.connect(self.path)
        self.lock = threading.RLock()
        self._local = threading.local()
        self.con.execute("SET TimeZone = 'UTC'")
        self._migrate()

    def _migrate(self) -> None:
        self.con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = self.con.execute("SELECT max(version) FROM schema_version").fetchone()
        current = row[0] or 0
        for number, sql in enumerate(MIGRATIONS[current:], start=current + 1):
            with self.write() as con:
                con.execute(sql)
                con.execute("INSERT INTO schema_version VALUES (?)", [number])

    @property
    def version(self) -> int:
        """The schema version of the open file."""
        return self.con.execute("SELECT max(version) FROM schema_version").fetchone()[0]

    def reader(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread (DuckDB connections are not shared across threads)."""
        cur = getattr(self._local, "cur", None)
        if cur is None:
            cur = self.con.cursor()
            cur.execute("SET TimeZone = 'UTC'")
            self._local.cur = cur
        return cur

    @contextlib.contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A transaction under the write lock; rolled back if the block raises."""
        with self.lock:
            cur = self.reader()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def one(self, sql: str, params: list[Any] | None = None) -> dict[str, Any] | None:
        """The first row as a dict, or ``None``."""
        cur = self.reader().execute(sql, params or [])
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    def all(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Every row as a dict."""
        cur = self.reader().execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        """Close the file (checkpointing the write-ahead log)."""
        with self.lock:
            self.con.close()
