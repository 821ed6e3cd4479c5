"""Custom chart presets (a Vega-Lite spec and the query it draws), on every engine."""

from __future__ import annotations

from typing import Any

from lablens.store.chart_values import chart_columns, chart_out, chart_select
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.errors import Conflict, NotFound
from lablens.store.sql import Sql


class CustomCharts:
    """Part of the store: an entity's chart presets, unique by name in the entity."""

    def __init__(self, sql: Sql, accounts: Any) -> None:
        self.sql = sql
        self.accounts = accounts

    def create_custom_chart(
        self,
        workspace: str,
        *,
        name: str,
        display_name: str | None,
        spec_type: str,
        access: str,
        spec: Any,
        query: Any,
        username: str,
    ) -> dict[str, Any]:
        columns = chart_columns(name, display_name, spec_type, access, spec, query)
        wid = self.accounts.workspace_id(workspace)
        t = self.sql.now()
        row = {**columns, "workspace_id": wid, "username": username}
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        try:
            with self.sql.transaction() as tx:
                if tx.one(
                    "SELECT 1 AS x FROM custom_charts WHERE workspace_id = ? AND name = ?",
                    [wid, name],
                ):
                    raise Conflict(f"{workspace} already has a custom chart {name!r}")
                tx.execute(
                    f"INSERT INTO custom_charts ({names}, created_at, updated_at)"
                    f" VALUES ({marks}, ?, ?)",
                    [*row.values(), t, t],
                )
        except self.sql.duplicate_key as exc:  # two servers creating the same name at once
            raise Conflict(f"{workspace} already has a custom chart {name!r}") from exc
        return self.get_custom_chart(workspace, name)

    def get_custom_chart(self, workspace: str, name: str) -> dict[str, Any]:
        wid = self.accounts.workspace_id(workspace)
        row = self.sql.one(
            chart_select(self.sql.iso) + " WHERE c.workspace_id = ? AND c.name = ?", [wid, name]
        )
        if row is None:
            raise NotFound("custom_chart", f"{workspace}/{name}")
        return chart_out(row)

    def list_custom_charts(
        self,
        workspace: str,
        *,
        public_only: bool = False,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        wid = self.accounts.workspace_id(workspace)
        where, params = ["c.workspace_id = ?"], [wid]
        if public_only:
            where.append("c.access = 'public'")
        total = self.sql.one(
            f"SELECT count(*) AS n FROM custom_charts c WHERE {' AND '.join(where)}", params
        )["n"]
        if cursor:
            # keyset on the name, unique in the entity: a page never skips a chart made meanwhile
            where.append(f"{self.sql.bytewise('c.name')} > ?")
            params.append(str(decode_cursor(cursor)[0]))
        rows = self.sql.all(
            chart_select(self.sql.iso)
            + f" WHERE {' AND '.join(where)} ORDER BY {self.sql.bytewise('c.name')} LIMIT ?",
            [*params, limit + 1],
        )
        rows, nxt = cut_page(rows, limit, "name")
        return {"items": [chart_out(r) for r in rows], "total": total, "next": nxt}

    def delete_custom_chart(self, workspace: str, name: str) -> None:
        self.get_custom_chart(workspace, name)
        wid = self.accounts.workspace_id(workspace)
        with self.sql.transaction() as tx:
            tx.execute("DELETE FROM custom_charts WHERE workspace_id = ? AND name = ?", [wid, name])
