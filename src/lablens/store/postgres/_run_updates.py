"""Runs changed in the PostgreSQL store: the checked changes (``run_values``) written, the
summary merged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lablens.store.common.projects import Projects
from lablens.store.postgres._db import Database, now
from lablens.store.postgres._runs import Runs, jsonb_dumps
from lablens.store.run_values import checked_run_changes, merged_summary


class RunUpdates:
    """Part of ``PostgresStore``: changes to a run."""

    def __init__(self, db: Database, projects: Projects, runs: Runs) -> None:
        self.db = db
        self.projects = projects
        self.runs = runs

    def update_run(
        self, workspace: str, project: str, run_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        pk = self.runs.run_pk(workspace, project, run_id)
        pid = self.projects.project_id(workspace, project)
        change = checked_run_changes(changes, now())
        columns = dict(change.columns)
        if change.config_flat is not None:
            columns["config_flat"] = jsonb_dumps(change.config_flat)
        with self.db.transaction() as con:
            if change.summary is not None:
                # Locked until the merged summary is written: another server's merge (a
                # client's update, or points bringing last values) waits, so neither is lost.
                row = con.execute(
                    "SELECT summary FROM runs WHERE pk = %s FOR UPDATE", [pk]
                ).fetchone()
                merged = merged_summary(row[0] if row and row[0] else {}, change.summary)
                columns["summary"] = jsonb_dumps(merged)
                self.runs.record_fields(con, pid, "summary", change.summary)
            if change.config_flat is not None:
                self.runs.record_fields(con, pid, "config", change.config_flat)
            if columns:
                sets = ", ".join(f"{column} = %s" for column in columns)
                con.execute(f"UPDATE runs SET {sets} WHERE pk = %s", [*columns.values(), pk])
        return self.runs.get_run(workspace, project, run_id)
