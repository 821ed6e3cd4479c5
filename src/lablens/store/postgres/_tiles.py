"""The sampling pyramid (``lablens.store.tiles``) for PostgreSQL, packed: ``tile_chunks``.

The embedded store keeps a row per tile; here the tiles of one series at one level are packed
``TILES_PER_CHUNK`` buckets to a row, as fixed 128-byte records (:data:`RECORD`: the bucket, the
count and the five roles, big-endian as PostgreSQL's ``int8send``/``float8send`` write them; a
role a tile lacks has step ``-1`` and NaN time and value). A sampled read of 100 series of 100k
steps plans ~1,560 tiles each; as rows, PostgreSQL spent ~0.45 s sending their 156k rows
field by field, where ~2,500 packed rows are a few ``bytea`` values numpy reads at once.

Tiles are built with numpy from a batch's points (``sampling.group_roles``: a point is a tile of
one) or from a series' stored points. A batch merges its tiles into the stored ones in numpy
(the engines' common rule, ``tiles.MERGE_SET_SQL``, applied pairwise): the chunks it touches
are read, merged and written back, under the run's row lock every batch of the run takes, so
no two batches merge into one chunk at once. A chunk holds at most 64 tiles (8 KB), which
bounds what a small batch rewrites: one chunk per level and key.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from lablens.store.sampling import group_roles
from lablens.store.tiles import BASE, LEVELS

__all__ = [
    "FIELDS",
    "RECORD",
    "TILES_PER_CHUNK",
    "append",
    "as_rows",
    "build",
    "merge",
    "replace",
    "sample",
    "stored",
]

_ROLES = ("f", "l", "mn", "mx")
#: The fields of a tile, beside its run, key and level.
FIELDS = (
    "bucket",
    "n",
    *(f"{r}_{c}" for r in _ROLES for c in ("step", "ts", "value")),
    "nn_step",
    "nn_ts",
)
_INTS = {"bucket", "n"} | {c for c in FIELDS if c.endswith("_step")}
#: One packed tile.
RECORD = np.dtype([(c, ">i8" if c in _INTS else ">f8") for c in FIELDS])
_NATIVE = np.dtype([(c, "i8" if c in _INTS else "f8") for c in FIELDS])
#: Buckets of one level per ``tile_chunks`` row.
TILES_PER_CHUNK = 64

_INSERT_SQL = (
    "INSERT INTO tile_chunks (run_pk, key_id, level, chunk, n, tiles)"
    " SELECT %s, * FROM unnest(%s::int4[], %s::int2[], %s::int8[], %s::int4[], %s::bytea[])"
    " ON CONFLICT (run_pk, key_id, level, chunk) DO UPDATE SET "
)
# Whole chunks replace the stored ones; appended tiles follow them.
_UPSERT_SQL = _INSERT_SQL + "n = excluded.n, tiles = excluded.tiles"
_APPEND_SQL = (
    _INSERT_SQL + "n = tile_chunks.n + excluded.n, tiles = tile_chunks.tiles || excluded.tiles"
)
_TOUCHED_SQL = (
    "SELECT c.key_id, c.level, c.tiles FROM tile_chunks c"
    " JOIN unnest(%s::int4[], %s::int2[], %s::int8[]) AS t(key_id, level, chunk)"
    " ON c.run_pk = %s AND c.key_id = t.key_id AND c.level = t.level AND c.chunk = t.chunk"
)
_READ_SQL = (
    "SELECT p.i, c.tiles FROM tile_chunks c"
    " JOIN unnest(%s::int8[], %s::int4[], %s::int2[], %s::int8[], %s::int8[])"
    " WITH ORDINALITY AS p(run_pk, key_id, level, c0, c1, i)"
    " ON c.run_pk = p.run_pk AND c.key_id = p.key_id AND c.level = p.level"
    " AND c.chunk BETWEEN p.c0 AND p.c1"
    " ORDER BY p.i, c.chunk"
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
    """Every tile (all levels) of these points, ordered by key, then step, NULL values left
    out: one numpy array per field of :data:`FIELDS`, plus ``key_id`` and ``level``."""
    nan = np.isnan(value)
    points = {"n": np.ones(len(step), np.int64)}
    for role in _ROLES:
        points[f"{role}_step"] = step if role in ("f", "l") else np.where(nan, -1, step)
        points[f"{role}_ts"] = ts
        points[f"{role}_value"] = value
    points["nn_step"] = np.where(nan, step, np.int64(-1))
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
    columns = ("key_id", "level", *FIELDS)
    return {c: np.concatenate([p[c] for p in parts]) if parts else np.empty(0) for c in columns}


def _unpack(blobs: list[bytes]) -> np.ndarray:
    """Packed tiles as one native record array."""
    return np.frombuffer(b"".join(blobs), RECORD).astype(_NATIVE)


def _records(tiles: dict, where: np.ndarray | slice = slice(None)) -> np.ndarray:
    out = np.empty(len(tiles["n"][where]), _NATIVE)
    for c in FIELDS:
        out[c] = tiles[c][where]
    return out


def _write(
    conn: Any,
    pk: int,
    key_id: np.ndarray,
    level: np.ndarray,
    rec: np.ndarray,
    *,
    append: bool = False,
) -> None:
    """Upsert the chunks of these tiles (ordered by key, level, bucket): whole chunks, or with
    ``append`` the next tiles of chunks whose stored tiles all come before them."""
    if not len(rec):
        return
    chunk = rec["bucket"] // TILES_PER_CHUNK
    starts = np.flatnonzero(
        np.r_[
            True,
            (key_id[1:] != key_id[:-1]) | (level[1:] != level[:-1]) | (chunk[1:] != chunk[:-1]),
        ]
    )
    ends = np.r_[starts[1:], len(rec)]
    packed = rec.astype(RECORD)
    conn.execute(
        _APPEND_SQL if append else _UPSERT_SQL,
        [
            pk,
            key_id[starts].tolist(),
            level[starts].tolist(),
            chunk[starts].tolist(),
            (ends - starts).tolist(),
            [packed[a:b].tobytes() for a, b in zip(starts.tolist(), ends.tolist(), strict=True)],
        ],
    )


def _sorted(key_id: np.ndarray, level: np.ndarray, rec: np.ndarray) -> tuple:
    order = np.lexsort((rec["bucket"], level, key_id))
    return key_id[order], level[order], rec[order]


def append(conn: Any, pk: int, tiles: dict[str, np.ndarray]) -> None:
    """Add tiles of run ``pk`` (``key_id``, ``level`` and :data:`FIELDS` arrays, ordered by key,
    level and bucket) after the stored ones: the migration's copy of a run's tiles, a bounded
    piece at a time."""
    _write(conn, pk, tiles["key_id"], tiles["level"], _records(tiles), append=True)


def replace(conn: Any, pk: int, key_ids: list[int], tiles: dict) -> None:
    """Replace the tiles of run ``pk``'s series ``key_ids`` by ``tiles`` (from :func:`build`
    over all their points)."""
    conn.execute("DELETE FROM tile_chunks WHERE run_pk = %s AND key_id = ANY(%s)", [pk, key_ids])
    _write(conn, pk, *_sorted(tiles["key_id"], tiles["level"], _records(tiles)))


def _pick(new: np.ndarray, old: np.ndarray, role: str, take: np.ndarray) -> None:
    for col in ("step", "ts", "value") if role != "nn" else ("step", "ts"):
        name = f"{role}_{col}"
        old[name] = np.where(take, new[name], old[name])


def merge(conn: Any, pk: int, tiles: dict) -> None:
    """Merge ``tiles`` (from :func:`build` over a batch's points) into run ``pk``'s stored ones:
    counts add up and each role keeps the better point (``tiles.MERGE_SET_SQL``'s rule)."""
    if not len(tiles["n"]):
        return
    kid, lvl, new = _sorted(tiles["key_id"], tiles["level"], _records(tiles))
    chunk = new["bucket"] // TILES_PER_CHUNK
    first = np.r_[True, (kid[1:] != kid[:-1]) | (lvl[1:] != lvl[:-1]) | (chunk[1:] != chunk[:-1])]
    stored_kid, stored_lvl, blobs = [], [], []
    for key_id, level, data in conn.execute(
        _TOUCHED_SQL, [kid[first].tolist(), lvl[first].tolist(), chunk[first].tolist(), pk]
    ):
        stored_kid.append(np.full(len(data) // RECORD.itemsize, key_id, np.int64))
        stored_lvl.append(np.full(len(data) // RECORD.itemsize, level, np.int64))
        blobs.append(data)
    if blobs:
        old = _unpack(blobs)
        okid, olvl = np.concatenate(stored_kid), np.concatenate(stored_lvl)
        # Stored tiles first, then the batch's: a bucket in both is a pair (stored, new).
        allkid = np.r_[okid, kid]
        alllvl = np.r_[olvl, lvl]
        allrec = np.r_[old, new]
        src = np.r_[np.zeros(len(old), np.int8), np.ones(len(new), np.int8)]
        order = np.lexsort((src, allrec["bucket"], alllvl, allkid))
        kid, lvl, rec = allkid[order], alllvl[order], allrec[order]
        bucket = rec["bucket"]
        same = (kid[1:] == kid[:-1]) & (lvl[1:] == lvl[:-1]) & (bucket[1:] == bucket[:-1])
        at = np.flatnonzero(same)  # rec[at] is stored, rec[at + 1] new
        if len(at):
            o, n = rec[at], rec[at + 1]
            o["n"] = o["n"] + n["n"]
            _pick(n, o, "f", n["f_step"] < o["f_step"])
            _pick(n, o, "l", n["l_step"] >= o["l_step"])
            has_mn, has_mx = n["mn_step"] >= 0, n["mx_step"] >= 0
            _pick(n, o, "mn", has_mn & ((o["mn_step"] < 0) | (n["mn_value"] < o["mn_value"])))
            _pick(n, o, "mx", has_mx & ((o["mx_step"] < 0) | (n["mx_value"] > o["mx_value"])))
            earlier_nan = (n["nn_step"] >= 0) & (n["nn_step"] < o["nn_step"])
            _pick(n, o, "nn", (o["nn_step"] < 0) | earlier_nan)
            rec[at] = o
            keep = np.ones(len(rec), bool)
            keep[at + 1] = False
            kid, lvl, rec = kid[keep], lvl[keep], rec[keep]
        new = rec
    _write(conn, pk, kid, lvl, new)


_OUT = ("run_pk", "key_id", "step", "ts", "value")


def sample(conn: Any, plan: pa.Table) -> dict[str, np.ndarray]:
    """The sampled points of the planned series (``tiles.plan``): ``run_pk key_id step ts
    value`` arrays ordered by run, key and step. Each target bucket (consecutive tiles) keeps
    its five roles, each step once."""
    b0 = plan["b0"].to_numpy()
    ntiles = plan["ntiles"].to_numpy()
    params = [
        plan["run_pk"].to_pylist(),
        plan["key_id"].to_pylist(),
        plan["level"].to_pylist(),
        (b0 // TILES_PER_CHUNK).tolist(),
        ((b0 + ntiles - 1) // TILES_PER_CHUNK).tolist(),
    ]
    with conn.cursor(binary=True) as cur:
        cur.execute(_READ_SQL, params)
        rows = cur.fetchall()
    series = np.array([r[0] - 1 for r in rows], np.int64)
    counts = np.array([len(r[1]) // RECORD.itemsize for r in rows], np.int64)
    tiles = _unpack([r[1] for r in rows])
    # Every tile of a planned series lies in its planned buckets (the plan spans the series'
    # first to last step), so the chunks read hold no other.
    which = np.repeat(series, counts)
    rp = plan["run_pk"].to_numpy().astype(np.int64)[which]
    kid = plan["key_id"].to_numpy().astype(np.int64)[which]
    nb = plan["nb"].to_numpy()[which]
    tb = ((tiles["bucket"] - b0[which]) * nb) // ntiles[which]
    if not len(tiles):
        return {c: np.empty(0, np.float64 if c in ("ts", "value") else np.int64) for c in _OUT}
    entries = {c: tiles[c] for c in FIELDS}
    # Target buckets: runs of tiles of one series and one target bucket.
    starts = np.flatnonzero(
        np.r_[True, (rp[1:] != rp[:-1]) | (kid[1:] != kid[:-1]) | (tb[1:] != tb[:-1])]
    )
    roles = _combine(starts, entries)
    parts: dict[str, list[np.ndarray]] = {c: [] for c in _OUT}
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


_STORED_SQL = (
    "SELECT run_pk, key_id, level, tiles FROM tile_chunks{where}"
    " ORDER BY run_pk, key_id, level, chunk"
)


def stored(conn: Any, run_pks: list[int] | None = None) -> dict[str, np.ndarray]:
    """Every stored tile (of runs ``run_pks``, or all), unpacked: ``run_pk``, ``key_id``,
    ``level`` and :data:`FIELDS`, by run, key, level and bucket."""
    where = " WHERE run_pk = ANY(%s)" if run_pks is not None else ""
    with conn.cursor(binary=True) as cur:
        cur.execute(_STORED_SQL.format(where=where), [run_pks] if run_pks is not None else None)
        rows = cur.fetchall()
    counts = [len(r[3]) // RECORD.itemsize for r in rows]
    tiles = _unpack([r[3] for r in rows])
    out = {
        c: np.repeat(np.array([r[i] for r in rows], np.int64), counts)
        for i, c in enumerate(("run_pk", "key_id", "level"))
    }
    out.update({c: tiles[c] for c in FIELDS})
    return out


def as_rows(tiles: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Tiles as the embedded store's ``point_tiles`` rows: a role a tile lacks is NULL
    (``None``) in its step, time and value."""
    columns = [c for c in ("run_pk", "key_id", "level") if c in tiles] + list(FIELDS)
    lists = {c: tiles[c].tolist() for c in columns}
    rows = []
    for i in range(len(tiles["n"])):
        row = {c: lists[c][i] for c in columns}
        for role in ("mn", "mx", "nn"):
            if row[f"{role}_step"] < 0:
                for c in ("step", "ts", "value"):
                    if f"{role}_{c}" in row:
                        row[f"{role}_{c}"] = None
        rows.append(row)
    return rows
