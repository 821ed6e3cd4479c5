"""The embedded engine's :class:`lablens.store.sql.Sql`: DuckDB speaks ``?`` itself."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from lablens.store import _json
from lablens.store.embedded._db import Database, iso
from lablens.store.embedded.schema import RUN_DATA_TABLES
from lablens.store.sql import Sql, Tx

T = TypeVar("T")


class _DuckTx(Tx):
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.raw = con

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        cur = self.raw.execute(sql, params or [])
        # DuckDB answers an INSERT, UPDATE or DELETE with one row: the count it changed.
        if cur.description and cur.description[0][0] == "Count":
            row = cur.fetchone()
            return int(row[0]) if row else 0
        return -1

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.raw.execute(sql, params or []).fetchall()

    def all(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        cur = self.raw.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def lock(self, *key: int) -> None:
        # The transaction holds the write lock: this process is the file's one writer.
        return None

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        if not rows:
            return
        data = pa.table({c: pa.array([r[i] for r in rows]) for i, c in enumerate(columns)})
        names = ", ".join(columns)
        view = f"insert_rows_{table}"
        self.raw.register(view, data)
        # Not in a ``finally``: a failed insert (a duplicate key) aborts the transaction, which
        # then refuses the unregister and would hide the error; its rollback drops the view.
        self.raw.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {view}")
        self.raw.unregister(view)


class EmbeddedSql(Sql):
    """The embedded store's DuckDB file: transactions under its write lock, reads without."""

    engine = "duckdb"
    concurrent = False

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.db.write() as con:
            yield _DuckTx(con)

    def one_commit(self) -> contextlib.AbstractContextManager[None]:
        return self.db.one_commit()

    def memo(self) -> dict[Any, Any] | None:
        return self.db.memo()

    def committed(self) -> int | None:
        return self.db.committed()

    def after_commit(self, then: Callable[[], None]) -> None:
        self.db.after_commit(then)

    def wrap(self, raw: Any) -> Tx:
        return _DuckTx(raw)

    def all(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        return self.db.all(sql, list(params or []))

    def iso(self, column: str) -> str:
        return iso(column)

    def first_admin_once(self, create_admin: Callable[[Tx], T]) -> T | None:
        # Under the write lock, held across the check and the writes.
        with self.transaction() as tx:
            if tx.value("SELECT EXISTS (SELECT 1 FROM users)"):
                return None
            return create_admin(tx)

    run_data_tables = RUN_DATA_TABLES

    def bytewise(self, expr: str) -> str:
        return expr

    duplicate_key = duckdb.ConstraintException

    def json_param(self, value: Any) -> Any:
        return _json.dumps(value)
