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
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from lablens.store.postgres._db import Database, iso
from lablens.store.sql import Sql, Tx

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

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        if not rows:
            return
        with self.raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def lock_name(self, space: int, name: str) -> None:
        self.raw.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [space, name])


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

    def if_concurrent(self, clause: str) -> str:
        return clause

    def bytewise(self, expr: str) -> str:
        return f'{expr} COLLATE "C"'

    duplicate_key = psycopg.errors.UniqueViolation

    single_process = False
