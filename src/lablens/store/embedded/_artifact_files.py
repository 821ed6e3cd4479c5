"""An artifact version's manifest in the embedded store: checked at commit, listed and opened."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, BinaryIO

from lablens.store.artifact_values import stored_entry
from lablens.store.blob_files import BlobFiles
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.embedded._artifact_versions import ArtifactVersions
from lablens.store.embedded._db import Database
from lablens.store.errors import NotFound


class ArtifactFiles:
    """Part of ``EmbeddedStore``: the files of artifact versions."""

    def __init__(self, db: Database, versions: ArtifactVersions, blobs: BlobFiles) -> None:
        self.db = db
        self.versions = versions
        self.blobs = blobs

    # -- files ----------------------------------------------------------------------------
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
            where += " AND list_contains(?::VARCHAR[], path)"
            params.append(list(names))
        if prefix:
            where += " AND starts_with(path, ?)"
            params.append(prefix)
        total = self.db.one(f"SELECT count(*) AS n FROM artifact_files WHERE {where}", params)["n"]
        if cursor:
            (last,) = decode_cursor(cursor)
            where += " AND path > ?"
            params.append(str(last))
        rows = self.db.all(
            f"SELECT path, digest, size, ref, mimetype FROM artifact_files"
            f" WHERE {where} ORDER BY path LIMIT ?",
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
        # were checked at commit may hold a wrong one).
        return {**entry, "size": size}, content
