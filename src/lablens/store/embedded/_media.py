"""Media items of runs in the embedded store: one row each in ``media``, the content a blob."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from lablens.store import _json
from lablens.store.blob_files import BlobFiles
from lablens.store.common.runs import Runs
from lablens.store.embedded._blob_grants import BlobGrants
from lablens.store.embedded._db import Database
from lablens.store.embedded._projects import Projects
from lablens.store.errors import NotFound
from lablens.store.media_items import (
    check_media_items,
    media_content,
    media_listed,
    media_rows,
)

_COLUMNS = "key, step, idx, ts, type, format, sha256, size, caption, meta, refs"


class Media:
    """Part of ``EmbeddedStore``: media items and reading their content."""

    def __init__(
        self, db: Database, projects: Projects, runs: Runs, grants: BlobGrants, blobs: BlobFiles
    ) -> None:
        self.db = db
        self.projects = projects
        self.runs = runs
        self.grants = grants
        self.blobs = blobs

    def append_media(
        self,
        workspace: str,
        project: str,
        run_id: str,
        items: Sequence[Any],
        *,
        username: str,
        batch_id: str | None = None,
    ) -> dict[str, Any]:
        checked = check_media_items(items)
        pk = self.runs.run_pk(workspace, project, run_id)
        rows = media_rows(checked, self.grants, workspace, username, self.blobs.size)
        # One Arrow table, one INSERT: executemany costs a statement per row.
        batch = pa.table(
            {
                "run_pk": pa.array([pk] * len(rows), pa.int64()),
                "key": [it["key"] for it in rows],
                "step": pa.array([it["step"] for it in rows], pa.int64()),
                "idx": pa.array([it["index"] for it in rows], pa.int32()),
                "ts": pa.array([it["timestamp"] for it in rows], pa.float64()),
                "type": [it["type"] for it in rows],
                "format": [it["format"] for it in rows],
                "sha256": [it["sha256"] for it in rows],
                "size": pa.array([it["size"] for it in rows], pa.int64()),
                "caption": pa.array([it["caption"] for it in rows], pa.string()),
                "meta": pa.array([_json.dumps(it["meta"]) for it in rows], pa.string()),
                "refs": pa.array([it["refs"] for it in rows], pa.list_(pa.string())),
            }
        )
        with self.db.write() as con:
            if (
                batch_id
                and con.execute(
                    "SELECT 1 FROM media_batches WHERE run_pk = ? AND batch_id = ?", [pk, batch_id]
                ).fetchall()
            ):
                return {"stored": 0, "duplicate": True}
            if rows:
                con.register("_media_batch", batch)
                try:
                    con.execute(
                        f"INSERT OR REPLACE INTO media (run_pk, {_COLUMNS})"
                        f" SELECT run_pk, {_COLUMNS} FROM _media_batch"
                    )
                finally:
                    con.unregister("_media_batch")
            if batch_id:
                con.execute(
                    "INSERT INTO media_batches VALUES (?, ?, ?)", [pk, batch_id, len(checked)]
                )
        return {"stored": len(checked), "duplicate": False}

    def list_media(
        self,
        workspace: str,
        project: str,
        run_ids: Sequence[str],
        *,
        key: str | Sequence[str] | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> list[dict[str, Any]]:
        pks = {rid: self.runs.run_pk(workspace, project, rid) for rid in dict.fromkeys(run_ids)}
        if not pks:
            return []
        where, params = ["m.run_pk = ANY(?::BIGINT[])"], [list(pks.values())]
        if key is not None:
            where.append("list_contains(?::VARCHAR[], m.key)")
            params.append([key] if isinstance(key, str) else list(key))
        if min_step is not None:
            where.append("m.step >= ?")
            params.append(int(min_step))
        if max_step is not None:
            where.append("m.step <= ?")
            params.append(int(max_step))
        rows = self.db.all(
            f"SELECT r.id AS run_id, m.run_pk, {', '.join('m.' + c for c in _COLUMNS.split(', '))}"
            " FROM media m JOIN runs r ON r.pk = m.run_pk"
            f" WHERE {' AND '.join(where)} ORDER BY m.key, m.step, m.idx",
            params,
        )
        return media_listed(rows, list(pks.values()))

    def media_keys(self, workspace: str, project: str, run_id: str) -> dict[str, dict[str, Any]]:
        pk = self.runs.run_pk(workspace, project, run_id)
        rows = self.db.all(
            "SELECT key, any_value(type) AS type, count(*) AS count, min(step) AS first_step,"
            " max(step) AS last_step FROM media WHERE run_pk = ? GROUP BY key ORDER BY key",
            [pk],
        )
        return {r.pop("key"): r for r in rows}

    def read_media(self, workspace: str, project: str, sha256: str) -> tuple[dict[str, Any], bytes]:
        pid = self.projects.project_id(workspace, project)
        row = self.db.one(
            "SELECT m.type, m.format, m.size, m.sha256 = ? AS own FROM media m"
            " JOIN runs r ON r.pk = m.run_pk"
            " WHERE r.project_id = ? AND (m.sha256 = ? OR list_contains(m.refs, ?))"
            " ORDER BY own DESC LIMIT 1",
            [sha256, pid, sha256, sha256],
        )
        if row is None:
            raise NotFound("media", f"{workspace}/{project}/media/{sha256}")
        return media_content(row, self.blobs.read(sha256))
