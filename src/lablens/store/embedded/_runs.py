"""Runs in the embedded store: create, read, update, query, and the flat run table."""

from __future__ import annotations

import datetime as dt
import secrets
import string
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from lablens.contract.flatten import flatten
from lablens.store import _json
from lablens.store.embedded import _run_table
from lablens.store.embedded._db import Database, iso, now
from lablens.store.embedded._filter_sql import compile_filters
from lablens.store.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from lablens.store.limits import LIMITS
from lablens.store.ordering import (
    decode_cursor,
    encode_cursor,
    keyset_condition,
    order_by_sql,
    parse_order,
)

STATES = ("RUNNING", "FINISHED", "CRASHED", "ABORTED")
RUN_ID_CHARS = string.ascii_lowercase + string.digits
#: Characters a run id may not hold: it is one segment of every run URL, so it must survive
#: quoting and unquoting as itself (no ``/``, and no ``\\`` that some clients and proxies turn
#: into ``/``) and be text a log line and a terminal show as it is (no control characters).
_ID_FORBIDDEN = frozenset("/\\") | {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))}
#: The SQL exit code column is a 32-bit integer, as a process's exit status is.
_EXIT_CODE_RANGE = (-(2**31), 2**31 - 1)
#: A string column's text (name, notes, group ...) may not hold NUL or lone surrogates.
_TEXT_FIELDS = (
    "name",
    "notes",
    "description",
    "group",
    "job_type",
    "host",
    "requirements",
    "conda",
)


def check_run_id(run_id: Any, field: str = "id") -> str:
    """A run id that can round-trip through a URL path segment, or ``InvalidInput``.

    The rule: 1 to 64 characters, not ``.`` or ``..`` (a path resolves them away), no ``/`` or
    ``\\``, no control characters (NUL, newline, DEL ...) and no lone surrogates.
    """
    if (
        not isinstance(run_id, str)
        or not 1 <= len(run_id) <= 64
        or run_id in (".", "..")
        or not _ID_FORBIDDEN.isdisjoint(run_id)
        or _json._bad_text(run_id)
    ):
        raise InvalidInput(
            "id must be 1 to 64 characters, not '.' or '..', without '/', '\\' or control"
            " characters",
            field=field,
        )
    return run_id


def _check_texts(data: Mapping[str, Any], prefix: str = "") -> None:
    for name in _TEXT_FIELDS:
        _json.check_text(data.get(name), f"{prefix}{name}")


def _checked_fields(value: dict[str, Any], field: str) -> dict[str, Any]:
    """``value`` flattened, once it is within the limits of depth, key length and key count."""
    leaves = _json.check_fields(value, field)
    _check_field_count(leaves, field)
    return flatten(value)


def _check_field_count(count: int, field: str) -> None:
    if count > LIMITS.max_fields_per_run:
        raise LimitExceeded(
            f"{field} would hold {count} keys, more than {LIMITS.max_fields_per_run} per run",
            field=field,
            limit=LIMITS.max_fields_per_run,
        )


def new_run_id() -> str:
    """Eight random lowercase letters and digits."""
    return "".join(secrets.choice(RUN_ID_CHARS) for _ in range(8))


def _run_select() -> str:
    return (
        "SELECT r.pk, r.id, w.username AS entity, p.name AS project, r.name, r.notes, r.state,"
        " r.group_name, r.job_type, r.tags,"
        f" {iso('r.created_at')} AS created_at, {iso('r.finished_at')} AS finished_at,"
        f" {iso('r.heartbeat_at')} AS heartbeat_at, r.username, r.host, r.config, r.summary,"
        " r.system_metrics, r.metadata, r.requirements, r.conda, r.shown, r.exit_code, r.sweep"
        " FROM runs r JOIN projects p ON p.id = r.project_id"
        " JOIN workspaces w ON w.id = p.workspace_id"
    )


def _run_out(row: dict[str, Any], keys: list[dict[str, Any]] | None) -> dict[str, Any]:
    history_keys = {k["name"]: {"count": k["n"], "last_step": k["last_step"]} for k in (keys or [])}
    return {
        "id": row["id"],
        "entity": row["entity"],
        "project": row["project"],
        "path": f"{row['entity']}/{row['project']}/{row['id']}",
        "name": row["name"],
        "notes": row["notes"] or "",
        "state": row["state"],
        "group": row["group_name"],
        "job_type": row["job_type"],
        "tags": list(row["tags"] or []),
        "created_at": row["created_at"],
        "finished_at": row["finished_at"],
        "heartbeat_at": row["heartbeat_at"],
        "username": row["username"],
        "host": row["host"],
        "config": _json.loads(row["config"]) or {},
        "summary": _json.loads(row["summary"]) or {},
        "system_metrics": _json.loads(row["system_metrics"]) or {},
        "metadata": _json.loads(row["metadata"]) or {},
        "requirements": row["requirements"],
        "conda": row["conda"],
        "show": bool(row["shown"]),
        "exit_code": row["exit_code"],
        "sweep": row["sweep"],
        "history_keys": history_keys,
        "last_history_step": max((k["last_step"] for k in keys or []), default=-1),
    }


