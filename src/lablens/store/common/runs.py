"""Runs, written once for both engines: read, deleted, queried, the flat run table, and the
bookkeeping creation and updates share (pks, history keys, field types).

A page of runs and the run table compile the filter and order to the engine's own SQL: the
engine's :class:`RunQueries` does that, and this part shapes what it reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import pyarrow as pa

from lablens.store import _json
from lablens.store.cursors import cut_page, decode_cursor
from lablens.store.run_values import check_page, run_out, value_types
from lablens.store.sql import Sql, Tx


def run_select(sql: Sql) -> str:
    """The SELECT of a run's row as ``run_values.run_out`` reads it, over ``runs r``.

    The JSON columns come as text on both engines (PostgreSQL's ``json``/``jsonb`` would come
    parsed, DuckDB's ``JSON`` comes as text); ``run_out`` parses them.
    """
    return (
        "SELECT r.pk, r.id, w.username AS entity, p.name AS project, r.name, r.notes, r.state,"
        " r.group_name, r.job_type, r.tags,"
        f" {sql.iso('r.created_at')} AS created_at, {sql.iso('r.finished_at')} AS finished_at,"
        f" {sql.iso('r.heartbeat_at')} AS heartbeat_at, r.username, r.host,"
        " CAST(r.config AS TEXT) AS config, CAST(r.summary AS TEXT) AS summary,"
        " CAST(r.system_metrics AS TEXT) AS system_metrics,"
        " CAST(r.metadata AS TEXT) AS metadata, r.requirements, r.conda, r.shown, r.exit_code,"
        " r.sweep FROM runs r JOIN projects p ON p.id = r.project_id"
        " JOIN workspaces w ON w.id = p.workspace_id"
    )


# Two servers may note the same key at once: the row is upserted, its type widened in SQL by
# the rule of ``_json.merge_type``, so neither server's type is lost.
#: What every change of a run's config or summary also sets: its version (``runs.rev``, NULL as
#: created), by which the embedded run table knows which runs' parsed values are out of date.
REV_BUMP = "rev = coalesce(rev, 0) + 1"
#: A ``project_fields`` row's type (``f``) widened to hold the upserted one, in SQL.
WIDENED_TYPE = """CASE
    WHEN f.type = EXCLUDED.type THEN f.type
    WHEN f.type IN ('integer', 'number') AND EXCLUDED.type IN ('integer', 'number') THEN 'number'
    WHEN 'json' IN (f.type, EXCLUDED.type) THEN 'json'
    ELSE 'string'
END"""
_UPSERT_FIELDS = (
    "INSERT INTO project_fields AS f (project_id, kind, key, type) VALUES {values}"
    f" ON CONFLICT (project_id, kind, key) DO UPDATE SET type = {WIDENED_TYPE}"
)
# Field rows upserted by one statement: a project's keys in one round trip, its parameters
# well under PostgreSQL's 65,535.
_FIELDS_PER_STATEMENT = 1000


class RunQueries(Protocol):
    """The engine's run filter and order compiled to its own SQL, and its reads in that SQL
    (``store/<engine>/_run_query.py``): the statements are put together here."""

    #: The parameter placeholder of the engine's compilers (``?``, or psycopg's ``%s``).
    mark: str

    def where(self, filters: Mapping[str, Any] | None, *, alias: str) -> tuple[str, list[Any]]:
        """A filter as a condition over ``runs`` (``alias``) and its parameters."""

    def order(self, order: str | None, *, alias: str) -> list[Any]:
        """An order as its terms (each with its ``sql``)."""

    def after(self, terms: Sequence[Any], last: Sequence[Any]) -> tuple[str, list[Any]]:
        """The keyset condition of the rows after ``last`` (a cursor's sort values)."""

    def order_by(self, terms: Sequence[Any]) -> str:
        """The ``ORDER BY`` list of ``terms``."""

    def read(
        self, count: tuple[str, list[Any]], page: tuple[str, list[Any]]
    ) -> tuple[int, list[dict[str, Any]]]:
        """The number ``count`` counts and the rows of ``page`` (statements with their
        parameters), in one snapshot."""

    def table(self, pid: int, fields: Mapping[str, Any], **how: Any) -> pa.RecordBatchReader:
        """Project ``pid``'s flat run table (``Store.runs_table``; ``how``: its filters, order,
        columns, offset and limit), its config and summary keys typed by ``fields``."""


def as_tx(sql: Sql, tx: Any) -> Tx:
    """``tx``, a :class:`Tx` or the engine's own connection inside a transaction, as a ``Tx``
    (an engine-specific caller may hold only its connection)."""
    return tx if isinstance(tx, Tx) else sql.wrap(tx)


class Runs:
    """Part of the store: runs read, deleted and queried, and the bookkeeping creation and
    updates share. ``projects`` is the engine's projects part; ``queries`` its
    :class:`RunQueries`."""

    def __init__(self, sql: Sql, projects: Any, queries: RunQueries) -> None:
        self.sql = sql
        self.projects = projects
        self.queries = queries
        self._select = run_select(sql)
        # The field types of each (project, kind), where this process is the database's only
        # writer (``Sql.concurrent`` false): a type only widens, and is kept once committed.
        # Short runs then note their config and summary types without a read each.
        self._types: dict[tuple[int, str], dict[str, str]] | None = None if sql.concurrent else {}
        self._keys = (
            "SELECT k.run_pk, m.name, k.n, k.last_step FROM run_keys k"
            " JOIN metric_keys m ON m.id = k.key_id"
            " WHERE m.stream = 'default' AND k.run_pk = ANY(?::BIGINT[])"
            f" ORDER BY {sql.bytewise('m.name')}"
        )

    def run_pk(self, workspace: str, project: str, run_id: str) -> int:
        """The pk of a run; ``NotFound`` names the workspace, project or run missing."""
        memo = self.sql.memo()
        if memo is not None and (found := memo.get(("run", workspace, project, run_id))):
            return found
        select = (
            "SELECT r.pk FROM runs r JOIN projects p ON p.id = r.project_id"
            " JOIN workspaces w ON w.id = p.workspace_id"
        )
        what = f"{workspace}/{project}/{run_id}"
        row = self.projects.in_project(
            select, "r.id", workspace, project, run_id, kind="run", what=what
        )
        if memo is not None:
            memo["run", workspace, project, run_id] = row["pk"]
        return row["pk"]

    def history_keys(self, pks: list[int]) -> dict[int, list[dict[str, Any]]]:
        """The metric keys of each of these runs, ``{name, n, last_step}`` each, by name."""
        out: dict[int, list[dict[str, Any]]] = {pk: [] for pk in pks}
        if not pks:
            return out
        for r in self.sql.all(self._keys, [pks]):
            out[r["run_pk"]].append(r)
        return out

    def record_fields(self, tx: Any, project_id: int, kind: str, flat: Mapping[str, Any]) -> None:
        """Note each key's type in ``project_fields``, widening it on a clash (inside the
        caller's transaction ``tx``, a :class:`Tx` or the engine's connection)."""
        self.record_types(tx, project_id, kind, value_types(flat))

    def record_types(self, tx: Any, project_id: int, kind: str, types: Mapping[str, str]) -> None:
        """Note these key types in ``project_fields``, widening each on a clash (inside the
        caller's transaction ``tx``, a :class:`Tx` or the engine's connection)."""
        if not types:
            return
        tx = as_tx(self.sql, tx)
        known = self.field_types(tx, project_id, kind)
        # Only the keys whose type is new or wider are written; in key order, so that two
        # transactions noting the same keys lock their rows in the same order.
        rows = [
            (project_id, kind, key, new)
            for key, new in sorted(types.items())
            if known.get(key) != _json.merge_type(known.get(key), new)
        ]
        self.noted_types(
            project_id,
            kind,
            {key: _json.merge_type(known.get(key), new) for _, _, key, new in rows},
        )
        for i in range(0, len(rows), _FIELDS_PER_STATEMENT):
            chunk = rows[i : i + _FIELDS_PER_STATEMENT]
            values = ", ".join("(?, ?, ?, ?)" for _ in chunk)
            tx.execute(_UPSERT_FIELDS.format(values=values), [v for row in chunk for v in row])

    def field_types(self, tx: Any, project_id: int, kind: str) -> dict[str, str]:
        """The types ``project_fields`` holds for the project's keys of ``kind`` (``config``,
        ``summary``), read inside the caller's transaction ``tx``, or kept from an earlier one
        that committed. Not to be changed: ``noted_types`` records what the caller writes."""
        kept = None if self._types is None else self._types.get((project_id, kind))
        if kept is not None:
            return kept
        known = dict(
            as_tx(self.sql, tx).rows(
                "SELECT key, type FROM project_fields WHERE project_id = ? AND kind = ?",
                [project_id, kind],
            )
        )
        if self._types is not None:
            types = self._types
            # What this transaction read (its own writes included) is right once it commits.
            self.sql.after_commit(lambda: types.setdefault((project_id, kind), dict(known)))
        return known

    def noted_types(self, project_id: int, kind: str, written: Mapping[str, str]) -> None:
        """``written`` (key: its type now) goes to ``project_fields`` in the caller's
        transaction: kept in memory too once it commits."""
        if self._types is None or not written:
            return
        types, written = self._types, dict(written)

        def keep() -> None:
            if (project_id, kind) in types:
                types[project_id, kind] = {**types[project_id, kind], **written}

        self.sql.after_commit(keep)

    def get_run(self, workspace: str, project: str, run_id: str) -> dict[str, Any]:
        what = f"{workspace}/{project}/{run_id}"
        row = self.projects.in_project(
            self._select, "r.id", workspace, project, run_id, kind="run", what=what
        )
        return run_out(row, self.history_keys([row["pk"]])[row["pk"]])

    def delete_run(self, workspace: str, project: str, run_id: str) -> None:
        pk = self.run_pk(workspace, project, run_id)
        with self.sql.transaction() as tx:
            # The run's row first: a use of an artifact (which holds the row FOR KEY SHARE) or
            # a batch of points arriving through another server waits, then finds no run,
            # instead of leaving a row behind that names it.
            tx.execute(
                "SELECT 1 FROM runs WHERE pk = ?" + self.sql.if_concurrent(" FOR UPDATE"), [pk]
            )
            # The artifacts it used forget it too (a project's delete leaves that to the
            # artifacts' part, which deletes first).
            for table in (*self.sql.run_data_tables, "artifact_usage"):
                tx.execute(f"DELETE FROM {table} WHERE run_pk = ?", [pk])
            # The artifacts it logged stay; they no longer name the run that made them.
            tx.execute("UPDATE artifacts SET run_pk = NULL WHERE run_pk = ?", [pk])
            tx.execute("DELETE FROM runs WHERE pk = ?", [pk])

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
        q, mark = self.queries, self.queries.mark
        where, params = q.where(filters, alias="r")
        terms = q.order(order, alias="r")
        count = f"SELECT count(*) AS n FROM runs r WHERE r.project_id = {mark} AND ({where})"
        page_where, page_params = f"({where})", list(params)
        if cursor:
            cond, cond_params = q.after(terms, decode_cursor(cursor))
            page_where += f" AND ({cond})"
            page_params += cond_params
        sort = [f"_o{i}" for i in range(len(terms))]
        sort_cols = ", ".join(f"{t.sql} AS {name}" for t, name in zip(terms, sort, strict=True))
        page = (
            self._select.replace(" FROM runs r", f", {sort_cols} FROM runs r", 1)
            + f" WHERE r.project_id = {mark} AND {page_where}"
            f" ORDER BY {q.order_by(terms)} LIMIT {mark}"
        )
        total, rows = q.read((count, [pid, *params]), (page, [pid, *page_params, limit + 1]))
        rows, nxt = cut_page(rows, limit, *sort)
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
        return self.queries.table(
            pid, fields, filters=filters, order=order, columns=columns, offset=offset, limit=limit
        )
