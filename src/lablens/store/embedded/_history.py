"""History reads of the embedded store: the metric points of runs, whole, ranged or sampled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lablens.store.common.projects import Projects
from lablens.store.embedded import _tiles
from lablens.store.embedded._db import Database
from lablens.store.embedded._filter_sql import compile_filters
from lablens.store.embedded._order_sql import order_by_sql, parse_order
from lablens.store.embedded._sampling_sql import sampled_points_sql
from lablens.store.errors import NotFound
from lablens.store.history_query import HISTORY_SCHEMA, check_history_query, with_runs
from lablens.store.sampling import sample_sorted

_COLUMNS = "run_pk, key_id, step, ts, value"
_ORDER = "run_pk, key_id, step"
# Sampled reads of short series (no tiles) of at most this many points in all are read whole
# and sampled in numpy: twice as fast as DuckDB's aggregation of each bucket's five points
# (whose struct payloads cost ~35 ns a point), but held in memory for the read: ~36 bytes a
# point and the sampler's arrays, so ~250 MB at this bound. Larger reads stream through the
# SQL aggregation instead.
_NUMPY_SAMPLING_POINTS = 4_000_000


def _series_labels(table: pa.Table) -> np.ndarray | None:
    """Per point, a number that rises with (run, key): ``None`` when the table is one series
    (read without its run and key, or with one of each)."""
    if "run_pk" not in table.column_names:
        return None
    run, key = table.column("run_pk"), table.column("key_id")
    if _constant(run) and _constant(key):
        return None
    r = run.to_numpy()
    if r.min() < 0 or r.max() >= 2**31:
        # Run pks past 31 bits (a key id is an INTEGER): their ranks rise with them.
        r = np.unique(r, return_inverse=True)[1].astype(np.int64)
    labels = r << 32
    labels |= key.to_numpy().astype(np.int64)
    return labels


def _in_series_order(table: pa.Table, labels: np.ndarray | None) -> bool:
    """Whether the points are ordered by run, key and step (each series whole, steps rising),
    as they are stored when each batch of a run is logged after the one before. ``labels``
    are :func:`_series_labels`."""
    if table.num_rows < 2:
        return True
    step = table.column("step").to_numpy()
    rising = step[1:] >= step[:-1]
    if labels is None:
        return bool(rising.all())
    if not (labels[1:] >= labels[:-1]).all():
        return False
    rising |= labels[1:] != labels[:-1]
    return bool(rising.all())


def _sampled(part: pa.Table, labels: np.ndarray | None, samples: int) -> pa.Table:
    """The points of ``part`` (whole series in series order) that the sampling rule keeps."""
    step = part.column("step").to_numpy()
    if labels is None:
        labels = np.zeros(len(step), np.int64)
    value = part.column("value")
    nulls = value.is_null().to_numpy(zero_copy_only=False) if value.null_count else None
    values = value.to_numpy(zero_copy_only=False)
    return part.take(sample_sorted(labels, step, values, nulls, samples))


def _constant(col: pa.ChunkedArray) -> bool:
    bounds = pc.min_max(col)
    return bounds["min"] == bounds["max"]


def _codes(raw: pa.Table, column: str, value_set: pa.Array) -> pa.Array:
    """The dictionary indices (int32) of ``raw[column]`` in ``value_set``: all zeros, without a
    hash lookup per point (or the column at all), when there is one value."""
    if len(value_set) == 1:
        return pa.array(np.zeros(raw.num_rows, np.int32))
    ids = raw.column(column)
    if ids.type != value_set.type:
        ids = ids.cast(value_set.type)
    return pc.index_in(ids, value_set=value_set).combine_chunks()


class History:
    """Part of ``EmbeddedStore``: the history of runs, read back."""

    def __init__(self, db: Database, projects: Projects) -> None:
        self.db = db
        self.projects = projects

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
        min_step, max_step, empty = check_history_query(
            stream=stream,
            samples=samples,
            min_step=min_step,
            max_step=max_step,
            x_axis=x_axis,
            x_key=x_key,
            min_x=min_x,
            max_x=max_x,
        )
        pid = self.projects.project_id(workspace, project)
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
            return with_runs(HISTORY_SCHEMA, rows).empty_table()
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
        sample_in_numpy = False
        if samples is not None and samples >= 20 and x_axis == "step" and not ranged:
            series = self.db.all(
                "SELECT run_pk, key_id, n, first_step, last_step, nans FROM run_keys"
                " WHERE list_contains(?::BIGINT[], run_pk) AND list_contains(?::INTEGER[], key_id)",
                params[:2],
            )
            long = [s for s in series if s["n"] > max(samples, _tiles.RAW_LIMIT)]
            sample_in_numpy = sum(s["n"] for s in series if s not in long) <= _NUMPY_SAMPLING_POINTS
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
            # One run or one key: an equality, which DuckDB prunes row groups by (their min/max
            # of run_pk), where a list lookup reads every row group of the table.
            single = True
            for i, (column, cast) in enumerate((("run_pk", "BIGINT"), ("key_id", "INTEGER"))):
                if where[i] == f"list_contains(?::{cast}[], {column})" and len(params[i]) == 1:
                    where[i], params[i] = f"{column} = ?", params[i][0]
                else:
                    single = False
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
            elif samples is None or sample_in_numpy:
                # Every point: read as stored, sorted only when they are not in series order
                # already (a sort of 1M points is three quarters of reading them). One series
                # needs no run and key per point (all its codes are 0).
                columns = "step, ts, value" if single and not parts else _COLUMNS
                sql = f"WITH selected AS ({base}) SELECT {columns} FROM selected"
            else:
                sql = f"WITH selected AS ({base}) {sampled}"
            part = cur.sql(sql, params=[*source_params, *params]).to_arrow_table()
            whole = samples is None or sample_in_numpy
            if whole:
                # The values once in one piece here: checked in place, then sent as they are.
                for name in ("step", "ts", "value"):
                    i = part.schema.get_field_index(name)
                    part = part.set_column(i, name, part.column(i).combine_chunks())
            labels = _series_labels(part) if whole else None
            if whole and not _in_series_order(part, labels):
                cur.register("_unsorted", part)
                try:
                    order = "step" if single else _ORDER
                    part = cur.sql(f"SELECT * FROM _unsorted ORDER BY {order}").to_arrow_table()
                finally:
                    cur.unregister("_unsorted")
                if sample_in_numpy:
                    part = part.combine_chunks()
                    labels = _series_labels(part)
            if sample_in_numpy:
                part = _sampled(part, labels, samples)
            parts.append(part)
        raw = parts[0]
        if len(parts) > 1:
            raw = pa.concat_tables([p.cast(raw.schema) for p in parts]).sort_by(
                [("run_pk", "ascending"), ("key_id", "ascending"), ("step", "ascending")]
            )
        run_pks = pa.array(list(pks.values()), pa.int64())
        key_ids = pa.array([r["id"] for r in key_rows], pa.int32())
        # One batch: DuckDB's chunks would reach the client as batches that it must combine
        # (and unify the dictionaries of) before pivoting, which costs it more than this does.
        table = pa.table(
            {
                "run_id": pa.DictionaryArray.from_arrays(
                    _codes(raw, "run_pk", run_pks), pa.array(list(pks.keys()), pa.string())
                ),
                "key": pa.DictionaryArray.from_arrays(
                    _codes(raw, "key_id", key_ids),
                    pa.array([r["name"] for r in key_rows], pa.string()),
                ),
                "step": raw["step"],
                "timestamp": raw["ts"],
                "value": raw["value"],
            },
            schema=with_runs(HISTORY_SCHEMA, rows),
        )
        return table.combine_chunks()
