"""Automations and the integrations they act through, for both engines: webhook endpoints of a
workspace, and automations (an event in a project or artifact collection -> an action).

Names are unique in their workspace, kept so under a lock on the name (PostgreSQL's advisory
lock; the embedded store's one write lock) rather than by an index: DuckDB checks unique indexes
eagerly, so an update that keeps a row's name would fail. A webhook's secret is kept to sign
deliveries and is never part of an answer.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from lablens.store import _json
from lablens.store.automation_values import (
    check_action,
    check_event,
    check_integration,
    check_name,
    check_text,
)
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.errors import Conflict, InvalidInput, NotFound
from lablens.store.sql import Sql, Tx

# Lock spaces of the names (Tx.lock_name), apart from other parts'.
_INTEGRATION_NAMES, _AUTOMATION_NAMES = 0x1A7E0001, 0x1A7E0002


class Automations:
    """A store's part: integrations and automations of workspaces.

    ``accounts``, ``projects`` and ``collections`` are the engine's parts of those names."""

    def __init__(self, sql: Sql, accounts: Any, projects: Any, collections: Any) -> None:
        self.sql = sql
        self.accounts = accounts
        self.projects = projects
        self.collections = collections
        self._integration_select = (
            "SELECT i.pk, i.id, i.kind, i.name, i.url, i.secret IS NOT NULL AS has_secret,"
            f" i.username, {sql.iso('i.created_at')} AS created_at, w.username AS entity"
            " FROM integrations i JOIN workspaces w ON w.id = i.workspace_id"
        )
        self._automation_select = (
            "SELECT a.pk, a.id, a.name, a.description, a.enabled, a.event_type, a.event,"
            " a.action, a.username, a.project_id, a.collection_id, w.username AS entity,"
            f" {sql.iso('a.created_at')} AS created_at, {sql.iso('a.updated_at')} AS updated_at"
            " FROM automations a JOIN workspaces w ON w.id = a.workspace_id"
        )

    # -- integrations ---------------------------------------------------------------------
    def create_integration(
        self,
        workspace: str,
        *,
        name: str,
        url: str,
        secret: str | None = None,
        username: str,
    ) -> dict[str, Any]:
        columns = check_integration(name, url, secret)
        wid = self.accounts.workspace_id(workspace)
        with self.sql.transaction() as tx:
            tx.lock_name(_INTEGRATION_NAMES, f"{wid}/{columns['name']}")
            if tx.value(
                "SELECT 1 FROM integrations WHERE workspace_id = ? AND name = ?",
                [wid, columns["name"]],
            ):
                raise Conflict(f"integration {workspace}/{columns['name']} already exists")
            iid = secrets.token_hex(8)
            tx.execute(
                "INSERT INTO integrations (id, workspace_id, kind, name, url, secret, username,"
                " created_at) VALUES (?, ?, 'WEBHOOK', ?, ?, ?, ?, ?)",
                [iid, wid, columns["name"], columns["url"], columns["secret"], username,
                 self.sql.now()],
            )  # fmt: skip
        return self.get_integration(workspace, iid)

    def get_integration(self, workspace: str, integration_id: str) -> dict[str, Any]:
        # No id holds NUL, and PostgreSQL's text cannot even compare one.
        row = (
            None
            if "\x00" in integration_id + workspace
            else self.sql.one(
                self._integration_select + " WHERE w.username = ? AND i.id = ?",
                [workspace, integration_id],
            )
        )
        if row is None:
            self.accounts.workspace_id(workspace)
            raise NotFound("integration", f"{workspace}/integrations/{integration_id}")
        return _integration_out(row)

    def list_integrations(self, workspace: str, *, kind: str | None = None) -> list[dict[str, Any]]:
        self.accounts.workspace_id(workspace)
        where, params = "w.username = ?", [workspace]
        if kind:
            where, params = where + " AND i.kind = ?", [*params, kind.upper()]
        rows = self.sql.all(self._integration_select + f" WHERE {where} ORDER BY i.pk", params)
        return [_integration_out(r) for r in rows]

    def delete_integration(self, workspace: str, integration_id: str) -> None:
        pk = self.get_integration(workspace, integration_id)["pk"]
        with self.sql.transaction() as tx:
            used = tx.value("SELECT name FROM automations WHERE integration_pk = ?", [pk])
            if used is not None:
                raise Conflict(f"the integration is used by the automation {used}: delete it first")
            tx.execute("DELETE FROM integrations WHERE pk = ?", [pk])

    # -- automations ----------------------------------------------------------------------
    def create_automation(
        self,
        workspace: str,
        *,
        name: str,
        event: Mapping[str, Any],
        action: Mapping[str, Any],
        description: str | None = None,
        enabled: bool = True,
        username: str,
    ) -> dict[str, Any]:
        wid = self.accounts.workspace_id(workspace)
        columns = self._columns(workspace, name, event, action, description, enabled)
        t = self.sql.now()
        aid = secrets.token_hex(8)
        with self.sql.transaction() as tx:
            self._claim_name(tx, wid, columns["name"], None, workspace)
            names = ", ".join(columns)
            tx.execute(
                f"INSERT INTO automations (id, workspace_id, {names}, username, created_at,"
                f" updated_at) VALUES (?, ?, {', '.join('?' for _ in columns)}, ?, ?, ?)",
                [aid, wid, *columns.values(), username, t, t],
            )
        return self.get_automation(workspace, aid)

    def get_automation(self, workspace: str, automation_id: str) -> dict[str, Any]:
        return _automation_out(self._automation_row(workspace, automation_id))

    def list_automations(
        self,
        workspace: str,
        *,
        name: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        self.accounts.workspace_id(workspace)
        where, params = ["w.username = ?"], [workspace]
        if name and "\x00" in name:  # no name holds NUL, and PostgreSQL cannot compare one
            return {"items": [], "total": 0, "next": None}
        if name:
            where.append("(a.name = ? OR a.id = ?)")
            params += [name, name]
        total = self.sql.one(
            "SELECT count(*) AS n FROM automations a JOIN workspaces w ON w.id = a.workspace_id"
            f" WHERE {' AND '.join(where)}",
            params,
        )["n"]
        if cursor:
            where.append("a.pk > ?")
            params.append(int(decode_cursor(cursor)[0]))
        rows = self.sql.all(
            self._automation_select + f" WHERE {' AND '.join(where)} ORDER BY a.pk LIMIT ?",
            [*params, limit + 1],
        )
        rows, nxt = cut_page(rows, limit, "pk")
        return {"items": [_automation_out(r) for r in rows], "total": total, "next": nxt}

    def update_automation(
        self, workspace: str, automation_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        old = _automation_out(self._automation_row(workspace, automation_id))
        unknown = set(changes) - {"name", "description", "enabled", "event", "action"}
        if unknown:
            raise InvalidInput("not a field of an automation", field=sorted(unknown)[0])
        merged = {
            **old,
            **{k: v for k, v in changes.items() if v is not None or k == "description"},
        }
        columns = self._columns(
            workspace,
            merged["name"],
            merged["event"],
            merged["action"],
            merged["description"],
            merged["enabled"],
        )
        wid = self.accounts.workspace_id(workspace)
        with self.sql.transaction() as tx:
            self._claim_name(tx, wid, columns["name"], old["pk"], workspace)
            sets = "".join(f"{column} = ?, " for column in columns)
            updated = tx.execute(
                f"UPDATE automations SET {sets}updated_at = ? WHERE pk = ?",
                [*columns.values(), self.sql.now(), old["pk"]],
            )
        if not updated:  # deleted (by another server) since it was read
            raise NotFound("automation", f"{workspace}/automations/{automation_id}")
        return self.get_automation(workspace, automation_id)

    def delete_automation(self, workspace: str, automation_id: str) -> None:
        pk = self._automation_row(workspace, automation_id)["pk"]
        with self.sql.transaction() as tx:
            # Its deliveries go with it: a pending one is never sent.
            self._delete_rows(tx, pk)

    def delete_project_automations(self, tx: Tx, pid: int) -> None:
        """Delete the automations scoped to a project (being deleted), with their deliveries."""
        pks = [r[0] for r in tx.rows("SELECT pk FROM automations WHERE project_id = ?", [pid])]
        for pk in pks:
            self._delete_rows(tx, pk)

    def _delete_rows(self, tx: Tx, pk: int) -> None:
        tx.execute(
            "DELETE FROM automation_attempts WHERE delivery_pk IN"
            " (SELECT pk FROM automation_deliveries WHERE automation_pk = ?)",
            [pk],
        )
        tx.execute("DELETE FROM automation_deliveries WHERE automation_pk = ?", [pk])
        tx.execute("DELETE FROM automations WHERE pk = ?", [pk])

    def enabled_automations(self) -> list[dict[str, Any]]:
        rows = self.sql.all(
            self._automation_select.replace(" FROM automations a", ", p.name AS project,"
                                            " c.name AS collection FROM automations a")
            + " JOIN projects p ON p.id = a.project_id"
            " LEFT JOIN artifact_collections c ON c.id = a.collection_id"
            # A collection scope whose collection was deleted watches nothing (not the project).
            " WHERE a.enabled AND (a.collection_id IS NULL OR c.id IS NOT NULL) ORDER BY a.pk"
        )  # fmt: skip
        return [
            {**_automation_out(r), "project": r["project"], "collection": r["collection"]}
            for r in rows
        ]

    # -- helpers --------------------------------------------------------------------------
    def _automation_row(self, workspace: str, automation_id: str) -> dict[str, Any]:
        # No id or name holds NUL, and PostgreSQL's text cannot even compare one.
        row = (
            None
            if "\x00" in automation_id + workspace
            else self.sql.one(
                self._automation_select + " WHERE w.username = ? AND (a.id = ? OR a.name = ?)",
                [workspace, automation_id, automation_id],
            )
        )
        if row is None:
            self.accounts.workspace_id(workspace)
            raise NotFound("automation", f"{workspace}/automations/{automation_id}")
        return row

    def _claim_name(self, tx: Tx, wid: int, name: str, pk: int | None, workspace: str) -> None:
        tx.lock_name(_AUTOMATION_NAMES, f"{wid}/{name}")
        other = tx.value(
            "SELECT pk FROM automations WHERE workspace_id = ? AND name = ?", [wid, name]
        )
        if other is not None and other != pk:
            raise Conflict(f"automation {workspace}/{name} already exists")

    def _columns(
        self,
        workspace: str,
        name: Any,
        event: Any,
        action: Any,
        description: Any,
        enabled: Any,
    ) -> dict[str, Any]:
        """The columns of an automation, every part checked: the scope's project (and
        collection) in ``workspace``, the action's integration one of its webhooks."""
        name = check_name(name, "name")
        if description is not None and not isinstance(description, str):
            raise InvalidInput("a string", field="description")
        check_text(description, "description")
        if not isinstance(enabled, bool):
            raise InvalidInput("true or false", field="enabled")
        event = check_event(event)
        action = check_action(action, event["event_type"])
        scope = event["scope"]
        try:
            pid = self.projects.project_id(workspace, scope["project"])
        except NotFound:
            raise InvalidInput(
                f"no project {workspace}/{scope['project']}", field="event.scope.project"
            ) from None
        cid = None
        if scope["scope_type"] == "ARTIFACT_COLLECTION":
            try:
                cid = self.collections.collection_row(
                    workspace, scope["project"], scope["collection"]
                )["id"]
            except NotFound:
                raise InvalidInput(
                    f"no artifact collection {scope['collection']} in"
                    f" {workspace}/{scope['project']}",
                    field="event.scope.collection",
                ) from None
        ipk = None
        if action["action_type"] != "NO_OP":
            kind = "WEBHOOK" if action["action_type"] == "GENERIC_WEBHOOK" else "SLACK"
            row = self.sql.one(
                "SELECT i.pk FROM integrations i JOIN workspaces w ON w.id = i.workspace_id"
                " WHERE w.username = ? AND i.id = ? AND i.kind = ?",
                [workspace, action["integration_id"], kind],
            )
            if row is None:
                raise InvalidInput(
                    f"no {kind.lower()} integration {action['integration_id']} in {workspace}",
                    field="action.integration_id",
                )
            ipk = row["pk"]
        return {
            "name": name,
            "description": description,
            "enabled": enabled,
            "event_type": event["event_type"],
            "event": _json.dumps(event),
            "action": _json.dumps(action),
            "project_id": pid,
            "collection_id": cid,
            "integration_pk": ipk,
        }


def _integration_out(row: Mapping[str, Any]) -> dict[str, Any]:
    kind = row["kind"]
    out = {
        "pk": row["pk"],
        "id": row["id"],
        "kind": kind,
        "typename": "WebhookIntegration" if kind == "WEBHOOK" else "SlackIntegration",
        "entity": row["entity"],
        "name": row["name"],
        "url_endpoint": row["url"],
        "has_secret": bool(row["has_secret"]),
        "created_by": row["username"],
        "created_at": row["created_at"],
    }
    return out


def _automation_out(row: Mapping[str, Any]) -> dict[str, Any]:
    event = _json.loads(row["event"])
    return {
        "pk": row["pk"],
        "id": row["id"],
        "entity": row["entity"],
        "name": row["name"],
        "description": row["description"],
        "enabled": bool(row["enabled"]),
        "event": event,
        "scope": event["scope"],
        "action": _json.loads(row["action"]),
        "created_by": row["username"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
