"""Artifact types and collections in the PostgreSQL store, and the locks artifacts share.

A collection holds the versions of one artifact name (``mlp``: ``v0``, ``v1``, ...) and has one
type (``model``); a name is unique in its project whatever its type. A ``portfolio`` collection
holds links to versions logged elsewhere instead of logged versions.

Several servers write at once, so what the embedded store keeps under its one write lock is kept
here by row locks: whatever adds, moves or deletes a collection's versions or aliases first locks
the collection's row (``FOR UPDATE``), so version numbers never repeat and an alias names one
version; a collection is made under a transaction-scoped advisory lock on its project and name,
so two first commits of a name make one collection. Names sort and page by bytes
(``COLLATE "C"``), as DuckDB compares text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from lablens.store.artifact_values import (
    check_collection_fits,
    checked_collection_changes,
    collection_exists,
    collection_out,
    linked_conflict,
)
from lablens.store.common.projects import Projects
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.errors import NotFound
from lablens.store.postgres._db import Database, iso, now

_SELECT = (
    "SELECT c.id, c.name, c.kind, c.description, c.tags, t.name AS type,"
    " w.username AS entity, p.name AS project,"
    f" {iso('c.created_at')} AS created_at, {iso('c.updated_at')} AS updated_at,"
    " (SELECT count(*) FROM artifacts a WHERE a.collection_id = c.id) AS version_count,"
    ' ARRAY(SELECT DISTINCT x.alias COLLATE "C" FROM artifact_aliases x'
    "  WHERE x.collection_id = c.id ORDER BY 1) AS aliases"
    " FROM artifact_collections c JOIN artifact_types t ON t.id = c.type_id"
    " JOIN projects p ON p.id = c.project_id JOIN workspaces w ON w.id = p.workspace_id"
)

# The advisory lock key space of collection names: the first of the two 32-bit keys is the
# project, the second a hash of the name. A hash collision only makes two commits wait in turn.
_NAME_LOCK = "SELECT pg_advisory_xact_lock(%s, hashtext(%s))"


def rows(conn: psycopg.Connection[Any], sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    """Every row of ``sql`` on ``conn`` (inside the caller's transaction) as dicts."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def one(conn: psycopg.Connection[Any], sql: str, params: Sequence[Any]) -> dict[str, Any] | None:
    """The first row of ``sql`` on ``conn`` as a dict, or ``None``."""
    found = rows(conn, sql, params)
    return found[0] if found else None


class ArtifactCollections:
    """Part of ``PostgresStore``: artifact types and collections."""

    def __init__(self, db: Database, projects: Projects) -> None:
        self.db = db
        self.projects = projects

    def collection_row(
        self, workspace: str, project: str, name: str, type_name: str | None = None
    ) -> dict[str, Any]:
        """``{id, name, kind, type_id, next_version, type}`` of a collection (of that type,
        when given); ``NotFound("artifact_collection")`` names it when absent."""
        pid = self.projects.project_id(workspace, project)
        row = self.db.one(
            "SELECT c.id, c.name, c.kind, c.type_id, c.next_version, t.name AS type"
            " FROM artifact_collections c JOIN artifact_types t ON t.id = c.type_id"
            " WHERE c.project_id = %s AND c.name = %s",
            [pid, name],
        )
        if row is None or (type_name is not None and row["type"] != type_name):
            typed = f" of type {type_name}" if type_name else ""
            raise NotFound("artifact_collection", f"{workspace}/{project}/{name}{typed}")
        return row

    @staticmethod
    def lock_collection(conn: psycopg.Connection[Any], cid: int) -> dict[str, Any]:
        """Lock collection ``cid``'s row until the transaction ends (its ``next_version``);
        ``NotFound`` when another server deleted it meanwhile. Every write to a collection's
        versions or aliases takes this lock first."""
        row = one(
            conn,
            "SELECT id, next_version FROM artifact_collections WHERE id = %s FOR UPDATE",
            [cid],
        )
        if row is None:
            raise NotFound("artifact_collection", str(cid))
        return row

    # -- types ----------------------------------------------------------------------------
    def list_artifact_types(self, workspace: str, project: str) -> list[dict[str, Any]]:
        pid = self.projects.project_id(workspace, project)
        found = self.db.all(
            f"SELECT t.id, t.name, {iso('t.created_at')} AS created_at,"
            " (SELECT count(*) FROM artifact_collections c WHERE c.type_id = t.id)"
            " AS collection_count FROM artifact_types t WHERE t.project_id = %s"
            ' ORDER BY t.name COLLATE "C"',
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
        where, params = "c.project_id = %s", [pid]
        if type_name is not None:
            if not self.db.one(
                "SELECT 1 FROM artifact_types WHERE project_id = %s AND name = %s",
                [pid, type_name],
            ):
                raise NotFound("artifact_type", f"{workspace}/{project}/{type_name}")
            where += " AND t.name = %s"
            params.append(type_name)
        total = self.db.one(
            "SELECT count(*) AS n FROM artifact_collections c JOIN artifact_types t"
            f" ON t.id = c.type_id WHERE {where}",
            params,
        )["n"]
        if cursor:
            (last,) = decode_cursor(cursor)
            where += ' AND c.name COLLATE "C" > %s'
            params.append(str(last))
        found = self.db.all(
            _SELECT + f' WHERE {where} ORDER BY c.name COLLATE "C" LIMIT %s', [*params, limit + 1]
        )
        found, nxt = cut_page(found, limit, "name")
        return {"items": [collection_out(r) for r in found], "total": total, "next": nxt}

    def get_artifact_collection(
        self, workspace: str, project: str, name: str, *, type_name: str | None = None
    ) -> dict[str, Any]:
        cid = self.collection_row(workspace, project, name, type_name)["id"]
        row = self.db.one(_SELECT + " WHERE c.id = %s", [cid])
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
            with self.db.transaction() as conn:
                if new_name != name:
                    # The lock a first commit of that name takes: no commit makes it meanwhile.
                    conn.execute(_NAME_LOCK, [pid, new_name])
                    if one(
                        conn,
                        "SELECT 1 FROM artifact_collections WHERE project_id = %s AND name = %s",
                        [pid, new_name],
                    ):
                        raise taken
                if columns:
                    sets = "".join(f"{c} = %s, " for c in columns)
                    conn.execute(
                        f"UPDATE artifact_collections SET {sets}updated_at = %s WHERE id = %s",
                        [*columns.values(), now(), row["id"]],
                    )
        except psycopg.errors.UniqueViolation:
            # Checked at commit (the name's constraint is deferred): a rename elsewhere won.
            raise taken from None
        return self.get_artifact_collection(workspace, project, new_name)

    def delete_artifact_collection(self, workspace: str, project: str, name: str) -> None:
        row = self.collection_row(workspace, project, name)
        with self.db.transaction() as conn:
            self.lock_collection(conn, row["id"])
            # Locked, so that a link being made to one of them is seen, or waits and fails.
            pks = [
                r["pk"]
                for r in rows(
                    conn,
                    "SELECT pk FROM artifacts WHERE collection_id = %s ORDER BY pk FOR UPDATE",
                    [row["id"]],
                )
            ]
            self.refuse_if_linked(conn, pks, f"{workspace}/{project}/{name}")
            self.delete_versions(conn, pks)
            conn.execute("DELETE FROM artifact_aliases WHERE collection_id = %s", [row["id"]])
            conn.execute("DELETE FROM artifact_collections WHERE id = %s", [row["id"]])

    def delete_project_artifacts(self, conn: psycopg.Connection[Any], pid: int, what: str) -> None:
        """Delete a project's artifacts, inside the transaction deleting the project; refused
        (``Conflict``) while one of its versions is linked from another project."""
        # The project's row first: a commit into the project locks it to share (see
        # ``collection_for_commit``), so none adds a collection behind this delete.
        conn.execute("SELECT 1 FROM projects WHERE id = %s FOR UPDATE", [pid])
        pks = [
            r["pk"]
            for r in rows(
                conn,
                "SELECT a.pk FROM artifacts a JOIN artifact_collections c ON c.id = a.collection_id"
                " WHERE c.project_id = %s ORDER BY a.pk FOR UPDATE OF a",
                [pid],
            )
        ]
        self.refuse_if_linked(conn, pks, f"an artifact of project {what}", outside=pid)
        self.delete_versions(conn, pks)
        runs = "(SELECT pk FROM runs WHERE project_id = %s)"
        conn.execute(f"DELETE FROM artifact_usage WHERE run_pk IN {runs}", [pid])
        conn.execute(f"UPDATE artifacts SET run_pk = NULL WHERE run_pk IN {runs}", [pid])
        conn.execute(
            "DELETE FROM artifact_aliases WHERE collection_id IN"
            " (SELECT id FROM artifact_collections WHERE project_id = %s)",
            [pid],
        )
        conn.execute("DELETE FROM artifact_collections WHERE project_id = %s", [pid])
        conn.execute("DELETE FROM artifact_types WHERE project_id = %s", [pid])

    @staticmethod
    def refuse_if_linked(
        conn: psycopg.Connection[Any], pks: Sequence[int], what: str, outside: int | None = None
    ) -> None:
        """``Conflict`` if a link points at one of these versions (only links in other projects
        than ``outside``, when given). The caller holds the versions' rows locked, so a link
        made meanwhile is seen here, or waits and finds its source gone."""
        if not pks:
            return
        where, params = "a.source_pk = ANY(%s)", [list(pks)]
        if outside is not None:
            where += " AND c.project_id <> %s"
            params.append(outside)
        link = one(
            conn,
            "SELECT w.username AS entity, p.name AS project, c.name, a.version FROM artifacts a"
            " JOIN artifact_collections c ON c.id = a.collection_id"
            " JOIN projects p ON p.id = c.project_id JOIN workspaces w ON w.id = p.workspace_id"
            f" WHERE {where} ORDER BY a.pk LIMIT 1",
            params,
        )
        if link:
            raise linked_conflict(what, link)

    @staticmethod
    def delete_versions(conn: psycopg.Connection[Any], pks: Sequence[int]) -> None:
        """Delete these versions with their files, uses and aliases."""
        if not pks:
            return
        for table, column in (
            ("artifact_files", "artifact_pk"),
            ("artifact_usage", "artifact_pk"),
            ("artifact_aliases", "artifact_pk"),
            ("artifacts", "pk"),
        ):
            conn.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)", [list(pks)])

    def collection_for_commit(
        self,
        conn: psycopg.Connection[Any],
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
        if one(conn, "SELECT 1 FROM projects WHERE id = %s FOR KEY SHARE", [pid]) is None:
            raise NotFound("project", f"{workspace}/{project}")
        select = (
            "SELECT c.id, c.kind, t.name AS type FROM artifact_collections c"
            " JOIN artifact_types t ON t.id = c.type_id WHERE c.project_id = %s AND c.name = %s"
        )
        row = one(conn, select, [pid, name])
        if row is None:
            # Two first commits of one name: the second waits here, then finds the first's.
            conn.execute(_NAME_LOCK, [pid, name])
            row = one(conn, select, [pid, name])
        if row is not None:
            check_collection_fits(row, f"{workspace}/{project}/{name}", type_name, kind)
            return row["id"]
        type_sql = "SELECT id FROM artifact_types WHERE project_id = %s AND name = %s"
        found = conn.execute(type_sql, [pid, type_name]).fetchone()
        if found is None:
            # Another name's first commit may make the same type meanwhile: then that one.
            conn.execute(
                "INSERT INTO artifact_types (project_id, name, created_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (project_id, name) DO NOTHING",
                [pid, type_name, t],
            )
            found = conn.execute(type_sql, [pid, type_name]).fetchone()
        type_id = found[0]
        return conn.execute(
            "INSERT INTO artifact_collections (project_id, type_id, name, kind, created_at,"
            " updated_at) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            [pid, type_id, name, kind, t, t],
        ).fetchone()[0]
