"""Artifact types and collections, and the locks artifacts share, written once for both engines.

A collection holds the versions of one artifact name (``mlp``: ``v0``, ``v1``, ...) and has one
type (``model``); a name is unique in its project whatever its type. A ``portfolio`` collection
holds links to versions logged elsewhere instead of logged versions.

On PostgreSQL several servers write at once, so what the embedded engine keeps under its one
write lock is kept by row locks (``Sql.if_concurrent``): whatever adds, moves or deletes a
collection's versions or aliases first locks the collection's row (:meth:`lock_collection`), so
version numbers never repeat and an alias names one version; a collection is made under a lock
on its project and name (``Tx.lock_name``), so two first commits of a name make one collection.
Names sort and page by bytes (``Sql.bytewise``) on both engines.
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
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.errors import NotFound
from lablens.store.sql import Sql, Tx


class ArtifactCollections:
    """Part of the store: artifact types and collections."""

    def __init__(self, sql: Sql, projects: Any) -> None:
        self.sql = sql
        self.projects = projects
        # collection id -> its names (see collection_info), and how many times it was cleared
        self._collections: dict[int, dict[str, Any]] = {}
        self._collections_gen = 0
        # What a collection's JSON shows: its row, type, names, version count and aliases.
        self._select = (
            "SELECT c.id, c.name, c.kind, c.description, c.tags, t.name AS type,"
            " w.username AS entity, p.name AS project,"
            f" {sql.iso('c.created_at')} AS created_at, {sql.iso('c.updated_at')} AS updated_at,"
            " (SELECT count(*) FROM artifacts a WHERE a.collection_id = c.id) AS version_count,"
            f" ARRAY(SELECT DISTINCT {sql.bytewise('x.alias')} FROM artifact_aliases x"
            "  WHERE x.collection_id = c.id ORDER BY 1) AS aliases"
            " FROM artifact_collections c JOIN artifact_types t ON t.id = c.type_id"
            " JOIN projects p ON p.id = c.project_id JOIN workspaces w ON w.id = p.workspace_id"
        )

    def collection_info(self, cid: int) -> dict[str, Any]:
        """``{name, kind, type, entity, project}`` of a collection, cached until a collection
        is renamed or deleted: for a store whose one process makes every rename
        (not ``Sql.concurrent``; see ``ArtifactVersions``)."""
        cache = self._collections
        if cid not in cache:
            generation = self._collections_gen
            row = self.sql.one(
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

    def collection_row(
        self, workspace: str, project: str, name: str, type_name: str | None = None
    ) -> dict[str, Any]:
        """``{id, name, kind, type_id, next_version, type}`` of a collection (of that type,
        when given); ``NotFound("artifact_collection")`` names it when absent."""
        pid = self.projects.project_id(workspace, project)
        row = self.sql.one(
            "SELECT c.id, c.name, c.kind, c.type_id, c.next_version, t.name AS type"
            " FROM artifact_collections c JOIN artifact_types t ON t.id = c.type_id"
            " WHERE c.project_id = ? AND c.name = ?",
            [pid, name],
        )
        if row is None or (type_name is not None and row["type"] != type_name):
            typed = f" of type {type_name}" if type_name else ""
            raise NotFound("artifact_collection", f"{workspace}/{project}/{name}{typed}")
        return row

    def lock_collection(self, tx: Tx, cid: int) -> dict[str, Any]:
        """Lock collection ``cid``'s row until the transaction ends and read its
        ``{id, next_version}``; ``NotFound`` when another server deleted it meanwhile. Every
        write to a collection's versions or aliases takes this lock first."""
        row = tx.one(
            "SELECT id, next_version FROM artifact_collections WHERE id = ?"
            + self.sql.if_concurrent(" FOR UPDATE"),
            [cid],
        )
        if row is None:
            raise NotFound("artifact_collection", str(cid))
        return row

    # -- types ----------------------------------------------------------------------------
    def list_artifact_types(self, workspace: str, project: str) -> list[dict[str, Any]]:
        pid = self.projects.project_id(workspace, project)
        found = self.sql.all(
            f"SELECT t.id, t.name, {self.sql.iso('t.created_at')} AS created_at,"
            " (SELECT count(*) FROM artifact_collections c WHERE c.type_id = t.id)"
            " AS collection_count FROM artifact_types t WHERE t.project_id = ?"
            f" ORDER BY {self.sql.bytewise('t.name')}",
            [pid],
        )
        return [{**r, "entity": workspace, "project": project} for r in found]

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
            if not self.sql.one(
                "SELECT 1 FROM artifact_types WHERE project_id = ? AND name = ?", [pid, type_name]
            ):
                raise NotFound("artifact_type", f"{workspace}/{project}/{type_name}")
            where += " AND t.name = ?"
            params.append(type_name)
        total = self.sql.one(
            "SELECT count(*) AS n FROM artifact_collections c JOIN artifact_types t"
            f" ON t.id = c.type_id WHERE {where}",
            params,
        )["n"]
        name = self.sql.bytewise("c.name")
        if cursor:
            (last,) = decode_cursor(cursor)
            where += f" AND {name} > ?"
            params.append(str(last))
        found = self.sql.all(
            self._select + f" WHERE {where} ORDER BY {name} LIMIT ?", [*params, limit + 1]
        )
        found, nxt = cut_page(found, limit, "name")
        return {"items": [collection_out(r) for r in found], "total": total, "next": nxt}

    def get_artifact_collection(
        self, workspace: str, project: str, name: str, *, type_name: str | None = None
    ) -> dict[str, Any]:
        cid = self.collection_row(workspace, project, name, type_name)["id"]
        row = self.sql.one(self._select + " WHERE c.id = ?", [cid])
        if row is None:
            raise NotFound("artifact_collection", f"{workspace}/{project}/{name}")
        return collection_out(row)

    def update_artifact_collection(
        self, workspace: str, project: str, name: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        row = self.collection_row(workspace, project, name)
        columns, new_name = checked_collection_changes(name, changes)
        pid = self.projects.project_id(workspace, project)
        taken = collection_exists(f"{workspace}/{project}/{new_name}")
        try:
            with self.sql.transaction() as tx:
                if new_name != name:
                    # The lock a first commit of that name takes: no commit makes it meanwhile.
                    tx.lock_name(pid, new_name)
                    if tx.one(
                        "SELECT 1 FROM artifact_collections WHERE project_id = ? AND name = ?",
                        [pid, new_name],
                    ):
                        raise taken
                if columns:
                    sets = "".join(f"{c} = ?, " for c in columns)
                    tx.execute(
                        f"UPDATE artifact_collections SET {sets}updated_at = ? WHERE id = ?",
                        [*columns.values(), self.sql.now(), row["id"]],
                    )
                    self._forget_collections()
        except self.sql.duplicate_key:
            # Checked at commit on PostgreSQL (the name's key is deferred): a rename elsewhere
            # won.
            raise taken from None
        return self.get_artifact_collection(workspace, project, new_name)

    def delete_artifact_collection(self, workspace: str, project: str, name: str) -> None:
        row = self.collection_row(workspace, project, name)
        with self.sql.transaction() as tx:
            self.lock_collection(tx, row["id"])
            # Locked, so that a link being made to one of them is seen, or waits and fails.
            pks = [
                pk
                for (pk,) in tx.rows(
                    "SELECT pk FROM artifacts WHERE collection_id = ? ORDER BY pk"
                    + self.sql.if_concurrent(" FOR UPDATE"),
                    [row["id"]],
                )
            ]
            self.refuse_if_linked(tx, pks, f"{workspace}/{project}/{name}")
            self.delete_versions(tx, pks)
            tx.execute("DELETE FROM artifact_aliases WHERE collection_id = ?", [row["id"]])
            tx.execute("DELETE FROM artifact_collections WHERE id = ?", [row["id"]])
            self._forget_collections()

    def delete_project_artifacts(self, tx: Tx, pid: int, what: str) -> None:
        """Delete a project's artifacts, inside the transaction ``tx`` deleting the project;
        refused (``Conflict``) while one of its versions is linked from another project."""
        # The project's row first: a commit into the project locks it to share (see
        # ``collection_for_commit``), so none adds a collection behind this delete.
        tx.execute(
            "SELECT 1 FROM projects WHERE id = ?" + self.sql.if_concurrent(" FOR UPDATE"), [pid]
        )
        pks = [
            pk
            for (pk,) in tx.rows(
                "SELECT a.pk FROM artifacts a JOIN artifact_collections c ON c.id = a.collection_id"
                " WHERE c.project_id = ? ORDER BY a.pk"
                + self.sql.if_concurrent(" FOR UPDATE OF a"),
                [pid],
            )
        ]
        self.refuse_if_linked(tx, pks, f"an artifact of project {what}", outside=pid)
        self.delete_versions(tx, pks)
        runs = "(SELECT pk FROM runs WHERE project_id = ?)"
        tx.execute(f"DELETE FROM artifact_usage WHERE run_pk IN {runs}", [pid])
        tx.execute(f"UPDATE artifacts SET run_pk = NULL WHERE run_pk IN {runs}", [pid])
        tx.execute(
            "DELETE FROM artifact_aliases WHERE collection_id IN"
            " (SELECT id FROM artifact_collections WHERE project_id = ?)",
            [pid],
        )
        tx.execute("DELETE FROM artifact_collections WHERE project_id = ?", [pid])
        tx.execute("DELETE FROM artifact_types WHERE project_id = ?", [pid])
        self._forget_collections()

    @staticmethod
    def refuse_if_linked(tx: Tx, pks: Sequence[int], what: str, outside: int | None = None) -> None:
        """``Conflict`` if a link points at one of these versions (only links in other projects
        than ``outside``, when given). The caller holds the versions' rows locked, so a link
        made meanwhile is seen here, or waits and finds its source gone."""
        if not pks:
            return
        where, params = "a.source_pk = ANY(?::BIGINT[])", [list(pks)]
        if outside is not None:
            where += " AND c.project_id <> ?"
            params.append(outside)
        link = tx.one(
            "SELECT w.username AS entity, p.name AS project, c.name, a.version FROM artifacts a"
            " JOIN artifact_collections c ON c.id = a.collection_id"
            " JOIN projects p ON p.id = c.project_id JOIN workspaces w ON w.id = p.workspace_id"
            f" WHERE {where} ORDER BY a.pk LIMIT 1",
            params,
        )
        if link:
            raise linked_conflict(what, link)

    @staticmethod
    def delete_versions(tx: Tx, pks: Sequence[int]) -> None:
        """Delete these versions with their files, uses and aliases."""
        if not pks:
            return
        for table, column in (
            ("artifact_files", "artifact_pk"),
            ("artifact_usage", "artifact_pk"),
            ("artifact_aliases", "artifact_pk"),
            ("artifacts", "pk"),
        ):
            tx.execute(f"DELETE FROM {table} WHERE {column} = ANY(?::BIGINT[])", [list(pks)])

    def collection_for_commit(
        self,
        tx: Tx,
        pid: int,
        workspace: str,
        project: str,
        name: str,
        type_name: str,
        t: Any,
        kind: str = "sequence",
    ) -> int:
        """The id of the collection ``name`` of the project, made if missing, inside the
        commit's transaction; ``Conflict`` when it has another type or kind."""
        # Shares the project's row with other commits; a project's delete waits for them, and
        # a commit after that delete finds no project.
        if (
            tx.one(
                "SELECT 1 FROM projects WHERE id = ?" + self.sql.if_concurrent(" FOR KEY SHARE"),
                [pid],
            )
            is None
        ):
            raise NotFound("project", f"{workspace}/{project}")
        select = (
            "SELECT c.id, c.kind, t.name AS type FROM artifact_collections c"
            " JOIN artifact_types t ON t.id = c.type_id WHERE c.project_id = ? AND c.name = ?"
        )
        row = tx.one(select, [pid, name])
        if row is None:
            # Two first commits of one name: the second waits here, then finds the first's.
            tx.lock_name(pid, name)
            row = tx.one(select, [pid, name])
        if row is not None:
            check_collection_fits(row, f"{workspace}/{project}/{name}", type_name, kind)
            return row["id"]
        type_sql = "SELECT id FROM artifact_types WHERE project_id = ? AND name = ?"
        type_id = tx.value(type_sql, [pid, type_name])
        if type_id is None:
            # Another name's first commit may make the same type meanwhile: then that one.
            tx.execute(
                "INSERT INTO artifact_types (project_id, name, created_at) VALUES (?, ?, ?)"
                + self.sql.if_concurrent(" ON CONFLICT (project_id, name) DO NOTHING"),
                [pid, type_name, t],
            )
            type_id = tx.value(type_sql, [pid, type_name])
        return tx.value(
            "INSERT INTO artifact_collections (project_id, type_id, name, kind, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            [pid, type_id, name, kind, t, t],
        )
