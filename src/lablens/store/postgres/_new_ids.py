"""Rows named by a new random id, unique in their project (sweeps, reports), in PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg

from lablens.store.run_values import new_run_id


def insert_with_new_id(
    conn: psycopg.Connection[Any], table: str, pid: int, columns: Mapping[str, Any]
) -> str:
    """Insert a row of ``columns`` into ``table`` (a table keyed ``UNIQUE (project_id, id)``)
    under a new random id in project ``pid``, inside the caller's transaction; returns the id.

    The unique key decides, not a look before the insert: another server may draw the same id
    at the same moment, and ``ON CONFLICT DO NOTHING`` makes the later one draw again.
    """
    names = ", ".join(columns)
    holders = ", ".join("%s" for _ in columns)
    while True:
        new_id = new_run_id()
        inserted = conn.execute(
            f"INSERT INTO {table} (project_id, id, {names}) VALUES (%s, %s, {holders})"
            " ON CONFLICT (project_id, id) DO NOTHING RETURNING id",
            [pid, new_id, *columns.values()],
        ).fetchone()
        if inserted:
            return new_id
