"""An artifact version's manifest: listed and opened, written once for both engines. Paths sort
and page by bytes (``Sql.bytewise``) on both."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, BinaryIO

from lablens.store.artifact_values import stored_entry
from lablens.store.blob_files import BlobFiles
from lablens.store.common.artifact_versions import ArtifactVersions
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.errors import NotFound
from lablens.store.sql import Sql


class ArtifactFiles:
    """Part of the store: the files of artifact versions."""

    def __init__(self, sql: Sql, versions: ArtifactVersions, blobs: BlobFiles) -> None:
        self.sql = sql
        self.versions = versions
        self.blobs = blobs

    def list_artifact_files(
        self,
        workspace: str,
        project: str,
        artifact_id: str,
        *,
        names: Sequence[str] | None = None,
        prefix: str | None = None,
        cursor: str | None = None,
        limit: int = 1000,
    ) -> dict[str, Any]:
        row = self.versions.artifact_row(workspace, project, artifact_id)
        where, params = "artifact_pk = ?", [row["source_pk"] or row["pk"]]
        if names:
            where += " AND path = ANY(?::TEXT[])"
            params.append(list(names))
        if prefix:
            where += " AND starts_with(path, ?)"
            params.append(prefix)
        total = self.sql.one(f"SELECT count(*) AS n FROM artifact_files WHERE {where}", params)["n"]
        path = self.sql.bytewise("path")
        if cursor:
            (last,) = decode_cursor(cursor)
            where += f" AND {path} > ?"
            params.append(str(last))
        rows = self.sql.all(
            "SELECT path, digest, size, ref, mimetype FROM artifact_files"
            f" WHERE {where} ORDER BY {path} LIMIT ?",
            [*params, limit + 1],
        )
        rows, nxt = cut_page(rows, limit, "path")
        return {"items": rows, "total": total, "next": nxt}

    def open_artifact_file(
        self, workspace: str, project: str, artifact_id: str, path: str
    ) -> tuple[dict[str, Any], BinaryIO]:
        found = self.list_artifact_files(workspace, project, artifact_id, names=[path])["items"]
        if not found:
            raise NotFound("file", f"{workspace}/{project}/{artifact_id}/{path}")
        entry = found[0]
        stored_entry(entry, path)
        content, size = self.blobs.open(entry["digest"])
        # The blob's own length, whatever the manifest says (data dirs written before sizes
        # were checked at commit, or moved up from one, may hold a wrong one).
        return {**entry, "size": size}, content
