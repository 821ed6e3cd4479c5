"""Sweeps and the trials agents claim from them, on every engine.

A trial is handed out by counting: a claim reads the sweep's ``claimed`` and moves it on in one
transaction. DuckDB runs one write transaction at a time (its write lock), which is enough;
several PostgreSQL servers claim at once, so there the sweep's row is read ``FOR UPDATE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lablens.store import _json, sweep_values
from lablens.store.common.new_ids import insert_with_new_id
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.errors import NotFound
from lablens.store.run_values import new_run_id
from lablens.store.sql import Sql, Tx


class Sweeps:
    """Part of the store: sweeps, whose trials are handed out by counting under a lock on the
    sweep's row, so that no two agents (through any server) get the same trial.

    ``projects``, ``runs`` and ``run_creation`` are the engine's parts of those names."""

    def __init__(self, sql: Sql, projects: Any, runs: Any, run_creation: Any) -> None:
        self.sql = sql
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
        t = self.sql.now()
        with self.sql.transaction() as tx:
            sweep_id = insert_with_new_id(
                tx, "sweeps", pid, {**columns, "created_at": t, "updated_at": t}
            )
        return self.get_sweep(workspace, project, sweep_id)

    def get_sweep(self, workspace: str, project: str, sweep_id: str) -> dict[str, Any]:
        what = f"{workspace}/{project}/{sweep_id}"
        row = self.projects.in_project(
            sweep_values.sweep_select(self.sql.iso),
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
        total = self.sql.one("SELECT count(*) AS n FROM sweeps WHERE project_id = ?", [pid])["n"]
        where, params = "s.project_id = ?", [pid]
        if cursor:
            where += " AND s.pk < ?"
            params.append(int(decode_cursor(cursor)[0]))
        rows = self.sql.all(
            sweep_values.sweep_select(self.sql.iso) + f" WHERE {where} ORDER BY s.pk DESC LIMIT ?",
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
            sets = "".join(f"{column} = ?, " for column in columns)
            with self.sql.transaction() as tx:
                # The state is read under the row's lock: a cancel (through another server)
                # between the read and the write cannot be undone by this change.
                state = tx.rows(
                    "SELECT state FROM sweeps WHERE project_id = ? AND id = ?"
                    + self.sql.if_concurrent(" FOR UPDATE"),
                    [pid, sweep_id],
                )
                if not state:  # deleted with its project (by another server) meanwhile
                    raise NotFound("sweep", f"{workspace}/{project}/{sweep_id}")
                sweep_values.check_state_change(
                    state[0][0], columns, f"{workspace}/{project}/{sweep_id}"
                )
                tx.execute(
                    f"UPDATE sweeps SET {sets}updated_at = ? WHERE project_id = ? AND id = ?",
                    [*columns.values(), self.sql.now(), pid, sweep_id],
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
        t = self.sql.now()
        with self.sql.transaction() as tx:
            # Reading `claimed` and moving it on is one step, so each trial goes to one agent.
            # On PostgreSQL FOR UPDATE locks the sweep's row until this transaction commits: a
            # claim on another server waits here, then reads the `claimed` this one wrote (READ
            # COMMITTED re-reads a row it waited for). Not SKIP LOCKED: there is one row per
            # sweep, and skipping it would answer "no trial left" while trials remain. The key
            # (sweep_pk, idx) of sweep_trials backs it up.
            row = tx.one(
                "SELECT pk, name, method, config, state, seed, expected_run_count, claimed"
                " FROM sweeps WHERE project_id = ? AND id = ?"
                + self.sql.if_concurrent(" FOR UPDATE"),
                [pid, sweep_id],
            )
            if row is None:
                raise NotFound("sweep", f"{workspace}/{project}/{sweep_id}")
            past = self._past_trials(tx, row) if sweep_values.needs_past(row) else None
            trial = sweep_values.next_trial(row, sweep_id, past)
            if trial is None:
                return None
            run_id, run_pk = self._insert_trial_run(tx, pid, sweep_id, trial, username, t)
            tx.execute(
                "INSERT INTO sweep_trials (sweep_pk, idx, run_pk, params, agent, claimed_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [row["pk"], trial.index, run_pk, _json.dumps(trial.params), agent, t],
            )
            tx.execute(
                "UPDATE sweeps SET claimed = ?, updated_at = ? WHERE pk = ?",
                [trial.index + 1, t, row["pk"]],
            )
        run = self.runs.get_run(workspace, project, run_id)
        return {"index": trial.index, "params": trial.params, "run": run}

    def _past_trials(self, tx: Tx, row: Mapping[str, Any]) -> list[sweep_values.PastTrial]:
        """The trials the sweep handed out, with their runs' states and metric values, read
        under the sweep's lock: a bayes sweep rebuilds its model from them on each claim."""
        metric = (_json.loads(row["config"]).get("metric") or {}).get("name", "")
        rows = tx.rows(
            "SELECT t.params, r.state, r.summary FROM sweep_trials t"
            " JOIN runs r ON r.pk = t.run_pk WHERE t.sweep_pk = ? ORDER BY t.idx",
            [row["pk"]],
        )
        return [sweep_values.past_trial(p, state, summary, metric) for p, state, summary in rows]

    def _insert_trial_run(
        self,
        tx: Tx,
        pid: int,
        sweep_id: str,
        trial: sweep_values.Trial,
        username: str,
        t: Any,
    ) -> tuple[str, int]:
        """The run of ``trial``, under a new random id: its id and pk.

        An id already taken is drawn again: ``insert_run(if_new=True)`` skips an id that is
        taken (where several servers write, by the runs' unique key: a run made on another
        server may take the same id at the same moment), and the claim draws another, its lock
        on the sweep kept."""
        while True:
            run_id = new_run_id()
            run_pk = self.run_creation.insert_run(
                tx,
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
