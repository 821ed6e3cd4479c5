"""Artifacts in the embedded store: types, collections, versions, their manifests and lineage.

A version is committed in one transaction with its whole manifest, after its blobs were uploaded
(``_blobs.py``), so an interrupted upload leaves blobs but never half a version. Names, aliases
and paths are checked with ``lablens.contract.artifact_names``, the same rules the SDK applies.
"""

from __future__ import annotations

import mimetypes
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa

from lablens.contract import artifact_names as rules
from lablens.store import _json
from lablens.store.embedded._artifact_collections import (
    _checked,
    _mapping,
    _optional_str,
    _str_list,
)
from lablens.store.embedded._db import Database, iso, now
from lablens.store.embedded._runs import _run_out, _run_select
from lablens.store.errors import Conflict, InvalidInput, NotFound
from lablens.store.ordering import decode_cursor, encode_cursor

_VERSION = re.compile(r"v(\d+)")

#: The largest byte count a manifest may declare: what a BIGINT column holds.
MAX_BYTES = 2**63 - 1


# A version's own columns. Names (collection, type, project, entity) and the producing run's path
# come from small cached lookups: in DuckDB a point query joining five tables costs ten times
# one without joins, and those names never change under a version (a rename clears the cache).
_ROWS = (
    "SELECT a.pk, a.id, a.collection_id, a.version, a.digest, a.size, a.file_count,"
    " a.description, a.metadata, a.tags, a.state, a.source_pk, a.run_pk, a.created_by,"
    f" {iso('a.created_at')} AS created_at, {iso('a.updated_at')} AS updated_at"
    " FROM artifacts a"
)


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


