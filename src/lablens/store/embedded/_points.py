"""Metric points, files and console lines of runs in the embedded store."""

from __future__ import annotations

import hashlib
import json
import math
import mimetypes
import os
import posixpath
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lablens.contract.names import CONSOLE_STREAMS, WIRE_X_AXES
from lablens.contract.names import POINT_STREAMS as STREAMS
from lablens.store import _json
from lablens.store.embedded import _tiles
from lablens.store.embedded._db import Database, iso, now
from lablens.store.errors import InvalidInput, LimitExceeded, NotFound
from lablens.store.filters import compile_filters
from lablens.store.limits import LIMITS
from lablens.store.ordering import order_by_sql, parse_order
from lablens.store.points import MAX_SAMPLES, conform_points
from lablens.store.sampling import sampled_points_sql

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# Up to this many changed keys a summary is merged in SQL, past it in Python.
_SQL_PATCH_KEYS = 256
# What min_x/max_x measure: the step, the point's time, seconds since its run started, or the
# value of the metric x_key (the steps where it lies in the range are kept, for every key).
HISTORY_SCHEMA = pa.schema(
    [
        ("run_id", pa.dictionary(pa.int32(), pa.string())),
        ("key", pa.dictionary(pa.int32(), pa.string())),
        ("step", pa.int64()),
        ("timestamp", pa.float64()),
        ("value", pa.float64()),
    ]
)


def _with_runs(schema: pa.Schema, rows: list[dict[str, Any]]) -> pa.Schema:
    # When each run started (seconds since the epoch, for W&B's _runtime) and its display name
    # (for legends): in the metadata, as columns they would add bytes to every point.
    started = {r["id"]: float(r["started"]) for r in rows}
    names = {r["id"]: r["name"] for r in rows}
    return schema.with_metadata(
        {b"started": json.dumps(started).encode(), b"names": json.dumps(names).encode()}
    )


def check_x_range(x_axis: str, x_key: str | None, min_x: float | None, max_x: float | None) -> None:
    """Check a history query's x axis and range, naming the bad field."""
    if x_axis not in WIRE_X_AXES:
        raise InvalidInput(
            f"x_axis must be one of {', '.join(WIRE_X_AXES)}, not {x_axis!r}", field="x_axis"
        )
    if x_axis == "metric":
        if not isinstance(x_key, str) or not x_key:
            raise InvalidInput(
                "x_axis 'metric' needs x_key, the metric whose value is the x axis", field="x_key"
            )
    elif x_key is not None:
        raise InvalidInput(f"x_key goes with x_axis 'metric' only, not {x_axis!r}", field="x_key")
    for name, value in (("min_x", min_x), ("max_x", max_x)):
        if value is not None and not math.isfinite(value):
            raise InvalidInput(f"{name} must be a finite number, not {value}", field=name)
    if min_x is not None and max_x is not None and min_x > max_x:
        raise InvalidInput(f"min_x ({min_x}) is above max_x ({max_x})", field="min_x")


def check_file_name(name: str) -> str:
    """A run file's name: relative, no ``..`` part, no backslash, not empty."""
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        raise InvalidInput(f"bad file name {name!r}: it must be a relative path", field="name")
    norm = posixpath.normpath(name)
    if norm.startswith("..") or any(part == ".." for part in name.split("/")) or norm == ".":
        raise InvalidInput(f"bad file name {name!r}: '..' is not allowed", field="name")
    return norm


