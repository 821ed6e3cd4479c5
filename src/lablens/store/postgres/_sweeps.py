"""Sweeps and the trials agents claim from them, in the PostgreSQL store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.rows import dict_row

from lablens.store import _json, sweep_values
from lablens.store.common.run_creation import RunCreation
from lablens.store.common.runs import Runs
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.errors import NotFound
from lablens.store.postgres._db import Database, iso, now
from lablens.store.postgres._new_ids import insert_with_new_id
from lablens.store.postgres._projects import Projects
from lablens.store.run_values import new_run_id


class Sweeps:
    """Part of the PostgreSQL store: sweeps, whose trials are handed out by counting under a
    lock on the sweep's row, so that several servers never hand out one trial twice."""

    def __init__(
        self, db: Database, projects: Projects, runs: Runs, run_creation: RunCreation
    ) -> None:
        self.db = db
        self.projects = projects
        self.runs = runs
        self.run_creation = run_creation

    def create_sweep(
        self,
        workspace: str,
        project: str,
        config: Mapping[str, Any],
        *,
        username: str,
        name: str | None = None,
    ) -> dict[str, Any]:
        columns = sweep_values.new_sweep(config, username=username, name=name)
        pid = self.projects.create_project(workspace, project, exist_ok=True)["id"]
        t = now()
        with self.db.transaction() as conn:
            sweep_id = insert_with_new_id(
                conn, "sweeps", pid, {**columns, "created_at": t, "updated_at": t}
            )
        return self.get_sweep(workspace, project, sweep_id)

    def get_sweep(self, workspace: str, project: str, sweep_id: str) -> dict[str, Any]:
        what = f"{workspace}/{project}/{sweep_id}"
        row = self.projects.in_project(
            sweep_values.sweep_select(iso),
            "s.id",
            workspace,
            project,
            sweep_id,
            kind="sweep",
            what=what,
        )
        return sweep_values.sweep_out(row)

    def list_sweeps(
        self, workspace: str, project: str, *, cursor: str | None = None, limit: int = 50
    ) -> dict[str, Any]:
        pid = self.projects.project_id(workspace, project)
        total = self.db.one("SELECT count(*) AS n FROM sweeps WHERE project_id = %s", [pid])["n"]
        where, params = "s.project_id = %s", [pid]
        if cursor:
            where += " AND s.pk < %s"
            params.append(int(decode_cursor(cursor)[0]))
        rows = self.db.all(
            sweep_values.sweep_select(iso) + f" WHERE {where} ORDER BY s.pk DESC LIMIT %s",
            [*params, limit + 1],
        )
        rows, nxt = cut_page(rows, limit, "pk")
        return {"items": [sweep_values.sweep_out(r) for r in rows], "total": total, "next": nxt}

    def update_sweep(
        self, workspace: str, project: str, sweep_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.get_sweep(workspace, project, sweep_id)
        pid = self.projects.project_id(workspace, project)
        columns = sweep_values.checked_sweep_changes(changes)
        if columns:
            sets = "".join(f"{column} = %s, " for column in columns)
            with self.db.transaction() as conn:
                # The state is read under the row's lock: a cancel on another server between
                # the read and the write cannot be undone by this change.
                row = conn.execute(
                    "SELECT state FROM sweeps WHERE project_id = %s AND id = %s",
                    [pid, sweep_id],
                ).fetchone()
                if row is None:  # deleted with its project by another server meanwhile
                    raise NotFound("sweep", f"{workspace}/{project}/{sweep_id}")
                sweep_values.check_state_change(
                    row[0], columns, f"{workspace}/{project}/{sweep_id}"
                )
                conn.execute(
                    f"UPDATE sweeps SET {sets}updated_at = %s WHERE project_id = %s AND id = %s",
                    [*columns.values(), now(), pid, sweep_id],
                )
        return self.get_sweep(workspace, project, sweep_id)

    def claim_trial(
        self,
        workspace: str,
        project: str,
        sweep_id: str,
        *,
        username: str,
        agent: str | None = None,
    ) -> dict[str, Any] | None:
        pid = self.projects.project_id(workspace, project)
        t = now()
        with self.db.transaction() as conn:
            # FOR UPDATE locks the sweep's row until this transaction commits: a claim on
            # another server waits here, then reads the `claimed` this one wrote (READ
            # COMMITTED re-reads a row it waited for), so each trial goes to one agent. Not
            # SKIP LOCKED: there is one row per sweep, and skipping it would answer "no trial
            # left" while trials remain. The key (sweep_pk, idx) of sweep_trials backs it up.
            with conn.cursor(row_factory=dict_row) as cur:
                row = cur.execute(
                    "SELECT pk, name, config, state, seed, expected_run_count, claimed"
                    " FROM sweeps WHERE project_id = %s AND id = %s FOR UPDATE",
                    [pid, sweep_id],
                ).fetchone()
            if row is None:
                raise NotFound("sweep", f"{workspace}/{project}/{sweep_id}")
            trial = sweep_values.next_trial(row, sweep_id)
            if trial is None:
                return None
            run_id, run_pk = self._insert_trial_run(conn, pid, sweep_id, trial, username, t)
            conn.execute(
                "INSERT INTO sweep_trials (sweep_pk, idx, run_pk, params, agent, claimed_at)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [row["pk"], trial.index, run_pk, _json.dumps(trial.params), agent, t],
            )
            conn.execute(
                "UPDATE sweeps SET claimed = %s, updated_at = %s WHERE pk = %s",
                [trial.index + 1, t, row["pk"]],
            )
        run = self.runs.get_run(workspace, project, run_id)
        return {"index": trial.index, "params": trial.params, "run": run}

    def _insert_trial_run(
        self,
        conn: psycopg.Connection[Any],
        pid: int,
        sweep_id: str,
        trial: sweep_values.Trial,
        username: str,
        t: Any,
    ) -> tuple[str, int]:
        """The run of ``trial``, under a new random id: its id and pk. The runs' unique key
        decides (``if_new``), since a run made on another server may take the same id at the
        same moment; the claim then draws another id, its lock on the sweep kept."""
        while True:
            run_id = new_run_id()
            run_pk = self.run_creation.insert_run(
                conn,
                pid,
                run_id,
                {"name": trial.run_name},
                config=trial.params,
                metadata={},
                tags=[],
                username=username,
                t=t,
                sweep=sweep_id,
                if_new=True,
            )
            if run_pk is not None:
                return run_id, run_pk
