"""Projects in the PostgreSQL store: made, listed, changed and deleted, and the lookup of a row
inside one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.errors import Conflict, NotFound
from lablens.store.names import check_project_name
from lablens.store.postgres._accounts import Accounts
from lablens.store.postgres._db import Database, iso, now
from lablens.store.postgres.schema import RUN_DATA_TABLES
from lablens.store.project_values import (
    check_visibility,
    checked_project_changes,
    parse_project_sort,
    project_out,
)

# Names sort by their bytes, as DuckDB sorts them, whatever the database's locale.
_SORT_COLUMNS = {
    "created_at": "p.created_at",
    "updated_at": "p.updated_at",
    "name": 'p.name COLLATE "C"',
}

_PROJECT_SQL = (
    "SELECT p.id, w.username AS entity, p.name, p.description, p.labels, p.visibility,"
    f" {iso('p.created_at')} AS created_at, {iso('p.updated_at')} AS updated_at,"
    " (SELECT count(*) FROM runs r WHERE r.project_id = p.id) AS run_count"
    " FROM projects p JOIN workspaces w ON w.id = p.workspace_id"
)


class Projects:
    """Part of ``PostgresStore``: the projects of workspaces, and finding a row inside one."""

    def __init__(self, db: Database, accounts: Accounts) -> None:
        self.db = db
        self.accounts = accounts

    def create_project(
        self,
        workspace: str,
        name: str,
        *,
        description: str | None = None,
        labels: Sequence[str] = (),
        visibility: str = "PRIVATE",
        exist_ok: bool = False,
    ) -> dict[str, Any]:
        visibility = check_visibility(visibility or "PRIVATE")
        wid = self.accounts.workspace_id(workspace)
        if "\x00" in name:  # refused by the rule, before PostgreSQL is asked to compare it
            check_project_name(name)
        with self.db.transaction() as conn:
            exists = conn.execute(
                "SELECT 1 FROM projects WHERE workspace_id = %s AND name = %s", [wid, name]
            ).fetchone()
            if exists is None:
                # Only a new name is checked, so projects named before the rule keep working.
                check_project_name(name)
                t = now()
                # Another server may make the same project meanwhile (two runs logged into a
                # new project at once): the unique (workspace_id, name) keeps one.
                made = conn.execute(
                    "INSERT INTO projects (workspace_id, name, description, labels, visibility,"
                    " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (workspace_id, name) DO NOTHING RETURNING id",
                    [wid, name, description, list(labels), visibility, t, t],
                ).fetchone()
                exists = None if made else (1,)
            if exists is not None and not exist_ok:
                raise Conflict(f"project {workspace}/{name} already exists")
        return self.get_project(workspace, name)

    def get_project(self, workspace: str, name: str) -> dict[str, Any]:
        row = self.db.one(
            _PROJECT_SQL + " WHERE w.username = %s AND p.name = %s", [workspace, name]
        )
        if row is None:
            self.accounts.workspace_id(workspace)
            raise NotFound("project", f"{workspace}/{name}")
        return project_out(row)

    def project_id(self, workspace: str, name: str) -> int:
        """The id of a project; ``NotFound`` names the workspace or the project missing."""
        if "\x00" in name:  # no project is named so, and PostgreSQL text cannot compare it
            self.accounts.workspace_id(workspace)
            raise NotFound("project", f"{workspace}/{name}")
        row = self.db.one(
            "SELECT p.id FROM projects p JOIN workspaces w ON w.id = p.workspace_id"
            " WHERE w.username = %s AND p.name = %s",
            [workspace, name],
        )
        if row is None:
            self.accounts.workspace_id(workspace)
            raise NotFound("project", f"{workspace}/{name}")
        return row["id"]

    def in_project(
        self,
        select: str,
        id_sql: str,
        workspace: str,
        project: str,
        id_: str,
        *,
        kind: str,
        what: str,
    ) -> dict[str, Any]:
        """The row of ``select`` (joined to ``projects p`` and ``workspaces w``) whose ``id_sql``
        is ``id_`` in the project. NotFound names what is missing: the workspace, the project,
        else ``kind`` ``what``."""
        row = self.db.one(
            select + f" WHERE w.username = %s AND p.name = %s AND {id_sql} = %s",
            [workspace, project, id_],
        )
        if row is None:
            self.project_id(workspace, project)
            raise NotFound(kind, what)
        return row

    def list_projects(
        self,
        workspace: str,
        *,
        sort: str | None = None,
        search: str | None = None,
        cursor: str | None = None,
        limit: int = 200,
        viewer: str | None = None,
    ) -> dict[str, Any]:
        self.accounts.workspace_id(workspace)
        key, desc = parse_project_sort(sort)
        col = _SORT_COLUMNS[key]
        where = ["w.username = %s"]
        params: list[Any] = [workspace]
        if viewer is not None and self.accounts.role(workspace, viewer) is None:
            where.append("p.visibility = 'PUBLIC'")
        if search:
            where.append("p.name ILIKE %s")
            params.append(f"%{search}%")
        total = self.db.one(
            "SELECT count(*) AS n FROM projects p JOIN workspaces w ON w.id = p.workspace_id"
            f" WHERE {' AND '.join(where)}",
            params,
        )["n"]
        op = "<" if desc else ">"
        if cursor:
            last_value, last_id = decode_cursor(cursor)
            where.append(f"({col}, p.id) {op} (%s, %s)")
            params += [last_value, last_id]
        direction = "DESC" if desc else "ASC"
        rows = self.db.all(
            _PROJECT_SQL.replace(" FROM projects p", f", {col} AS _sort FROM projects p")
            + f" WHERE {' AND '.join(where)} ORDER BY {col} {direction}, p.id {direction}"
            " LIMIT %s",
            [*params, limit + 1],
        )
        rows, nxt = cut_page(rows, limit, "_sort", "id")
        return {"items": [project_out(r) for r in rows], "total": total, "next": nxt}

    def update_project(
        self, workspace: str, name: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        pid = self.project_id(workspace, name)
        columns = checked_project_changes(changes)
        if columns:
            sets = "".join(f"{column} = %s, " for column in columns)
            with self.db.transaction() as conn:
                conn.execute(
                    f"UPDATE projects SET {sets}updated_at = %s WHERE id = %s",
                    [*columns.values(), now(), pid],
                )
        return self.get_project(workspace, name)

    def delete_rows(self, conn: psycopg.Connection[Any], pid: int) -> None:
        """Delete project ``pid`` with its runs, their data, sweeps and reports, inside the
        caller's transaction (the store deletes its artifacts first: ``PostgresStore``)."""
        runs = "(SELECT pk FROM runs WHERE project_id = %s)"
        for table in RUN_DATA_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE run_pk IN {runs}", [pid])
        conn.execute(
            "DELETE FROM sweep_trials WHERE sweep_pk IN"
            " (SELECT pk FROM sweeps WHERE project_id = %s)",
            [pid],
        )
        for table in ("runs", "sweeps", "reports", "project_fields"):
            conn.execute(f"DELETE FROM {table} WHERE project_id = %s", [pid])
        conn.execute("DELETE FROM projects WHERE id = %s", [pid])

    def project_for_write(self, workspace: str, project: str) -> int:
        """The project's id, the project made first if missing (as logging a run does)."""
        try:
            return self.project_id(workspace, project)
        except NotFound as exc:
            if exc.kind != "project":
                raise
        return self.create_project(workspace, project, exist_ok=True)["id"]

    def project_fields(self, workspace: str, project: str) -> dict[str, dict[str, str]]:
        pid = self.project_id(workspace, project)
        out: dict[str, dict[str, str]] = {"config": {}, "summary": {}}
        for r in self.db.all(
            "SELECT kind, key, type FROM project_fields WHERE project_id = %s"
            ' ORDER BY key COLLATE "C"',
            [pid],
        ):
            out[r["kind"]][r["key"]] = r["type"]
        return out
