"""Pages and tables of a project's runs in the PostgreSQL store: the run filter and order as
PostgreSQL's SQL (``_filter_sql``, ``_ordering``, ``_run_table``), read for the shared runs part
(``store/common/runs.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lablens.store.postgres import _run_table
from lablens.store.postgres._db import Database
from lablens.store.postgres._filter_sql import compile_filters
from lablens.store.postgres._ordering import keyset_condition, order_by_sql, parse_order
from lablens.store.run_table_values import RunValues


class RunQueries:
    """The PostgreSQL engine's ``common.runs.RunQueries``: PostgreSQL's compilers of the run filter
    and order, and its reads."""

    mark = "%s"
    where = staticmethod(compile_filters)
    order = staticmethod(parse_order)
    after = staticmethod(keyset_condition)
    order_by = staticmethod(order_by_sql)

    def __init__(self, db: Database) -> None:
        self.db = db
        # Key columns of run tables, kept across reads (by run version, which every server on
        # the database moves alike).
        self.values = RunValues()

    def read(
        self, count: tuple[str, list[Any]], page: tuple[str, list[Any]]
    ) -> tuple[int, list[dict[str, Any]]]:
        """A count and a page of runs, in one snapshot (as the embedded store's one reader
        sees them)."""
        with self.db.transaction() as con:
            con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            total = con.execute(*count).fetchone()[0]
            cur = con.execute(*page)
            names = [d.name for d in cur.description]
            return total, [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def table(self, pid: int, fields: Mapping[str, Any], **how: Any) -> pa.RecordBatchReader:
        """The flat run table (``_run_table.runs_table``); ``how``: its filters, order, columns,
        offset and limit."""
        return _run_table.runs_table(self.db, pid, fields, **how, values=self.values)
