"""Runs changed in the embedded store: names, notes, tags, config, summary merges, state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lablens.contract.flatten import flatten
from lablens.store import _json
from lablens.store.embedded._db import Database, now
from lablens.store.embedded._projects import Projects
from lablens.store.embedded._run_values import (
    _EXIT_CODE_RANGE,
    STATES,
    _check_field_count,
    _checked_fields,
    _mapping,
    _str_list,
    _time,
)
from lablens.store.embedded._runs import Runs
from lablens.store.errors import InvalidInput


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
        sets: list[str] = []
        params: list[Any] = []
        t = now()

        def put(column: str, value: Any) -> None:
            sets.append(f"{column} = ?")
            params.append(value)

        for field, column in (
            ("name", "name"),
            ("notes", "notes"),
            ("group", "group_name"),
            ("job_type", "job_type"),
            ("requirements", "requirements"),
            ("conda", "conda"),
        ):
            if field in changes:
                value = changes[field]
                if value is not None and not isinstance(value, str):
                    raise InvalidInput(f"{field} must be a string", field=field)
                _json.check_text(value, field)
                put(column, value)
        if "description" in changes and "notes" not in changes:
            _json.check_text(changes["description"], "description")
            put("notes", changes["description"])
        if "tags" in changes:
            put("tags", _str_list(changes["tags"], "tags"))
        if "show" in changes:
            put("shown", bool(changes["show"]))
        if "exit_code" in changes:
            code = changes["exit_code"]
            lo, hi = _EXIT_CODE_RANGE
            if code is not None and (
                isinstance(code, bool) or not isinstance(code, int) or not lo <= code <= hi
            ):
                raise InvalidInput(
                    f"exit_code must be an integer from {lo} to {hi}, or null", field="exit_code"
                )
            put("exit_code", code)
        if "metadata" in changes:
            metadata = _mapping(changes["metadata"], "metadata")
            _json.check_fields(metadata, "metadata")
            put("metadata", _json.dumps(metadata))
        if "state" in changes:
            state = str(changes["state"] or "").upper()
            if state not in STATES:
                raise InvalidInput(f"state must be one of {', '.join(STATES)}", field="state")
            put("state", state)
            if "finished_at" not in changes:
                put("finished_at", None if state == "RUNNING" else t)
        if changes.get("heartbeat"):
            put("heartbeat_at", t)
        if "finished_at" in changes:
            # An imported run ends when it ended at its source; that was its last sign of life.
            finished = _time(changes["finished_at"], "finished_at")
            put("finished_at", finished)
            if finished is not None and not changes.get("heartbeat"):
                put("heartbeat_at", finished)
        config = flat = None
        if "config" in changes:
            config = _mapping(changes["config"], "config")
            flat = _checked_fields(config, "config")
            put("config", _json.dumps(config))
            put("config_flat", _json.dumps(flat))
        summary_changes = None
        if "summary" in changes:
            summary_changes = _mapping(changes["summary"], "summary")
            _json.check_fields(summary_changes, "summary")
            summary_changes = flatten(summary_changes)
        with self.db.write() as con:
            if summary_changes is not None:
                current = (
                    _json.loads(
                        self.db.one("SELECT summary FROM runs WHERE pk = ?", [pk])["summary"]
                    )
                    or {}
                )
                current.update(summary_changes)
                # A key set to None is removed, as deleting from W&B's summary does.
                current = {k: v for k, v in current.items() if v is not None}
                _check_field_count(len(current), "summary")
                put("summary", _json.dumps(current))
                self.runs.record_fields(con, pid, "summary", summary_changes)
            if flat is not None:
                self.runs.record_fields(con, pid, "config", flat)
            if sets:
                con.execute(f"UPDATE runs SET {', '.join(sets)} WHERE pk = ?", [*params, pk])
        return self.runs.get_run(workspace, project, run_id)
