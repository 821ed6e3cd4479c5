"""Rows named by a new random id, unique in their project (sweeps, reports), on every engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lablens.store.run_values import new_run_id
from lablens.store.sql import Tx


def insert_with_new_id(tx: Tx, table: str, pid: int, columns: Mapping[str, Any]) -> str:
    """Insert a row of ``columns`` into ``table`` (a table keyed ``UNIQUE (project_id, id)``)
    under a new random id in project ``pid``, inside the caller's transaction; returns the id.

    The unique key decides, not a look before the insert: on PostgreSQL another server may draw
    the same id at the same moment, and ``ON CONFLICT DO NOTHING`` makes the later one draw
    again (DuckDB, under its one write lock, only ever meets a row already stored).
    """
    names = ", ".join(columns)
    holders = ", ".join("?" for _ in columns)
    while True:
        new_id = new_run_id()
        inserted = tx.rows(
            f"INSERT INTO {table} (project_id, id, {names}) VALUES (?, ?, {holders})"
            " ON CONFLICT (project_id, id) DO NOTHING RETURNING id",
            [pid, new_id, *columns.values()],
        )
        if inserted:
            return new_id
