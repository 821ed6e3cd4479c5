"""Run files and console lines, on every engine (file bytes: ``store/blob_files.py``).

Several PostgreSQL servers write at once: a file is one row per (run, name), replaced in one
statement (``ON CONFLICT``); a console batch id is taken by inserting it (its primary key makes
a retry through another server a duplicate); a run's console lines are numbered under a lock of
that run (:data:`CONSOLE_LOCK`), so two batches never take the same numbers and each stays whole
and in order. DuckDB's one write transaction at a time gives the same without the lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lablens.store.blob_files import BlobFiles
from lablens.store.errors import NotFound
from lablens.store.run_files import console_table, file_facts
from lablens.store.sql import Sql

#: The first key of the PostgreSQL advisory locks that number a run's console lines (the second
#: is the run's pk, folded into 32 bits: two runs sharing a lock only wait for each other). An
#: arbitrary 32-bit number nothing else in the database should use.
CONSOLE_LOCK = 0x1C0_5013


class RunFiles:
    """Part of the store: the files and console lines of runs (``runs``: the engine's part)."""

    def __init__(self, sql: Sql, runs: Any, blobs: BlobFiles) -> None:
        self.sql = sql
        self.runs = runs
        self.blobs = blobs

    # -- files ----------------------------------------------------------------------------
    def put_file(
        self, workspace: str, project: str, run_id: str, name: str, content: bytes
    ) -> dict[str, Any]:
        row = file_facts(name, content)
        pk = self.runs.run_pk(workspace, project, run_id)
        self.blobs.put(row["blob"], content)
        with self.sql.transaction() as tx:
            tx.execute(
                "INSERT INTO files (run_pk, name, size, md5, mimetype, blob, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_pk, name) DO UPDATE SET"
                " size = excluded.size, md5 = excluded.md5, mimetype = excluded.mimetype,"
                " blob = excluded.blob, updated_at = excluded.updated_at",
                [
                    pk,
                    row["name"],
                    row["size"],
                    row["md5"],
                    row["mimetype"],
                    row["blob"],
                    self.sql.now(),
                ],
            )
        return self.list_files(workspace, project, run_id, [row["name"]])[0]

    def list_files(
        self, workspace: str, project: str, run_id: str, names: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        pk = self.runs.run_pk(workspace, project, run_id)
        sql = (
            f"SELECT name, size, md5, mimetype, {self.sql.iso('updated_at')} AS updated_at,"
            " blob FROM files WHERE run_pk = ?"
        )
        params: list[Any] = [pk]
        if names:
            sql += " AND name = ANY(?::text[])"
            params.append(list(names))
        # Names sort by their bytes on every engine (PostgreSQL's default follows the locale).
        return self.sql.all(sql + ' ORDER BY name COLLATE "C"', params)

    def read_file(
        self, workspace: str, project: str, run_id: str, name: str
    ) -> tuple[dict[str, Any], bytes]:
        found = self.list_files(workspace, project, run_id, [name])
        if not found:
            raise NotFound("file", f"{workspace}/{project}/{run_id}/{name}")
        return found[0], self.blobs.read(found[0]["blob"])

    # -- console --------------------------------------------------------------------------
    def append_console(
        self,
        workspace: str,
        project: str,
        run_id: str,
        lines: Sequence[Mapping[str, Any]],
        *,
        batch_id: str | None = None,
    ) -> dict[str, Any]:
        pk = self.runs.run_pk(workspace, project, run_id)
        table = console_table(lines)
        # Console batch ids share the points' table, in their own namespace.
        key = f"console:{batch_id}" if batch_id else None
        with self.sql.transaction() as tx:
            # The run's lock first: the numbers below are the run's next ones, and a batch
            # numbered while another server numbers its own would take the same.
            tx.lock(CONSOLE_LOCK, pk % 2**31)
            if key:
                # The batch's primary key decides: a retry (through any server) finds it taken.
                taken = tx.rows(
                    "INSERT INTO batches (run_pk, batch_id, n) VALUES (?, ?, ?)"
                    " ON CONFLICT DO NOTHING RETURNING 1",
                    [pk, key, table.num_rows],
                )
                if not taken:
                    return {"stored": 0, "duplicate": True}
            if table.num_rows:
                # One statement for the batch, its columns as arrays: the lines follow the
                # run's last one.
                tx.execute(
                    "INSERT INTO console (run_pk, seq, ts, stream, line)"
                    " SELECT ?, (SELECT coalesce(max(seq), -1) + 1 FROM console"
                    " WHERE run_pk = ?) + t.i, t.ts, t.stream, t.line"
                    " FROM (SELECT unnest(?::bigint[]) AS i, unnest(?::float8[]) AS ts,"
                    " unnest(?::text[]) AS stream, unnest(?::text[]) AS line) AS t",
                    [
                        pk,
                        pk,
                        table.column("i").to_pylist(),
                        table.column("ts").to_pylist(),
                        table.column("stream").to_pylist(),
                        table.column("line").to_pylist(),
                    ],
                )
        return {"stored": table.num_rows, "duplicate": False}

    def read_console(self, workspace: str, project: str, run_id: str) -> list[dict[str, Any]]:
        pk = self.runs.run_pk(workspace, project, run_id)
        return self.sql.all(
            "SELECT ts, stream, line FROM console WHERE run_pk = ? ORDER BY seq", [pk]
        )
