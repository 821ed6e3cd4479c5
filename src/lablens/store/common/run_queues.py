"""Run queues and the items agents claim from them, on every engine.

An item is claimed by one conditional ``UPDATE``: it moves a ``pending`` item to ``claimed``
and the claim made the item's run in the same transaction, so an item is run once however many
agents ask through however many servers. DuckDB runs one write transaction at a time (its write
lock), which is enough; on PostgreSQL the item is picked ``FOR UPDATE SKIP LOCKED``, so agents
claiming at once through several servers take different items instead of waiting on one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from lablens.store import _json, queue_values
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.errors import Conflict, InvalidInput, NotFound
from lablens.store.limits import LIMITS
from lablens.store.run_values import new_run_id
from lablens.store.sql import Sql, Tx


class RunQueues:
    """Part of the store: run queues of a workspace and their items. ``accounts``,
    ``projects`` and ``run_creation`` are the engine's parts of those names."""

    def __init__(self, sql: Sql, accounts: Any, projects: Any, run_creation: Any) -> None:
        self.sql = sql
        self.accounts = accounts
        self.projects = projects
        self.run_creation = run_creation

    # -- queues ----------------------------------------------------------------------------
    def put_run_queue(
        self, workspace: str, data: Mapping[str, Any], *, username: str, replace: bool
    ) -> tuple[dict[str, Any], bool]:
        columns = queue_values.checked_queue(data)
        wid = self.accounts.workspace_id(workspace)
        t = self.sql.now()
        with self.sql.transaction() as tx:
            # Two servers making the same queue at once take turns here; the unique key
            # (workspace_id, name) backs it up.
            tx.lock_name(0x5155, f"{wid}/{columns['name']}")
            pk = tx.value(
                "SELECT pk FROM run_queues WHERE workspace_id = ? AND name = ?",
                [wid, columns["name"]],
            )
            if pk is not None and not replace:
                raise Conflict(f"run queue {workspace}/{columns['name']} already exists")
            if pk is None:
                tx.execute(
                    "INSERT INTO run_queues (workspace_id, name, type, prioritization_mode,"
                    " config, template_variables, external_links, username, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [wid, *columns.values(), username, t, t],
                )
            else:
                tx.execute(
                    "UPDATE run_queues SET type = ?, prioritization_mode = ?, config = ?,"
                    " template_variables = ?, external_links = ?, updated_at = ? WHERE pk = ?",
                    [*list(columns.values())[1:], t, pk],
                )
        return self.get_run_queue(workspace, columns["name"]), pk is None

    def get_run_queue(self, workspace: str, name: str) -> dict[str, Any]:
        row = self.sql.one(
            queue_values.queue_select(self.sql.iso) + " WHERE w.username = ? AND q.name = ?",
            [workspace, name],
        )
        if row is None:
            raise NotFound("run_queue", f"{workspace}/{name}")
        return queue_values.queue_out(row)

    def list_run_queues(self, workspace: str) -> list[dict[str, Any]]:
        self.accounts.workspace_id(workspace)
        rows = self.sql.all(
            queue_values.queue_select(self.sql.iso) + " WHERE w.username = ? ORDER BY q.name",
            [workspace],
        )
        return [queue_values.queue_out(r) for r in rows]

    def delete_run_queue(self, workspace: str, name: str) -> None:
        pk = self._queue_pk(workspace, name)
        with self.sql.transaction() as tx:
            tx.execute("DELETE FROM run_queue_items WHERE queue_pk = ?", [pk])
            tx.execute("DELETE FROM run_queues WHERE pk = ?", [pk])

    def _queue_pk(self, workspace: str, name: str) -> int:
        row = self.sql.one(
            "SELECT q.pk FROM run_queues q JOIN workspaces w ON w.id = q.workspace_id"
            " WHERE w.username = ? AND q.name = ?",
            [workspace, name],
        )
        if row is None:
            raise NotFound("run_queue", f"{workspace}/{name}")
        return row["pk"]

    # -- items -----------------------------------------------------------------------------
    def enqueue_run(
        self, workspace: str, queue: str, data: Mapping[str, Any], *, username: str
    ) -> dict[str, Any]:
        columns = queue_values.checked_item(data)
        qpk = self._queue_pk(workspace, queue)
        # An item's runs are made in the queue's workspace.
        pid = self.projects.create_project(workspace, columns.pop("project"), exist_ok=True)["id"]
        t = self.sql.now()
        names = ", ".join(columns)
        holders = ", ".join("?" for _ in columns)
        with self.sql.transaction() as tx:
            while True:  # a new random id, unique in its queue (the key decides, as in new_ids)
                item_id = new_run_id()
                made = tx.rows(
                    f"INSERT INTO run_queue_items (queue_pk, id, project_id, {names}, state,"
                    f" username, created_at) VALUES (?, ?, ?, {holders}, 'pending', ?, ?)"
                    " ON CONFLICT (queue_pk, id) DO NOTHING RETURNING id",
                    [qpk, item_id, pid, *columns.values(), username, t],
                )
                if made:
                    break
        return self.get_queue_item(workspace, queue, item_id)

    def get_queue_item(self, workspace: str, queue: str, item_id: str) -> dict[str, Any]:
        row = self.sql.one(
            queue_values.item_select(self.sql.iso)
            + " WHERE w.username = ? AND q.name = ? AND i.id = ?",
            [workspace, queue, item_id],
        )
        if row is None:
            raise NotFound("queued_run", f"{workspace}/{queue}/{item_id}")
        return queue_values.item_out(row)

    def list_queue_items(
        self,
        workspace: str,
        queue: str,
        *,
        state: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        qpk = self._queue_pk(workspace, queue)
        where, params = "i.queue_pk = ?", [qpk]
        if state is not None:
            if state not in queue_values.ITEM_STATES:
                raise InvalidInput(
                    f"state {state!r} is not one of {', '.join(queue_values.ITEM_STATES)}",
                    field="state",
                )
            where += " AND i.state = ?"
            params.append(state)
        total = self.sql.one(f"SELECT count(*) AS n FROM run_queue_items i WHERE {where}", params)[
            "n"
        ]
        if cursor:
            where += " AND i.pk > ?"
            params.append(int(decode_cursor(cursor)[0]))
        rows = self.sql.all(
            queue_values.item_select(self.sql.iso) + f" WHERE {where} ORDER BY i.pk LIMIT ?",
            [*params, limit + 1],
        )
        rows, nxt = cut_page(rows, limit, "pk")
        return {"items": [queue_values.item_out(r) for r in rows], "total": total, "next": nxt}

    def delete_queue_item(self, workspace: str, queue: str, item_id: str) -> None:
        qpk = self._queue_pk(workspace, queue)
        with self.sql.transaction() as tx:
            # Conditional, so a claim committed meanwhile (through another server) wins.
            gone = tx.rows(
                "DELETE FROM run_queue_items WHERE queue_pk = ? AND id = ?"
                " AND state NOT IN ('claimed', 'running') RETURNING pk",
                [qpk, item_id],
            )
            if not gone:
                state = tx.value(
                    "SELECT state FROM run_queue_items WHERE queue_pk = ? AND id = ?",
                    [qpk, item_id],
                )
                if state is None:
                    raise NotFound("queued_run", f"{workspace}/{queue}/{item_id}")
                raise Conflict(f"queued run {item_id} is {state}: an agent is running it")

    def claim_queue_item(
        self,
        workspace: str,
        queue: str,
        *,
        username: str,
        agent: str,
        project: str | None = None,
    ) -> dict[str, Any] | None:
        qpk = self._queue_pk(workspace, queue)
        where, params = "queue_pk = ? AND state = 'pending'", [qpk]
        if project is not None:
            where += " AND project_id = ?"
            params.append(self.projects.project_id(workspace, project))
        t = self.sql.now()
        with self.sql.transaction() as tx:
            self._fail_silent(tx, qpk, t)
            # One conditional UPDATE: the item it moves from pending is this agent's alone. On
            # PostgreSQL the pick skips items another transaction holds (SKIP LOCKED), so agents
            # claiming at once take the next items instead of queueing on one; the outer
            # `state = 'pending'` is checked again on the row it locks.
            row = tx.one(
                "UPDATE run_queue_items SET state = 'claimed', agent = ?, claimed_at = ?,"
                " heartbeat_at = ? WHERE pk = (SELECT pk FROM run_queue_items"
                f" WHERE {where} ORDER BY priority, pk LIMIT 1"
                + self.sql.if_concurrent(" FOR UPDATE SKIP LOCKED")
                + ") AND state = 'pending' RETURNING pk, id, project_id, job, config",
                [agent, t, t, *params],
            )
            if row is None:
                return None
            run_id = self._insert_run(tx, row, queue, username, t)
            tx.execute("UPDATE run_queue_items SET run_id = ? WHERE pk = ?", [run_id, row["pk"]])
        return self.get_queue_item(workspace, queue, row["id"])

    def _fail_silent(self, tx: Tx, qpk: int, t: Any) -> None:
        """Fail the queue's held items whose agent has not heartbeat for the server's
        heartbeat timeout (killed, or its machine lost). They are not put back: their job may
        have run in part, and an item runs at most once. Conditional, so a heartbeat committed
        meanwhile (through another server) keeps its item."""
        cutoff = t - dt.timedelta(seconds=LIMITS.heartbeat_timeout)
        tx.execute(
            "UPDATE run_queue_items SET state = 'failed', finished_at = ?,"
            " error = 'its agent ' || coalesce(agent, '') || ' went silent'"
            " WHERE queue_pk = ? AND state IN ('claimed', 'running') AND heartbeat_at < ?",
            [t, qpk, cutoff],
        )

    def _insert_run(
        self, tx: Tx, item: Mapping[str, Any], queue: str, username: str, t: Any
    ) -> str:
        """The run of a claimed ``item``, under a new random id (drawn again if taken)."""
        config = _json.loads(item["config"]) or {}
        metadata = {"job": item["job"], "queue": queue, "queued_run": item["id"]}
        while True:
            run_id = new_run_id()
            pk = self.run_creation.insert_run(
                tx,
                item["project_id"],
                run_id,
                {"job_type": "queued"},
                config=config,
                metadata=metadata,
                tags=[],
                username=username,
                t=t,
                if_new=True,
            )
            if pk is not None:
                return run_id

    def _held(self, tx: Tx, qpk: int, item_id: str, agent: str, what: str) -> dict[str, Any]:
        """The item's row, locked where servers write at once; ``Conflict`` unless ``agent``
        holds it (claimed or running)."""
        row = tx.one(
            "SELECT pk, state, agent, run_id, project_id FROM run_queue_items"
            " WHERE queue_pk = ? AND id = ?" + self.sql.if_concurrent(" FOR UPDATE"),
            [qpk, item_id],
        )
        if row is None:
            raise NotFound("queued_run", what)
        if row["state"] not in ("claimed", "running") or row["agent"] != agent:
            raise Conflict(
                f"queued run {item_id} is {row['state']}"
                + (f", held by agent {row['agent']}" if row["agent"] else "")
                + f": agent {agent} does not hold it"
            )
        return row

    def heartbeat_queue_item(
        self, workspace: str, queue: str, item_id: str, *, agent: str, running: bool = False
    ) -> dict[str, Any]:
        qpk = self._queue_pk(workspace, queue)
        t = self.sql.now()
        with self.sql.transaction() as tx:
            row = self._held(tx, qpk, item_id, agent, f"{workspace}/{queue}/{item_id}")
            if running and row["state"] == "claimed":
                tx.execute(
                    "UPDATE run_queue_items SET state = 'running', started_at = ?,"
                    " heartbeat_at = ? WHERE pk = ?",
                    [t, t, row["pk"]],
                )
            else:
                tx.execute(
                    "UPDATE run_queue_items SET heartbeat_at = ? WHERE pk = ?", [t, row["pk"]]
                )
            # The agent's heartbeat keeps the item's run alive too: a job that never calls
            # lablens.init() must not have its run marked CRASHED while its process runs.
            tx.execute(
                "UPDATE runs SET heartbeat_at = ? WHERE project_id = ? AND id = ?"
                " AND state = 'RUNNING'",
                [t, row["project_id"], row["run_id"]],
            )
        return self.get_queue_item(workspace, queue, item_id)

    def end_queue_item(
        self, workspace: str, queue: str, item_id: str, data: Mapping[str, Any], *, agent: str
    ) -> dict[str, Any]:
        state, exit_code, error = queue_values.checked_end(data)
        qpk = self._queue_pk(workspace, queue)
        t = self.sql.now()
        with self.sql.transaction() as tx:
            row = self._held(tx, qpk, item_id, agent, f"{workspace}/{queue}/{item_id}")
            tx.execute(
                "UPDATE run_queue_items SET state = ?, exit_code = ?, error = ?,"
                " finished_at = ?, heartbeat_at = ? WHERE pk = ?",
                [state, exit_code, error, t, t, row["pk"]],
            )
            # A run its job left RUNNING (the job never called lablens.init(), or died before
            # finishing it) ends with its item.
            tx.execute(
                "UPDATE runs SET state = ?, finished_at = ? WHERE project_id = ? AND id = ?"
                " AND state = 'RUNNING'",
                [
                    "FINISHED" if state == "finished" else "CRASHED",
                    t,
                    row["project_id"],
                    row["run_id"],
                ],
            )
        return self.get_queue_item(workspace, queue, item_id)
