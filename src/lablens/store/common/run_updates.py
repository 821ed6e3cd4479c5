"""Runs changed, written once for both engines: the checked changes (``run_values``) written,
the summary merged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lablens.store import _json
from lablens.store.common.runs import REV_BUMP, Runs
from lablens.store.run_values import checked_run_changes, merged_summary
from lablens.store.sql import Sql


class RunUpdates:
    """Part of the store: changes to a run. ``projects`` is the engine's projects part."""

    def __init__(self, sql: Sql, projects: Any, runs: Runs) -> None:
        self.sql = sql
        self.projects = projects
        self.runs = runs

    def update_run(
        self, workspace: str, project: str, run_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.change_run(workspace, project, run_id, changes)
        return self.runs.get_run(workspace, project, run_id)

    def change_run(
        self, workspace: str, project: str, run_id: str, changes: Mapping[str, Any]
    ) -> None:
        pk = self.runs.run_pk(workspace, project, run_id)
        pid = self.projects.project_id(workspace, project)
        change = checked_run_changes(changes, self.sql.now())
        columns = dict(change.columns)
        if change.config_flat is not None:
            columns["config_flat"] = self.sql.json_param(change.config_flat)
        with self.sql.transaction() as tx:
            if change.summary is not None:
                # Locked until the merged summary is written: another server's merge (a
                # client's update, or points bringing last values) waits, so neither is lost.
                current = tx.value(
                    "SELECT summary FROM runs WHERE pk = ?" + self.sql.if_concurrent(" FOR UPDATE"),
                    [pk],
                )
                merged = merged_summary(_json.loads(current) or {}, change.summary)
                columns["summary"] = self.sql.json_param(merged)
                self.runs.record_fields(tx, pid, "summary", change.summary)
            if change.config_flat is not None:
                self.runs.record_fields(tx, pid, "config", change.config_flat)
            if columns:
                sets = ", ".join(f"{column} = ?" for column in columns)
                if "config_flat" in columns or "summary" in columns:
                    sets += f", {REV_BUMP}"
                tx.execute(f"UPDATE runs SET {sets} WHERE pk = ?", [*columns.values(), pk])
