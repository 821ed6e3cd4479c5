"""Runs created in the embedded store: one as a run starts (or resumes), or many at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from lablens.contract.flatten import flatten
from lablens.store import _json
from lablens.store.common.projects import Projects
from lablens.store.embedded._db import Database, now
from lablens.store.embedded._runs import Runs
from lablens.store.errors import Conflict, NotFound
from lablens.store.run_values import checked_finished_run, checked_new_run, value_types


class RunCreation:
    """Part of ``EmbeddedStore``: runs created, one or many."""

    def __init__(self, db: Database, projects: Projects, runs: Runs) -> None:
        self.db = db
        self.projects = projects
        self.runs = runs

    # -- create, read, update, delete -----------------------------------------------------
    def create_run(
        self, workspace: str, project: str, data: Mapping[str, Any], *, username: str
    ) -> tuple[dict[str, Any], bool]:
        new = checked_new_run(data)
        run_id, resume = new.id, new.resume
        pid = self.projects.create_project(workspace, project, exist_ok=True)["id"]
        t = now()
        with self.db.write() as con:
            existing = self.db.one(
                "SELECT pk FROM runs WHERE project_id = ? AND id = ?", [pid, run_id]
            )
            if existing:
                if resume == "never":
                    raise Conflict(
                        f"run {workspace}/{project}/{run_id} already exists;"
                        " pass resume='allow' to continue it"
                    )
                con.execute(
                    "UPDATE runs SET state = 'RUNNING', heartbeat_at = ?,"
                    " finished_at = NULL, exit_code = NULL WHERE pk = ?",
                    [t, existing["pk"]],
                )
            else:
                if resume == "must":
                    raise NotFound("run", f"{workspace}/{project}/{run_id}")
                self.insert_run(
                    con,
                    pid,
                    run_id,
                    data,
                    config=new.config,
                    metadata=new.metadata,
                    tags=new.tags,
                    username=username,
                    t=t,
                    created=new.created,
                )
        return self.runs.get_run(workspace, project, run_id), not existing

    def insert_run(
        self,
        con: Any,
        pid: int,
        run_id: str,
        data: Mapping[str, Any],
        *,
        config: dict[str, Any],
        metadata: dict[str, Any],
        tags: list[str],
        username: str,
        t: Any,
        sweep: str | None = None,
        created: Any = None,
    ) -> int:
        """Insert a new RUNNING run inside the caller's transaction; returns its pk."""
        flat = flatten(config)
        pk = con.execute(
            "INSERT INTO runs (project_id, id, name, notes, state, group_name, job_type,"
            " tags, created_at, heartbeat_at, username, host, config, config_flat,"
            " summary, metadata, requirements, conda, sweep)"
            " VALUES (?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?)"
            " RETURNING pk",
            [
                pid,
                run_id,
                data.get("name") or run_id,
                data.get("notes"),
                data.get("group"),
                data.get("job_type"),
                tags,
                created or t,
                t,
                username,
                data.get("host"),
                _json.dumps(config),
                _json.dumps(flat),
                _json.dumps(metadata),
                data.get("requirements"),
                data.get("conda"),
                sweep,
            ],
        ).fetchone()[0]
        self.runs.record_fields(con, pid, "config", flat)
        con.execute("UPDATE projects SET updated_at = ? WHERE id = ?", [t, pid])
        return pk

    def insert_runs(
        self, workspace: str, project: str, runs: Sequence[Mapping[str, Any]], *, username: str
    ) -> int:
        pid = self.projects.create_project(workspace, project, exist_ok=True)["id"]
        t = now()
        cols: dict[str, list[Any]] = {
            c: []
            for c in (
                "project_id",
                "id",
                "name",
                "notes",
                "state",
                "group_name",
                "job_type",
                "tags",
                "created_at",
                "finished_at",
                "heartbeat_at",
                "username",
                "host",
                "config",
                "config_flat",
                "summary",
                "metadata",
            )
        }
        config_types: dict[str, str] = {}
        summary_types: dict[str, str] = {}
        for i, run in enumerate(runs):
            ok = checked_finished_run(run, f"runs[{i}].")
            created = run.get("created_at") or t
            values = [
                pid,
                ok.id,
                run.get("name") or ok.id,
                run.get("notes"),
                ok.state,
                run.get("group"),
                run.get("job_type"),
                ok.tags,
                created,
                run.get("finished_at") or (None if ok.state == "RUNNING" else created),
                created,
                username,
                run.get("host"),
                _json.dumps(ok.config),
                _json.dumps(ok.config_flat),
                _json.dumps(ok.summary),
                _json.dumps(ok.metadata),
            ]
            for col, value in zip(cols, values, strict=True):
                cols[col].append(value)
            value_types(ok.config_flat, config_types)
            value_types(ok.summary, summary_types)
        table = pa.table(
            {
                **{
                    c: v
                    for c, v in cols.items()
                    if c not in ("created_at", "finished_at", "heartbeat_at", "tags")
                },
                "tags": pa.array(cols["tags"], pa.list_(pa.string())),
                **{
                    c: pa.array(cols[c], pa.timestamp("us", tz="UTC"))
                    for c in ("created_at", "finished_at", "heartbeat_at")
                },
            }
        )
        names = ", ".join(cols)
        with self.db.write() as con:
            con.register("_runs", table)
            try:
                dup = con.execute(
                    "SELECT count(*) FROM _runs n JOIN runs r ON r.id = n.id"
                    " AND r.project_id = n.project_id"
                ).fetchall()[0][0]  # fetched whole: an open result blocks the unregister
                if dup:
                    raise Conflict(f"{dup} of these run ids already exist in {workspace}/{project}")
                con.execute(f"INSERT INTO runs ({names}) SELECT {names} FROM _runs")
            finally:
                con.unregister("_runs")
            self.runs.record_types(con, pid, "config", config_types)
            self.runs.record_types(con, pid, "summary", summary_types)
        return table.num_rows
