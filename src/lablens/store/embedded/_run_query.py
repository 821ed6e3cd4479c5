"""Pages and tables of a project's runs in the embedded store: the run filter and order as
DuckDB's SQL (``_filter_sql``, ``_order_sql``, ``_run_table``), read for the shared runs part
(``store/common/runs.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lablens.store.cursors import decode_cursor
from lablens.store.embedded import _run_table
from lablens.store.embedded._db import Database
from lablens.store.embedded._filter_sql import compile_filters
from lablens.store.embedded._order_sql import keyset_condition, order_by_sql, parse_order


class RunQueries:
    """The embedded engine's ``common.runs.RunQueries``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def page(
        self,
        pid: int,
        select: str,
        *,
        filters: Mapping[str, Any] | None,
        order: str | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[dict[str, Any]], int, list[str]]:
        """A page of runs, the count the filter keeps and the sort columns' names."""
        where, params = compile_filters(filters, alias="r")
        terms = parse_order(order, alias="r")
        total = self.db.one(
            f"SELECT count(*) AS n FROM runs r WHERE r.project_id = ? AND ({where})", [pid, *params]
        )["n"]
        page_where, page_params = f"({where})", list(params)
        if cursor:
            cond, cond_params = keyset_condition(terms, decode_cursor(cursor))
            page_where += f" AND ({cond})"
            page_params += cond_params
        sort = [f"_o{i}" for i in range(len(terms))]
        sort_cols = ", ".join(f"{t.sql} AS {name}" for t, name in zip(terms, sort, strict=True))
        rows = self.db.all(
            select.replace(" FROM runs r", f", {sort_cols} FROM runs r", 1)
            + f" WHERE r.project_id = ? AND {page_where} ORDER BY {order_by_sql(terms)} LIMIT ?",
            [pid, *page_params, limit + 1],
        )
        return rows, total, sort

    def table(self, pid: int, fields: Mapping[str, Any], **how: Any) -> pa.RecordBatchReader:
        """The flat run table (``_run_table.runs_table``); ``how``: its filters, order, columns,
        offset and limit."""
        return _run_table.runs_table(self.db, pid, fields, **how)
