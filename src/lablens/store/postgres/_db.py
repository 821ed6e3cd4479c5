"""The PostgreSQL database of the team store: a connection pool, migrations, transactions.

Several identical servers share one database, so everything that must happen once (applying
migrations, making the first admin) happens inside a transaction holding one advisory lock,
:data:`SETUP_LOCK`: the first server does it, the others wait for its commit and find it done.
Opening refuses, naming the reason, a database that cannot be reached (its host and port, and
libpq's words) or whose schema is newer than this code's (both versions); a refused database
is left as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg import ClientCursor, pq
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from lablens.store.errors import InvalidInput, SchemaTooNew, StoreError, StoreUnreachable
from lablens.store.postgres.schema import MIGRATIONS

log = logging.getLogger("lablens.store")

T = TypeVar("T")

#: The advisory lock key of one-time setup (migrations, the first admin): an arbitrary 64-bit
#: number, the same in every lablens version, that nothing else in the database should use.
SETUP_LOCK = 0x2F5B_0B0E_2C60_4E1D
#: How long a server waits for another's migration before it gives up, naming the wait.
SETUP_WAIT = "300s"

_SCHEMES = ("postgresql://", "postgres://")


def iso(column: str) -> str:
    """SQL rendering a ``timestamptz`` column as an ISO 8601 UTC string with milliseconds, as
    the embedded store's ``iso`` renders it (``2026-12-03T16:50:55.123Z``)."""
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"


def now() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def is_postgres_url(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database (``postgresql://`` or ``postgres://``)."""
    return url.startswith(_SCHEMES)


def describe_url(url: str) -> tuple[str, int | None, str]:
    """The host, port and database a URL names (libpq's defaults filled in where it can)."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise StoreError(f"not a PostgreSQL URL: {redact(url)} ({exc})") from None
    host = str(info.get("host") or info.get("hostaddr") or "localhost")
    port = info.get("port")
    return host, int(port) if port and str(port).isdigit() else 5432, str(info.get("dbname") or "")


def redact(url: str) -> str:
    """The URL with any password replaced by ``***``, fit for messages and logs."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def _cause(exc: BaseException) -> str:
    """libpq's message on one line."""
    return " ".join(str(exc).split())


class Database:
    """The team store's PostgreSQL database: a pool of connections shared by the store's parts.

    Opening probes the server (``StoreUnreachable`` when it cannot be reached), then applies the
    pending migrations under :data:`SETUP_LOCK` (``SchemaTooNew`` when the database is ahead of
    this code), then opens the pool. Every write goes through :meth:`transaction`.
    """

    def __init__(
        self,
        url: str,
        *,
        migrations: Sequence[str] = MIGRATIONS,
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout: float = 10.0,
    ) -> None:
        if not is_postgres_url(url):
            raise StoreError(f"not a PostgreSQL URL: {redact(url)}; expected postgresql://...")
        self.url = url
        self.host, self.port, self.dbname = describe_url(url)
        self.connect_timeout = connect_timeout
        with self._connect() as conn:
            self._migrate(conn, migrations)
        self.pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            timeout=30.0,
            kwargs={"connect_timeout": max(1, int(connect_timeout)), "application_name": "lablens"},
            configure=_configure,
            check=ConnectionPool.check_connection,
            name="lablens",
        )
        try:
            self.pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout as exc:
            self.pool.close()
            raise self._unreachable(exc) from exc

    # -- opening ---------------------------------------------------------------------------------

    def _unreachable(self, exc: BaseException) -> StoreUnreachable:
        return StoreUnreachable(
            f"cannot reach the PostgreSQL database {self.dbname!r} at {self.host}:{self.port}:"
            f" {_cause(exc)}",
            host=self.host,
            port=self.port,
        )

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(
                self.url,
                connect_timeout=max(1, int(self.connect_timeout)),
                application_name="lablens",
            )
        except psycopg.OperationalError as exc:
            raise self._unreachable(exc) from exc
        _configure(conn)
        return conn

    def _migrate(self, conn: psycopg.Connection[Any], migrations: Sequence[str]) -> None:
        """Apply every pending migration, and their version rows, in one transaction under the
        setup lock: the database upgrades whole or stays as it was (PostgreSQL's DDL is
        transactional), and of several servers starting at once exactly one applies them."""
        known = len(migrations)
        with conn.transaction():
            conn.execute(f"SET LOCAL lock_timeout = '{SETUP_WAIT}'")
            try:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [SETUP_LOCK])
            except psycopg.errors.LockNotAvailable as exc:
                raise StoreError(
                    f"another lablens server has been setting up {self.dbname!r} at"
                    f" {self.host}:{self.port} for {SETUP_WAIT}; gave up waiting for it"
                ) from exc
            current = _schema_version(conn)
            if current > known:
                raise SchemaTooNew(
                    f"the PostgreSQL database {self.dbname!r} at {self.host}:{self.port} has"
                    f" schema version {current}, newer than the {known} this lablens knows:"
                    " a newer lablens migrated it. Upgrade lablens to serve it; nothing was"
                    " written to it.",
                    found=current,
                    known=known,
                )
            if current == known:
                return
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version integer PRIMARY KEY,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for number, sql in enumerate(migrations[current:], start=current + 1):
                try:
                    with conn.transaction():  # a savepoint, so the error names this migration
                        conn.execute(sql)
                        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", [number])
                except psycopg.Error as exc:
                    raise StoreError(
                        f"migrating the PostgreSQL database {self.dbname!r} to schema version"
                        f" {number} failed, so it stays at version {current}, unchanged:"
                        f" {_cause(exc)}"
                    ) from exc
            log.info("migrated %s from schema version %d to %d", self.dbname, current, known)

    # -- using -----------------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """The schema version of the database."""
        with self.pool.connection() as conn:
            return _schema_version(conn)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection inside one transaction: committed when the block ends, rolled back if it
        raises. The connection goes back to the pool after."""
        try:
            pooled = self.pool.connection()
            conn = pooled.__enter__()
        except PoolTimeout as exc:
            raise self._unreachable(exc) from exc
        try:
            with conn.transaction():
                yield conn
        except psycopg.DataError as exc:
            pooled.__exit__(type(exc), exc, exc.__traceback__)
            if "NUL" in str(exc):
                # The rules of each field refuse NUL where it would be stored; what is left is
                # a value only compared (a filter's), which PostgreSQL text cannot hold.
                raise InvalidInput(
                    "a value holds a NUL character (\\x00), which no stored text can hold"
                ) from exc
            raise
        except BaseException as exc:
            pooled.__exit__(type(exc), exc, exc.__traceback__)
            raise
        pooled.__exit__(None, None, None)

    def one(self, sql: str, params: Sequence[Any] | None = None) -> dict[str, Any] | None:
        """The first row as a dict, or ``None``."""
        with self.transaction() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, params)
            return cur.fetchone()

    def all(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Every row as a dict."""
        with self.transaction() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def first_admin_once(self, create_admin: Callable[[psycopg.Connection[Any]], T]) -> T | None:
        """Call ``create_admin(conn)`` if and only if the database has no user yet, holding the
        setup lock, inside the transaction that commits what it writes; returns its result, or
        ``None`` when a user exists.

        Of several servers starting together on an empty database exactly one makes the admin:
        the others wait for the lock, and then see the user it committed. (The admin itself is
        made by the accounts part, which passes ``create_admin``.)
        """
        with self.transaction() as conn:
            conn.execute(f"SET LOCAL lock_timeout = '{SETUP_WAIT}'")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [SETUP_LOCK])
            if conn.execute("SELECT EXISTS (SELECT 1 FROM users)").fetchone()[0]:
                return None
            return create_admin(conn)

    def close(self) -> None:
        """Close every connection of the pool."""
        self.pool.close()


