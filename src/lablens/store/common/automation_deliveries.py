"""Deliveries of automations, for both engines: one row per event that fired an automation,
its filled payload, and every attempt to send it.

Of several servers sharing a PostgreSQL database, one sends each delivery: a server claims due
deliveries with ``FOR UPDATE SKIP LOCKED`` and writes its lease into them (a random token and an
end time), so another server skips them until the lease ends; an attempt is recorded only under
the lease that claimed it. On the embedded engine the claim is under the one write lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.sql import Sql

# Due: pending, its time come, no lease held; its automation enabled (a disabled one keeps its
# deliveries until it is enabled again).
_DUE = (
    " FROM automation_deliveries d JOIN automations a ON a.pk = d.automation_pk"
    " WHERE d.state = 'PENDING' AND d.next_attempt_at <= ?"
    " AND (d.lease_until IS NULL OR d.lease_until < ?) AND a.enabled"
)


class AutomationDeliveries:
    """A store's part: deliveries of automations and their attempts.

    ``automations`` is the engine's part of that name."""

    def __init__(self, sql: Sql, automations: Any) -> None:
        self.sql = sql
        self.automations = automations

    def enqueue_delivery(
        self, automation_pk: int, *, event_key: str, event_type: str, body: str
    ) -> int | None:
        t = self.sql.now()
        with self.sql.transaction() as tx:
            # The unique (automation, event key) keeps one delivery of an event, also when
            # two servers see it; the automation may have been deleted meanwhile.
            made = tx.rows(
                "INSERT INTO automation_deliveries (automation_pk, event_key, event_type, body,"
                " state, attempts, next_attempt_at, created_at)"
                " SELECT pk, ?, ?, ?, 'PENDING', 0, ?, ? FROM automations WHERE pk = ?"
                " ON CONFLICT (automation_pk, event_key) DO NOTHING RETURNING pk",
                [event_key, event_type, body, t, t, automation_pk],
            )
        return made[0][0] if made else None

    def claim_deliveries(
        self, lease: str, *, limit: int = 10, lease_seconds: float = 60.0
    ) -> list[dict[str, Any]]:
        t = self.sql.now()
        # Most looks find nothing: ask outside any transaction first, so that an idle server's
        # worker never takes the embedded store's write lock.
        if not self.sql.one(f"SELECT count(*) AS n{_DUE}", [t, t])["n"]:
            return []
        with self.sql.transaction() as tx:
            pks = [
                r[0]
                for r in tx.rows(
                    f"SELECT d.pk{_DUE} ORDER BY d.next_attempt_at, d.pk LIMIT ?"
                    f" {self.sql.if_concurrent('FOR UPDATE OF d SKIP LOCKED')}",
                    [t, t, limit],
                )
            ]
            if not pks:
                return []
            marks = ", ".join("?" for _ in pks)
            tx.execute(
                "UPDATE automation_deliveries SET lease = ?, lease_until = ?"
                f" WHERE pk IN ({marks})",
                [lease, t + dt.timedelta(seconds=lease_seconds), *pks],
            )
            return tx.all(
                "SELECT d.pk, d.event_type, d.body, d.attempts, a.id AS automation_id,"
                " a.name AS automation_name, a.action, i.url, i.secret, i.kind"
                " FROM automation_deliveries d JOIN automations a ON a.pk = d.automation_pk"
                " LEFT JOIN integrations i ON i.pk = a.integration_pk"
                f" WHERE d.pk IN ({marks}) ORDER BY d.pk",
                pks,
            )

    def record_attempt(
        self,
        delivery_pk: int,
        lease: str,
        *,
        status_code: int | None,
        error: str | None,
        duration_ms: float,
        state: str,
        next_attempt_at: dt.datetime | None = None,
    ) -> bool:
        t = self.sql.now()
        with self.sql.transaction() as tx:
            attempts = tx.value(
                "SELECT attempts FROM automation_deliveries WHERE pk = ? AND lease = ?"
                f" {self.sql.if_concurrent('FOR UPDATE')}",
                [delivery_pk, lease],
            )
            if attempts is None:  # deleted with its automation, or the lease was lost
                return False
            tx.execute(
                "INSERT INTO automation_attempts (delivery_pk, attempt, attempted_at,"
                " status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)",
                [delivery_pk, attempts + 1, t, status_code, error, duration_ms],
            )
            tx.execute(
                "UPDATE automation_deliveries SET attempts = ?, state = ?, next_attempt_at = ?,"
                " lease = NULL, lease_until = NULL, finished_at = ? WHERE pk = ?",
                [
                    attempts + 1,
                    state,
                    next_attempt_at or t,
                    None if state == "PENDING" else t,
                    delivery_pk,
                ],
            )
        return True

    def list_deliveries(
        self,
        workspace: str,
        automation_id: str,
        *,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        apk = self.automations.get_automation(workspace, automation_id)["pk"]
        where, params = ["d.automation_pk = ?"], [apk]
        total = self.sql.one(
            f"SELECT count(*) AS n FROM automation_deliveries d WHERE {where[0]}", params
        )["n"]
        if cursor:
            where.append("d.pk > ?")
            params.append(int(decode_cursor(cursor)[0]))
        iso = self.sql.iso
        rows = self.sql.all(
            f"SELECT d.pk, d.event_type, d.event_key, d.body, d.state, d.attempts,"
            f" {iso('d.created_at')} AS created_at, {iso('d.finished_at')} AS finished_at,"
            f" {iso('d.next_attempt_at')} AS next_attempt_at"
            f" FROM automation_deliveries d WHERE {' AND '.join(where)} ORDER BY d.pk LIMIT ?",
            [*params, limit + 1],
        )
        rows, nxt = cut_page(rows, limit, "pk")
        attempts: dict[int, list[dict[str, Any]]] = {r["pk"]: [] for r in rows}
        if rows:
            marks = ", ".join("?" for _ in rows)
            for a in self.sql.all(
                f"SELECT delivery_pk, attempt, {iso('attempted_at')} AS at, status_code, error,"
                f" duration_ms FROM automation_attempts WHERE delivery_pk IN ({marks})"
                " ORDER BY delivery_pk, attempt",
                list(attempts),
            ):
                attempts[a.pop("delivery_pk")].append(a)
        return {
            "items": [_delivery_out(r, attempts[r["pk"]]) for r in rows],
            "total": total,
            "next": nxt,
        }


def _delivery_out(row: Mapping[str, Any], attempts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": str(row["pk"]),
        "event_type": row["event_type"],
        "event_key": row["event_key"],
        "payload": row["body"],
        "state": row["state"],
        "attempt_count": row["attempts"],
        "attempts": attempts,
        "created_at": row["created_at"],
        "finished_at": row["finished_at"] if row["state"] != "PENDING" else None,
        "next_attempt_at": row["next_attempt_at"] if row["state"] == "PENDING" else None,
    }
