"""The sampling pyramid (``lablens.store.tiles``) for PostgreSQL: tiles built with numpy from a
batch's points (or a series' stored points), upserted into ``point_tiles`` with ``INSERT ...
ON CONFLICT DO UPDATE``, and read back as sampled points.

PostgreSQL has no ``arg_min``, and the batch is not in a table it could aggregate (its points go
to ``point_chunks`` by binary COPY), so the tiles are computed from the batch's numpy arrays
(``sampling.group_roles``: a point is a tile of one) and sent as one array per column. The
read aggregates the planned tiles of each series into arrays in SQL, and numpy groups them
into target buckets: a few rows over the wire whatever the number of tiles.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from lablens.store.postgres._arrays import Float8s, Int8s, numpy_cursor
from lablens.store.sampling import group_roles
from lablens.store.tiles import BASE, LEVELS, MERGE_SET_SQL

_ROLES = ("f", "l", "mn", "mx")
#: The columns of a tile, beside its run, key, level and bucket.
TILE_COLUMNS = (
    "n",
    *(f"{r}_{c}" for r in _ROLES for c in ("step", "ts", "value")),
    "nn_step",
    "nn_ts",
)
_NUMS = {"n", "level", "bucket", "key_id"} | {c for c in TILE_COLUMNS if c.endswith("_step")}


def _nullable(column: str) -> str:
    # mn, mx and nn travel with -1 as their step where a tile has none (steps are >= 0).
    role = column.split("_")[0]
    if role in ("mn", "mx", "nn"):
        return f"CASE WHEN t.{role}_step >= 0 THEN t.{column} END"
    return f"t.{column}"


_SOURCE_COLUMNS = ("key_id", "level", "bucket", *TILE_COLUMNS)
_INSERT = (
    "INSERT INTO point_tiles (run_pk, key_id, level, bucket, "
    + ", ".join(TILE_COLUMNS)
    + ") SELECT %s, t.key_id, t.level, t.bucket, "
    + ", ".join(_nullable(c) for c in TILE_COLUMNS)
    + " FROM unnest("
    + ", ".join("%b" for _ in _SOURCE_COLUMNS)
    + ") AS t("
    + ", ".join(_SOURCE_COLUMNS)
    + ")"
)
#: Merge tiles into the stored ones (the engines' common rule, ``tiles.MERGE_SET_SQL``).
MERGE_SQL = f"{_INSERT} {MERGE_SET_SQL}"
#: Replace the stored tiles (a series' tiles built from all its points).
REPLACE_SQL = f"{_INSERT} ON CONFLICT (run_pk, key_id, level, bucket) DO UPDATE SET " + ", ".join(
    f"{c} = excluded.{c}" for c in TILE_COLUMNS
)


def _combine(starts: np.ndarray, entries: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The tile of each group of consecutive entries (points or tiles, in step order)."""
    total = len(entries["n"])
    at = group_roles(
        starts,
        total,
        entries["mn_step"] >= 0,
        entries["mn_value"],
        entries["mx_step"] >= 0,
        entries["mx_value"],
        entries["nn_step"] >= 0,
    )
    out = {"n": np.add.reduceat(entries["n"], starts)}
    for role in (*_ROLES, "nn"):
        pos = at[role]
        some = pos >= 0
        take = np.where(some, pos, 0)
        for col in ("step", "ts", "value"):
            name = f"{role}_{col}"
            if name in entries:
                picked = entries[name][take]
                out[name] = np.where(some, picked, -1 if col == "step" else np.nan)
    return out