def copy_out(con: psycopg.Connection[Any], statement: str, params: Sequence[Any]) -> bytes:
    """Everything a ``COPY ... TO STDOUT`` statement sends, as bytes, inside the caller's
    transaction (``params`` bound by psycopg on the client: COPY takes no bound parameters).

    ``COPY`` sends a message per row, and psycopg's reading loop costs more than the query when
    there are 100k of them (a run table, the tiles of a sampled read), so the messages are read
    with libpq's own call (``psycopg.pq``), on the same connection.
    """
    return b"".join(part for chunk in copy_out_chunks(con, statement, params) for part in chunk)


def copy_out_chunks(
    con: psycopg.Connection[Any], statement: str, params: Sequence[Any], size: int = 0
) -> Iterator[list[bytes]]:
    """What :func:`copy_out` reads, as its messages (a row each) in lists of at least ``size``
    bytes (the last may be shorter; 0: one list), so that the caller can work on a chunk while
    the next one arrives. The connection is usable again once the iterator is exhausted."""
    query = ClientCursor(con).mogrify(statement, params)
    pgconn = con.pgconn
    result = pgconn.exec_(query.encode())
    if result.status != pq.ExecStatus.COPY_OUT:
        raise psycopg.errors.error_from_result(result, encoding=con.info.encoding)
    parts: list[bytes] = []
    held = 0
    get = pgconn.get_copy_data
    while True:
        n, data = get(0)
        if n < 0:
            break
        parts.append(data)
        held += n
        if size and held >= size:
            yield parts
            parts, held = [], 0
    result = pgconn.get_result()
    while pgconn.get_result() is not None:  # the end of the command's results
        pass
    if result is None or result.status != pq.ExecStatus.COMMAND_OK:
        raise psycopg.errors.error_from_result(result, encoding=con.info.encoding)
    if parts or not size:
        yield parts


def _configure(conn: psycopg.Connection[Any]) -> None:
    """Every connection reads and writes times in UTC, and compiles no query to machine code.

    PostgreSQL's JIT starts on queries its planner thinks costly, which a filter over the JSON
    of 100k runs is: compiling it took 1.2 s of a 2.2 s query, for a query that runs once.
    """
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET jit = off")
    conn.commit()


def _schema_version(conn: psycopg.Connection[Any]) -> int:
    """The highest migration applied (0 for a database lablens never touched)."""
    if conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()[0]:
        return conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
    return 0
