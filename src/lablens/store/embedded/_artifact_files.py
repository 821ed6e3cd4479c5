"""An artifact version's manifest in the embedded store: checked at commit, listed and opened."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

from lablens.contract import artifact_names as rules
from lablens.store.embedded._artifact_collections import (
    _checked,
)
from lablens.store.embedded._artifact_versions import ArtifactVersions
from lablens.store.embedded._blobs import BlobFiles
from lablens.store.embedded._db import Database
from lablens.store.errors import InvalidInput, NotFound
from lablens.store.ordering import cut_page, decode_cursor

#: The largest byte count a manifest may declare: what a BIGINT column holds.
MAX_BYTES = 2**63 - 1


def _manifest(files: Any) -> list[dict[str, Any]]:
    """Check a manifest ``[{path, digest, size} | {path, ref, digest?, size?}]``."""
    if not isinstance(files, Sequence) or isinstance(files, str):
        raise InvalidInput("files must be a list of {path, digest, size}", field="files")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, entry in enumerate(files):
        where = f"files[{i}]"
        if not isinstance(entry, Mapping):
            raise InvalidInput(f"{where} must be an object {{path, digest, size}}", field=where)
        unknown = set(entry) - {"path", "digest", "size", "ref", "mimetype"}
        if unknown:
            raise InvalidInput(
                f"{where} has unknown keys {sorted(unknown)}", field=f"{where}.{sorted(unknown)[0]}"
            )
        path = _checked(rules.check_path, entry.get("path"), f"{where}.path")
        if path in seen:
            raise InvalidInput(f"the path {path!r} is in the manifest twice", field=f"{where}.path")
        seen.add(path)
        ref = entry.get("ref")
        if ref is not None and (not isinstance(ref, str) or "://" not in ref):
            raise InvalidInput(
                f"{where}.ref must be an URI such as s3://bucket/key", field=f"{where}.ref"
            )
        digest = entry.get("digest")
        if digest is not None or ref is None:
            digest = _checked(rules.check_digest, digest, f"{where}.digest")
        size = entry.get("size")
        bad_size = isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_BYTES
        if (size is not None or ref is None) and bad_size:
            raise InvalidInput(
                f"{where}.size must be a byte count (0 to {MAX_BYTES})", field=f"{where}.size"
            )
        mimetype = entry.get("mimetype")
        if mimetype is not None and not isinstance(mimetype, str):
            raise InvalidInput(f"{where}.mimetype must be a string", field=f"{where}.mimetype")
        out.append(
            {
                "path": path,
                "digest": digest,
                "size": size,
                "ref": ref,
                "mimetype": mimetype or mimetypes.guess_type(path)[0],
            }
        )
    if sum(f["size"] or 0 for f in out) > MAX_BYTES:
        # Only references can get here (a stored file's size is its blob's): their sizes are
        # declared, and their total must still fit the version's byte count.
        raise InvalidInput(f"the files' sizes add up past {MAX_BYTES} bytes", field="files")
    return out


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
        if entry["ref"] is not None:
            raise InvalidInput(
                f"{path!r} is a reference to {entry['ref']}; its content is not"
                " stored on this server",
                field="path",
            )
        content, size = self.blobs.open(entry["digest"])
        # The blob's own length, whatever the manifest says (data dirs written before sizes
        # were checked at commit may hold a wrong one).
        return {**entry, "size": size}, content