def value_types(flat: Mapping[str, Any], types: dict[str, str] | None = None) -> dict[str, str]:
    """The field type of each non-null value, merged into ``types`` when given."""
    types = {} if types is None else types
    for key, value in flat.items():
        if value is not None:
            types[key] = _json.merge_type(types.get(key), _json.type_of(value))
    return types


def _str_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidInput(f"{field} must be a list of strings", field=field)
    if not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{field} must be a list of strings", field=field)
    for i, v in enumerate(value):
        _json.check_text(v, f"{field}[{i}]")
    return list(value)


def _time(value: Any, field: str) -> dt.datetime | None:
    """A point in time given as a datetime or an ISO 8601 string; naive means UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"{field} must be an ISO 8601 time", field=field) from None
    if not isinstance(value, dt.datetime):
        raise InvalidInput(f"{field} must be an ISO 8601 time", field=field)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _mapping(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{field} must be an object", field=field)
    return dict(value)


class Runs:
    """Mixin of ``EmbeddedStore``: runs and their tables."""

    db: Database

    def _run_pk(self, workspace: str, project: str, run_id: str) -> int:
        row = self.db.one(
            "SELECT r.pk FROM runs r JOIN projects p ON p.id = r.project_id"
            " JOIN workspaces w ON w.id = p.workspace_id"
            " WHERE w.username = ? AND p.name = ? AND r.id = ?",
            [workspace, project, run_id],
        )
        if row is None:
            self._project_id(workspace, project)  # type: ignore[attr-defined]
            raise NotFound("run", f"{workspace}/{project}/{run_id}")
        return row["pk"]

    def _history_keys(self, pks: list[int]) -> dict[int, list[dict[str, Any]]]:
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

    def _record_fields(self, con: Any, project_id: int, kind: str, flat: Mapping[str, Any]) -> None:
        """Note each key's type in ``project_fields``, widening it on a clash."""
        self._record_types(con, project_id, kind, value_types(flat))

    def _record_types(self, con: Any, project_id: int, kind: str, types: Mapping[str, str]) -> None:
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

    # -- create, read, update, delete -----------------------------------------------------
    def create_run(
        self, workspace: str, project: str, data: Mapping[str, Any], *, username: str
    ) -> tuple[dict[str, Any], bool]:
        run_id = check_run_id(data["id"]) if data.get("id") else new_run_id()
        _check_texts(data)
        resume = data.get("resume")
        if resume is True:
            resume = "allow"
        if resume in (None, False):
            resume = "never"
        if resume not in ("allow", "must", "never"):
            raise InvalidInput("resume must be 'allow', 'must' or 'never'", field="resume")
        config = _mapping(data.get("config"), "config")
        _checked_fields(config, "config")
        metadata = _mapping(data.get("metadata"), "metadata")
        _json.check_fields(metadata, "metadata")
        tags = _str_list(data.get("tags"), "tags")
        # An imported run keeps the time it started at its source.
        created = _time(data.get("created_at"), "created_at")
        pid = self.create_project(workspace, project, exist_ok=True)["id"]  # type: ignore[attr-defined]
        t = now()
        with self.db.write() as con:
            existing = self.db.one(
                "SELECT pk FROM runs WHERE project_id = ? AND id = ?", [pid, run_id]
            )
            if existing:
                if resume == "never":
                    raise Conflict(
                        f"run {workspace}/{project}/{run_id} already exists;"
                        " pass resume='allow' to continue it"
                    )
                con.execute(
                    "UPDATE runs SET state = 'RUNNING', heartbeat_at = ?,"
                    " finished_at = NULL, exit_code = NULL WHERE pk = ?",
                    [t, existing["pk"]],
                )
            else:
                if resume == "must":
                    raise NotFound("run", f"{workspace}/{project}/{run_id}")
                self._insert_run(
                    con,
                    pid,
                    run_id,
                    data,
                    config=config,
                    metadata=metadata,
                    tags=tags,
                    username=username,
                    t=t,
                    created=created,
                )
        return self.get_run(workspace, project, run_id), not existing

    def _insert_run(
        self,
        con: Any,
        pid: int,
        run_id: str,
        data: Mapping[str, Any],
        *,
        config: dict[str, Any],
        metadata: dict[str, Any],
        tags: list[str],
        username: str,
        t: Any,
        sweep: str | None = None,
        created: Any = None,
    ) -> int:
        """Insert a new RUNNING run inside the caller's transaction; returns its pk."""
        flat = flatten(config)
        pk = con.execute(
            "INSERT INTO runs (project_id, id, name, notes, state, group_name, job_type,"
            " tags, created_at, heartbeat_at, username, host, config, config_flat,"
            " summary, metadata, requirements, conda, sweep)"
            " VALUES (?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?)"
            " RETURNING pk",
            [
                pid,
                run_id,
                data.get("name") or run_id,
                data.get("notes"),
                data.get("group"),
                data.get("job_type"),
                tags,
                created or t,
                t,
                username,
                data.get("host"),
                _json.dumps(config),
                _json.dumps(flat),
                _json.dumps(metadata),
                data.get("requirements"),
                data.get("conda"),
                sweep,
            ],
        ).fetchone()[0]
        self._record_fields(con, pid, "config", flat)
        con.execute("UPDATE projects SET updated_at = ? WHERE id = ?", [t, pid])
        return pk

    def insert_runs(
        self, workspace: str, project: str, runs: Sequence[Mapping[str, Any]], *, username: str
    ) -> int:
        pid = self.create_project(workspace, project, exist_ok=True)["id"]  # type: ignore[attr-defined]
        t = now()
        cols: dict[str, list[Any]] = {
            c: []
            for c in (
                "project_id",
                "id",
                "name",
                "notes",
                "state",
                "group_name",
                "job_type",
                "tags",
                "created_at",
                "finished_at",
                "heartbeat_at",
                "username",
                "host",
                "config",
                "config_flat",
                "summary",
                "metadata",
            )
        }
        config_types: dict[str, str] = {}
        summary_types: dict[str, str] = {}
        for i, run in enumerate(runs):
            config = _mapping(run.get("config"), f"runs[{i}].config")
            flat = _checked_fields(config, f"runs[{i}].config")
            summary = _checked_fields(
                _mapping(run.get("summary"), f"runs[{i}].summary"), f"runs[{i}].summary"
            )
            metadata = _mapping(run.get("metadata"), f"runs[{i}].metadata")
            _json.check_fields(metadata, f"runs[{i}].metadata")
            _check_texts(run, f"runs[{i}].")
            state = str(run.get("state") or "FINISHED").upper()
            if state not in STATES:
                raise InvalidInput(
                    f"state must be one of {', '.join(STATES)}", field=f"runs[{i}].state"
                )
            created = run.get("created_at") or t
            values = [
                pid,
                check_run_id(run["id"], f"runs[{i}].id") if run.get("id") else new_run_id(),
                run.get("name"),
                run.get("notes"),
                state,
                run.get("group"),
                run.get("job_type"),
                _str_list(run.get("tags"), f"runs[{i}].tags"),
                created,
                run.get("finished_at") or (None if state == "RUNNING" else created),
                created,
                username,
                run.get("host"),
                _json.dumps(config),
                _json.dumps(flat),
                _json.dumps(summary),
                _json.dumps(metadata),
            ]
            values[2] = values[2] or values[1]
            for col, value in zip(cols, values, strict=True):
                cols[col].append(value)
            value_types(flat, config_types)
            value_types(summary, summary_types)
        table = pa.table(
            {
                **{
                    c: v
                    for c, v in cols.items()
                    if c not in ("created_at", "finished_at", "heartbeat_at", "tags")
                },
                "tags": pa.array(cols["tags"], pa.list_(pa.string())),
                **{
                    c: pa.array(cols[c], pa.timestamp("us", tz="UTC"))
                    for c in ("created_at", "finished_at", "heartbeat_at")
                },
            }
        )
        names = ", ".join(cols)
        with self.db.write() as con:
            con.register("_runs", table)
            try:
                dup = con.execute(
                    "SELECT count(*) FROM _runs n JOIN runs r ON r.id = n.id"
                    " AND r.project_id = n.project_id"
                ).fetchone()[0]
                if dup:
                    raise Conflict(f"{dup} of these run ids already exist in {workspace}/{project}")
                con.execute(f"INSERT INTO runs ({names}) SELECT {names} FROM _runs")
            finally:
                con.unregister("_runs")
            self._record_types(con, pid, "config", config_types)
            self._record_types(con, pid, "summary", summary_types)
        return table.num_rows

    def get_run(self, workspace: str, project: str, run_id: str) -> dict[str, Any]:
        row = self.db.one(
            _run_select() + " WHERE w.username = ? AND p.name = ? AND r.id = ?",
            [workspace, project, run_id],
        )
        if row is None:
            self._project_id(workspace, project)  # type: ignore[attr-defined]
            raise NotFound("run", f"{workspace}/{project}/{run_id}")
        return _run_out(row, self._history_keys([row["pk"]])[row["pk"]])

    def update_run(
        self, workspace: str, project: str, run_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        pk = self._run_pk(workspace, project, run_id)
        pid = self._project_id(workspace, project)  # type: ignore[attr-defined]
        sets: list[str] = []
        params: list[Any] = []
        t = now()

        def put(column: str, value: Any) -> None:
            sets.append(f"{column} = ?")
            params.append(value)

        for field, column in (
            ("name", "name"),
            ("notes", "notes"),
            ("group", "group_name"),
            ("job_type", "job_type"),
            ("requirements", "requirements"),
            ("conda", "conda"),
        ):
            if field in changes:
                value = changes[field]
                if value is not None and not isinstance(value, str):
                    raise InvalidInput(f"{field} must be a string", field=field)
                _json.check_text(value, field)
                put(column, value)
        if "description" in changes and "notes" not in changes:
            _json.check_text(changes["description"], "description")
            put("notes", changes["description"])
        if "tags" in changes:
            put("tags", _str_list(changes["tags"], "tags"))
        if "show" in changes:
            put("shown", bool(changes["show"]))
        if "exit_code" in changes:
            code = changes["exit_code"]
            lo, hi = _EXIT_CODE_RANGE
            if code is not None and (
                isinstance(code, bool) or not isinstance(code, int) or not lo <= code <= hi
            ):
                raise InvalidInput(
                    f"exit_code must be an integer from {lo} to {hi}, or null", field="exit_code"
                )
            put("exit_code", code)
        if "metadata" in changes:
            metadata = _mapping(changes["metadata"], "metadata")
            _json.check_fields(metadata, "metadata")
            put("metadata", _json.dumps(metadata))
        if "state" in changes:
            state = str(changes["state"] or "").upper()
            if state not in STATES:
                raise InvalidInput(f"state must be one of {', '.join(STATES)}", field="state")
            put("state", state)
            if "finished_at" not in changes:
                put("finished_at", None if state == "RUNNING" else t)
        if changes.get("heartbeat"):
            put("heartbeat_at", t)
        if "finished_at" in changes:
            # An imported run ends when it ended at its source; that was its last sign of life.
            finished = _time(changes["finished_at"], "finished_at")
            put("finished_at", finished)
            if finished is not None and not changes.get("heartbeat"):
                put("heartbeat_at", finished)
        config = flat = None
        if "config" in changes:
            config = _mapping(changes["config"], "config")
            flat = _checked_fields(config, "config")
            put("config", _json.dumps(config))
            put("config_flat", _json.dumps(flat))
        summary_changes = None
        if "summary" in changes:
            summary_changes = _mapping(changes["summary"], "summary")
            _json.check_fields(summary_changes, "summary")
            summary_changes = flatten(summary_changes)
        with self.db.write() as con:
            if summary_changes is not None:
                current = (
                    _json.loads(
                        self.db.one("SELECT summary FROM runs WHERE pk = ?", [pk])["summary"]
                    )
                    or {}
                )
                current.update(summary_changes)
                # A key set to None is removed, as deleting from W&B's summary does.
                current = {k: v for k, v in current.items() if v is not None}
                _check_field_count(len(current), "summary")
                put("summary", _json.dumps(current))
                self._record_fields(con, pid, "summary", summary_changes)
            if flat is not None:
                self._record_fields(con, pid, "config", flat)
            if sets:
                con.execute(f"UPDATE runs SET {', '.join(sets)} WHERE pk = ?", [*params, pk])
        return self.get_run(workspace, project, run_id)

    def delete_run(self, workspace: str, project: str, run_id: str) -> None:
        pk = self._run_pk(workspace, project, run_id)
        with self.db.write() as con:
            for table in (
                "points",
                "point_tiles",
                "run_keys",
                "batches",
                "files",
                "console",
                "artifact_usage",
            ):
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
        pid = self._project_id(workspace, project)  # type: ignore[attr-defined]
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
            _run_select().replace(" FROM runs r", f", {sort_cols} FROM runs r")
            + f" WHERE r.project_id = ? AND {page_where} ORDER BY {order_by_sql(terms)} LIMIT ?",
            [pid, *page_params, limit + 1],
        )
        nxt = None
        if len(rows) > limit:
            rows = rows[:limit]
            nxt = encode_cursor([rows[-1][f"_o{i}"] for i in range(len(terms))])
        keys = self._history_keys([r["pk"] for r in rows])
        return {"items": [_run_out(r, keys[r["pk"]]) for r in rows], "total": total, "next": nxt}

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
        _run_table.check_page(offset, limit)
        pid = self._project_id(workspace, project)  # type: ignore[attr-defined]
        fields = self.project_fields(workspace, project)  # type: ignore[attr-defined]
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
