"""Runs created, written once for both engines: one as a run starts (or resumes), or many at
once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lablens.contract.flatten import flatten
from lablens.store import _json
from lablens.store.common.runs import Runs, as_tx
from lablens.store.errors import Conflict, NotFound
from lablens.store.run_values import checked_finished_run, checked_new_run, value_types
from lablens.store.sql import Sql

# The columns ``insert_runs`` loads, in order.
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
    """Part of the store: runs created, one or many. ``projects`` is the engine's projects
    part."""

    def __init__(self, sql: Sql, projects: Any, runs: Runs) -> None:
        self.sql = sql
        self.projects = projects
        self.runs = runs

    def create_run(
        self, workspace: str, project: str, data: Mapping[str, Any], *, username: str
    ) -> tuple[dict[str, Any], bool]:
        run_id, created = self._start(workspace, project, data, username)
        return self.runs.get_run(workspace, project, run_id), created

    def start_run(
        self, workspace: str, project: str, data: Mapping[str, Any], *, username: str
    ) -> bool:
        return self._start(workspace, project, data, username)[1]

    def _start(
        self, workspace: str, project: str, data: Mapping[str, Any], username: str
    ) -> tuple[str, bool]:
        """Create or resume the run; its id (made here when ``data`` has none), and whether it
        was created."""
        new = checked_new_run(data)
        run_id, resume = new.id, new.resume
        # The project's id in one look when it exists (the common case: the same project's
        # runs one after another); made first when missing.
        pid = self.projects.project_for_write(workspace, project)
        t = self.sql.now()
        with self.sql.transaction() as tx:
            # Several servers may start the same run at once (a retried request reaching
            # another server): the row they find is locked, and the one that inserts wins the
            # unique (project_id, id), the others then resume what it made, as if it were first.
            existing = tx.one(
                "SELECT pk FROM runs WHERE project_id = ? AND id = ?"
                + self.sql.if_concurrent(" FOR UPDATE"),
                [pid, run_id],
            )
            created = False
            if existing is None:
                if resume == "must":
                    raise NotFound("run", f"{workspace}/{project}/{run_id}")
                pk = self.insert_run(
                    tx,
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
                    looked=True,
                )
                created = pk is not None
                memo = self.sql.memo()
                if created and memo is not None:
                    memo["run", workspace, project, run_id] = pk
                    memo["keyless run", pk] = True  # no metric key yet (Points may skip a count)
            if not created:
                if resume == "never":
                    raise Conflict(
                        f"run {workspace}/{project}/{run_id} already exists;"
                        " pass resume='allow' to continue it"
                    )
                tx.execute(
                    "UPDATE runs SET state = 'RUNNING', heartbeat_at = ?,"
                    " finished_at = NULL, exit_code = NULL WHERE project_id = ? AND id = ?",
                    [t, pid, run_id],
                )
        return run_id, created

    def run_id_free(self, workspace: str, project: str, run_id: str) -> bool:
        try:
            pid = self.projects.project_id(workspace, project)
        except NotFound:
            return False
        taken = self.sql.one(
            "SELECT 1 AS x FROM runs WHERE project_id = ? AND id = ?", [pid, run_id]
        )
        return taken is None

    def insert_run(
        self,
        tx: Any,
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
        looked: bool = False,
    ) -> int | None:
        """Insert a new RUNNING run inside the caller's transaction ``tx`` (a :class:`Tx` or
        the engine's connection); returns its pk.

        A run of that id in the project is a ``Conflict``; with ``if_new``, the insert is
        skipped instead and ``None`` returned (another server made the run meanwhile).
        ``looked``: the caller found no such run in this transaction already.
        """
        tx = as_tx(self.sql, tx)
        flat = flatten(config)
        # A look first: it answers on the embedded engine, whose transaction excludes every
        # other writer (and where ON CONFLICT makes each insert slower); where several servers
        # write at once the unique key decides, a run another server made since the look
        # skipping the insert.
        pk = None
        if (
            looked
            or tx.value("SELECT pk FROM runs WHERE project_id = ? AND id = ?", [pid, run_id])
            is None
        ):
            pk = tx.value(
                "INSERT INTO runs (project_id, id, name, notes, state, group_name, job_type,"
                " tags, created_at, heartbeat_at, username, host, config, config_flat,"
                " summary, metadata, requirements, conda, sweep)"
                " VALUES (?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?)"
                + self.sql.if_concurrent(" ON CONFLICT (project_id, id) DO NOTHING")
                + " RETURNING pk",
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
                    self.sql.json_param(flat),
                    _json.dumps(metadata),
                    data.get("requirements"),
                    data.get("conda"),
                    sweep,
                ],
            )
        if pk is None:
            if if_new:
                return None
            raise Conflict(f"run {run_id} already exists in this project")
        self.runs.record_fields(tx, pid, "config", flat)
        tx.execute("UPDATE projects SET updated_at = ? WHERE id = ?", [t, pid])
        return pk

    def insert_runs(
        self, workspace: str, project: str, runs: Sequence[Mapping[str, Any]], *, username: str
    ) -> int:
        pid = self.projects.create_project(workspace, project, exist_ok=True)["id"]
        t = self.sql.now()
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
                    self.sql.json_param(ok.config_flat),
                    self.sql.json_param(ok.summary),
                    _json.dumps(ok.metadata),
                ]
            )
            value_types(ok.config_flat, config_types)
            value_types(ok.summary, summary_types)
        ids = [row[1] for row in rows]
        try:
            with self.sql.transaction() as tx:
                dup = tx.value(
                    "SELECT count(*) FROM runs WHERE project_id = ? AND id = ANY(?::TEXT[])",
                    [pid, ids],
                )
                if dup:
                    raise Conflict(f"{dup} of these run ids already exist in {workspace}/{project}")
                tx.insert_rows("runs", _BULK_COLUMNS, rows)
                self.runs.record_types(tx, pid, "config", config_types)
                self.runs.record_types(tx, pid, "summary", summary_types)
        except self.sql.duplicate_key:
            # An id twice in the batch, or a run another server made since the check above.
            raise Conflict(
                f"some of these run ids already exist in {workspace}/{project} or are given twice"
            ) from None
        return len(rows)
