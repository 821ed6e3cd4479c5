"""Reports (saved explorer views), on every engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lablens.store.common.new_ids import insert_with_new_id
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.errors import NotFound
from lablens.store.report_values import changed_report, report_columns, report_out, report_select
from lablens.store.sql import Sql


class Reports:
    """Part of the store: reports, a title and a JSON spec each."""

    def __init__(self, sql: Sql, projects: Any) -> None:
        self.sql = sql
        self.projects = projects

    def create_report(
        self,
        workspace: str,
        project: str,
        *,
        title: str,
        description: str | None,
        spec: Mapping[str, Any],
        username: str,
    ) -> dict[str, Any]:
        columns = report_columns(title, description, spec)
        pid = self.projects.project_id(workspace, project)
        t = self.sql.now()
        with self.sql.transaction() as tx:
            report_id = insert_with_new_id(
                tx,
                "reports",
                pid,
                {**columns, "username": username, "created_at": t, "updated_at": t},
            )
        return self.get_report(workspace, project, report_id)

    def get_report(self, workspace: str, project: str, report_id: str) -> dict[str, Any]:
        what = f"{workspace}/{project}/reports/{report_id}"
        row = self.projects.in_project(
            report_select(self.sql.iso),
            "r.id",
            workspace,
            project,
            report_id,
            kind="report",
            what=what,
        )
        return report_out(row)

    def list_reports(
        self,
        workspace: str,
        project: str,
        *,
        name: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        pid = self.projects.project_id(workspace, project)
        where, params = ["r.project_id = ?"], [pid]
        if name:
            where.append("(r.name = ? OR r.display_name = ? OR r.id = ?)")
            params += [name, name, name]
        total = self.sql.one(
            f"SELECT count(*) AS n FROM reports r WHERE {' AND '.join(where)}", params
        )["n"]
        if cursor:
            where.append("r.pk < ?")
            params.append(int(decode_cursor(cursor)[0]))
        rows = self.sql.all(
            report_select(self.sql.iso)
            + f" WHERE {' AND '.join(where)} ORDER BY r.pk DESC LIMIT ?",
            [*params, limit + 1],
        )
        rows, nxt = cut_page(rows, limit, "pk")
        return {"items": [report_out(r) for r in rows], "total": total, "next": nxt}

    def update_report(
        self, workspace: str, project: str, report_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        columns = changed_report(self.get_report(workspace, project, report_id), changes)
        pid = self.projects.project_id(workspace, project)
        sets = "".join(f"{column} = ?, " for column in columns)
        with self.sql.transaction() as tx:
            updated = tx.execute(
                f"UPDATE reports SET {sets}updated_at = ? WHERE project_id = ? AND id = ?",
                [*columns.values(), self.sql.now(), pid, report_id],
            )
        if not updated:  # deleted (by another server) since it was read
            raise NotFound("report", f"{workspace}/{project}/reports/{report_id}")
        return self.get_report(workspace, project, report_id)

    def delete_report(self, workspace: str, project: str, report_id: str) -> None:
        self.get_report(workspace, project, report_id)
        pid = self.projects.project_id(workspace, project)
        with self.sql.transaction() as tx:
            tx.execute("DELETE FROM reports WHERE project_id = ? AND id = ?", [pid, report_id])
