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
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from lablens.store import _json
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

    def lock(self, *key: int) -> None:
        holders = ", ".join("%s" for _ in key)
        self.raw.execute(f"SELECT pg_advisory_xact_lock({holders})", list(key))

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        if not rows:
            return
        with self.raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


class PostgresSql(Sql):
    """The team store's database: each transaction on a pooled connection."""

    engine = "postgresql"
    concurrent = True

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

    def first_admin_once(self, create_admin: Callable[[Tx], T]) -> T | None:
        return self.db.first_admin_once(lambda conn: create_admin(_PgTx(conn)))

    run_data_tables = RUN_DATA_TABLES

    def bytewise(self, expr: str) -> str:
        return f'{expr} COLLATE "C"'

    duplicate_key = psycopg.errors.UniqueViolation

    def json_param(self, value: Any) -> Any:
        return jsonb_dumps(value)


# Floats from here up are written by Python in exponent form (1e+16), which jsonb reads as an
# integer; see ``jsonb_dumps``.
_BIG_FLOAT = 1e16


def jsonb_dumps(value: Any) -> str | None:
    """``value`` as the JSON text of a ``jsonb`` column (``config_flat``, ``summary``,
    ``system_metrics``); ``None`` stays SQL NULL.

    As ``_json.dumps``, except for floats of 1e16 and more: Python writes them ``1e+16``, which
    jsonb keeps as the integer 10000000000000000, read back as a Python ``int``. Written out in
    full with a ``.0`` they stay floats, the same float (the text is the float's exact value).
    """
    if value is None:
        return None
    value = _json.encode(value)
    if not _has_big_float(value):
        return json.dumps(value, separators=(",", ":"))
    return _render(value)


def _has_big_float(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, float):
            if abs(v) >= _BIG_FLOAT:
                return True
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def _render(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value) and abs(value) >= _BIG_FLOAT:
        return f"{value:.1f}"
    if isinstance(value, dict):
        items = (json.dumps(str(k)) + ":" + _render(v) for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_render(v) for v in value) + "]"
    return json.dumps(value)
