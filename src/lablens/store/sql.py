"""One engine's SQL as the shared parts speak it (``lablens.store.common``).

A part whose logic is the same on every engine (reports, sweeps, accounts, ...) is written once,
over :class:`Sql`: its statements use ``?`` placeholders and the SQL both DuckDB and PostgreSQL
understand, and what differs between them is asked of the engine's ``Sql`` (a time rendered as
ISO 8601 text, :meth:`Sql.iso`). Each engine makes one ``Sql`` over its own database handle:
``store/embedded/_sql.py`` and ``store/postgres/_sql.py``.

Parts that are engine-specific in substance (metric points, their tiles, the run table, the
filter compilers) stay in the engine's folder and use its handle directly; a shared part that
must hand a transaction to one of them passes :attr:`Tx.raw`, the engine's own connection.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import zlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["Sql", "Tx", "now"]

T = TypeVar("T")


def now() -> dt.datetime:
    """The current time, timezone-aware UTC (what every engine stores)."""
    return dt.datetime.now(dt.UTC)


class Tx(abc.ABC):
    """One open transaction: statements with ``?`` placeholders, rows as dicts or tuples."""

    #: The engine's own connection inside this transaction (a ``duckdb`` or ``psycopg`` one), for
    #: an engine-specific part called within it.
    raw: Any

    @abc.abstractmethod
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        """Run one statement; answers how many rows it changed (-1 where it says nothing)."""

    @abc.abstractmethod
    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Every row of a query, as tuples."""

    @abc.abstractmethod
    def all(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Every row of a query, as dicts by column name."""

    def one(self, sql: str, params: Sequence[Any] | None = None) -> dict[str, Any] | None:
        """The first row of a query as a dict, or ``None``."""
        found = self.all(sql, params)
        return found[0] if found else None

    def value(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """The first column of the first row, or ``None`` when there is no row."""
        found = self.rows(sql, params)
        return found[0][0] if found else None

    @abc.abstractmethod
    def lock(self, *key: int) -> None:
        """Hold the lock named ``key`` (one 64-bit number, or two 32-bit ones) until this
        transaction ends: of several servers writing one database, one at a time goes on
        (PostgreSQL's advisory lock). On the embedded engine the transaction already holds the
        process's one write lock."""

    @abc.abstractmethod
    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert ``rows`` (values in the order of ``columns``) into ``table`` as one bulk load
        (DuckDB from Arrow, PostgreSQL's ``COPY``): 100,000 rows are one statement."""

    def lock_name(self, space: int, name: str) -> None:
        """Hold a lock on ``name`` in ``space`` until the transaction ends: two transactions
        about to make the same named row take turns (PostgreSQL's advisory lock; nothing on
        the embedded engine, whose transactions hold its one write lock). A hash of the
        name keys it, so unrelated names may wait on each other, never more."""
        # A signed 32-bit hash of the name: PostgreSQL's two-key advisory locks take int4s.
        self.lock(space, zlib.crc32(name.encode("utf-8", "surrogatepass")) - 2**31)


class Sql(abc.ABC):
    """An engine's database as the shared parts use it."""

    #: ``"duckdb"`` or ``"postgresql"``: for the rare statement whose text must differ.
    engine: str

    @abc.abstractmethod
    def transaction(self) -> contextlib.AbstractContextManager[Tx]:
        """A transaction: committed when the block ends, rolled back if it raises. On the
        embedded engine it holds the process's write lock."""

    def one_commit(self) -> contextlib.AbstractContextManager[None]:
        """``Store.one_commit``: nothing on an engine whose parts keep their own transactions."""
        return contextlib.nullcontext()

    @abc.abstractmethod
    def wrap(self, raw: Any) -> Tx:
        """The :class:`Tx` of an engine connection already inside a transaction (an
        engine-specific part calling a shared part's helper within its own transaction)."""

    @abc.abstractmethod
    def all(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Every row of a read outside any transaction of the caller's, as dicts."""

    def one(self, sql: str, params: Sequence[Any] | None = None) -> dict[str, Any] | None:
        """The first row of a read as a dict, or ``None``."""
        found = self.all(sql, params)
        return found[0] if found else None

    @abc.abstractmethod
    def iso(self, column: str) -> str:
        """SQL rendering a timestamp column as ISO 8601 UTC text with milliseconds."""

    @staticmethod
    def now() -> dt.datetime:
        """The current time, timezone-aware UTC."""
        return now()

    @abc.abstractmethod
    def first_admin_once(self, create_admin: Callable[[Tx], T]) -> T | None:
        """Call ``create_admin(tx)`` if and only if the database has no user yet, inside the
        transaction that commits what it writes; its result, or ``None`` when a user exists.
        Of several servers starting together on an empty database exactly one makes the admin
        (PostgreSQL: under the setup lock of ``postgres/_db.py``)."""

    def memo(self) -> dict[Any, Any] | None:
        """Where a part may keep what it looked up (a run's pk, a project's id) for the rest of
        the current ``one_commit`` block, when that block is one transaction that excludes
        every other writer (the embedded engine); ``None`` elsewhere. The records of one
        request name the same run several times: each name is looked up once."""
        return None

    def committed(self) -> int | None:
        """A number that moves whenever any write commits, where this process is the
        database's only writer (the embedded engine), so that an answer kept with it stays
        right while it has not moved; ``None`` where others write too, and inside a write
        transaction (whose reads may roll back)."""
        return None

    def after_commit(self, then: Callable[[], None]) -> None:
        """Call ``then`` once the caller's transaction commits, never if it rolls back: for a
        part that keeps in memory what only this process writes (``concurrent`` false)."""
        raise NotImplementedError(f"{type(self).__name__} keeps nothing in memory")

    #: Whether several servers may write the database at once (PostgreSQL). ``False`` where
    #: this process is its only user (the embedded engine): its transactions are serialized by
    #: its one write lock, and a part may keep in memory what only its own writes change.
    concurrent: bool

    def if_concurrent(self, clause: str) -> str:
        """``clause`` (a row lock ``FOR UPDATE``, an ``ON CONFLICT`` on a key) where several
        servers write at once; ``""`` on the embedded engine (whose SQL has no row locks)."""
        return clause if self.concurrent else ""

    @abc.abstractmethod
    def bytewise(self, expr: str) -> str:
        """``expr``, a text, compared and sorted by its bytes (PostgreSQL's ``COLLATE "C"``;
        the embedded engine compares bytes already), so both engines order names alike."""

    #: The error a unique key's violation raises (at the statement, or at commit for a
    #: deferred key), for a part that turns a lost race into a ``Conflict``.
    duplicate_key: type[Exception]

    #: The tables of a run's own rows (keyed by ``run_pk``) in this engine's schema: deleting a
    #: run or a project's runs empties them all.
    run_data_tables: tuple[str, ...]

    @abc.abstractmethod
    def json_param(self, value: Any) -> Any:
        """``value`` bound to a JSON column that filters and run tables read as JSON
        (``config_flat``, ``summary``, ``system_metrics``), so that every engine reads back the
        same value: JSON text on both, but PostgreSQL's ``jsonb`` would read a float written
        ``1e+16`` as an integer. ``None`` stays SQL NULL."""
