"""Artifact types and collections in the embedded store, and the checks artifacts share.

A collection holds the versions of one artifact name (``mlp``: ``v0``, ``v1``, ...) and has one
type (``model``); a name is unique in its project whatever its type. A ``portfolio`` collection
holds links to versions logged elsewhere instead of logged versions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lablens.store.artifact_values import (
    check_collection_fits,
    checked_collection_changes,
    collection_exists,
    collection_out,
    linked_conflict,
)
from lablens.store.common.projects import Projects
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.embedded._db import Database, iso, now
from lablens.store.errors import NotFound


def _collection_select() -> str:
    return (
        "SELECT c.id, c.name, c.kind, c.description, c.tags, t.name AS type,"
        " w.username AS entity, p.name AS project,"
        f" {iso('c.created_at')} AS created_at, {iso('c.updated_at')} AS updated_at,"
        " (SELECT count(*) FROM artifacts a WHERE a.collection_id = c.id) AS version_count,"
        " (SELECT list(DISTINCT x.alias ORDER BY x.alias) FROM artifact_aliases x"
        "  WHERE x.collection_id = c.id) AS aliases"
        " FROM artifact_collections c JOIN artifact_types t ON t.id = c.type_id"
        " JOIN projects p ON p.id = c.project_id JOIN workspaces w ON w.id = p.workspace_id"
    )


class ArtifactCollections:
    """Part of ``EmbeddedStore``: artifact types and collections."""

    def __init__(self, db: Database, projects: Projects) -> None:
        self.db = db
        self.projects = projects
        # collection id -> its names (see collection_info), and how many times it was cleared
        self._collections: dict[int, dict[str, Any]] = {}
        self._collections_gen = 0

    def collection_info(self, cid: int) -> dict[str, Any]:
        """``{name, kind, type, entity, project}`` of a collection, cached until a collection
        is renamed or deleted (versions ask for it on every read)."""
        cache = self._collections
        if cid not in cache:
            generation = self._collections_gen
            row = self.db.one(
                "SELECT c.name, c.kind, t.name AS type, w.username AS entity, p.name AS project"
                " FROM artifact_collections c JOIN artifact_types t ON t.id = c.type_id"
                " JOIN projects p ON p.id = c.project_id JOIN workspaces w ON w.id = p.workspace_id"
                " WHERE c.id = ?",
                [cid],
            )
            if row is None:
                raise NotFound("artifact_collection", str(cid))
            # Read before a rename committed, it must not be kept after that rename cleared it.
            if self._collections_gen != generation:
                return row
            cache[cid] = row
        return cache[cid]

    def _forget_collections(self) -> None:
        self._collections_gen += 1
        self._collections.clear()

    def _type_row(self, pid: int, name: str) -> dict[str, Any] | None:
        return self.db.one(
            "SELECT id, name FROM artifact_types WHERE project_id = ? AND name = ?", [pid, name]
        )

    def collection_row(
        self, workspace: str, project: str, name: str, type_name: str | None = None
    ) -> dict[str, Any]:
        pid = self.projects.project_id(workspace, project)
        row = self.db.one(
            "SELECT c.id, c.name, c.kind, c.type_id, c.next_version, t.name AS type"
            " FROM artifact_collections c JOIN artifact_types t ON t.id = c.type_id"
            " WHERE c.project_id = ? AND c.name = ?",
            [pid, name],
        )
        if row is None or (type_name is not None and row["type"] != type_name):
            typed = f" of type {type_name}" if type_name else ""
            raise NotFound("artifact_collection", f"{workspace}/{project}/{name}{typed}")
        return row

    # -- types ----------------------------------------------------------------------------
    def list_artifact_types(self, workspace: str, project: str) -> list[dict[str, Any]]:
        pid = self.projects.project_id(workspace, project)
        rows = self.db.all(
            f"SELECT t.id, t.name, {iso('t.created_at')} AS created_at,"
            " (SELECT count(*) FROM artifact_collections c WHERE c.type_id = t.id)"
            " AS collection_count FROM artifact_types t WHERE t.project_id = ? ORDER BY t.name",
            [pid],
        )
        return [{**r, "entity": workspace, "project": project} for r in rows]

    def get_artifact_type(self, workspace: str, project: str, type_name: str) -> dict[str, Any]:
        for row in self.list_artifact_types(workspace, project):
            if row["name"] == type_name:
                return row
        raise NotFound("artifact_type", f"{workspace}/{project}/{type_name}")

    # -- collections ----------------------------------------------------------------------
    def list_artifact_collections(
        self,
        workspace: str,
        project: str,
        *,
        type_name: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        pid = self.projects.project_id(workspace, project)
        where, params = "c.project_id = ?", [pid]
        if type_name is not None:
            if self._type_row(pid, type_name) is None:
                raise NotFound("artifact_type", f"{workspace}/{project}/{type_name}")
            where += " AND t.name = ?"
            params.append(type_name)
        total = self.db.one(
            "SELECT count(*) AS n FROM artifact_collections c JOIN artifact_types t"
            f" ON t.id = c.type_id WHERE {where}",
            params,
        )["n"]
        if cursor:
            (last,) = decode_cursor(cursor)
            where += " AND c.name > ?"
            params.append(str(last))
        rows = self.db.all(
            _collection_select() + f" WHERE {where} ORDER BY c.name LIMIT ?", [*params, limit + 1]
        )
        rows, nxt = cut_page(rows, limit, "name")
        return {"items": [collection_out(r) for r in rows], "total": total, "next": nxt}

    def get_artifact_collection(
        self, workspace: str, project: str, name: str, *, type_name: str | None = None
    ) -> dict[str, Any]:
        cid = self.collection_row(workspace, project, name, type_name)["id"]
        return collection_out(self.db.one(_collection_select() + " WHERE c.id = ?", [cid]))

    def update_artifact_collection(
        self, workspace: str, project: str, name: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        row = self.collection_row(workspace, project, name)
        columns, new_name = checked_collection_changes(name, changes)
        with self.db.write() as con:
            if new_name != name and self.db.one(
                "SELECT 1 FROM artifact_collections WHERE project_id = ? AND name = ?",
                [self.projects.project_id(workspace, project), new_name],
            ):
                raise collection_exists(f"{workspace}/{project}/{new_name}")
            if columns:
                sets = "".join(f"{c} = ?, " for c in columns)
                con.execute(
                    f"UPDATE artifact_collections SET {sets}updated_at = ? WHERE id = ?",
                    [*columns.values(), now(), row["id"]],
                )
                self._forget_collections()
        return self.get_artifact_collection(workspace, project, new_name)

    def delete_artifact_collection(self, workspace: str, project: str, name: str) -> None:
        row = self.collection_row(workspace, project, name)
        with self.db.write() as con:
            pks = [
                r["pk"]
                for r in self.db.all(
                    "SELECT pk FROM artifacts WHERE collection_id = ?", [row["id"]]
                )
            ]
            self.refuse_if_linked(pks, f"{workspace}/{project}/{name}")
            self.delete_versions(con, pks)
            con.execute("DELETE FROM artifact_aliases WHERE collection_id = ?", [row["id"]])
            con.execute("DELETE FROM artifact_collections WHERE id = ?", [row["id"]])
            self._forget_collections()

    def delete_project_artifacts(self, con: Any, pid: int, what: str) -> None:
        """Delete a project's artifacts, inside the transaction deleting the project; refused
        (``Conflict``) while one of its versions is linked from another project."""
        pks = [
            r["pk"]
            for r in self.db.all(
                "SELECT a.pk FROM artifacts a JOIN artifact_collections c ON c.id = a.collection_id"
                " WHERE c.project_id = ?",
                [pid],
            )
        ]
        self.refuse_if_linked(pks, f"an artifact of project {what}", outside=pid)
        self.delete_versions(con, pks)
        runs = "(SELECT pk FROM runs WHERE project_id = ?)"
        con.execute(f"DELETE FROM artifact_usage WHERE run_pk IN {runs}", [pid])
        con.execute(f"UPDATE artifacts SET run_pk = NULL WHERE run_pk IN {runs}", [pid])
        con.execute(
            "DELETE FROM artifact_aliases WHERE collection_id IN"
            " (SELECT id FROM artifact_collections WHERE project_id = ?)",
            [pid],
        )
        con.execute("DELETE FROM artifact_collections WHERE project_id = ?", [pid])
        con.execute("DELETE FROM artifact_types WHERE project_id = ?", [pid])
        self._forget_collections()

    def refuse_if_linked(self, pks: Sequence[int], what: str, outside: int | None = None) -> None:
        """``Conflict`` if a link points at one of these versions (only links in other projects
        than ``outside``, when given)."""
        if not pks:
            return
        where, params = "list_contains(?::BIGINT[], a.source_pk)", [list(pks)]
        if outside is not None:
            where += " AND c.project_id <> ?"
            params.append(outside)
        link = self.db.one(
            "SELECT w.username AS entity, p.name AS project, c.name, a.version FROM artifacts a"
            " JOIN artifact_collections c ON c.id = a.collection_id"
            " JOIN projects p ON p.id = c.project_id JOIN workspaces w ON w.id = p.workspace_id"
            f" WHERE {where} LIMIT 1",
            params,
        )
        if link:
            raise linked_conflict(what, link)

    @staticmethod
    def delete_versions(con: Any, pks: Sequence[int]) -> None:
        if not pks:
            return
        for table, column in (
            ("artifact_files", "artifact_pk"),
            ("artifact_usage", "artifact_pk"),
            ("artifact_aliases", "artifact_pk"),
            ("artifacts", "pk"),
        ):
            con.execute(
                f"DELETE FROM {table} WHERE list_contains(?::BIGINT[], {column})", [list(pks)]
            )

    def collection_for_commit(
        self,
        con: Any,
        pid: int,
        workspace: str,
        project: str,
        name: str,
        type_name: str,
        t: Any,
        kind: str = "sequence",
    ) -> int:
        row = self.db.one(
            "SELECT c.id, c.kind, t.name AS type FROM artifact_collections c"
            " JOIN artifact_types t ON t.id = c.type_id WHERE c.project_id = ? AND c.name = ?",
            [pid, name],
        )
        if row is not None:
            check_collection_fits(row, f"{workspace}/{project}/{name}", type_name, kind)
            return row["id"]
        type_row = self._type_row(pid, type_name)
        if type_row is None:
            type_id = con.execute(
                "INSERT INTO artifact_types (project_id, name, created_at)"
                " VALUES (?, ?, ?) RETURNING id",
                [pid, type_name, t],
            ).fetchone()[0]
        else:
            type_id = type_row["id"]
        return con.execute(
            "INSERT INTO artifact_collections (project_id, type_id, name, kind, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            [pid, type_id, name, kind, t, t],
        ).fetchone()[0]
