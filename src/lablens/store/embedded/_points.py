"""Metric points as runs log them into the embedded store: interned keys, tiles and the
summary's last values."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lablens.store import _json
from lablens.store.common.projects import Projects
from lablens.store.common.runs import REV_BUMP, Runs
from lablens.store.embedded import _tiles
from lablens.store.embedded._db import Database, now
from lablens.store.points import (
    check_keys_per_run,
    check_stream,
    conform_points,
    first_batch_lasts,
    widened_summary_types,
)
from lablens.store.tiles import tile_actions

# Up to this many changed keys a summary is merged in SQL, past it in Python.
_SQL_PATCH_KEYS = 256
# A run's first batch of at most this many points has its keys' figures computed in Arrow;
# past it DuckDB's parallel GROUP BY is the faster.
_ARROW_LASTS_ROWS = 50_000
# At most this many new keys go into run_keys as the values of one statement.
_VALUES_ROWS = 100


class Points:
    """Part of ``EmbeddedStore``: the metric points runs log."""

    def __init__(self, db: Database, runs: Runs, projects: Projects) -> None:
        self.db = db
        self.runs = runs
        self.projects = projects
        # Metric key ids by (stream, name): a key is never renamed or deleted, so an id, once
        # committed, stays right; a batch of known keys then needs no lookup.
        self._ids: dict[tuple[str, str], int] = {}

    def _key_ids(self, con: Any, stream: str, names: pa.Array) -> pa.Array:
        """The ids of ``names`` (distinct), in their order, interning the new ones.

        Set-based: one anti-joined INSERT for every new name of the batch and one SELECT of the
        ids, whatever the number of keys. Ids committed before are known from memory.
        """
        known = [self._ids.get((stream, name)) for name in names.to_pylist()]
        if None not in known:
            return pa.array(known, pa.int32())
        con.register(
            "_names", pa.table({"i": pa.array(range(len(names)), pa.int64()), "name": names})
        )
        try:
            select = (
                "SELECT n.i, m.id FROM _names n LEFT JOIN metric_keys m"
                " ON m.stream = ? AND m.name = n.name ORDER BY n.i"
            )
            ids = con.sql(select, params=[stream]).to_arrow_table()["id"]
            if ids.null_count:
                con.execute(
                    "INSERT INTO metric_keys (stream, name) SELECT ?, n.name FROM _names n"
                    " ANTI JOIN (SELECT name FROM metric_keys WHERE stream = ?) m"
                    " ON m.name = n.name ORDER BY n.i",
                    [stream, stream],
                )
                ids = con.sql(select, params=[stream]).to_arrow_table()["id"]
        finally:
            con.unregister("_names")
        ids = ids.combine_chunks().cast(pa.int32())
        if len(self._ids) < 1_000_000:
            found = dict(
                zip(((stream, n) for n in names.to_pylist()), ids.to_pylist(), strict=True)
            )
            self.db.after_commit(lambda: self._ids.update(found))
        return ids

    def _check_keys_per_run(self, con: Any, pk: int, new: int) -> None:
        # Counted inside the write transaction, so two batches cannot both slip under the limit.
        # (fetchall: a half-read result would block the rollback that follows the refusal.)
        ((held,),) = con.execute("SELECT count(*) FROM run_keys WHERE run_pk = ?", [pk]).fetchall()
        check_keys_per_run(held, new)

    def append_points(
        self,
        workspace: str,
        project: str,
        run_id: str,
        points: pa.Table,
        *,
        stream: str = "default",
        batch_id: str | None = None,
    ) -> dict[str, Any]:
        check_stream(stream)
        table = conform_points(points)
        pk = self.runs.run_pk(workspace, project, run_id)
        pid = self.projects.project_id(workspace, project)
        names = pc.unique(table["key"]) if table.num_rows else None
        memo = self.db.memo()
        # A run made by this same request (RunCreation's memo) holds no batch and no key yet.
        fresh = memo is not None and memo.pop(("keyless run", pk), False)
        with self.db.write() as con:
            if (
                batch_id
                and not fresh
                and self.db.one(
                    "SELECT 1 FROM batches WHERE run_pk = ? AND batch_id = ?", [pk, batch_id]
                )
            ):
                return {"stored": 0, "duplicate": True}
            if names is not None:
                id_map = self._key_ids(con, stream, names)
                batch = pa.table(
                    {
                        "run_pk": pa.repeat(pa.scalar(pk, pa.int64()), table.num_rows),
                        "key_id": pc.take(id_map, pc.index_in(table["key"], value_set=names)),
                        "step": table["step"],
                        "ts": table["timestamp"],
                        "value": table["value"],
                    }
                )
                lasts = None
                if fresh and table.num_rows <= _ARROW_LASTS_ROWS:
                    # A short run's first batch: its keys' figures computed here, no query.
                    lasts = first_batch_lasts(batch["key_id"], batch["step"], batch["value"])
                con.register("_batch", batch)
                try:
                    if lasts is None:
                        # Per key of the batch: its count, steps and last value, beside what
                        # the run held before (NULL for a key new to the run).
                        lasts = con.sql(
                            "SELECT b.*, r.last_step AS prior, coalesce(r.n, 0) AS prior_n"
                            " FROM (SELECT key_id, count(*) AS n,"
                            " min(step) AS first_step, max(step) AS last_step,"
                            " arg_max(value, step) AS last_value,"
                            " count(*) FILTER (WHERE isnan(value)) AS nans FROM _batch"
                            " GROUP BY key_id) b LEFT JOIN run_keys r"
                            " ON r.run_pk = ? AND r.key_id = b.key_id",
                            params=[pk],
                        ).to_arrow_table()
                    new = lasts["prior"].null_count
                    if fresh:
                        check_keys_per_run(0, new)  # made by this request: it holds no key
                    elif new:
                        self._check_keys_per_run(con, pk, new)
                    con.execute("INSERT INTO points SELECT * FROM _batch")
                    self._update_tiles(con, pk, lasts)
                finally:
                    con.unregister("_batch")
                self._insert_run_keys(con, pk, lasts, new)
                self._update_summary(con, pid, pk, stream, names, id_map, lasts)
            if batch_id:
                con.execute("INSERT INTO batches VALUES (?, ?, ?)", [pk, batch_id, table.num_rows])
        return {"stored": table.num_rows, "duplicate": False}

    def _insert_run_keys(self, con: Any, pk: int, lasts: pa.Table, new: int) -> None:
        """Add the batch's figures (``lasts``) to the run's keys; ``new`` of them are new."""
        columns = "run_pk, key_id, n, first_step, last_step, nans"
        if new == lasts.num_rows and new <= _VALUES_ROWS:
            # A few keys all new to the run (a short run's): one statement with their values,
            # where registering them as a table costs two more (~1.5 ms).
            rows = zip(
                *(lasts[c].to_pylist() for c in ("key_id", "n", "first_step", "last_step", "nans")),
                strict=True,
            )
            params = [v for row in rows for v in (pk, *row)]
            marks = ", ".join(["(?, ?, ?, ?, ?, ?)"] * new)
            con.execute(f"INSERT INTO run_keys ({columns}) VALUES {marks}", params)
            return
        con.register("_lasts", lasts)
        try:
            insert = (
                f"INSERT INTO run_keys ({columns})"
                " SELECT ?, key_id, n, first_step, last_step, nans FROM _lasts"
            )
            if new < lasts.num_rows:
                insert += (
                    " ON CONFLICT (run_pk, key_id)"
                    " DO UPDATE SET n = run_keys.n + excluded.n,"
                    " first_step = least(run_keys.first_step, excluded.first_step),"
                    " last_step = greatest(run_keys.last_step, excluded.last_step),"
                    " nans = run_keys.nans + excluded.nans"
                )
            # Keys all new to the run (its first batch): a plain insert, which DuckDB makes ~4x
            # faster than one with ON CONFLICT (runs_lifecycle_100).
            con.execute(insert, [pk])
        finally:
            con.unregister("_lasts")

    def _update_tiles(self, con: Any, pk: int, lasts: pa.Table) -> None:
        # Which series merge the batch's tiles and which build theirs: ``tiles.tile_actions``.
        merge, build = tile_actions(
            lasts["prior_n"].to_numpy(zero_copy_only=False), lasts["n"].to_numpy()
        )
        merge, build = pa.array(merge), pa.array(build)
        if pc.all(merge).as_py():
            con.execute(_tiles.MERGE_SQL)
        elif pc.any(merge).as_py():
            con.register("_merge", pa.table({"key_id": pc.filter(lasts["key_id"], merge)}))
            try:
                con.execute(
                    _tiles.merge_sql("(SELECT * FROM _batch SEMI JOIN _merge USING (key_id))")
                )
            finally:
                con.unregister("_merge")
        if pc.any(build).as_py():
            con.register("_build", pa.table({"key_id": pc.filter(lasts["key_id"], build)}))
            try:
                source = (
                    f"(SELECT * FROM points WHERE run_pk = {int(pk)}"
                    " AND key_id IN (SELECT key_id FROM _build))"
                )
                con.execute(f"INSERT OR REPLACE INTO point_tiles {_tiles.tiles_sql(source)}")
            finally:
                con.unregister("_build")

    def _update_summary(
        self,
        con: Any,
        pid: int,
        pk: int,
        stream: str,
        names: pa.Array,
        id_map: pa.Array,
        lasts: pa.Table,
    ) -> None:
        # A key's summary value is its point at the largest step logged so far; a batch that
        # logs below it (a backfill) leaves it alone.
        keep = pc.or_kleene(
            pc.is_null(lasts["prior"]), pc.greater_equal(lasts["last_step"], lasts["prior"])
        )
        latest_ids = pc.filter(lasts["key_id"], keep)
        latest_names = pc.take(names, pc.index_in(latest_ids, value_set=id_map))
        latest = dict(
            zip(
                latest_names.to_pylist(),
                pc.filter(lasts["last_value"], keep).to_pylist(),
                strict=True,
            )
        )
        column = "summary" if stream == "default" else "system_metrics"
        # The summary is in the run table (its parsed values are kept by version), system
        # metrics are not.
        bump = f", {REV_BUMP}" if column == "summary" else ""
        # A key whose every value in the batch is null keeps its summary value (DuckDB's
        # arg_max skips nulls, so its last value is null only then).
        patch = {k: v for k, v in latest.items() if v is not None}
        if len(patch) <= _SQL_PATCH_KEYS:
            # The usual batch, a few keys: merged in SQL, without parsing a summary of maybe
            # many thousand keys in Python (50 ms a batch at 20,000 keys, against 5 ms).
            con.execute(
                f"UPDATE runs SET {column} = json_merge_patch(coalesce({column}, '{{}}'),"
                f" ?::JSON), heartbeat_at = ?{bump} WHERE pk = ?",
                [_json.dumps(patch), now(), pk],
            )
        else:
            # DuckDB's merge looks up each key of the patch in turn: quadratic for a wide one.
            ((text,),) = con.execute(f"SELECT {column} FROM runs WHERE pk = ?", [pk]).fetchall()
            current = _json.loads(text) or {}
            current.update(_json.encode(patch))  # the stored values are encoded already
            con.execute(
                f"UPDATE runs SET {column} = ?, heartbeat_at = ?{bump} WHERE pk = ?",
                [json.dumps(current, separators=(",", ":")), now(), pk],
            )
        if stream != "default" or not latest:
            return
        # The summary fields the project knows, widened where a key was another type: the
        # known types of these keys in one query, the changed ones in one statement.
        numbers = {k for k, v in latest.items() if v is not None}
        types = self.runs.field_types(con, pid, "summary")
        changed = widened_summary_types({k: types[k] for k in numbers if k in types}, numbers)
        self.runs.noted_types(pid, "summary", changed)
        if changed:
            con.register(
                "_fields",
                pa.table({"key": list(changed), "type": list(changed.values())}),
            )
            try:
                con.execute(
                    "INSERT OR REPLACE INTO project_fields"
                    " SELECT ?, 'summary', key, type FROM _fields",
                    [pid],
                )
            finally:
                con.unregister("_fields")
