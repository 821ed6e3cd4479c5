"""Runs in the embedded store: read, delete, query, the flat run table, and the bookkeeping
creation and updates share (pks, history keys, field types)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from lablens.store import _json
from lablens.store.common.projects import Projects
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.embedded import _run_table
from lablens.store.embedded._db import Database, iso
from lablens.store.embedded._filter_sql import compile_filters
from lablens.store.embedded._order_sql import keyset_condition, order_by_sql, parse_order
from lablens.store.embedded.schema import RUN_DATA_TABLES
from lablens.store.run_values import check_page, run_out, value_types


def run_select() -> str:
    """The SELECT of a run's row as ``run_values.run_out`` reads it, over ``runs r``."""
    return (
        "SELECT r.pk, r.id, w.username AS entity, p.name AS project, r.name, r.notes, r.state,"
        " r.group_name, r.job_type, r.tags,"
        f" {iso('r.created_at')} AS created_at, {iso('r.finished_at')} AS finished_at,"
        f" {iso('r.heartbeat_at')} AS heartbeat_at, r.username, r.host, r.config, r.summary,"
        " r.system_metrics, r.metadata, r.requirements, r.conda, r.shown, r.exit_code, r.sweep"
        " FROM runs r JOIN projects p ON p.id = r.project_id"
        " JOIN workspaces w ON w.id = p.workspace_id"
    )


class Runs:
    """Part of ``EmbeddedStore``: runs read, deleted and queried, and the bookkeeping creation
    and updates share."""

    def __init__(self, db: Database, projects: Projects) -> None:
        self.db = db
        self.projects = projects

    def run_pk(self, workspace: str, project: str, run_id: str) -> int:
        """The pk of a run; ``NotFound`` names the workspace, project or run missing."""
        select = (
            "SELECT r.pk FROM runs r JOIN projects p ON p.id = r.project_id"
            " JOIN workspaces w ON w.id = p.workspace_id"
        )
        what = f"{workspace}/{project}/{run_id}"
        row = self.projects.in_project(
            select, "r.id", workspace, project, run_id, kind="run", what=what
        )
        return row["pk"]

    def history_keys(self, pks: list[int]) -> dict[int, list[dict[str, Any]]]:
        """The metric keys of each of these runs, ``{name, n, last_step}`` each, by name."""
        out: dict[int, list[dict[str, Any]]] = {pk: [] for pk in pks}
        if not pks:
            return out
        for r in self.db.all(
            "SELECT k.run_pk, m.name, k.n, k.last_step FROM run_keys k"
            " JOIN metric_keys m ON m.id = k.key_id"
            " WHERE m.stream = 'default' AND list_contains(?::BIGINT[], k.run_pk)"
            " ORDER BY m.name",
            [pks],
        ):
            out[r["run_pk"]].append(r)
        return out

    def record_fields(self, con: Any, project_id: int, kind: str, flat: Mapping[str, Any]) -> None:
        """Note each key's type in ``project_fields``, widening it on a clash."""
        self.record_types(con, project_id, kind, value_types(flat))

    def record_types(self, con: Any, project_id: int, kind: str, types: Mapping[str, str]) -> None:
        """Note these key types in ``project_fields``, widening each on a clash."""
        if not types:
            return
        known = {
            r["key"]: r["type"]
            for r in self.db.all(
                "SELECT key, type FROM project_fields WHERE project_id = ? AND kind = ?",
                [project_id, kind],
            )
        }
        rows = []
        for key, new in types.items():
            merged = _json.merge_type(known.get(key), new)
            if known.get(key) != merged:
                rows.append([project_id, kind, key, merged])
        if rows:
            con.executemany("INSERT OR REPLACE INTO project_fields VALUES (?, ?, ?, ?)", rows)

    def get_run(self, workspace: str, project: str, run_id: str) -> dict[str, Any]:
        what = f"{workspace}/{project}/{run_id}"
        row = self.projects.in_project(
            run_select(), "r.id", workspace, project, run_id, kind="run", what=what
        )
        return run_out(row, self.history_keys([row["pk"]])[row["pk"]])

    def delete_run(self, workspace: str, project: str, run_id: str) -> None:
        pk = self.run_pk(workspace, project, run_id)
        with self.db.write() as con:
            # The artifacts it used forget it too (a project's delete leaves that to the
            # artifacts' part, which deletes first).
            for table in (*RUN_DATA_TABLES, "artifact_usage"):
                con.execute(f"DELETE FROM {table} WHERE run_pk = ?", [pk])
            # The artifacts it logged stay; they no longer name the run that made them.
            con.execute("UPDATE artifacts SET run_pk = NULL WHERE run_pk = ?", [pk])
            con.execute("DELETE FROM runs WHERE pk = ?", [pk])

    # -- queries --------------------------------------------------------------------------
    def query_runs(
        self,
        workspace: str,
        project: str,
        *,
        filters: Mapping[str, Any] | None = None,
        order: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        pid = self.projects.project_id(workspace, project)
        where, params = compile_filters(filters, alias="r")
        terms = parse_order(order, alias="r")
        total = self.db.one(
            f"SELECT count(*) AS n FROM runs r WHERE r.project_id = ? AND ({where})", [pid, *params]
        )["n"]
        page_where, page_params = f"({where})", list(params)
        if cursor:
            cond, cond_params = keyset_condition(terms, decode_cursor(cursor))
            page_where += f" AND ({cond})"
            page_params += cond_params
        sort_cols = ", ".join(f"{t.sql} AS _o{i}" for i, t in enumerate(terms))
        rows = self.db.all(
            run_select().replace(" FROM runs r", f", {sort_cols} FROM runs r")
            + f" WHERE r.project_id = ? AND {page_where} ORDER BY {order_by_sql(terms)} LIMIT ?",
            [pid, *page_params, limit + 1],
        )
        rows, nxt = cut_page(rows, limit, *(f"_o{i}" for i in range(len(terms))))
        keys = self.history_keys([r["pk"] for r in rows])
        return {"items": [run_out(r, keys[r["pk"]]) for r in rows], "total": total, "next": nxt}

    def runs_table(
        self,
        workspace: str,
        project: str,
        *,
        filters: Mapping[str, Any] | None = None,
        order: str | None = None,
        columns: Sequence[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> pa.RecordBatchReader:
        check_page(offset, limit)
        pid = self.projects.project_id(workspace, project)
        fields = self.projects.project_fields(workspace, project)
        return _run_table.runs_table(
            self.db,
            pid,
            fields,
            filters=filters,
            order=order,
            columns=columns,
            offset=offset,
            limit=limit,
        )
