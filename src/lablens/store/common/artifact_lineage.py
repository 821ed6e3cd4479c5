"""Artifact lineage: the runs that used a version, and the versions a run logged or used,
written once for both engines."""

from __future__ import annotations

from typing import Any

from lablens.store.common.artifact_versions import ArtifactVersions
from lablens.store.common.runs import run_select
from lablens.store.cursors import cut_page, decode_int_cursor
from lablens.store.errors import NotFound
from lablens.store.run_values import run_out
from lablens.store.sql import Sql


class ArtifactLineage:
    """Part of the store: the runs that used versions and the versions of a run."""

    def __init__(self, sql: Sql, runs: Any, versions: ArtifactVersions) -> None:
        self.sql = sql
        self.runs = runs
        self.versions = versions
        self._users = (
            run_select(sql) + " JOIN artifact_usage u ON u.run_pk = r.pk"
            " WHERE u.artifact_pk = ? ORDER BY u.used_at, r.pk"
        )

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
        run_pk = self.runs.run_pk(workspace, project, run_id)
        pk = self.versions.artifact_row(artifact_workspace, artifact_project, artifact_id)["pk"]
        with self.sql.transaction() as tx:
            # Two servers recording the same use wait in turn on the version's row, so the use
            # is stored once (the table has no key to conflict on); a version or run deleted
            # meanwhile is not found.
            if (
                tx.one(
                    "SELECT 1 FROM artifacts WHERE pk = ?"
                    + self.sql.if_concurrent(" FOR NO KEY UPDATE"),
                    [pk],
                )
                is None
            ):
                raise NotFound("artifact", f"{artifact_workspace}/{artifact_project}/{artifact_id}")
            if (
                tx.one(
                    "SELECT 1 FROM runs WHERE pk = ?" + self.sql.if_concurrent(" FOR KEY SHARE"),
                    [run_pk],
                )
                is None
            ):
                raise NotFound("run", f"{workspace}/{project}/{run_id}")
            tx.execute(
                "INSERT INTO artifact_usage (artifact_pk, run_pk, used_at) SELECT ?, ?, ?"
                " WHERE NOT EXISTS"
                " (SELECT 1 FROM artifact_usage WHERE artifact_pk = ? AND run_pk = ?)",
                [pk, run_pk, self.sql.now(), pk, run_pk],
            )
        return self.versions.artifact_by_pk(pk)

    def artifact_users(
        self, workspace: str, project: str, artifact_id: str
    ) -> list[dict[str, Any]]:
        pk = self.versions.artifact_row(workspace, project, artifact_id)["pk"]
        rows = self.sql.all(self._users, [pk])
        keys = self.runs.history_keys([r["pk"] for r in rows])
        return [run_out(r, keys[r["pk"]]) for r in rows]

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
        run_pk = self.runs.run_pk(workspace, project, run_id)
        if used:
            where = "a.pk IN (SELECT artifact_pk FROM artifact_usage WHERE run_pk = ?)"
        else:
            # What the run logged, not the links others made to it.
            where = "a.run_pk = ? AND a.source_pk IS NULL"
        params: list[Any] = [run_pk]
        total = self.sql.one(f"SELECT count(*) AS n FROM artifacts a WHERE {where}", params)["n"]
        if cursor:
            last = decode_int_cursor(cursor)
            where += " AND a.pk > ?"
            params.append(last)
        rows = self.sql.all(
            self.versions.select + f" WHERE {where} ORDER BY a.pk LIMIT ?", [*params, limit + 1]
        )
        rows, nxt = cut_page(rows, limit, "pk")
        return {"items": self.versions.artifacts_out(rows), "total": total, "next": nxt}
