"""The DuckDB connection of the embedded store: migrations, locking, small query helpers."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from lablens.store.embedded.schema import MIGRATIONS
from lablens.store.errors import StoreError

log = logging.getLogger("lablens.store")

# A WAL entry's payload starts with field 100 (its type); WAL_FLUSH, type 100, closes a commit.
_WAL_FLUSH = b"\x64\x00\x64"

# Times go out as ISO 8601 UTC with milliseconds, as the seeds show them.
ISO = "'%Y-%m-%dT%H:%M:%S.%gZ'"


def iso(column: str) -> str:
    """SQL rendering a TIMESTAMPTZ column as an ISO 8601 UTC string."""
    return f"strftime({column}, {ISO})"


def now() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class DataDirTooNew(StoreError):
    """The data dir was written by a newer lablens, whose schema this code does not know."""


def torn_wal_tail(wal: Path) -> int:
    """How many bytes at the end of a DuckDB write-ahead log DuckDB will not replay (0: none).

    After its version header (a serialized object closed by the end marker ``ff ff``), DuckDB's WAL
    is a chain of entries ``[u64 size][u64 checksum][size bytes]``. A commit appends its entries
    and a closing flush entry (type 100) in one write, and syncs it before it is acknowledged;
    replay applies the entries up to the last flush and silently drops what follows. So the
    bytes after the last complete flush entry are a transaction cut short. Returns 0 for a log
    whose layout is not recognised, so nothing is claimed that was not seen.
    """
    try:
        data = wal.read_bytes()
    except OSError:
        return 0
    head = data.find(b"\xff\xff", 0, 128)
    if not data.startswith(b"d\x00") or head < 0:
        return 0
    pos = committed = head + 2
    end = len(data)
    while pos + 16 <= end:
        (size,) = struct.unpack_from("<Q", data, pos)
        if pos + 16 + size > end:
            break
        if data[pos + 16 : pos + 19] == _WAL_FLUSH:
            committed = pos + 16 + size
        pos += 16 + size
    return end - committed


class Database:
    """One DuckDB file owned by this process.

    Writes are serialized by one lock, because DuckDB aborts concurrent writers of the same rows;
    reads run on their own cursors without it, and see a consistent snapshot.
    """

    def __init__(self, path: Path | str, migrations: Sequence[str] = MIGRATIONS) -> None:
        self.path = str(path)
        self._check_wal()
        if os.path.exists(self.path):
            # Read-only first: a data dir of a newer lablens is refused with nothing written.
            self._check_version(migrations)
        self.con = duckdb.connect(self.path)
        self.lock = threading.RLock()
        self._local = threading.local()
        #: write transactions committed by this process (see :meth:`committed`)
        self.commits = 0
        self.con.execute("SET TimeZone = 'UTC'")
        try:
            self._migrate(migrations)
        except BaseException:
            self.con.close()
            raise

    def _check_wal(self) -> None:
        wal = Path(self.path + ".wal")
        if torn := torn_wal_tail(wal):
            log.warning(
                "%s ends in %d bytes (of %d) of a commit cut short, which DuckDB drops on replay."
                " A write in flight when the server stopped was never acknowledged; an"
                " acknowledged one is lost only if the disk dropped data it had reported synced",
                wal,
                torn,
                wal.stat().st_size,
            )

    def _check_version(self, migrations: Sequence[str]) -> None:
        con = duckdb.connect(self.path, read_only=True)
        try:
            has = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
            ).fetchone()[0]
            found = (
                con.execute("SELECT max(version) FROM schema_version").fetchone()[0] if has else 0
            )
        finally:
            con.close()
        if (found or 0) > len(migrations):
            raise DataDirTooNew(
                f"{self.path} has schema version {found}, newer than the {len(migrations)} this"
                " lablens knows: it was written by a newer lablens. Upgrade lablens to open it;"
                " nothing was written to it."
            )

    def _migrate(self, migrations: Sequence[str]) -> None:
        """Apply every pending migration, and the version row, in one transaction: a data dir
        upgrades whole or stays as it was (DuckDB's DDL is transactional)."""
        with self.write() as con:
            con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = con.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            if current > len(migrations):
                raise DataDirTooNew(
                    f"{self.path} has schema version {current}, newer than the"
                    f" {len(migrations)} this lablens knows"
                )
            for number, sql in enumerate(migrations[current:], start=current + 1):
                try:
                    con.execute(sql)
                    con.execute("INSERT INTO schema_version VALUES (?)", [number])
                except duckdb.Error as exc:
                    raise StoreError(
                        f"migrating {self.path} to schema version {number} failed, so it stays"
                        f" at version {current}, unchanged: {exc}"
                    ) from exc

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
        """A transaction under the write lock; rolled back if the block raises. Inside
        :meth:`one_commit` on the same thread, that transaction (committed at its end)."""
        if getattr(self._local, "in_write", False):
            yield self.reader()
            return
        with self.lock:
            cur = self.reader()
            cur.execute("BEGIN TRANSACTION")
            self._local.in_write = True
            self._local.committed = []
            try:
                yield cur
            except BaseException:
                self._local.in_write = False
                cur.execute("ROLLBACK")
                raise
            self._local.in_write = False
            cur.execute("COMMIT")
            self.commits += 1
            for then in self._local.committed:
                then()

    def committed(self) -> int | None:
        """How many write transactions have committed (the count moves after each COMMIT);
        ``None`` inside one on this thread, whose reads see what may still roll back."""
        return None if getattr(self._local, "in_write", False) else self.commits

    def after_commit(self, then: Callable[[], None]) -> None:
        """Call ``then`` once this thread's write transaction has committed (never if it rolls
        back): for what may be kept in memory only once it is stored."""
        self._local.committed.append(then)

    @contextlib.contextmanager
    def one_commit(self) -> Iterator[None]:
        """The writes of the block (on this thread) as one transaction: one commit, and so one
        flush of DuckDB's log to disk, for a request that writes several things."""
        if getattr(self._local, "memo", None) is not None:  # inside one already
            yield
            return
        with self.write():
            self._local.memo = {}
            try:
                yield
            finally:
                self._local.memo = None

    def memo(self) -> dict[Any, Any] | None:
        """The lookups kept for the rest of this thread's ``one_commit`` block, or ``None``
        outside one. Its transaction holds the write lock, so no other writer can change what
        they found."""
        return getattr(self._local, "memo", None)

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
