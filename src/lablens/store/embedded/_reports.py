"""Reports (saved explorer views) in the embedded store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lablens.store import _json
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.embedded._db import Database, iso, now
from lablens.store.embedded._projects import Projects
from lablens.store.report_values import check_report, report_out, slug
from lablens.store.run_values import new_run_id


def _report_select() -> str:
    return (
        "SELECT r.pk, r.id, w.username AS entity, p.name AS project, r.name, r.display_name,"
        " r.description, r.spec, r.username,"
        f" {iso('r.created_at')} AS created_at, {iso('r.updated_at')} AS updated_at"
        " FROM reports r JOIN projects p ON p.id = r.project_id"
        " JOIN workspaces w ON w.id = p.workspace_id"
    )


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
        check_report(title, description, spec)
        pid = self.projects.project_id(workspace, project)
        t = now()
        with self.db.write() as con:
            report_id = new_run_id()
            while self.db.one(
                "SELECT 1 FROM reports WHERE project_id = ? AND id = ?", [pid, report_id]
            ):
                report_id = new_run_id()
            con.execute(
                "INSERT INTO reports (project_id, id, name, display_name, description, spec,"
                " username, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    pid,
                    report_id,
                    slug(title),
                    title,
                    description,
                    _json.dumps(dict(spec)),
                    username,
                    t,
                    t,
                ],
            )
        return self.get_report(workspace, project, report_id)

    def get_report(self, workspace: str, project: str, report_id: str) -> dict[str, Any]:
        what = f"{workspace}/{project}/reports/{report_id}"
        row = self.projects.in_project(
            _report_select(), "r.id", workspace, project, report_id, kind="report", what=what
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
            _report_select() + f" WHERE {' AND '.join(where)} ORDER BY r.pk DESC LIMIT ?",
            [*params, limit + 1],
        )
        rows, nxt = cut_page(rows, limit, "pk")
        return {"items": [report_out(r) for r in rows], "total": total, "next": nxt}

    def update_report(
        self, workspace: str, project: str, report_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        current = self.get_report(workspace, project, report_id)
        title = changes.get("title", current["display_name"])
        description = changes.get("description", current["description"])
        spec = changes.get("spec", current["spec"])
        check_report(title, description, spec)
        pid = self.projects.project_id(workspace, project)
        with self.db.write() as con:
            con.execute(
                "UPDATE reports SET name = ?, display_name = ?, description = ?, spec = ?,"
                " updated_at = ? WHERE project_id = ? AND id = ?",
                [slug(title), title, description, _json.dumps(dict(spec)), now(), pid, report_id],
            )
        return self.get_report(workspace, project, report_id)

    def delete_report(self, workspace: str, project: str, report_id: str) -> None:
        self.get_report(workspace, project, report_id)
        pid = self.projects.project_id(workspace, project)
        with self.db.write() as con:
            con.execute("DELETE FROM reports WHERE project_id = ? AND id = ?", [pid, report_id])
