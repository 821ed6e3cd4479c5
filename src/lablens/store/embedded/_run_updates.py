"""Runs changed in the embedded store: the checked changes (``run_values``) written, the summary
merged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lablens.store import _json
from lablens.store.common.projects import Projects
from lablens.store.embedded._db import Database, now
from lablens.store.embedded._runs import Runs
from lablens.store.run_values import checked_run_changes, merged_summary


class RunUpdates:
    """Part of ``EmbeddedStore``: changes to a run."""

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
        with self.db.write() as con:
            if change.summary is not None:
                current = self.db.one("SELECT summary FROM runs WHERE pk = ?", [pk])["summary"]
                merged = merged_summary(_json.loads(current) or {}, change.summary)
                columns["summary"] = _json.dumps(merged)
                self.runs.record_fields(con, pid, "summary", change.summary)
            if change.config_flat is not None:
                self.runs.record_fields(con, pid, "config", change.config_flat)
            if columns:
                sets = ", ".join(f"{column} = ?" for column in columns)
                con.execute(f"UPDATE runs SET {sets} WHERE pk = ?", [*columns.values(), pk])
        return self.runs.get_run(workspace, project, run_id)
