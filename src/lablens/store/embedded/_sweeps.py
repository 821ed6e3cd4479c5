"""Sweeps and the trials agents claim from them, in the embedded store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lablens.store import _json, sweep_values
from lablens.store.common.run_creation import RunCreation
from lablens.store.common.runs import Runs
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.embedded._db import Database, iso, now
from lablens.store.embedded._projects import Projects
from lablens.store.errors import NotFound
from lablens.store.run_values import new_run_id


class Sweeps:
    """Part of ``EmbeddedStore``: sweeps, whose trials are handed out by counting."""

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
        with self.db.write() as con:
            sweep_id = new_run_id()
            while self.db.one(
                "SELECT 1 FROM sweeps WHERE project_id = ? AND id = ?", [pid, sweep_id]
            ):
                sweep_id = new_run_id()
            con.execute(
                f"INSERT INTO sweeps (project_id, id, {', '.join(columns)}, created_at,"
                f" updated_at) VALUES (?, ?, {', '.join('?' for _ in columns)}, ?, ?)",
                [pid, sweep_id, *columns.values(), t, t],
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
        total = self.db.one("SELECT count(*) AS n FROM sweeps WHERE project_id = ?", [pid])["n"]
        where, params = "s.project_id = ?", [pid]
        if cursor:
            where += " AND s.pk < ?"
            params.append(int(decode_cursor(cursor)[0]))
        rows = self.db.all(
            sweep_values.sweep_select(iso) + f" WHERE {where} ORDER BY s.pk DESC LIMIT ?",
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
        if "state" in columns:
            current = self.db.one(
                "SELECT state FROM sweeps WHERE project_id = ? AND id = ?", [pid, sweep_id]
            )["state"]
            sweep_values.check_state_change(current, columns, f"{workspace}/{project}/{sweep_id}")
        if columns:
            sets = "".join(f"{column} = ?, " for column in columns)
            with self.db.write() as con:
                con.execute(
                    f"UPDATE sweeps SET {sets}updated_at = ? WHERE project_id = ? AND id = ?",
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
        # Under the write lock: reading `claimed` and moving it on is one step, so two agents
        # never get the same trial.
        with self.db.write() as con:
            row = self.db.one(
                "SELECT pk, name, method, config, state, seed, expected_run_count,"
                " claimed FROM sweeps WHERE project_id = ? AND id = ?",
                [pid, sweep_id],
            )
            if row is None:
                raise NotFound("sweep", f"{workspace}/{project}/{sweep_id}")
            trial = sweep_values.next_trial(row, sweep_id)
            if trial is None:
                return None
            index, params = trial.index, trial.params
            run_id = new_run_id()
            while self.db.one("SELECT 1 FROM runs WHERE project_id = ? AND id = ?", [pid, run_id]):
                run_id = new_run_id()
            run_pk = self.run_creation.insert_run(
                con,
                pid,
                run_id,
                {"name": trial.run_name},
                config=params,
                metadata={},
                tags=[],
                username=username,
                t=t,
                sweep=sweep_id,
            )
            con.execute(
                "INSERT INTO sweep_trials VALUES (?, ?, ?, ?, ?, ?)",
                [row["pk"], index, run_pk, _json.dumps(params), agent, t],
            )
            con.execute(
                "UPDATE sweeps SET claimed = ?, updated_at = ? WHERE pk = ?",
                [index + 1, t, row["pk"]],
            )
        run = self.runs.get_run(workspace, project, run_id)
        return {"index": index, "params": params, "run": run}
