"""Runs created in the PostgreSQL store: one as a run starts (or resumes), or many at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from lablens.contract.flatten import flatten
from lablens.store import _json
from lablens.store.common.projects import Projects
from lablens.store.errors import Conflict, NotFound
from lablens.store.postgres._db import Database, now
from lablens.store.postgres._runs import Runs, jsonb_dumps
from lablens.store.run_values import checked_finished_run, checked_new_run, value_types

# The columns ``insert_runs`` copies, in order.
_BULK_COLUMNS = (
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


class RunCreation:
    """Part of ``PostgresStore``: runs created, one or many."""

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
        with self.db.transaction() as con:
            # Several servers may start the same run at once (a retried request reaching
            # another server): the row they find is locked, and the one that inserts wins the
            # unique (project_id, id), the others then resume what it made, as if it were first.
            existing = con.execute(
                "SELECT pk FROM runs WHERE project_id = %s AND id = %s FOR UPDATE", [pid, run_id]
            ).fetchone()
            created = False
            if existing is None:
                if resume == "must":
                    raise NotFound("run", f"{workspace}/{project}/{run_id}")
                created = (
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
                        if_new=True,
                    )
                    is not None
                )
            if not created:
                if resume == "never":
                    raise Conflict(
                        f"run {workspace}/{project}/{run_id} already exists;"
                        " pass resume='allow' to continue it"
                    )
                con.execute(
                    "UPDATE runs SET state = 'RUNNING', heartbeat_at = %s,"
                    " finished_at = NULL, exit_code = NULL WHERE project_id = %s AND id = %s",
                    [t, pid, run_id],
                )
        return self.runs.get_run(workspace, project, run_id), created

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
        if_new: bool = False,
    ) -> int | None:
        """Insert a new RUNNING run inside the caller's transaction; returns its pk.

        A run of that id in the project is a ``Conflict``; with ``if_new``, the insert is
        skipped instead and ``None`` returned (another server made the run meanwhile).
        """
        flat = flatten(config)
        row = con.execute(
            "INSERT INTO runs (project_id, id, name, notes, state, group_name, job_type,"
            " tags, created_at, heartbeat_at, username, host, config, config_flat,"
            " summary, metadata, requirements, conda, sweep)"
            " VALUES (%s, %s, %s, %s, 'RUNNING', %s, %s, %s, %s, %s, %s, %s, %s, %s, '{}',"
            " %s, %s, %s, %s)"
            " ON CONFLICT (project_id, id) DO NOTHING RETURNING pk",
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
                jsonb_dumps(flat),
                _json.dumps(metadata),
                data.get("requirements"),
                data.get("conda"),
                sweep,
            ],
        ).fetchone()
        if row is None:
            if if_new:
                return None
            raise Conflict(f"run {run_id} already exists in this project")
        self.runs.record_fields(con, pid, "config", flat)
        con.execute("UPDATE projects SET updated_at = %s WHERE id = %s", [t, pid])
        return row[0]

    def insert_runs(
        self, workspace: str, project: str, runs: Sequence[Mapping[str, Any]], *, username: str
    ) -> int:
        pid = self.projects.create_project(workspace, project, exist_ok=True)["id"]
        t = now()
        rows: list[list[Any]] = []
        config_types: dict[str, str] = {}
        summary_types: dict[str, str] = {}
        for i, run in enumerate(runs):
            ok = checked_finished_run(run, f"runs[{i}].")
            created = run.get("created_at") or t
            rows.append(
                [
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
                    jsonb_dumps(ok.config_flat),
                    jsonb_dumps(ok.summary),
                    _json.dumps(ok.metadata),
                ]
            )
            value_types(ok.config_flat, config_types)
            value_types(ok.summary, summary_types)
        ids = [row[1] for row in rows]
        try:
            with self.db.transaction() as con:
                dup = con.execute(
                    "SELECT count(*) FROM runs WHERE project_id = %s AND id = ANY(%s::text[])",
                    [pid, ids],
                ).fetchone()[0]
                if dup:
                    raise Conflict(f"{dup} of these run ids already exist in {workspace}/{project}")
                with (
                    con.cursor() as cur,
                    cur.copy(f"COPY runs ({', '.join(_BULK_COLUMNS)}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
                self.runs.record_types(con, pid, "config", config_types)
                self.runs.record_types(con, pid, "summary", summary_types)
        except psycopg.errors.UniqueViolation:
            # An id twice in the batch, or a run another server made since the check above.
            raise Conflict(
                f"some of these run ids already exist in {workspace}/{project} or are given twice"
            ) from None
        return len(rows)
