"""Metric points as runs log them into the PostgreSQL store: interned keys, ``point_chunks``
by binary COPY, tiles, ``run_keys`` and the summary's last values.

Several servers write at once, so what the embedded store gets from its one writer is taken
from PostgreSQL here: every batch of a run first locks the run's row (``FOR NO KEY UPDATE``,
the lock its summary update takes anyway), so batches of one run are written one after the
other, whichever server takes them, while other runs' batches go on in parallel. Under that
lock the batch id is inserted with ``ON CONFLICT DO NOTHING`` in the transaction that copies
the points: a batch retried through another server, even at the same moment, finds the id and
stores nothing, and a batch whose transaction fails leaves no id behind.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc

from lablens.store.common.projects import Projects
from lablens.store.common.runs import REV_BUMP, WIDENED_TYPE
from lablens.store.points import (
    check_keys_per_run,
    check_stream,
    conform_points,
    widened_summary_types,
)
from lablens.store.postgres import _tiles
from lablens.store.postgres._arrays import Int8s, with_arrays
from lablens.store.postgres._copy import CHUNK_COLUMNS, COPY_SQL, chunks_payload, decode_chunks
from lablens.store.postgres._db import Database, now
from lablens.store.postgres._sql import jsonb_dumps
from lablens.store.tiles import tile_actions

log = logging.getLogger("lablens.store")

_KEY_IDS_SQL = (
    "SELECT m.id FROM unnest(%s::text[]) WITH ORDINALITY AS n(name, i)"
    " LEFT JOIN metric_keys m ON m.stream = %s AND m.name = n.name ORDER BY n.i"
)
# New names in their order in the batch, so ids follow first appearance (as in the embedded
# store); a name another server interns meanwhile is skipped by ON CONFLICT.
_INTERN_SQL = (
    "INSERT INTO metric_keys (stream, name) SELECT %s, n.name"
    " FROM unnest(%s::text[]) WITH ORDINALITY AS n(name, i)"
    " WHERE NOT EXISTS (SELECT 1 FROM metric_keys m WHERE m.stream = %s AND m.name = n.name)"
    " ORDER BY n.i ON CONFLICT (stream, name) DO NOTHING"
)
_RUN_KEYS_SQL = (
    "INSERT INTO run_keys (run_pk, key_id, n, first_step, last_step, nans)"
    " SELECT %s, * FROM unnest(%b, %b, %b, %b, %b)"
    " ON CONFLICT (run_pk, key_id) DO UPDATE SET n = run_keys.n + excluded.n,"
    " first_step = least(run_keys.first_step, excluded.first_step),"
    " last_step = greatest(run_keys.last_step, excluded.last_step),"
    " nans = run_keys.nans + excluded.nans"
)
# Reading a series' stored points back, to build its tiles when it reaches TILE_FROM.
_SERIES_CHUNKS_SQL = (
    f"SELECT key_id, {CHUNK_COLUMNS} FROM point_chunks"
    " WHERE run_pk = %s AND key_id = ANY(%s) ORDER BY key_id, id"
)


class Points:
    """Part of ``PostgresStore``: the metric points runs log. ``runs`` is the runs part (its
    ``run_pk``)."""

    def __init__(self, db: Database, runs: Any, projects: Projects) -> None:
        self.db = db
        self.runs = runs
        self.projects = projects

    def _key_ids(self, stream: str, names: list[str]) -> np.ndarray:
        """The ids of ``names`` (distinct), in their order, interning the new ones.

        In a transaction of its own, before the batch's: an interned name is harmless if the
        batch then fails, and no lock on ``metric_keys`` is held while the points are written.
        Two servers interning overlapping new names in different orders can deadlock; the one
        PostgreSQL picks is retried.
        """
        for attempt in range(5):
            try:
                with self.db.transaction() as conn:
                    ids = [r[0] for r in conn.execute(_KEY_IDS_SQL, [names, stream])]
                    if None in ids:
                        conn.execute(_INTERN_SQL, [stream, names, stream])
                        ids = [r[0] for r in conn.execute(_KEY_IDS_SQL, [names, stream])]
                return np.array(ids, np.int64)
            except psycopg.errors.DeadlockDetected:
                if attempt == 4:
                    raise
                log.info("interning metric keys met a deadlock; retrying")
        raise AssertionError("unreachable")

    def _check_keys_per_run(self, conn: Any, pk: int, new: int) -> None:
        # Counted under the run's lock, so two batches cannot both slip under the limit.
        (held,) = conn.execute("SELECT count(*) FROM run_keys WHERE run_pk = %s", [pk]).fetchone()
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
        n = table.num_rows
        if n:
            names = pc.unique(table["key"])
            id_map = self._key_ids(stream, names.to_pylist())
            key_ids = id_map[pc.index_in(table["key"], value_set=names).to_numpy()]
            # The batch by key, then step (stable): the chunks, the tiles and each key's
            # numbers need it.
            order = np.lexsort((table["step"].to_numpy(), key_ids))
            kid = key_ids[order]
            step = table["step"].to_numpy()[order]
            ts = table["timestamp"].to_numpy()[order]
            values = table["value"]
            # Arrow gives a null float as NaN; the null flags tell the two apart.
            value = values.to_numpy()[order]
            null_flags = values.is_null().to_numpy()[order] if values.null_count else None
            payload, _ = chunks_payload(pk, kid, step, ts, value, null_flags)
            nulls = null_flags if null_flags is not None else np.zeros(n, bool)
        with self.db.transaction() as conn:
            with_arrays(conn)
            conn.execute("SELECT 1 FROM runs WHERE pk = %s FOR NO KEY UPDATE", [pk])
            if batch_id:
                stored = conn.execute(
                    "INSERT INTO batches (run_pk, batch_id, n) VALUES (%s, %s, %s)"
                    " ON CONFLICT (run_pk, batch_id) DO NOTHING",
                    [pk, batch_id, n],
                ).rowcount
                if not stored:
                    return {"stored": 0, "duplicate": True}
            if n:
                stats = self._key_stats(kid, step, value, nulls)
                prior = dict.fromkeys(stats["key_id"].tolist())
                for key, last_step, count in conn.execute(
                    "SELECT key_id, last_step, n FROM run_keys WHERE run_pk = %s"
                    " AND key_id = ANY(%b)",
                    [pk, Int8s(stats["key_id"])],
                ):
                    prior[key] = (last_step, count)
                known = np.array([p is not None for p in prior.values()], bool)
                prior_step = np.array([p[0] if p else -1 for p in prior.values()], np.int64)
                prior_n = np.array([p[1] if p else 0 for p in prior.values()], np.int64)
                if new := int((~known).sum()):
                    self._check_keys_per_run(conn, pk, new)
                with conn.cursor().copy(COPY_SQL) as copy:
                    copy.write(payload)
                self._update_tiles(conn, pk, stats, prior_n, kid, step, ts, value, nulls)
                conn.execute(
                    _RUN_KEYS_SQL,
                    [pk, *(Int8s(stats[c]) for c in ("key_id", "n", "first", "last", "nans"))],
                )
                # A key's summary value is its point at the largest step logged so far; a
                # batch that logs below it (a backfill) leaves it alone.
                keep = ~known | (stats["last"] >= prior_step)
                self._update_summary(conn, pid, pk, stream, names, id_map, stats, keep)
        return {"stored": n, "duplicate": False}

    @staticmethod
    def _key_stats(
        kid: np.ndarray, step: np.ndarray, value: np.ndarray, nulls: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Per key of the sorted batch: its count, first and last step, NaNs and last value
        (the non-null value at its largest step; NaN-free ``has_last`` says whether any)."""
        total = len(kid)
        starts = np.flatnonzero(np.r_[True, kid[1:] != kid[:-1]])
        ends = np.r_[starts[1:], total]
        gid = np.repeat(np.arange(len(starts)), ends - starts)
        nans = np.isnan(value) & ~nulls
        # The last non-null point of each key (the batch is in step order within a key).
        at = np.flatnonzero(~nulls)
        last = np.full(len(starts), -1, np.int64)
        if len(at):
            g = gid[at]
            tail = np.r_[g[1:] != g[:-1], True]
            last[g[tail]] = at[tail]
        return {
            "key_id": kid[starts],
            "n": ends - starts,
            "first": step[starts],
            "last": step[ends - 1],
            "nans": np.add.reduceat(nans.astype(np.int64), starts),
            "last_value": np.where(last >= 0, value[np.maximum(last, 0)], np.nan),
            "has_last": last >= 0,
        }

    def _update_tiles(
        self,
        conn: Any,
        pk: int,
        stats: dict[str, np.ndarray],
        prior_n: np.ndarray,
        kid: np.ndarray,
        step: np.ndarray,
        ts: np.ndarray,
        value: np.ndarray,
        nulls: np.ndarray,
    ) -> None:
        merge, build = tile_actions(prior_n, stats["n"])
        if merge.any():
            mine = np.isin(kid, stats["key_id"][merge]) & ~nulls
            _tiles.merge(conn, pk, _tiles.build(kid[mine], step[mine], ts[mine], value[mine]))
        if build.any():
            # The series' stored points, this batch's included (copied above).
            with conn.cursor(binary=True) as cur:
                cur.execute(_SERIES_CHUNKS_SQL, [pk, stats["key_id"][build].tolist()])
                rows = cur.fetchall()
            k = np.repeat(np.array([r[0] for r in rows], np.int64), [r[1] for r in rows])
            s, t, v, null = decode_chunks(r[1:] for r in rows)
            keep = ~null
            k, s, t, v = k[keep], s[keep], t[keep], v[keep]
            order = np.lexsort((s, k))
            tiles = _tiles.build(k[order], s[order], t[order], v[order])
            _tiles.replace(conn, pk, stats["key_id"][build].tolist(), tiles)

    def _update_summary(
        self,
        conn: Any,
        pid: int,
        pk: int,
        stream: str,
        names: pa.Array,
        id_map: np.ndarray,
        stats: dict[str, np.ndarray],
        keep: np.ndarray,
    ) -> None:
        name_of = dict(zip(id_map.tolist(), names.to_pylist(), strict=True))
        latest = {
            name_of[k]: (v if has else None)
            for k, v, has in zip(
                stats["key_id"][keep].tolist(),
                stats["last_value"][keep].tolist(),
                stats["has_last"][keep].tolist(),
                strict=True,
            )
        }
        column = "summary" if stream == "default" else "system_metrics"
        # A key whose every value in the batch is null keeps its summary value. The summary
        # is flat, so jsonb's top-level merge (||) is the embedded store's merge patch.
        patch = {k: v for k, v in latest.items() if v is not None}
        bump = f", {REV_BUMP}" if column == "summary" else ""  # as the embedded store
        conn.execute(
            f"UPDATE runs SET {column} = coalesce({column}, '{{}}'::jsonb) || %s::jsonb,"
            f" heartbeat_at = %s{bump} WHERE pk = %s",
            [jsonb_dumps(patch), now(), pk],
        )
        if stream != "default" or not patch:
            return
        # The summary fields the project knows, widened where a key was another type.
        numbers = sorted(patch)
        known = dict(
            conn.execute(
                "SELECT key, type FROM project_fields WHERE project_id = %s"
                " AND kind = 'summary' AND key = ANY(%s)",
                [pid, numbers],
            ).fetchall()
        )
        changed = widened_summary_types(known, numbers)
        if changed:
            conn.execute(
                "INSERT INTO project_fields AS f (project_id, kind, key, type)"
                " SELECT %s, 'summary', * FROM unnest(%s::text[], %s::text[])"
                # Another server may have widened the type since it was read: widen again.
                f" ON CONFLICT (project_id, kind, key) DO UPDATE SET type = {WIDENED_TYPE}",
                [pid, list(changed), list(changed.values())],
            )
