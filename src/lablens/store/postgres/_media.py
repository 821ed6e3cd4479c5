"""Media items of runs in the PostgreSQL store: one row each in ``media``, the content a blob.

Several servers write at once: a batch id is taken by inserting it into ``media_batches`` (its
primary key makes a retry through another server wait for the first and then find it taken),
and an item replaces the one at its place (run, key, step, index) with ``ON CONFLICT``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lablens.store import _json
from lablens.store.blob_files import BlobFiles
from lablens.store.errors import NotFound
from lablens.store.media_items import (
    check_media_items,
    media_content,
    media_listed,
    media_rows,
)
from lablens.store.postgres._blob_grants import BlobGrants
from lablens.store.postgres._db import Database

if TYPE_CHECKING:
    from lablens.store.common.runs import Runs
    from lablens.store.postgres._projects import Projects

_COLUMNS = "key, step, idx, ts, type, format, sha256, size, caption, meta, refs"
# meta is read as its text (``media_out`` parses it), as the embedded store keeps it.
_SELECT = (
    "m.key, m.step, m.idx, m.ts, m.type, m.format, m.sha256, m.size, m.caption,"
    " m.meta::text AS meta, m.refs"
)


class Media:
    """Part of ``PostgresStore``: media items and reading their content."""

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
        with self.db.transaction() as conn:
            if batch_id:
                taken = conn.execute(
                    "INSERT INTO media_batches (run_pk, batch_id, n) VALUES (%s, %s, %s)"
                    " ON CONFLICT DO NOTHING RETURNING 1",
                    [pk, batch_id, len(checked)],
                ).fetchone()
                if taken is None:
                    return {"stored": 0, "duplicate": True}
            if rows:
                # One statement for the batch, its columns as arrays. refs differ in length
                # from row to row, which an array of arrays cannot hold: each is JSON text.
                conn.execute(
                    f"INSERT INTO media (run_pk, {_COLUMNS})"
                    " SELECT %s, key, step, idx, ts, type, format, sha256, size, caption,"
                    " meta::json, ARRAY(SELECT e FROM json_array_elements_text(refs::json)"
                    " WITH ORDINALITY AS r(e, n) ORDER BY n)"
                    " FROM unnest(%s::text[], %s::bigint[], %s::integer[], %s::float8[],"
                    " %s::text[], %s::text[], %s::text[], %s::bigint[], %s::text[], %s::text[],"
                    " %s::text[])"
                    f" AS t({_COLUMNS})"
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
        where, params = ["m.run_pk = ANY(%s::bigint[])"], [list(pks.values())]
        if key is not None:
            where.append("m.key = ANY(%s::text[])")
            params.append([key] if isinstance(key, str) else list(key))
        if min_step is not None:
            where.append("m.step >= %s")
            params.append(int(min_step))
        if max_step is not None:
            where.append("m.step <= %s")
            params.append(int(max_step))
        # Keys sort by their bytes, as the embedded store sorts them.
        rows = self.db.all(
            f"SELECT r.id AS run_id, m.run_pk, {_SELECT}"
            " FROM media m JOIN runs r ON r.pk = m.run_pk"
            f' WHERE {" AND ".join(where)} ORDER BY m.key COLLATE "C", m.step, m.idx',
            params,
        )
        return media_listed(rows, list(pks.values()))

    def media_keys(self, workspace: str, project: str, run_id: str) -> dict[str, dict[str, Any]]:
        pk = self.runs.run_pk(workspace, project, run_id)
        # A key holds one type (the SDK logs one kind per key); min() picks it where the
        # embedded store's any_value() does, and runs on PostgreSQL before 16.
        rows = self.db.all(
            "SELECT key, min(type) AS type, count(*) AS count, min(step) AS first_step,"
            " max(step) AS last_step FROM media WHERE run_pk = %s GROUP BY key"
            ' ORDER BY key COLLATE "C"',
            [pk],
        )
        return {r.pop("key"): r for r in rows}

    def read_media(self, workspace: str, project: str, sha256: str) -> tuple[dict[str, Any], bytes]:
        pid = self.projects.project_id(workspace, project)
        row = self.db.one(
            "SELECT m.type, m.format, m.size, m.sha256 = %s AS own FROM media m"
            " JOIN runs r ON r.pk = m.run_pk"
            " WHERE r.project_id = %s AND (m.sha256 = %s OR %s = ANY(m.refs))"
            " ORDER BY own DESC LIMIT 1",
            [sha256, pid, sha256, sha256],
        )
        if row is None:
            raise NotFound("media", f"{workspace}/{project}/media/{sha256}")
        return media_content(row, self.blobs.read(sha256))
