"""Media items of runs, on every engine: one row each in ``media``, the content a blob.

Several PostgreSQL servers write at once: a batch id is taken by inserting it into
``media_batches`` (its primary key makes a retry through another server wait for the first and
then find it taken), and an item replaces the one at its place (run, key, step, index) with
``ON CONFLICT``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lablens.store import _json
from lablens.store.blob_files import BlobFiles
from lablens.store.blob_rights import BlobRights
from lablens.store.errors import NotFound
from lablens.store.media_items import (
    check_media_items,
    media_content,
    media_listed,
    media_rows,
)
from lablens.store.sql import Sql

_COLUMNS = "key, step, idx, ts, type, format, sha256, size, caption, meta, refs"
# meta is read as its text (``media_listed`` parses it): psycopg would parse it, DuckDB not.
_SELECT = (
    "m.key, m.step, m.idx, m.ts, m.type, m.format, m.sha256, m.size, m.caption,"
    " m.meta::text AS meta, m.refs"
)
# An item's refs, sent as JSON text (they differ in length from item to item, which a
# PostgreSQL array of arrays cannot hold), as the engine's text array.
_REFS = {
    "duckdb": "CAST(t.refs::JSON AS VARCHAR[])",
    "postgresql": "ARRAY(SELECT e FROM json_array_elements_text(t.refs::json)"
    " WITH ORDINALITY AS r(e, n) ORDER BY n)",
}


class Media:
    """Part of the store: media items and reading their content (``projects`` and ``runs``:
    the engine's parts of those names)."""

    def __init__(
        self, sql: Sql, projects: Any, runs: Any, grants: BlobRights, blobs: BlobFiles
    ) -> None:
        self.sql = sql
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
        with self.sql.transaction() as tx:
            if batch_id:
                taken = tx.rows(
                    "INSERT INTO media_batches (run_pk, batch_id, n) VALUES (?, ?, ?)"
                    " ON CONFLICT DO NOTHING RETURNING 1",
                    [pk, batch_id, len(checked)],
                )
                if not taken:
                    return {"stored": 0, "duplicate": True}
            if rows:
                # One statement for the batch, its columns as arrays: a statement per row
                # costs far more.
                tx.execute(
                    f"INSERT INTO media (run_pk, {_COLUMNS})"
                    " SELECT ?, t.key, t.step, t.idx, t.ts, t.type, t.format, t.sha256, t.size,"
                    f" t.caption, t.meta::json, {_REFS[self.sql.engine]}"
                    " FROM (SELECT unnest(?::text[]) AS key, unnest(?::bigint[]) AS step,"
                    " unnest(?::integer[]) AS idx, unnest(?::float8[]) AS ts,"
                    " unnest(?::text[]) AS type, unnest(?::text[]) AS format,"
                    " unnest(?::text[]) AS sha256, unnest(?::bigint[]) AS size,"
                    " unnest(?::text[]) AS caption, unnest(?::text[]) AS meta,"
                    " unnest(?::text[]) AS refs) AS t"
                    " ON CONFLICT (run_pk, key, step, idx) DO UPDATE SET ts = excluded.ts,"
                    " type = excluded.type, format = excluded.format, sha256 = excluded.sha256,"
                    " size = excluded.size, caption = excluded.caption, meta = excluded.meta,"
                    " refs = excluded.refs",
                    [
                        pk,
                        [it["key"] for it in rows],
                        [it["step"] for it in rows],
                        [it["index"] for it in rows],
                        [it["timestamp"] for it in rows],
                        [it["type"] for it in rows],
                        [it["format"] for it in rows],
                        [it["sha256"] for it in rows],
                        [it["size"] for it in rows],
                        [it["caption"] for it in rows],
                        [_json.dumps(it["meta"]) for it in rows],
                        [_json.dumps(it["refs"]) for it in rows],
                    ],
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
        where, params = ["m.run_pk = ANY(?::bigint[])"], [list(pks.values())]
        if key is not None:
            where.append("m.key = ANY(?::text[])")
            params.append([key] if isinstance(key, str) else list(key))
        if min_step is not None:
            where.append("m.step >= ?")
            params.append(int(min_step))
        if max_step is not None:
            where.append("m.step <= ?")
            params.append(int(max_step))
        # Keys sort by their bytes on every engine (PostgreSQL's default follows the locale).
        rows = self.sql.all(
            f"SELECT r.id AS run_id, m.run_pk, {_SELECT}"
            " FROM media m JOIN runs r ON r.pk = m.run_pk"
            f' WHERE {" AND ".join(where)} ORDER BY m.key COLLATE "C", m.step, m.idx',
            params,
        )
        return media_listed(rows, list(pks.values()))

    def media_keys(self, workspace: str, project: str, run_id: str) -> dict[str, dict[str, Any]]:
        pk = self.runs.run_pk(workspace, project, run_id)
        # A key holds one type (the SDK logs one kind per key); min() picks it on every engine
        # (PostgreSQL before 16 has no any_value()).
        rows = self.sql.all(
            "SELECT key, min(type) AS type, count(*) AS count, min(step) AS first_step,"
            " max(step) AS last_step FROM media WHERE run_pk = ? GROUP BY key"
            ' ORDER BY key COLLATE "C"',
            [pk],
        )
        return {r.pop("key"): r for r in rows}

    def read_media(self, workspace: str, project: str, sha256: str) -> tuple[dict[str, Any], bytes]:
        pid = self.projects.project_id(workspace, project)
        row = self.sql.one(
            "SELECT m.type, m.format, m.size, m.sha256 = ? AS own FROM media m"
            " JOIN runs r ON r.pk = m.run_pk"
            " WHERE r.project_id = ? AND (m.sha256 = ? OR ? = ANY(m.refs))"
            " ORDER BY own DESC LIMIT 1",
            [sha256, pid, sha256, sha256],
        )
        if row is None:
            raise NotFound("media", f"{workspace}/{project}/media/{sha256}")
        return media_content(row, self.blobs.read(sha256))
