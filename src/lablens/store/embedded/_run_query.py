"""Pages and tables of a project's runs in the embedded store: the run filter and order as
DuckDB's SQL (``_filter_sql``, ``_order_sql``, ``_run_table``), read for the shared runs part
(``store/common/runs.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lablens.store.embedded import _run_table
from lablens.store.embedded._db import Database
from lablens.store.embedded._filter_sql import compile_filters
from lablens.store.embedded._order_sql import keyset_condition, order_by_sql, parse_order
from lablens.store.run_table_values import RunValues


class RunQueries:
    """The embedded engine's ``common.runs.RunQueries``: DuckDB's compilers of the run filter
    and order, and its reads."""

    mark = "?"
    where = staticmethod(compile_filters)
    order = staticmethod(parse_order)
    after = staticmethod(keyset_condition)
    order_by = staticmethod(order_by_sql)

    def __init__(self, db: Database) -> None:
        self.db = db
        # Parsed config and summary columns, kept across reads (by run version).
        self.values = RunValues()

    def read(
        self, count: tuple[str, list[Any]], page: tuple[str, list[Any]]
    ) -> tuple[int, list[dict[str, Any]]]:
        """A count and a page of runs."""
        return self.db.one(*count)["n"], self.db.all(*page)

    def table(self, pid: int, fields: Mapping[str, Any], **how: Any) -> pa.RecordBatchReader:
        """The flat run table (``_run_table.runs_table``); ``how``: its filters, order, columns,
        offset and limit."""
        return _run_table.runs_table(self.db, pid, fields, **how, values=self.values)
