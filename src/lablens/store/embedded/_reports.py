"""Reports (saved explorer views) in the embedded store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lablens.store.common.projects import Projects
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.embedded._db import Database, iso, now
from lablens.store.report_values import changed_report, report_columns, report_out, report_select
from lablens.store.run_values import new_run_id


class Reports:
    """Part of ``EmbeddedStore``: reports, a title and a JSON spec each."""

    def __init__(self, db: Database, projects: Projects) -> None:
        self.db = db
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
        t = now()
        with self.db.write() as con:
            report_id = new_run_id()
            while self.db.one(
                "SELECT 1 FROM reports WHERE project_id = ? AND id = ?", [pid, report_id]
            ):
                report_id = new_run_id()
            con.execute(
                f"INSERT INTO reports (project_id, id, {', '.join(columns)}, username,"
                " created_at, updated_at)"
                f" VALUES (?, ?, {', '.join('?' for _ in columns)}, ?, ?, ?)",
                [pid, report_id, *columns.values(), username, t, t],
            )
        return self.get_report(workspace, project, report_id)

    def get_report(self, workspace: str, project: str, report_id: str) -> dict[str, Any]:
        what = f"{workspace}/{project}/reports/{report_id}"
        row = self.projects.in_project(
            report_select(iso), "r.id", workspace, project, report_id, kind="report", what=what
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
        total = self.db.one(
            f"SELECT count(*) AS n FROM reports r WHERE {' AND '.join(where)}", params
        )["n"]
        if cursor:
            where.append("r.pk < ?")
            params.append(int(decode_cursor(cursor)[0]))
        rows = self.db.all(
            report_select(iso) + f" WHERE {' AND '.join(where)} ORDER BY r.pk DESC LIMIT ?",
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
        with self.db.write() as con:
            con.execute(
                f"UPDATE reports SET {sets}updated_at = ? WHERE project_id = ? AND id = ?",
                [*columns.values(), now(), pid, report_id],
            )
        return self.get_report(workspace, project, report_id)

    def delete_report(self, workspace: str, project: str, report_id: str) -> None:
        self.get_report(workspace, project, report_id)
        pid = self.projects.project_id(workspace, project)
        with self.db.write() as con:
            con.execute("DELETE FROM reports WHERE project_id = ? AND id = ?", [pid, report_id])
