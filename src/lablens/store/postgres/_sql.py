"""The PostgreSQL engine's :class:`lablens.store.sql.Sql`: ``?`` placeholders become psycopg's.

The shared parts write ``?`` (DuckDB's placeholder, and the DB-API's ``qmark``); psycopg takes
``%s``, and a literal ``%`` must then be doubled. The text is translated once per statement
text (cached): a ``?`` inside a quoted literal or identifier is left alone. (PostgreSQL's
``jsonb ?`` operator is not used by shared statements; engine-specific SQL stays in
the engine's parts.)
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from lablens.store.postgres._db import Database, iso
from lablens.store.postgres.schema import RUN_DATA_TABLES
from lablens.store.sql import Sql, Tx

T = TypeVar("T")

# A quoted literal, a quoted identifier, or one character that needs translating.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[?%]")


@functools.lru_cache(maxsize=4096)
def to_psycopg(sql: str) -> str:
    """``sql`` with ``?`` placeholders as psycopg's ``%s`` (and ``%`` as ``%%``)."""

    def swap(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        return token.replace("%", "%%")

    return _TOKENS.sub(swap, sql)


class _PgTx(Tx):
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        return self.raw.execute(to_psycopg(sql), params).rowcount

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.raw.execute(to_psycopg(sql), params).fetchall()

    def all(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        with self.raw.cursor(row_factory=dict_row) as cur:
            cur.execute(to_psycopg(sql), params)
            return cur.fetchall()

    def lock(self, key: int) -> None:
        self.raw.execute("SELECT pg_advisory_xact_lock(%s)", [key])


class PostgresSql(Sql):
    """The team store's database: each transaction on a pooled connection."""

    engine = "postgresql"

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.db.transaction() as conn:
            yield _PgTx(conn)

    def wrap(self, raw: Any) -> Tx:
        return _PgTx(raw)

    def all(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        return self.db.all(to_psycopg(sql), params)

    def iso(self, column: str) -> str:
        return iso(column)

    def for_update(self, select: str) -> str:
        return select + " FOR UPDATE"

    def first_admin_once(self, create_admin: Callable[[Tx], T]) -> T | None:
        return self.db.first_admin_once(lambda conn: create_admin(_PgTx(conn)))

    run_data_tables = RUN_DATA_TABLES
