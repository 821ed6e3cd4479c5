"""Run files and console lines in the embedded store (file bytes: ``store/blob_files.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lablens.store.blob_files import BlobFiles
from lablens.store.common.runs import Runs
from lablens.store.embedded._db import Database, iso, now
from lablens.store.errors import NotFound
from lablens.store.run_files import console_table, file_facts


class RunFiles:
    """Part of ``EmbeddedStore``: the files and console lines of runs."""

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
        with self.db.write() as con:
            con.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                [pk, row["name"], row["size"], row["md5"], row["mimetype"], row["blob"], now()],
            )
        return self.list_files(workspace, project, run_id, [row["name"]])[0]

    def list_files(
        self, workspace: str, project: str, run_id: str, names: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        pk = self.runs.run_pk(workspace, project, run_id)
        sql = (
            f"SELECT name, size, md5, mimetype, {iso('updated_at')} AS updated_at, blob"
            " FROM files WHERE run_pk = ?"
        )
        params: list[Any] = [pk]
        if names:
            sql += " AND list_contains(?::VARCHAR[], name)"
            params.append(list(names))
        return self.db.all(sql + " ORDER BY name", params)

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
        with self.db.write() as con:
            if key and self.db.one(
                "SELECT 1 FROM batches WHERE run_pk = ? AND batch_id = ?", [pk, key]
            ):
                return {"stored": 0, "duplicate": True}
            if table.num_rows:
                con.register("_lines", table)
                try:
                    # One statement for the batch: the lines follow the run's last one.
                    con.execute(
                        "INSERT INTO console SELECT ?, (SELECT coalesce(max(seq), -1) + 1"
                        " FROM console WHERE run_pk = ?) + i, ts, stream, line FROM _lines",
                        [pk, pk],
                    )
                finally:
                    con.unregister("_lines")
            if key:
                con.execute("INSERT INTO batches VALUES (?, ?, ?)", [pk, key, table.num_rows])
        return {"stored": table.num_rows, "duplicate": False}

    def read_console(self, workspace: str, project: str, run_id: str) -> list[dict[str, Any]]:
        pk = self.runs.run_pk(workspace, project, run_id)
        return self.db.all(
            "SELECT ts, stream, line FROM console WHERE run_pk = ? ORDER BY seq", [pk]
        )
