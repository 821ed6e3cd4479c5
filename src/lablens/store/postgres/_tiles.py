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

from lablens.store.postgres._arrays import Float8s, Int8s
from lablens.store.postgres._db import copy_out
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


# The planned tiles, each with its target bucket (roles a tile lacks as -1 steps, so that every
# field is 8 bytes and never NULL): a binary COPY whose rows numpy reads as one record array.
# (A query's rows would cost a Python object per field; arrays built with array_agg cost a
# sort per column.) COPY takes no bound parameters: psycopg merges the plan's few integers in.
_READ_SQL = (
    "COPY (SELECT t.run_pk, t.key_id::int8, ((t.bucket - p.b0) * p.nb) / p.ntiles, "
    + ", ".join(
        f"coalesce(t.{c}, {'-1' if c in _NUMS else chr(39) + 'NaN' + chr(39)})::"
        + ("int8" if c in _NUMS else "float8")
        for c in TILE_COLUMNS
    )
    + " FROM point_tiles t JOIN unnest(%s::int8[], %s::int8[], %s::int8[], %s::int8[],"
    " %s::int8[], %s::int8[]) AS p(run_pk, key_id, level, b0, ntiles, nb)"
    " ON t.run_pk = p.run_pk AND t.key_id = p.key_id AND t.level = p.level"
    " ORDER BY t.run_pk, t.key_id, t.bucket) TO STDOUT (FORMAT BINARY)"
)
_READ_FIELDS = ("run_pk", "key_id", "tb", *TILE_COLUMNS)
_COLUMNS_OUT = ("run_pk", "key_id", "step", "ts", "value")
_READ_ROW = np.dtype(
    [("count", ">i2")]
    + [
        item
        for c in _READ_FIELDS
        for item in ((f"{c}_len", ">i4"), (c, ">i8" if c in _NUMS | {"run_pk", "tb"} else ">f8"))
    ]
)
# PostgreSQL's binary COPY: an 11-byte signature, flags and header extension (19 bytes in
# all), the rows, then a 2-byte trailer.
_COPY_HEAD, _COPY_TAIL = 19, 2


def sample(conn: Any, plan: pa.Table) -> dict[str, np.ndarray]:
    """The sampled points of the planned series (``tiles.plan``): ``run_pk key_id step ts
    value`` arrays ordered by run, key and step. Each target bucket (consecutive tiles) keeps
    its five roles, each step once."""
    params = [plan[c].to_pylist() for c in ("run_pk", "key_id", "level", "b0", "ntiles", "nb")]
    data = copy_out(conn, _READ_SQL, params)
    rows = (len(data) - _COPY_HEAD - _COPY_TAIL) // _READ_ROW.itemsize
    read = np.frombuffer(data, _READ_ROW, count=rows, offset=_COPY_HEAD)
    tiles = {c: read[c].astype(read.dtype[c].newbyteorder("=")) for c in _READ_FIELDS}
    if not rows:
        return {c: tiles["f_" + c if c in ("step", "ts", "value") else c] for c in _COLUMNS_OUT}
    # Target buckets: runs of tiles of one series and one target bucket.
    rp, kid, tb = tiles["run_pk"], tiles["key_id"], tiles["tb"]
    starts = np.flatnonzero(
        np.r_[True, (rp[1:] != rp[:-1]) | (kid[1:] != kid[:-1]) | (tb[1:] != tb[:-1])]
    )
    roles = _combine(starts, tiles)
    parts: dict[str, list[np.ndarray]] = {
        c: [] for c in ("run_pk", "key_id", "step", "ts", "value")
    }
    for role in (*_ROLES, "nn"):
        has = roles[f"{role}_step"] >= 0
        parts["run_pk"].append(rp[starts][has])
        parts["key_id"].append(kid[starts][has])
        parts["step"].append(roles[f"{role}_step"][has])
        parts["ts"].append(roles[f"{role}_ts"][has])
        parts["value"].append(
            roles[f"{role}_value"][has] if role != "nn" else np.full(int(has.sum()), np.nan)
        )
    out = {c: np.concatenate(v) for c, v in parts.items()}
    # By run, key and step (stable: of the roles at one step, the first listed stays).
    order = np.lexsort((out["step"], out["key_id"], out["run_pk"]))
    out = {c: v[order] for c, v in out.items()}
    rp, kid, step = out["run_pk"], out["key_id"], out["step"]
    once = np.r_[True, (rp[1:] != rp[:-1]) | (kid[1:] != kid[:-1]) | (step[1:] != step[:-1])]
    return {c: v[once] for c, v in out.items()}