def _console_table(lines: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Console lines ``{ts?, stream?, line}`` as a table ``i ts stream line``, naming a bad one."""
    ts_col, streams, texts = [], [], []
    for i, item in enumerate(lines):
        if not isinstance(item, Mapping) or not isinstance(item.get("line"), str):
            raise InvalidInput("each console line needs a string 'line'", field=f"lines[{i}].line")
        try:
            item["line"].encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(
                "the line is not valid Unicode text (it holds a lone surrogate)",
                field=f"lines[{i}].line",
            ) from None
        stream = item.get("stream", "stdout")
        if stream not in CONSOLE_STREAMS:
            raise InvalidInput("stream must be stdout or stderr", field=f"lines[{i}].stream")
        ts = item.get("ts")
        if ts is None:
            ts = now().timestamp()
        elif isinstance(ts, bool) or not isinstance(ts, (int, float)):
            raise InvalidInput(
                "ts must be a number (seconds since the epoch)", field=f"lines[{i}].ts"
            )
        try:
            ts = float(ts)
        except OverflowError:
            ts = math.inf
        if not math.isfinite(ts):
            raise InvalidInput(
                "ts must be a finite number (seconds since the epoch)", field=f"lines[{i}].ts"
            )
        ts_col.append(ts)
        streams.append(stream)
        texts.append(item["line"])
    return pa.table(
        {
            "i": pa.array(range(len(texts)), pa.int64()),
            "ts": pa.array(ts_col, pa.float64()),
            "stream": pa.array(streams, pa.string()),
            "line": pa.array(texts, pa.string()),
        }
    )


class Points:
    """Mixin of ``EmbeddedStore``: what runs log."""

    db: Database
    blob_dir: Path

    def _key_ids(self, con: Any, stream: str, names: pa.Array) -> pa.Array:
        """The ids of ``names`` (distinct), in their order, interning the new ones.

        Set-based: one anti-joined INSERT for every new name of the batch and one SELECT of the
        ids, whatever the number of keys.
        """
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
        return ids.combine_chunks().cast(pa.int32())

    def _check_keys_per_run(self, con: Any, pk: int, new: int) -> None:
        # Counted inside the write transaction, so two batches cannot both slip under the limit.
        # (fetchall: a half-read result would block the rollback that follows the refusal.)
        ((held,),) = con.execute("SELECT count(*) FROM run_keys WHERE run_pk = ?", [pk]).fetchall()
        if held + new > LIMITS.max_keys_per_run:
            raise LimitExceeded(
                f"the run holds {held:,} metric keys and the batch brings {new:,} more; a run"
                f" may hold at most {LIMITS.max_keys_per_run:,}",
                field="key",
                limit=LIMITS.max_keys_per_run,
            )

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
        if stream not in STREAMS:
            raise InvalidInput(f"stream must be one of {STREAMS}", field="stream")
        table = conform_points(points)
        pk = self._run_pk(workspace, project, run_id)  # type: ignore[attr-defined]
        pid = self._project_id(workspace, project)  # type: ignore[attr-defined]
        names = pc.unique(table["key"]) if table.num_rows else None
        with self.db.write() as con:
            if batch_id and self.db.one(
                "SELECT 1 FROM batches WHERE run_pk = ? AND batch_id = ?", [pk, batch_id]
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
                con.register("_batch", batch)
                try:
                    # Per key of the batch: its count, steps and last value, beside what the
                    # run held before (NULL for a key new to the run).
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
                    if new:
                        self._check_keys_per_run(con, pk, new)
                    con.execute("INSERT INTO points SELECT * FROM _batch")
                    self._update_tiles(con, pk, lasts)
                finally:
                    con.unregister("_batch")
                con.register("_lasts", lasts)
                try:
                    con.execute(
                        "INSERT INTO run_keys SELECT ?, key_id, n, first_step, last_step, nans"
                        " FROM _lasts ON CONFLICT (run_pk, key_id)"
                        " DO UPDATE SET n = run_keys.n + excluded.n,"
                        " first_step = least(run_keys.first_step, excluded.first_step),"
                        " last_step = greatest(run_keys.last_step, excluded.last_step),"
                        " nans = run_keys.nans + excluded.nans",
                        [pk],
                    )
                finally:
                    con.unregister("_lasts")
                self._update_summary(con, pid, pk, stream, names, id_map, lasts)
            if batch_id:
                con.execute("INSERT INTO batches VALUES (?, ?, ?)", [pk, batch_id, table.num_rows])
        return {"stored": table.num_rows, "duplicate": False}

    def _update_tiles(self, con: Any, pk: int, lasts: pa.Table) -> None:
        # Series that have tiles merge the batch's. A series reaching TILE_FROM points gets
        # them: from the batch when it brings all of the series' points, else built from all
        # its stored points (overwriting tiles an older version kept for short series).
        # Shorter series have none: history samples them from their points.
        before = lasts["prior_n"]
        reach = pc.greater_equal(pc.add(before, lasts["n"]), _tiles.TILE_FROM)
        merge = pc.or_(
            pc.greater_equal(before, _tiles.TILE_FROM), pc.and_(reach, pc.equal(before, 0))
        )
        build = pc.and_(pc.and_(reach, pc.invert(merge)), pc.greater(before, 0))
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
        # A key whose every value in the batch is null keeps its summary value (DuckDB's
        # arg_max skips nulls, so its last value is null only then).
        patch = {k: v for k, v in latest.items() if v is not None}
        if len(patch) <= _SQL_PATCH_KEYS:
            # The usual batch, a few keys: merged in SQL, without parsing a summary of maybe
            # many thousand keys in Python (50 ms a batch at 20,000 keys, against 5 ms).
            con.execute(
                f"UPDATE runs SET {column} = json_merge_patch(coalesce({column}, '{{}}'),"
                " ?::JSON), heartbeat_at = ? WHERE pk = ?",
                [_json.dumps(patch), now(), pk],
            )
        else:
            # DuckDB's merge looks up each key of the patch in turn: quadratic for a wide one.
            ((text,),) = con.execute(f"SELECT {column} FROM runs WHERE pk = ?", [pk]).fetchall()
            current = _json.loads(text) or {}
            current.update(_json.encode(patch))  # the stored values are encoded already
            con.execute(
                f"UPDATE runs SET {column} = ?, heartbeat_at = ? WHERE pk = ?",
                [json.dumps(current, separators=(",", ":")), now(), pk],
            )
        if stream != "default" or not latest:
            return
        # The summary fields the project knows, widened where a key was another type: the
        # known types of these keys in one query, the changed ones in one statement.
        numbers = {k for k, v in latest.items() if v is not None}
        con.register("_latest", pa.table({"key": pa.array(sorted(numbers), pa.string())}))
        try:
            known = dict(
                con.execute(
                    "SELECT f.key, f.type FROM project_fields f SEMI JOIN _latest l"
                    " ON l.key = f.key WHERE f.project_id = ? AND f.kind = 'summary'",
                    [pid],
                ).fetchall()
            )
        finally:
            con.unregister("_latest")
        changed = {}
        for key in numbers:
            merged = _json.merge_type(known.get(key), "number")
            if merged != known.get(key):
                changed[key] = merged
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

    def history(
        self,
        workspace: str,
        project: str,
        run_ids: Sequence[str] | None,
        *,
        keys: Sequence[str] | None = None,
        samples: int | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
        min_x: float | None = None,
        max_x: float | None = None,
        stream: str = "default",
        x_axis: str = "step",
        x_key: str | None = None,
        filters: Mapping[str, Any] | None = None,
        order: str | None = None,
    ) -> pa.Table:
        if stream not in STREAMS:
            raise InvalidInput(f"stream must be one of {STREAMS}", field="stream")
        check_x_range(x_axis, x_key, min_x, max_x)
        if samples is not None and (
            not isinstance(samples, int) or isinstance(samples, bool) or samples < 1
        ):
            raise InvalidInput("samples must be a positive integer", field="samples")
        if samples is not None and samples > MAX_SAMPLES:
            raise LimitExceeded(
                f"samples is at most {MAX_SAMPLES:,}; leave it out for every point",
                field="samples",
                limit=MAX_SAMPLES,
            )
        # Steps are int64: a bound past that range either keeps every step or none.
        for name, value in (("min_step", min_step), ("max_step", max_step)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise InvalidInput(f"{name} must be an integer", field=name)
        empty = (min_step is not None and min_step > _INT64_MAX) or (
            max_step is not None and max_step < _INT64_MIN
        )
        if min_step is not None:
            min_step = max(min_step, _INT64_MIN)
        if max_step is not None:
            max_step = min(max_step, _INT64_MAX)
        pid = self._project_id(workspace, project)  # type: ignore[attr-defined]
        select = "SELECT r.id, r.pk, r.name, epoch(r.created_at) AS started FROM runs r"
        if run_ids is None:
            # The runs a filter picks, in its order: one request for any number of runs.
            where_sql, where_params = compile_filters(filters, alias="r")
            rows = self.db.all(
                f"{select} WHERE r.project_id = ? AND ({where_sql})"
                f" ORDER BY {order_by_sql(parse_order(order, alias='r'))}",
                [pid, *where_params],
            )
        else:
            run_ids = list(dict.fromkeys(run_ids))
            rows = self.db.all(
                f"{select} WHERE r.project_id = ? AND list_contains(?::VARCHAR[], r.id)",
                [pid, run_ids],
            )
            found = {r["id"] for r in rows}
            for rid in run_ids:
                if rid not in found:
                    raise NotFound("run", f"{workspace}/{project}/{rid}")
            rank = {rid: i for i, rid in enumerate(run_ids)}
            rows.sort(key=lambda r: rank[r["id"]])
        pks = {r["id"]: r["pk"] for r in rows}
        if keys is not None and x_axis == "metric" and x_key not in keys:
            keys = [*keys, x_key]  # the rows need their x
        if keys is None:
            key_rows = self.db.all(
                "SELECT DISTINCT m.id, m.name FROM run_keys k JOIN metric_keys m"
                " ON m.id = k.key_id WHERE m.stream = ?"
                " AND list_contains(?::BIGINT[], k.run_pk) ORDER BY m.name",
                [stream, list(pks.values())],
            )
        else:
            key_rows = self.db.all(
                "SELECT id, name FROM metric_keys WHERE stream = ?"
                " AND list_contains(?::VARCHAR[], name) ORDER BY name",
                [stream, list(keys)],
            )
        x_id = next((r["id"] for r in key_rows if r["name"] == x_key), None)
        if empty or not pks or not key_rows or (x_axis == "metric" and x_id is None):
            return _with_runs(HISTORY_SCHEMA, rows).empty_table()
        where = ["list_contains(?::BIGINT[], run_pk)", "list_contains(?::INTEGER[], key_id)"]
        params: list[Any] = [list(pks.values()), [r["id"] for r in key_rows]]
        for cond, value in (("step >= ?", min_step), ("step <= ?", max_step)):
            if value is not None:
                where.append(cond)
                params.append(int(value))
        source, source_params = "points", []
        x = {
            "step": "step::DOUBLE",
            "timestamp": "ts",
            "runtime": "ts - started",
            "metric": "step::DOUBLE",
        }[x_axis]
        bounds = [(">= ?", min_x), ("<= ?", max_x)]
        if x_axis == "runtime":
            # The same start as the answer's `started`, so the client's _runtime is in range.
            source = (
                "points JOIN (SELECT pk AS run_pk, epoch(created_at) AS started FROM runs"
                " WHERE list_contains(?::BIGINT[], pk)) USING (run_pk)"
            )
            source_params = [list(pks.values())]
        if x_axis == "metric":
            # The steps where x_key lies in the range (or was logged at all), per run; every
            # key is read at those steps only. NaN ranks above every number in DuckDB, so a
            # range leaves it out explicitly.
            steps = ["list_contains(?::BIGINT[], run_pk)", f"key_id = {int(x_id)}"]
            source_params = [list(pks.values())]
            if min_x is not None or max_x is not None:
                steps.append("NOT isnan(value)")
            for cond, value in bounds:
                if value is not None:
                    steps.append(f"value {cond}")
                    source_params.append(float(value))
            source = (
                f"points SEMI JOIN (SELECT run_pk, step FROM points"
                f" WHERE {' AND '.join(steps)}) USING (run_pk, step)"
            )
        else:
            for cond, value in bounds:
                if value is not None:
                    where.append(f"{x} {cond}")
                    params.append(float(value))
        parts = []
        cur = self.db.reader()
        ranged = any(v is not None for v in (min_step, max_step, min_x, max_x))
        if samples is not None and samples >= 20 and x_axis == "step" and not ranged:
            series = self.db.all(
                "SELECT run_pk, key_id, n, first_step, last_step, nans FROM run_keys"
                " WHERE list_contains(?::BIGINT[], run_pk) AND list_contains(?::INTEGER[], key_id)",
                params[:2],
            )
            long = [s for s in series if s["n"] > max(samples, _tiles.RAW_LIMIT)]
            if long:
                cur.register("_plan", _tiles.plan(long, samples))
                try:
                    parts.append(cur.sql(_tiles.SAMPLE_SQL).to_arrow_table())
                finally:
                    cur.unregister("_plan")
                short = [s for s in series if s not in long]
                # Only the short series are left for the raw scan.
                where[:2] = [
                    "list_contains(?::BIGINT[], run_pk)",
                    "list_contains(?::INTEGER[], key_id)",
                    "list_contains(?::VARCHAR[], run_pk::VARCHAR || '/' || key_id)",
                ]
                params[:2] = [
                    sorted({s["run_pk"] for s in short}),
                    sorted({s["key_id"] for s in short}),
                    [f"{s['run_pk']}/{s['key_id']}" for s in short],
                ]
                if not short:
                    where = None
        if where is not None:
            base = (
                f"SELECT run_pk, key_id, step, ts, value, {x} AS x FROM {source}"
                f" WHERE {' AND '.join(where)}"
            )
            sampled = sampled_points_sql(
                samples, x="x" if x_axis in ("timestamp", "runtime") else "step"
            )
            if x_axis == "metric" and samples is not None and len(key_rows) > 1:
                # The other keys are sampled; x_key comes at the steps they kept, so that every
                # kept point has its x (sampled on its own, x_key would keep other steps).
                sql = (
                    f"WITH base AS ({base}), selected AS (SELECT * FROM base"
                    f" WHERE key_id <> {int(x_id)}), kept AS ({sampled})"
                    f" SELECT * FROM (SELECT * FROM kept UNION ALL"
                    f" SELECT run_pk, key_id, step, ts, value FROM base"
                    f" SEMI JOIN (SELECT DISTINCT run_pk, step FROM kept) USING (run_pk, step)"
                    f" WHERE key_id = {int(x_id)}) ORDER BY run_pk, key_id, step"
                )
            else:
                sql = f"WITH selected AS ({base}) {sampled}"
            parts.append(cur.sql(sql, params=[*source_params, *params]).to_arrow_table())
        raw = parts[0]
        if len(parts) > 1:
            raw = pa.concat_tables([p.cast(raw.schema) for p in parts]).sort_by(
                [("run_pk", "ascending"), ("key_id", "ascending"), ("step", "ascending")]
            )
        run_pks = pa.array(list(pks.values()), pa.int64())
        key_ids = pa.array([r["id"] for r in key_rows], pa.int32())
        run_index = pc.index_in(raw["run_pk"], value_set=run_pks).combine_chunks()
        return pa.table(
            {
                "run_id": pa.DictionaryArray.from_arrays(
                    run_index, pa.array(list(pks.keys()), pa.string())
                ),
                "key": pa.DictionaryArray.from_arrays(
                    pc.index_in(raw["key_id"].cast(pa.int32()), value_set=key_ids).combine_chunks(),
                    pa.array([r["name"] for r in key_rows], pa.string()),
                ),
                "step": raw["step"],
                "timestamp": raw["ts"],
                "value": raw["value"],
            },
            schema=_with_runs(HISTORY_SCHEMA, rows),
        )

    # -- files ----------------------------------------------------------------------------
    def _blob_path(self, digest: str) -> Path:
        return self.blob_dir / digest[:2] / digest[2:]

    def put_file(
        self, workspace: str, project: str, run_id: str, name: str, content: bytes
    ) -> dict[str, Any]:
        name = check_file_name(name)
        pk = self._run_pk(workspace, project, run_id)  # type: ignore[attr-defined]
        digest = hashlib.sha256(content).hexdigest()
        path = self._blob_path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(content)
            os.replace(tmp, path)  # a reader never sees half a blob
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        with self.db.write() as con:
            con.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                [pk, name, len(content), hashlib.md5(content).hexdigest(), mimetype, digest, now()],
            )
        return self.list_files(workspace, project, run_id, [name])[0]

    def list_files(
        self, workspace: str, project: str, run_id: str, names: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        pk = self._run_pk(workspace, project, run_id)  # type: ignore[attr-defined]
        sql = (
            f"SELECT name, size, md5, mimetype, {iso('updated_at')} AS updated_at, blob"
            " FROM files WHERE run_pk = ?"
        )
        params: list[Any] = [pk]
        if names:
            sql += " AND list_contains(?::VARCHAR[], name)"
            params.append(list(names))
        return self.db.all(sql + " ORDER BY name", params)

    def read_file(
        self, workspace: str, project: str, run_id: str, name: str
    ) -> tuple[dict[str, Any], bytes]:
        found = self.list_files(workspace, project, run_id, [name])
        if not found:
            raise NotFound("file", f"{workspace}/{project}/{run_id}/{name}")
        return found[0], self._blob_path(found[0]["blob"]).read_bytes()

    # -- console --------------------------------------------------------------------------
    def append_console(
        self,
        workspace: str,
        project: str,
        run_id: str,
        lines: Sequence[Mapping[str, Any]],
        *,
        batch_id: str | None = None,
    ) -> dict[str, Any]:
        pk = self._run_pk(workspace, project, run_id)  # type: ignore[attr-defined]
        table = _console_table(lines)
        # Console batch ids share the points' table, in their own namespace.
        key = f"console:{batch_id}" if batch_id else None
        with self.db.write() as con:
            if key and self.db.one(
                "SELECT 1 FROM batches WHERE run_pk = ? AND batch_id = ?", [pk, key]
            ):
                return {"stored": 0, "duplicate": True}
            if table.num_rows:
                con.register("_lines", table)
                try:
                    # One statement for the batch: the lines follow the run's last one.
                    con.execute(
                        "INSERT INTO console SELECT ?, (SELECT coalesce(max(seq), -1) + 1"
                        " FROM console WHERE run_pk = ?) + i, ts, stream, line FROM _lines",
                        [pk, pk],
                    )
                finally:
                    con.unregister("_lines")
            if key:
                con.execute("INSERT INTO batches VALUES (?, ?, ?)", [pk, key, table.num_rows])
        return {"stored": table.num_rows, "duplicate": False}

    def read_console(self, workspace: str, project: str, run_id: str) -> list[dict[str, Any]]:
        pk = self._run_pk(workspace, project, run_id)  # type: ignore[attr-defined]
        return self.db.all(
            "SELECT ts, stream, line FROM console WHERE run_pk = ? ORDER BY seq", [pk]
        )
