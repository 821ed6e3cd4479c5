"""History reads of the PostgreSQL store: the metric points of runs, whole, ranged or sampled.

The points come out of ``point_chunks`` as raw ``bytea`` (one row per chunk of up to 1,024 points,
decoded with ``np.frombuffer`` by ``_copy.decode_chunks``), so a read of a million points is a
thousand rows over the wire, not a million. What the embedded engine does in SQL after that (the
step and x ranges, the metric x axis, sampling) is done here on those numpy arrays, with the same
rule (``sampling.sample_sorted``); long series are sampled from their tiles (``_tiles.sample``).
The answer is the embedded engine's table, column for column.

Speed (``history_1m_pg`` in ``benchmarks/history.py``, this shared 2-core machine, PostgreSQL
15): 1M points of one series read whole in 84-98 ms against the embedded engine's 65-77 ms in
the same runs (1.27-1.28x). With the chunks as ``bigint[]``/``float8[]`` arrays it was 258-506 ms
(2.1-5.2x): PostgreSQL sends an array element by element, which ``bytea`` avoids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from lablens.store.common.projects import Projects
from lablens.store.errors import NotFound
from lablens.store.history_query import HISTORY_SCHEMA, check_history_query, with_runs
from lablens.store.postgres import _tiles
from lablens.store.postgres._arrays import Int8s, with_arrays
from lablens.store.postgres._copy import CHUNK_COLUMNS, decode_chunks
from lablens.store.postgres._db import Database
from lablens.store.postgres._filter_sql import compile_filters
from lablens.store.postgres._ordering import order_by_sql, parse_order
from lablens.store.sampling import sample_sorted
from lablens.store.tiles import RAW_LIMIT, plan

# When a run started, in seconds since the epoch, as the very double DuckDB's epoch() of a
# TIMESTAMPTZ gives (milliseconds / 1e3 + the microseconds left / 1e6, not microseconds / 1e6:
# the two differ in the last bit for about one time in four), so the answers' ``started`` and
# runtime axes are equal to the embedded store's.
_US = "(extract(epoch FROM r.created_at) * 1000000)::bigint"
_STARTED = f"(({_US} / 1000)::float8 / 1e3::float8 + ({_US} %% 1000)::float8 / 1e6::float8)"


def _empty() -> dict[str, np.ndarray]:
    return {
        "run_pk": np.empty(0, np.int64),
        "key_id": np.empty(0, np.int64),
        "step": np.empty(0, np.int64),
        "ts": np.empty(0, np.float64),
        "value": np.empty(0, np.float64),
        "null": np.empty(0, bool),
    }


def _take(points: dict[str, np.ndarray], at: np.ndarray) -> dict[str, np.ndarray]:
    return {c: v[at] for c, v in points.items()}


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}


def _series(points: dict[str, np.ndarray]) -> np.ndarray:
    """A label per point that changes with its run or key (the points are in that order)."""
    rp, kid = points["run_pk"], points["key_id"]
    return np.cumsum(np.r_[False, (rp[1:] != rp[:-1]) | (kid[1:] != kid[:-1])])


def _at_steps(points: dict[str, np.ndarray], runs: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Whether each point's (run, step) is one of the pairs ``runs``/``steps``."""
    hit = np.zeros(len(points["step"]), bool)
    for pk in np.unique(runs):
        mine = points["run_pk"] == pk
        hit[mine] = np.isin(points["step"][mine], steps[runs == pk])
    return hit


