"""Run files and console lines in the PostgreSQL store (file bytes: ``store/blob_files.py``).

Several servers write at once: a file is one row per (run, name), replaced in one statement
(``ON CONFLICT``); a console batch id is taken by inserting it (its primary key makes a retry
through another server a duplicate); a run's console lines are numbered under a lock of that
run (:data:`CONSOLE_LOCK`), so two batches never take the same numbers and each stays whole
and in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lablens.store.blob_files import BlobFiles
from lablens.store.errors import NotFound
from lablens.store.postgres._db import Database, iso, now
from lablens.store.run_files import console_table, file_facts

if TYPE_CHECKING:
    from lablens.store.common.runs import Runs

#: The first key of the advisory locks that number a run's console lines (the second is the
#: run's pk, folded into 32 bits: two runs sharing a lock only wait for each other). An
#: arbitrary 32-bit number nothing else in the database should use.
CONSOLE_LOCK = 0x1C0_5013


class RunFiles:
    """Part of ``PostgresStore``: the files and console lines of runs."""

    def __init__(self, db: Database, runs: Runs, blobs: BlobFiles) -> None:
        self.db = db
        self.runs = runs
        self.blobs = blobs

    # -- files ----------------------------------------------------------------------------
    def put_file(
        self, workspace: str, project: str, run_id: str, name: str, content: bytes
    ) -> dict[str, Any]:
        row = file_facts(name, content)
        pk = self.runs.run_pk(workspace, project, run_id)
        self.blobs.put(row["blob"], content)
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO files (run_pk, name, size, md5, mimetype, blob, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (run_pk, name) DO UPDATE SET"
                " size = excluded.size, md5 = excluded.md5, mimetype = excluded.mimetype,"
                " blob = excluded.blob, updated_at = excluded.updated_at",
                [pk, row["name"], row["size"], row["md5"], row["mimetype"], row["blob"], now()],
            )
        return self.list_files(workspace, project, run_id, [row["name"]])[0]

    def list_files(
        self, workspace: str, project: str, run_id: str, names: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        pk = self.runs.run_pk(workspace, project, run_id)
        sql = (
            f"SELECT name, size, md5, mimetype, {iso('updated_at')} AS updated_at, blob"
            " FROM files WHERE run_pk = %s"
        )
        params: list[Any] = [pk]
        if names:
            sql += " AND name = ANY(%s::text[])"
            params.append(list(names))
        # Names sort by their bytes, as the embedded store sorts them.
        return self.db.all(sql + ' ORDER BY name COLLATE "C"', params)

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
        with self.db.transaction() as conn:
            # The run's lock first: the numbers below are the run's next ones, and a batch
            # numbered while another server numbers its own would take the same.
            conn.execute(
                "SELECT pg_advisory_xact_lock(%s, (%s::bigint %% 2147483648)::integer)",
                [CONSOLE_LOCK, pk],
            )
            if key:
                # The batch's primary key decides: a retry (through any server) finds it taken.
                taken = conn.execute(
                    "INSERT INTO batches (run_pk, batch_id, n) VALUES (%s, %s, %s)"
                    " ON CONFLICT DO NOTHING RETURNING 1",
                    [pk, key, table.num_rows],
                ).fetchone()
                if taken is None:
                    return {"stored": 0, "duplicate": True}
            if table.num_rows:
                # One statement for the batch: the lines follow the run's last one.
                conn.execute(
                    "INSERT INTO console (run_pk, seq, ts, stream, line)"
                    " SELECT %s, (SELECT coalesce(max(seq), -1) + 1 FROM console"
                    " WHERE run_pk = %s) + t.i, t.ts, t.stream, t.line"
                    " FROM unnest(%s::bigint[], %s::float8[], %s::text[], %s::text[])"
                    " AS t(i, ts, stream, line)",
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
        return self.db.all(
            "SELECT ts, stream, line FROM console WHERE run_pk = %s ORDER BY seq", [pk]
        )
