"""Projects, for every engine: made, listed, changed and deleted, and the lookup of a row inside
one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lablens.store.common.accounts import Accounts
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.errors import Conflict, NotFound
from lablens.store.names import check_not_registry, check_project_name
from lablens.store.project_values import (
    check_visibility,
    checked_project_changes,
    parse_project_sort,
    project_out,
)
from lablens.store.sql import Sql, Tx

# Names sort by their bytes, as DuckDB sorts them, whatever a PostgreSQL database's locale.
_SORT_COLUMNS = {
    "created_at": "p.created_at",
    "updated_at": "p.updated_at",
    "name": 'p.name COLLATE "C"',
}


class Projects:
    """A store's part: the projects of workspaces, and finding a row inside one."""

    def __init__(self, sql: Sql, accounts: Accounts) -> None:
        self.sql = sql
        self.accounts = accounts
        # A project's own columns, found by its workspace's id (``accounts.workspace_id``,
        # kept in memory): one table, which DuckDB plans in half the time of the join.
        self._row = (
            "SELECT p.id, p.name, p.description, p.labels, p.visibility,"
            f" {sql.iso('p.created_at')} AS created_at, {sql.iso('p.updated_at')} AS updated_at"
            " FROM projects p WHERE p.workspace_id = ? AND p.name = ?"
        )
        # Project ids by (workspace, name), where this process is the database's only writer:
        # a project is never renamed, and a deleted one leaves here when its deletion commits.
        # ``_ids_version`` moves at each deletion, so a read that raced one keeps nothing.
        self._ids: dict[tuple[str, str], int] | None = None if sql.concurrent else {}
        self._ids_version = 0
        # get_project's rows by (workspace, name), with ``sql.committed()`` when read.
        self._answers: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self._counted_row = self._row.replace(
            " FROM projects p",
            ", (SELECT count(*) FROM runs r WHERE r.project_id = p.id) AS run_count"
            " FROM projects p",
        )
        self._select = (
            "SELECT p.id, w.username AS entity, p.name, p.description, p.labels, p.visibility,"
            f" {sql.iso('p.created_at')} AS created_at, {sql.iso('p.updated_at')} AS updated_at,"
            " (SELECT count(*) FROM runs r WHERE r.project_id = p.id) AS run_count"
            " FROM projects p JOIN workspaces w ON w.id = p.workspace_id"
        )

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
        with self.sql.transaction() as tx:
            exists = tx.value(
                "SELECT 1 FROM projects WHERE workspace_id = ? AND name = ?", [wid, name]
            )
            if exists is None:
                # Only a new name is checked, so projects named before the rule keep working.
                check_project_name(name)
                check_not_registry(name)
                t = self.sql.now()
                # Another server may make the same project meanwhile (two runs logged into a
                # new project at once): the unique (workspace_id, name) keeps one.
                made = tx.rows(
                    "INSERT INTO projects (workspace_id, name, description, labels, visibility,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (workspace_id, name) DO NOTHING RETURNING id",
                    [wid, name, description, list(labels), visibility, t, t],
                )
                exists = None if made else 1
            if exists is not None and not exist_ok:
                raise Conflict(f"project {workspace}/{name} already exists")
        return self.get_project(workspace, name)

    def get_project(self, workspace: str, name: str) -> dict[str, Any]:
        # The small read every client makes (request_p50). DuckDB plans a correlated count ~4x
        # slower than two plain one-table reads; PostgreSQL plans it at once, and there each
        # read is a round trip.
        # On the embedded engine the answer is kept until any write commits: a project polled
        # while nothing is logged (a notebook's view, a dashboard) costs no query.
        committed = self.sql.committed()
        kept = self._answers.get((workspace, name)) if committed is not None else None
        if kept is not None and kept[0] == committed:
            return project_out(kept[1])
        wid = self.accounts.workspace_id(workspace)
        if "\x00" in name:
            row = None
        elif self.sql.engine == "duckdb":
            row = self.sql.one(self._row, [wid, name])
            if row is not None:
                row["run_count"] = self.sql.one(
                    "SELECT count(*) AS n FROM runs WHERE project_id = ?", [row["id"]]
                )["n"]
        else:
            row = self.sql.one(self._counted_row, [wid, name])
        if row is None:
            raise NotFound("project", f"{workspace}/{name}")
        row["entity"] = workspace
        if committed is not None:
            if len(self._answers) >= 10_000:
                self._answers.clear()
            # Kept with the count read before the queries: a write that committed meanwhile
            # moved it, so this answer is never taken.
            self._answers[workspace, name] = (committed, row)
        return project_out(row)

    def project_id(self, workspace: str, name: str) -> int:
        """The id of a project; ``NotFound`` names the workspace or the project missing."""
        memo = self.sql.memo()
        if memo is not None and (found := memo.get(("project", workspace, name))):
            return found
        if self._ids is not None and (found := self._ids.get((workspace, name))):
            return found
        version = self._ids_version
        wid = self.accounts.workspace_id(workspace)
        if "\x00" in name:  # no project is named so, and PostgreSQL text cannot compare it
            raise NotFound("project", f"{workspace}/{name}")
        row = self.sql.one(
            "SELECT id FROM projects WHERE workspace_id = ? AND name = ?", [wid, name]
        )
        if row is None:
            raise NotFound("project", f"{workspace}/{name}")
        if memo is not None:
            memo["project", workspace, name] = row["id"]
            if self._ids is not None:  # kept once the request's transaction commits
                self.sql.after_commit(lambda: self._keep(workspace, name, row["id"], version))
        return row["id"]

    def _keep(self, workspace: str, name: str, pid: int, version: int) -> None:
        """Keep a project's id read (and committed) while no deletion moved the version."""
        assert self._ids is not None
        if version != self._ids_version:
            return  # a project was deleted since the read: it may have been this one
        if len(self._ids) >= 100_000:
            self._ids.clear()
        self._ids[workspace, name] = pid

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
        """The row of ``select`` (joined to ``projects p`` and ``workspaces w``; SQL both the
        engine and ``Sql`` take, with no placeholder of its own) whose ``id_sql`` is ``id_`` in
        the project. NotFound names what is missing: the workspace, the project, else ``kind``
        ``what``."""
        row = self.sql.one(
            select + f" WHERE w.username = ? AND p.name = ? AND {id_sql} = ?",
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
        # A registry's project is listed as a registry (``list_registries``), not here.
        where = ["w.username = ?", "p.id NOT IN (SELECT project_id FROM registries)"]
        params: list[Any] = [workspace]
        if viewer is not None and self.accounts.role(workspace, viewer) is None:
            where.append("p.visibility = 'PUBLIC'")
        if search:
            where.append("p.name ILIKE ?")
            params.append(f"%{search}%")
        total = self.sql.one(
            "SELECT count(*) AS n FROM projects p JOIN workspaces w ON w.id = p.workspace_id"
            f" WHERE {' AND '.join(where)}",
            params,
        )["n"]
        op = "<" if desc else ">"
        if cursor:
            last_value, last_id = decode_cursor(cursor)
            where.append(f"({col}, p.id) {op} (?, ?)")
            params += [last_value, last_id]
        direction = "DESC" if desc else "ASC"
        rows = self.sql.all(
            self._select.replace(" FROM projects p", f", {col} AS _sort FROM projects p")
            + f" WHERE {' AND '.join(where)} ORDER BY {col} {direction}, p.id {direction}"
            " LIMIT ?",
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
            sets = "".join(f"{column} = ?, " for column in columns)
            # Visibility decides who reads it: servers' caches of projects must see the change.
            with self.accounts.changing_access() as tx:
                tx.execute(
                    f"UPDATE projects SET {sets}updated_at = ? WHERE id = ?",
                    [*columns.values(), self.sql.now(), pid],
                )
        return self.get_project(workspace, name)

    def delete_rows(self, tx: Tx, pid: int) -> None:
        """Delete project ``pid`` with its runs, their data, sweeps and reports, inside the
        caller's transaction (the store deletes its artifacts first: ``delete_project`` of
        each store class)."""
        runs = "(SELECT pk FROM runs WHERE project_id = ?)"
        for table in self.sql.run_data_tables:
            tx.execute(f"DELETE FROM {table} WHERE run_pk IN {runs}", [pid])
        tx.execute(
            "DELETE FROM sweep_trials WHERE sweep_pk IN"
            " (SELECT pk FROM sweeps WHERE project_id = ?)",
            [pid],
        )
        for table in ("runs", "sweeps", "reports", "project_fields"):
            tx.execute(f"DELETE FROM {table} WHERE project_id = ?", [pid])
        tx.execute("DELETE FROM projects WHERE id = ?", [pid])
        if self._ids is not None:
            self._ids_version += 1
            self.sql.after_commit(lambda: self._forget(pid))

    def _forget(self, pid: int) -> None:
        """Drop a deleted project's id from memory."""
        assert self._ids is not None
        self._ids_version += 1
        for key in [k for k, v in self._ids.items() if v == pid]:
            del self._ids[key]

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
        for r in self.sql.all(
            "SELECT kind, key, type FROM project_fields WHERE project_id = ?"
            ' ORDER BY key COLLATE "C"',
            [pid],
        ):
            out[r["kind"]][r["key"]] = r["type"]
        return out