def build(key_id: np.ndarray, step: np.ndarray, ts: np.ndarray, value: np.ndarray) -> dict:
    """Every tile (all levels) of these points: ordered by key, then step; NULL values left
    out. Returns one numpy array per column of :data:`_SOURCE_COLUMNS`."""
    nan = np.isnan(value)
    none = np.full(len(step), -1, np.int64)
    points = {"n": np.ones(len(step), np.int64)}
    for role in _ROLES:
        points[f"{role}_step"] = step if role in ("f", "l") else np.where(nan, -1, step)
        points[f"{role}_ts"] = ts
        points[f"{role}_value"] = value
    points["nn_step"] = np.where(nan, step, none)
    points["nn_ts"] = ts
    parts = []
    if len(step):
        bucket = step // BASE
        starts = np.flatnonzero(
            np.r_[True, (key_id[1:] != key_id[:-1]) | (bucket[1:] != bucket[:-1])]
        )
        level0 = _combine(starts, points)
        level0.update(key_id=key_id[starts], bucket=bucket[starts])
        level0["level"] = np.zeros(len(starts), np.int64)
        parts.append(level0)
        for level in range(1, LEVELS):
            up = level0["bucket"] // 4**level
            kid = level0["key_id"]
            starts = np.flatnonzero(np.r_[True, (kid[1:] != kid[:-1]) | (up[1:] != up[:-1])])
            tiles = _combine(starts, level0)
            tiles.update(key_id=kid[starts], bucket=up[starts])
            tiles["level"] = np.full(len(starts), level, np.int64)
            parts.append(tiles)
    return {
        c: np.concatenate([p[c] for p in parts]) if parts else np.empty(0) for c in _SOURCE_COLUMNS
    }


def write(conn: Any, sql: str, run_pk: int, tiles: dict) -> None:
    """Upsert ``tiles`` (from :func:`build`) of run ``run_pk`` with ``sql`` (:data:`MERGE_SQL`
    or :data:`REPLACE_SQL`)."""
    if not len(tiles["n"]):
        return
    params = [run_pk] + [
        Int8s(tiles[c]) if c in _NUMS else Float8s(tiles[c]) for c in _SOURCE_COLUMNS
    ]
    conn.execute(sql, params)


# The planned tiles of each series, aggregated into arrays in bucket order (roles a tile lacks
# as -1 steps), with each tile's target bucket.
_READ_SQL = (
    "WITH p AS (SELECT * FROM unnest(%b, %b, %b, %b, %b, %b)"
    " AS p(run_pk, key_id, level, b0, ntiles, nb))"
    " SELECT t.run_pk, t.key_id, array_agg(((t.bucket - p.b0) * p.nb) / p.ntiles"
    " ORDER BY t.bucket) AS tb, "
    + ", ".join(
        f"array_agg(coalesce(t.{c}, {'-1' if c in _NUMS else chr(39) + 'NaN' + chr(39)})"
        f" ORDER BY t.bucket) AS {c}"
        for c in TILE_COLUMNS
    )
    + " FROM point_tiles t JOIN p ON t.run_pk = p.run_pk AND t.key_id = p.key_id"
    " AND t.level = p.level GROUP BY t.run_pk, t.key_id ORDER BY t.run_pk, t.key_id"
)


def sample(conn: Any, plan: pa.Table) -> dict[str, np.ndarray]:
    """The sampled points of the planned series (``tiles.plan``): ``run_pk key_id step ts
    value`` arrays ordered by run, key and step. Each target bucket (consecutive tiles) keeps
    its five roles, each step once."""
    params = [
        Int8s(plan[c].to_numpy()) for c in ("run_pk", "key_id", "level", "b0", "ntiles", "nb")
    ]
    out: dict[str, list[np.ndarray]] = {c: [] for c in ("run_pk", "key_id", "step", "ts", "value")}
    with numpy_cursor(conn) as cur:
        cur.execute(_READ_SQL, params)
        for row in cur:
            run_pk, key_id, tb, *cols = row
            tiles = dict(zip(TILE_COLUMNS, cols, strict=True))
            starts = np.flatnonzero(np.r_[True, tb[1:] != tb[:-1]])
            roles = _combine(starts, tiles)
            steps, ts, values = [], [], []
            for role in (*_ROLES, "nn"):
                has = roles[f"{role}_step"] >= 0
                steps.append(roles[f"{role}_step"][has])
                ts.append(roles[f"{role}_ts"][has])
                values.append(
                    roles[f"{role}_value"][has] if role != "nn" else np.full(has.sum(), np.nan)
                )
            step = np.concatenate(steps)
            order = np.argsort(step, kind="stable")
            step = step[order]
            once = np.r_[True, step[1:] != step[:-1]]
            out["step"].append(step[once])
            out["ts"].append(np.concatenate(ts)[order][once])
            out["value"].append(np.concatenate(values)[order][once])
            out["run_pk"].append(np.full(once.sum(), run_pk, np.int64))
            out["key_id"].append(np.full(once.sum(), key_id, np.int64))
    return {
        c: np.concatenate(v) if v else np.empty(0, np.float64 if c in ("ts", "value") else np.int64)
        for c, v in out.items()
    }
