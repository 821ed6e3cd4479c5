"""Runs in the PostgreSQL store: read, delete, query, the flat run table, and the bookkeeping
creation and updates share (pks, history keys, field types, jsonb text)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from lablens.store import _json
from lablens.store.common.projects import Projects
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.postgres import _run_table
from lablens.store.postgres._db import Database, iso
from lablens.store.postgres._filter_sql import compile_filters
from lablens.store.postgres._ordering import keyset_condition, order_by_sql, parse_order
from lablens.store.postgres.schema import RUN_DATA_TABLES
from lablens.store.run_values import check_page, run_out, value_types

# Floats from here up are written by Python in exponent form (1e+16), which jsonb reads as an
# integer; see ``jsonb_dumps``.
_BIG_FLOAT = 1e16


def run_select() -> str:
    """The SELECT of a run's row as ``run_values.run_out`` reads it, over ``runs r``.

    The JSON columns come as text, as the embedded store gives them (``run_out`` parses them).
    """
    return (
        "SELECT r.pk, r.id, w.username AS entity, p.name AS project, r.name, r.notes, r.state,"
        " r.group_name, r.job_type, r.tags,"
        f" {iso('r.created_at')} AS created_at, {iso('r.finished_at')} AS finished_at,"
        f" {iso('r.heartbeat_at')} AS heartbeat_at, r.username, r.host, r.config::text AS config,"
        " r.summary::text AS summary, r.system_metrics::text AS system_metrics,"
        " r.metadata::text AS metadata, r.requirements, r.conda, r.shown, r.exit_code, r.sweep"
        " FROM runs r JOIN projects p ON p.id = r.project_id"
        " JOIN workspaces w ON w.id = p.workspace_id"
    )


def jsonb_dumps(value: Any) -> str | None:
    """``value`` as the JSON text of a ``jsonb`` column (``config_flat``, ``summary``,
    ``system_metrics``); ``None`` stays SQL NULL.

    As ``_json.dumps``, except for floats of 1e16 and more: Python writes them ``1e+16``, which
    jsonb keeps as the integer 10000000000000000, read back as a Python ``int``. Written out in
    full with a ``.0`` they stay floats, the same float (the text is the float's exact value).
    """
    if value is None:
        return None
    value = _json.encode(value)
    if not _has_big_float(value):
        return json.dumps(value, separators=(",", ":"))
    return _render(value)


def _has_big_float(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, float):
            if abs(v) >= _BIG_FLOAT:
                return True
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def _render(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value) and abs(value) >= _BIG_FLOAT:
        return f"{value:.1f}"
    if isinstance(value, dict):
        items = (json.dumps(str(k)) + ":" + _render(v) for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_render(v) for v in value) + "]"
    return json.dumps(value)


# Two servers may note the same key at once: the row is upserted, its type widened in SQL by
# the rule of ``_json.merge_type``, so neither server's type is lost.
#: A ``project_fields`` row's type (``f``) widened to hold the upserted one, in SQL.
WIDENED_TYPE = """CASE
    WHEN f.type = EXCLUDED.type THEN f.type
    WHEN f.type IN ('integer', 'number') AND EXCLUDED.type IN ('integer', 'number') THEN 'number'
    WHEN 'json' IN (f.type, EXCLUDED.type) THEN 'json'
    ELSE 'string'
END"""
_UPSERT_FIELD = f"""
INSERT INTO project_fields AS f (project_id, kind, key, type) VALUES (%s, %s, %s, %s)
ON CONFLICT (project_id, kind, key) DO UPDATE SET type = {WIDENED_TYPE}
"""


class Runs:
    """Part of ``PostgresStore``: runs read, deleted and queried, and the bookkeeping creation
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
            " WHERE m.stream = 'default' AND k.run_pk = ANY(%s::bigint[])"
            ' ORDER BY m.name COLLATE "C"',
            [pks],
        ):
            out[r["run_pk"]].append(r)
        return out

    def record_fields(self, con: Any, project_id: int, kind: str, flat: Mapping[str, Any]) -> None:
        """Note each key's type in ``project_fields``, widening it on a clash."""
        self.record_types(con, project_id, kind, value_types(flat))

    def record_types(self, con: Any, project_id: int, kind: str, types: Mapping[str, str]) -> None:
        """Note these key types in ``project_fields``, widening each on a clash (inside the
        caller's transaction, ``con``)."""
        if not types:
            return
        known = {
            key: type_
            for key, type_ in con.execute(
                "SELECT key, type FROM project_fields WHERE project_id = %s AND kind = %s",
                [project_id, kind],
            ).fetchall()
        }
        # Only the keys whose type is new or wider are written; in key order, so that two
        # transactions noting the same keys lock their rows in the same order.
        rows = [
            [project_id, kind, key, new]
            for key, new in sorted(types.items())
            if known.get(key) != _json.merge_type(known.get(key), new)
        ]
        if rows:
            with con.cursor() as cur:
                cur.executemany(_UPSERT_FIELD, rows)

    def get_run(self, workspace: str, project: str, run_id: str) -> dict[str, Any]:
        what = f"{workspace}/{project}/{run_id}"
        row = self.projects.in_project(
            run_select(), "r.id", workspace, project, run_id, kind="run", what=what
        )
        return run_out(row, self.history_keys([row["pk"]])[row["pk"]])

    def delete_run(self, workspace: str, project: str, run_id: str) -> None:
        pk = self.run_pk(workspace, project, run_id)
        with self.db.transaction() as con:
            # The run's row first: a use of an artifact (which holds the row FOR KEY SHARE) or
            # a batch of points arriving through another server waits, then finds no run,
            # instead of leaving a row behind that names it.
            con.execute("SELECT 1 FROM runs WHERE pk = %s FOR UPDATE", [pk])
            # The artifacts it used forget it too (a project's delete leaves that to the
            # artifacts' part, which deletes first).
            for table in (*RUN_DATA_TABLES, "artifact_usage"):
                con.execute(f"DELETE FROM {table} WHERE run_pk = %s", [pk])
            # The artifacts it logged stay; they no longer name the run that made them.
            con.execute("UPDATE artifacts SET run_pk = NULL WHERE run_pk = %s", [pk])
            con.execute("DELETE FROM runs WHERE pk = %s", [pk])

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
        page_where, page_params = f"({where})", list(params)
        if cursor:
            cond, cond_params = keyset_condition(terms, decode_cursor(cursor))
            page_where += f" AND ({cond})"
            page_params += cond_params
        sort_cols = ", ".join(f"{t.sql} AS _o{i}" for i, t in enumerate(terms))
        # The count and the page in one snapshot, as the embedded store's one reader sees them.
        with self.db.transaction() as con:
            con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            total = con.execute(
                f"SELECT count(*) FROM runs r WHERE r.project_id = %s AND ({where})",
                [pid, *params],
            ).fetchone()[0]
            cur = con.execute(
                run_select().replace(" FROM runs r", f", {sort_cols} FROM runs r")
                + f" WHERE r.project_id = %s AND {page_where}"
                f" ORDER BY {order_by_sql(terms)} LIMIT %s",
                [pid, *page_params, limit + 1],
            )
            names = [d.name for d in cur.description]
            rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
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