class Artifacts:
    """Mixin of ``EmbeddedStore``: artifact versions, their files, links and lineage."""

    db: Database
    blob_dir: Path

    def _artifact_row(self, workspace: str, project: str, artifact_id: str) -> dict[str, Any]:
        pid = self._project_id(workspace, project)  # type: ignore[attr-defined]
        row = self.db.one(
            "SELECT a.pk, a.id, a.version, a.collection_id, a.source_pk, a.run_pk, c.name,"
            " c.kind FROM artifacts a JOIN artifact_collections c ON c.id = a.collection_id"
            " WHERE c.project_id = ? AND a.id = ?",
            [pid, artifact_id],
        )
        if row is None:
            raise NotFound("artifact", f"{workspace}/{project}/{artifact_id}")
        return row

    def _run_path(self, run_pk: int) -> dict[str, Any] | None:
        """``{entity, project, id, path}`` of a run; cached, as a run never moves (and its pk is
        never reused: a deleted run's artifacts forget its pk)."""
        cache: dict[int, dict[str, Any] | None] = self.__dict__.setdefault("_run_paths", {})
        if run_pk not in cache:
            row = self.db.one(
                "SELECT w.username AS entity, p.name AS project, r.id FROM runs r"
                " JOIN projects p ON p.id = r.project_id JOIN workspaces w ON w.id = p.workspace_id"
                " WHERE r.pk = ?",
                [run_pk],
            )
            if row is None:
                return None
            cache[run_pk] = {**row, "path": f"{row['entity']}/{row['project']}/{row['id']}"}
        return cache[run_pk]

    def _artifacts_out(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The JSON of versions selected with ``_ROWS``."""
        pks = [r["pk"] for r in rows]
        aliases: dict[int, list[str]] = {pk: [] for pk in pks}
        if pks:
            for r in self.db.all(
                "SELECT artifact_pk, alias FROM artifact_aliases"
                " WHERE list_contains(?::BIGINT[], artifact_pk) ORDER BY alias",
                [pks],
            ):
                aliases[r["artifact_pk"]].append(r["alias"])
        return [self._artifact_out(r, aliases[r["pk"]]) for r in rows]

    def _artifact_out(self, row: dict[str, Any], aliases: list[str]) -> dict[str, Any]:
        info = self._collection_info(row["collection_id"])  # type: ignore[attr-defined]
        entity, project, collection = info["entity"], info["project"], info["name"]
        name = f"{collection}:v{row['version']}"
        source = None
        if row["source_pk"] is not None:
            src = self.db.one(_ROWS + " WHERE a.pk = ?", [row["source_pk"]])
            if src is not None:
                s = self._collection_info(src["collection_id"])  # type: ignore[attr-defined]
                source = {
                    "id": src["id"],
                    "entity": s["entity"],
                    "project": s["project"],
                    "collection": s["name"],
                    "version": f"v{src['version']}",
                    "qualified_name": f"{s['entity']}/{s['project']}/{s['name']}:v{src['version']}",
                }
        logged_by = self._run_path(row["run_pk"]) if row["run_pk"] is not None else None
        return {
            "id": row["id"],
            "entity": entity,
            "project": project,
            "name": name,
            "qualified_name": f"{entity}/{project}/{name}",
            "version": f"v{row['version']}",
            "version_index": row["version"],
            "collection": {"id": row["collection_id"], "name": collection, "kind": info["kind"]},
            "type": info["type"],
            "state": row["state"],
            "digest": row["digest"],
            "size": row["size"],
            "file_count": row["file_count"],
            "description": row["description"],
            "metadata": _json.loads(row["metadata"]) or {},
            "aliases": aliases,
            "tags": list(row["tags"] or []),
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "created_by": row["created_by"],
            "logged_by": logged_by,
            "is_link": source is not None,
            "source": source,
        }

    def _artifact_by_pk(self, pk: int) -> dict[str, Any]:
        return self._artifacts_out([self.db.one(_ROWS + " WHERE a.pk = ?", [pk])])[0]

    # -- versions -------------------------------------------------------------------------
    def list_artifacts(
        self,
        workspace: str,
        project: str,
        collection: str,
        *,
        type_name: str | None = None,
        tags: Sequence[str] | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        cid = self._collection_row(workspace, project, collection, type_name)["id"]
        where, params = "a.collection_id = ?", [cid]
        if tags:
            where += " AND list_has_all(a.tags, ?::VARCHAR[])"
            params.append(list(tags))
        total = self.db.one(f"SELECT count(*) AS n FROM artifacts a WHERE {where}", params)["n"]
        if cursor:
            (last,) = decode_cursor(cursor)
            if isinstance(last, bool) or not isinstance(last, int):
                raise InvalidInput("malformed cursor", field="cursor")
            where += " AND a.version < ?"
            params.append(last)
        # Newest first: the version a user wants is usually the last one logged.
        rows = self.db.all(
            _ROWS + f" WHERE {where} ORDER BY a.version DESC LIMIT ?", [*params, limit + 1]
        )
        nxt = None
        if len(rows) > limit:
            rows = rows[:limit]
            nxt = encode_cursor([rows[-1]["version"]])
        return {"items": self._artifacts_out(rows), "total": total, "next": nxt}

    def get_artifact(
        self,
        workspace: str,
        project: str,
        collection: str,
        selector: str,
        *,
        type_name: str | None = None,
    ) -> dict[str, Any]:
        cid = self._collection_row(workspace, project, collection, type_name)["id"]
        row = None
        match = _VERSION.fullmatch(selector)
        if match:
            row = self.db.one(
                _ROWS + " WHERE a.collection_id = ? AND a.version = ?", [cid, int(match.group(1))]
            )
        if row is None:
            row = self.db.one(
                _ROWS + " WHERE a.pk = (SELECT artifact_pk FROM artifact_aliases"
                " WHERE collection_id = ? AND alias = ?)",
                [cid, selector],
            )
        if row is None and re.fullmatch(r"[0-9a-f]{64}", selector):
            row = self.db.one(
                _ROWS + " WHERE a.collection_id = ? AND a.digest = ?"
                " ORDER BY a.version DESC LIMIT 1",
                [cid, selector],
            )
        if row is None:
            raise NotFound("artifact", f"{workspace}/{project}/{collection}:{selector}")
        return self._artifacts_out([row])[0]

    def get_artifact_by_id(self, workspace: str, project: str, artifact_id: str) -> dict[str, Any]:
        return self._artifact_by_pk(self._artifact_row(workspace, project, artifact_id)["pk"])

    def commit_artifact(
        self, workspace: str, project: str, data: Mapping[str, Any], *, username: str
    ) -> tuple[dict[str, Any], bool]:
        name = _checked(rules.check_name, data.get("name"), "name")
        type_name = _checked(
            lambda v: rules.check_name(v, "artifact type"), data.get("type"), "type"
        )
        description = _optional_str(data.get("description"), "description")
        metadata = _mapping(data.get("metadata"), "metadata")
        aliases = [
            a
            for a in _str_list(data.get("aliases"), "aliases", rules.check_alias)
            if a != rules.LATEST
        ]
        tags = _str_list(data.get("tags"), "tags", rules.check_tag)
        files = _manifest(data.get("files"))
        # Before the write lock, and before the project is made: a refused commit stores
        # nothing. Rights to blobs are only ever added and blobs never deleted, so what holds
        # here still holds in the transaction below.
        self.check_blobs(workspace, files, username=username)  # type: ignore[attr-defined]
        digest = rules.manifest_digest(files)
        run_id = data.get("run_id")
        pid = self._project_for_write(workspace, project)  # type: ignore[attr-defined]
        run_pk = None
        if run_id is not None:
            run_pk = self._run_pk(workspace, project, str(run_id))  # type: ignore[attr-defined]
        t = now()
        with self.db.write() as con:
            cid = self._collection_for_commit(con, pid, workspace, project, name, type_name, t)
            same = self.db.one(
                "SELECT pk FROM artifacts WHERE collection_id = ? AND digest = ?"
                " ORDER BY version DESC LIMIT 1",
                [cid, digest],
            )
            if same is not None:
                # The same content again: that version, not a new one (also makes a retried
                # commit whose answer was lost harmless).
                self._move_aliases(con, cid, same["pk"], aliases)
                created, pk = False, same["pk"]
            else:
                version = self.db.one(
                    "SELECT next_version FROM artifact_collections WHERE id = ?", [cid]
                )["next_version"]
                pk = con.execute(
                    "INSERT INTO artifacts (id, collection_id, version, digest, size, file_count,"
                    " description, metadata, tags, state, run_pk, created_by, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'COMMITTED', ?, ?, ?, ?)"
                    " RETURNING pk",
                    [
                        secrets.token_hex(8),
                        cid,
                        version,
                        digest,
                        sum(f["size"] or 0 for f in files),
                        len(files),
                        description,
                        _json.dumps(metadata),
                        tags,
                        run_pk,
                        username,
                        t,
                        t,
                    ],
                ).fetchone()[0]
                self._insert_files(con, pk, files)
                con.execute(
                    "UPDATE artifact_collections SET next_version = ?, updated_at = ? WHERE id = ?",
                    [version + 1, t, cid],
                )
                self._move_aliases(con, cid, pk, [rules.LATEST, *aliases])
                created = True
        return self._artifact_by_pk(pk), created

    @staticmethod
    def _insert_files(con: Any, pk: int, files: Sequence[Mapping[str, Any]]) -> None:
        if not files:
            return
        table = pa.table(
            {
                "artifact_pk": pa.array([pk] * len(files), pa.int64()),
                "path": pa.array([f["path"] for f in files], pa.string()),
                "digest": pa.array([f["digest"] for f in files], pa.string()),
                "size": pa.array([f["size"] for f in files], pa.int64()),
                "ref": pa.array([f["ref"] for f in files], pa.string()),
                "mimetype": pa.array([f["mimetype"] for f in files], pa.string()),
            }
        )
        # One INSERT from Arrow: a manifest of 100,000 files is one statement, not 100,000.
        con.register("_manifest", table)
        try:
            con.execute("INSERT INTO artifact_files SELECT * FROM _manifest")
        finally:
            con.unregister("_manifest")

    def _move_aliases(self, con: Any, cid: int, pk: int, aliases: Sequence[str]) -> None:
        """Point each alias at version ``pk``, taking it from whichever version held it."""
        for alias in aliases:
            held = self.db.one(
                "SELECT artifact_pk FROM artifact_aliases WHERE collection_id = ? AND alias = ?",
                [cid, alias],
            )
            if held is None:
                con.execute("INSERT INTO artifact_aliases VALUES (?, ?, ?)", [cid, alias, pk])
            elif held["artifact_pk"] != pk:
                con.execute(
                    "UPDATE artifact_aliases SET artifact_pk = ?"
                    " WHERE collection_id = ? AND alias = ?",
                    [pk, cid, alias],
                )

    def update_artifact(
        self, workspace: str, project: str, artifact_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        row = self._artifact_row(workspace, project, artifact_id)
        sets: list[str] = []
        params: list[Any] = []
        if "description" in changes:
            sets.append("description = ?")
            params.append(_optional_str(changes["description"], "description"))
        if "metadata" in changes:
            sets.append("metadata = ?")
            params.append(_json.dumps(_mapping(changes["metadata"], "metadata")))
        if "tags" in changes:
            sets.append("tags = ?")
            params.append(_str_list(changes["tags"], "tags", rules.check_tag))
        aliases = None
        if "aliases" in changes:
            # "latest" belongs to the newest version whatever is asked: the server moves it.
            aliases = [
                a
                for a in _str_list(changes["aliases"], "aliases", rules.check_alias)
                if a != rules.LATEST
            ]
        with self.db.write() as con:
            if aliases is not None:
                con.execute(
                    "DELETE FROM artifact_aliases WHERE artifact_pk = ? AND alias <> ?"
                    " AND NOT list_contains(?::VARCHAR[], alias)",
                    [row["pk"], rules.LATEST, aliases],
                )
                self._move_aliases(con, row["collection_id"], row["pk"], aliases)
            con.execute(
                f"UPDATE artifacts SET {''.join(s + ', ' for s in sets)}updated_at = ?"
                " WHERE pk = ?",
                [*params, now(), row["pk"]],
            )
        return self._artifact_by_pk(row["pk"])

    def delete_artifact(
        self, workspace: str, project: str, artifact_id: str, *, delete_aliases: bool = False
    ) -> None:
        row = self._artifact_row(workspace, project, artifact_id)
        what = f"{workspace}/{project}/{row['name']}:v{row['version']}"
        with self.db.write() as con:
            held = [
                r["alias"]
                for r in self.db.all(
                    "SELECT alias FROM artifact_aliases WHERE artifact_pk = ? ORDER BY alias",
                    [row["pk"]],
                )
            ]
            if held and not delete_aliases:
                raise Conflict(
                    f"{what} has the aliases {', '.join(held)}; pass"
                    " delete_aliases=True to delete it with them"
                )
            self._refuse_if_linked([row["pk"]], what)
            self._delete_versions(con, [row["pk"]])
            if rules.LATEST in held:
                newest = self.db.one(
                    "SELECT pk FROM artifacts WHERE collection_id = ?"
                    " ORDER BY version DESC LIMIT 1",
                    [row["collection_id"]],
                )
                if newest is not None:
                    self._move_aliases(con, row["collection_id"], newest["pk"], [rules.LATEST])
            con.execute(
                "UPDATE artifact_collections SET updated_at = ? WHERE id = ?",
                [now(), row["collection_id"]],
            )

    def link_artifact(
        self,
        workspace: str,
        project: str,
        artifact_id: str,
        *,
        target_workspace: str,
        target_project: str,
        target_name: str,
        aliases: Sequence[str] = (),
        username: str,
    ) -> dict[str, Any]:
        row = self._artifact_row(workspace, project, artifact_id)
        target_name = _checked(rules.check_name, target_name, "target_path")
        aliases = [a for a in _str_list(aliases, "aliases", rules.check_alias) if a != rules.LATEST]
        source = self.db.one(
            "SELECT * FROM artifacts WHERE pk = ?", [row["source_pk"] or row["pk"]]
        )
        type_name = self.db.one(
            "SELECT t.name FROM artifact_collections c JOIN artifact_types t ON t.id = c.type_id"
            " WHERE c.id = ?",
            [source["collection_id"]],
        )["name"]
        pid = self._project_for_write(target_workspace, target_project)  # type: ignore[attr-defined]
        t = now()
        with self.db.write() as con:
            cid = self._collection_for_commit(
                con,
                pid,
                target_workspace,
                target_project,
                target_name,
                type_name,
                t,
                kind="portfolio",
            )
            same = self.db.one(
                "SELECT pk FROM artifacts WHERE collection_id = ? AND source_pk = ?",
                [cid, source["pk"]],
            )
            if same is not None:
                self._move_aliases(con, cid, same["pk"], aliases)
                pk = same["pk"]
            else:
                version = self.db.one(
                    "SELECT next_version FROM artifact_collections WHERE id = ?", [cid]
                )["next_version"]
                pk = con.execute(
                    "INSERT INTO artifacts (id, collection_id, version, digest, size, file_count,"
                    " description, metadata, tags, state, run_pk, source_pk, created_by,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, [], 'COMMITTED',"
                    " ?, ?, ?, ?, ?) RETURNING pk",
                    [
                        secrets.token_hex(8),
                        cid,
                        version,
                        source["digest"],
                        source["size"],
                        source["file_count"],
                        source["description"],
                        source["metadata"],
                        source["run_pk"],
                        source["pk"],
                        username,
                        t,
                        t,
                    ],
                ).fetchone()[0]
                con.execute(
                    "UPDATE artifact_collections SET next_version = ?, updated_at = ? WHERE id = ?",
                    [version + 1, t, cid],
                )
                self._move_aliases(con, cid, pk, [rules.LATEST, *aliases])
        return self._artifact_by_pk(pk)

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
        row = self._artifact_row(workspace, project, artifact_id)
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
        nxt = None
        if len(rows) > limit:
            rows = rows[:limit]
            nxt = encode_cursor([rows[-1]["path"]])
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
        content = self._blob_path(entry["digest"]).open("rb")  # type: ignore[attr-defined]
        # The blob's own length, whatever the manifest says (data dirs written before sizes
        # were checked at commit may hold a wrong one).
        return {**entry, "size": os.fstat(content.fileno()).st_size}, content

    # -- lineage --------------------------------------------------------------------------
    def use_artifact(
        self,
        workspace: str,
        project: str,
        run_id: str,
        *,
        artifact_workspace: str,
        artifact_project: str,
        artifact_id: str,
    ) -> dict[str, Any]:
        run_pk = self._run_pk(workspace, project, run_id)  # type: ignore[attr-defined]
        pk = self._artifact_row(artifact_workspace, artifact_project, artifact_id)["pk"]
        with self.db.write() as con:
            if not self.db.one(
                "SELECT 1 FROM artifact_usage WHERE artifact_pk = ? AND run_pk = ?", [pk, run_pk]
            ):
                con.execute("INSERT INTO artifact_usage VALUES (?, ?, ?)", [pk, run_pk, now()])
        return self._artifact_by_pk(pk)

    def artifact_users(
        self, workspace: str, project: str, artifact_id: str
    ) -> list[dict[str, Any]]:
        pk = self._artifact_row(workspace, project, artifact_id)["pk"]
        rows = self.db.all(
            _run_select() + " JOIN artifact_usage u ON u.run_pk = r.pk WHERE u.artifact_pk = ?"
            " ORDER BY u.used_at, r.pk",
            [pk],
        )
        keys = self._history_keys([r["pk"] for r in rows])  # type: ignore[attr-defined]
        return [_run_out(r, keys[r["pk"]]) for r in rows]

    def run_artifacts(
        self,
        workspace: str,
        project: str,
        run_id: str,
        *,
        used: bool = False,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        run_pk = self._run_pk(workspace, project, run_id)  # type: ignore[attr-defined]
        if used:
            where = "a.pk IN (SELECT artifact_pk FROM artifact_usage WHERE run_pk = ?)"
        else:
            # What the run logged, not the links others made to it.
            where = "a.run_pk = ? AND a.source_pk IS NULL"
        params: list[Any] = [run_pk]
        total = self.db.one(f"SELECT count(*) AS n FROM artifacts a WHERE {where}", params)["n"]
        if cursor:
            (last,) = decode_cursor(cursor)
            if isinstance(last, bool) or not isinstance(last, int):
                raise InvalidInput("malformed cursor", field="cursor")
            where += " AND a.pk > ?"
            params.append(last)
        rows = self.db.all(_ROWS + f" WHERE {where} ORDER BY a.pk LIMIT ?", [*params, limit + 1])
        nxt = None
        if len(rows) > limit:
            rows = rows[:limit]
            nxt = encode_cursor([rows[-1]["pk"]])
        return {"items": self._artifacts_out(rows), "total": total, "next": nxt}