class History:
    """Part of ``PostgresStore``: the history of runs, read back."""

    def __init__(self, db: Database, projects: Projects) -> None:
        self.db = db
        self.projects = projects

    def _read_chunks(
        self,
        conn: Any,
        run_pks: list[int],
        key_ids: list[int],
        min_step: int | None,
        max_step: int | None,
        pairs: list[tuple[int, int]] | None = None,
    ) -> dict[str, np.ndarray]:
        """The points of these runs and keys (only ``pairs`` of them when given) that lie in
        the step range, ordered by run, key and step (a step's points in stored order)."""
        where = ["run_pk = ANY(%b)", "key_id = ANY(%b)"]
        params: list[Any] = [Int8s(run_pks), Int8s(key_ids)]
        if pairs is not None:
            where.append("(run_pk, key_id) IN (SELECT * FROM unnest(%b, %b))")
            params += [Int8s([p[0] for p in pairs]), Int8s([p[1] for p in pairs])]
        if min_step is not None:
            where.append("last_step >= %s")
            params.append(min_step)
        if max_step is not None:
            where.append("first_step <= %s")
            params.append(max_step)
        with conn.cursor(binary=True) as cur:
            cur.execute(
                f"SELECT run_pk, key_id, first_step, last_step, {CHUNK_COLUMNS} FROM point_chunks"
                f" WHERE {' AND '.join(where)} ORDER BY run_pk, key_id, id",
                params,
            )
            rows = cur.fetchall()
        if not rows:
            return _empty()
        head = np.array([r[:5] for r in rows], np.int64)  # run_pk, key_id, first, last step, n
        step, ts, value, null = decode_chunks(r[4:] for r in rows)
        points = {
            "run_pk": np.repeat(head[:, 0], head[:, 4]),
            "key_id": np.repeat(head[:, 1], head[:, 4]),
            "step": step,
            "ts": ts,
            "value": value,
            "null": null,
        }
        # A chunk is in step order, and the chunks of one series come in the order they were
        # written: only where a series' chunk starts below the one before it ends (batches
        # logged out of step order) does a stable sort put the points in step order.
        same = (head[1:, 0] == head[:-1, 0]) & (head[1:, 1] == head[:-1, 1])
        if np.any(same & (head[1:, 2] < head[:-1, 3])):
            points = _take(points, np.lexsort((points["step"], _series(points))))
        keep = None
        for bound, op in ((min_step, np.greater_equal), (max_step, np.less_equal)):
            if bound is not None and (
                (op is np.greater_equal and head[:, 2].min() < bound)
                or (op is np.less_equal and head[:, 3].max() > bound)
            ):
                hit = op(points["step"], bound)
                keep = hit if keep is None else keep & hit
        return points if keep is None else _take(points, np.flatnonzero(keep))

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
        select = f"SELECT r.id, r.pk, r.name, {_STARTED} AS started FROM runs r"
        if run_ids is None:
            # The runs a filter picks, in its order: one request for any number of runs.
            where_sql, where_params = compile_filters(filters, alias="r")
            rows = self.db.all(
                f"{select} WHERE r.project_id = %s AND ({where_sql})"
                f" ORDER BY {order_by_sql(parse_order(order, alias='r'))}",
                [pid, *where_params],
            )
        else:
            run_ids = list(dict.fromkeys(run_ids))
            rows = self.db.all(
                f"{select} WHERE r.project_id = %s AND r.id = ANY(%s)", [pid, run_ids]
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
                " ON m.id = k.key_id WHERE m.stream = %s AND k.run_pk = ANY(%s)",
                [stream, list(pks.values())],
            )
        else:
            key_rows = self.db.all(
                "SELECT id, name FROM metric_keys WHERE stream = %s AND name = ANY(%s)",
                [stream, list(keys)],
            )
        # By name as DuckDB orders text (bytes of UTF-8: Python's order of code points).
        key_rows.sort(key=lambda r: r["name"])
        x_id = next((r["id"] for r in key_rows if r["name"] == x_key), None)
        schema = with_runs(HISTORY_SCHEMA, rows)
        if empty or not pks or not key_rows or (x_axis == "metric" and x_id is None):
            return schema.empty_table()
        run_pks = list(pks.values())
        key_ids = [r["id"] for r in key_rows]
        ranged = any(v is not None for v in (min_step, max_step, min_x, max_x))
        parts = []
        with self.db.transaction() as conn:
            with_arrays(conn)
            pairs = None
            if samples is not None and samples >= 20 and x_axis == "step" and not ranged:
                series = [
                    dict(
                        zip(
                            ("run_pk", "key_id", "n", "first_step", "last_step", "nans"),
                            r,
                            strict=True,
                        )
                    )
                    for r in conn.execute(
                        "SELECT run_pk, key_id, n, first_step, last_step, nans FROM run_keys"
                        " WHERE run_pk = ANY(%s) AND key_id = ANY(%s)",
                        [run_pks, key_ids],
                    )
                ]
                long = [s for s in series if s["n"] > max(samples, RAW_LIMIT)]
                if long:
                    sampled = _tiles.sample(conn, plan(long, samples))
                    sampled["null"] = np.zeros(len(sampled["step"]), bool)
                    parts.append(sampled)
                    # Only the short series are left for the raw read.
                    tiled = {(s["run_pk"], s["key_id"]) for s in long}
                    pairs = [
                        (s["run_pk"], s["key_id"])
                        for s in series
                        if (s["run_pk"], s["key_id"]) not in tiled
                    ]
            if pairs is None or pairs:
                points = self._read_chunks(conn, run_pks, key_ids, min_step, max_step, pairs)
                parts.append(
                    self._select(points, rows, samples, x_axis, x_id, min_x, max_x, len(key_rows))
                )
        out = _concat(parts) if len(parts) > 1 else parts[0]
        if len(parts) > 1:
            out = _take(out, np.lexsort((out["step"], out["key_id"], out["run_pk"])))
        return self._table(out, schema, pks, key_rows)

    @staticmethod
    def _select(
        points: dict[str, np.ndarray],
        rows: list[dict[str, Any]],
        samples: int | None,
        x_axis: str,
        x_id: int | None,
        min_x: float | None,
        max_x: float | None,
        nkeys: int,
    ) -> dict[str, np.ndarray]:
        """The points the x range keeps, sampled (the embedded engine's SQL, in numpy)."""
        bounds = [(min_x, np.greater_equal), (max_x, np.less_equal)]
        if x_axis == "metric":
            # The steps where x_key lies in the range (or was logged at all), per run; every
            # key is read at those steps only. NaN is never in a range.
            mine = points["key_id"] == x_id
            if min_x is not None or max_x is not None:
                mine &= ~points["null"] & ~np.isnan(points["value"])
                for bound, op in bounds:
                    if bound is not None:
                        with np.errstate(invalid="ignore"):
                            mine &= op(points["value"], float(bound))
            points = _take(
                points,
                np.flatnonzero(_at_steps(points, points["run_pk"][mine], points["step"][mine])),
            )
            x = None
        else:
            if x_axis == "step":
                x = points["step"] if min_x is None and max_x is None else points["step"] * 1.0
            elif x_axis == "timestamp":
                x = points["ts"]
            else:
                started = {r["pk"]: float(r["started"]) for r in rows}
                pk_arr = np.array(list(started), np.int64)
                sorter = np.argsort(pk_arr)
                at = sorter[np.searchsorted(pk_arr[sorter], points["run_pk"])]
                x = points["ts"] - np.array(list(started.values()))[at]
            keep = None
            for bound, op in bounds:
                if bound is not None:
                    hit = op(x, float(bound))
                    keep = hit if keep is None else keep & hit
            if keep is not None and not keep.all():
                points, x = _take(points, np.flatnonzero(keep)), x[keep]
        if samples is None:
            return points
        by_x = x if x_axis in ("timestamp", "runtime") else None
        if x_axis == "metric" and samples is not None and nkeys > 1:
            # The other keys are sampled; x_key comes at the steps they kept, so that every
            # kept point has its x (sampled on its own, x_key would keep other steps).
            others = np.flatnonzero(points["key_id"] != x_id)
            sel = _take(points, others)
            kept = others[
                sample_sorted(_series(sel), sel["step"], sel["value"], sel["null"], samples)
            ]
            xs = np.flatnonzero(points["key_id"] == x_id)
            at = xs[_at_steps(_take(points, xs), points["run_pk"][kept], points["step"][kept])]
            both = np.concatenate([kept, at])
            points = _take(points, both)
            return _take(points, np.lexsort((points["step"], points["key_id"], points["run_pk"])))
        kept = sample_sorted(
            _series(points), points["step"], points["value"], points["null"], samples, x=by_x
        )
        return _take(points, kept)

    @staticmethod
    def _table(
        out: dict[str, np.ndarray],
        schema: pa.Schema,
        pks: dict[str, int],
        key_rows: list[dict[str, Any]],
    ) -> pa.Table:
        """The answer: run ids and keys as dictionaries, in the embedded engine's schema."""

        def index(values: np.ndarray, labels: list[int]) -> pa.Array:
            if len(labels) == 1:
                return pa.array(np.zeros(len(values), np.int32))
            arr = np.array(labels, np.int64)
            sorter = np.argsort(arr)
            return pa.array(sorter[np.searchsorted(arr[sorter], values)].astype(np.int32))

        null = out["null"]
        return pa.table(
            {
                "run_id": pa.DictionaryArray.from_arrays(
                    index(out["run_pk"], list(pks.values())), pa.array(list(pks), pa.string())
                ),
                "key": pa.DictionaryArray.from_arrays(
                    index(out["key_id"], [r["id"] for r in key_rows]),
                    pa.array([r["name"] for r in key_rows], pa.string()),
                ),
                "step": pa.array(out["step"], pa.int64()),
                "timestamp": pa.array(out["ts"], pa.float64()),
                "value": pa.array(out["value"], pa.float64(), mask=null if null.any() else None),
            },
            schema=schema,
        )
