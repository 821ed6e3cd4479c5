"""Reports (saved explorer views) in the PostgreSQL store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lablens.store.common.projects import Projects
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.errors import NotFound
from lablens.store.postgres._db import Database, iso, now
from lablens.store.postgres._new_ids import insert_with_new_id
from lablens.store.report_values import changed_report, report_columns, report_out, report_select


class Reports:
    """Part of the PostgreSQL store: reports, a title and a JSON spec each."""

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
        with self.db.transaction() as conn:
            report_id = insert_with_new_id(
                conn,
                "reports",
                pid,
                {**columns, "username": username, "created_at": t, "updated_at": t},
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
        where, params = ["r.project_id = %s"], [pid]
        if name:
            where.append("(r.name = %s OR r.display_name = %s OR r.id = %s)")
            params += [name, name, name]
        total = self.db.one(
            f"SELECT count(*) AS n FROM reports r WHERE {' AND '.join(where)}", params
        )["n"]
        if cursor:
            where.append("r.pk < %s")
            params.append(int(decode_cursor(cursor)[0]))
        rows = self.db.all(
            report_select(iso) + f" WHERE {' AND '.join(where)} ORDER BY r.pk DESC LIMIT %s",
            [*params, limit + 1],
        )
        rows, nxt = cut_page(rows, limit, "pk")
        return {"items": [report_out(r) for r in rows], "total": total, "next": nxt}

    def update_report(
        self, workspace: str, project: str, report_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        columns = changed_report(self.get_report(workspace, project, report_id), changes)
        pid = self.projects.project_id(workspace, project)
        sets = "".join(f"{column} = %s, " for column in columns)
        with self.db.transaction() as conn:
            updated = conn.execute(
                f"UPDATE reports SET {sets}updated_at = %s WHERE project_id = %s AND id = %s",
                [*columns.values(), now(), pid, report_id],
            ).rowcount
        if not updated:  # deleted by another server since it was read
            raise NotFound("report", f"{workspace}/{project}/reports/{report_id}")
        return self.get_report(workspace, project, report_id)

    def delete_report(self, workspace: str, project: str, report_id: str) -> None:
        self.get_report(workspace, project, report_id)
        pid = self.projects.project_id(workspace, project)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM reports WHERE project_id = %s AND id = %s", [pid, report_id])
