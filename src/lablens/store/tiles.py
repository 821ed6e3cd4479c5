"""The sampling pyramid as every engine keeps it: its shape, the read plan and the merge rule.

Only series of at least ``TILE_FROM`` points have tiles (built when they reach it); shorter
ones are sampled from their points, which is exact and fast at that size.

Sampling 100 runs of 100k steps by scanning 10M points costs seconds on two cores; the same
chart from tiles reads ~1,600 rows per series. Each tile keeps the roles the sampler keeps
(first, last, min, max, first NaN; see ``lablens.store.sampling``), so sampling from tiles keeps
the same guarantees: at most ``samples`` points per series, always its first and last point, its
global minimum and maximum, and a NaN point wherever NaNs were logged. Bucket edges differ from
sampling the raw points (a target bucket is a run of whole tiles), so the two can pick different
interior points.

Each engine builds tiles in its own way (DuckDB's SQL: ``store/embedded/_tiles.py``; numpy for
PostgreSQL: ``store/postgres/_tiles.py``); the shape, the plan and the merge are the same.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

__all__ = [
    "BASE",
    "LEVELS",
    "RAW_LIMIT",
    "TILES_PER_BUCKET",
    "TILE_FROM",
    "MERGE_SET_SQL",
    "plan",
    "tile_actions",
]

BASE = 64  # steps per tile at level 0
LEVELS = 8  # 64 * 4**7 = 1M steps per tile at the top
TILES_PER_BUCKET = 8  # read at most this many tiles per target bucket
# Series with fewer points than this are sampled from the raw points: exact, and fast enough.
RAW_LIMIT = 50_000
# A series gets its tiles once it holds this many points (built then from its points, and kept
# up to date from each batch after): below RAW_LIMIT tiles are never read, and building eight
# tiles for each point of a batch of thousands of new short series was most of its cost.
TILE_FROM = RAW_LIMIT // 2


def _pick(role: str, better: str) -> str:
    cols = {
        "f": ("step", "ts", "value"),
        "l": ("step", "ts", "value"),
        "mn": ("step", "ts", "value"),
        "mx": ("step", "ts", "value"),
        "nn": ("step", "ts"),
    }
    return ", ".join(
        f"{role}_{c} = CASE WHEN {better} THEN excluded.{role}_{c} ELSE point_tiles.{role}_{c} END"
        for c in cols[role]
    )


#: The merge rule, as the ``ON CONFLICT`` clause merging new tiles into the stored ones: counts
#: add up, each role keeps the better point. DuckDB runs it; the PostgreSQL engine applies the
#: same rule with numpy to its packed tiles (``postgres/_tiles.merge``).
MERGE_SET_SQL = f"""
ON CONFLICT (run_pk, key_id, level, bucket) DO UPDATE SET
  n = point_tiles.n + excluded.n,
  {_pick("f", "excluded.f_step < point_tiles.f_step")},
  {_pick("l", "excluded.l_step >= point_tiles.l_step")},
  {_pick("mn", "point_tiles.mn_value IS NULL OR excluded.mn_value < point_tiles.mn_value")},
  {_pick("mx", "point_tiles.mx_value IS NULL OR excluded.mx_value > point_tiles.mx_value")},
  {_pick("nn", "point_tiles.nn_step IS NULL OR excluded.nn_step < point_tiles.nn_step")}
"""


def tile_actions(prior_n: Any, n: Any) -> tuple[Any, Any]:
    """Which keys of a batch merge its tiles, and which build theirs from all stored points.

    ``prior_n`` is each key's point count before the batch (0 for a key new to the run), ``n``
    the batch's: numpy arrays of the same length; the answer is two boolean arrays.
    Series that have tiles merge the batch's. A series reaching ``TILE_FROM`` points gets them:
    from the batch when it brings all of the series' points (merge), else built from all its
    stored points (build, overwriting tiles an older version kept for short series). Shorter
    series have none: history samples them from their points.
    """
    reach = (prior_n + n) >= TILE_FROM
    merge = (prior_n >= TILE_FROM) | (reach & (prior_n == 0))
    build = reach & ~merge & (prior_n > 0)
    return merge, build


def plan(series: list[dict[str, Any]], samples: int) -> pa.Table:
    """For each long series, the tile level to read and how many target buckets to make.

    ``series`` rows carry ``run_pk key_id n first_step last_step nans``. The level is the finest
    whose tiles number at most ``TILES_PER_BUCKET`` per target bucket.
    """
    rows: dict[str, list[Any]] = {
        k: [] for k in ("run_pk", "key_id", "level", "b0", "ntiles", "nb")
    }
    for s in series:
        nb = max(1, samples // (5 if s["nans"] else 4))
        level = 0
        while level < LEVELS - 1:
            width = BASE * 4**level
            if s["last_step"] // width - s["first_step"] // width + 1 <= TILES_PER_BUCKET * nb:
                break
            level += 1
        width = BASE * 4**level
        b0 = s["first_step"] // width
        ntiles = s["last_step"] // width - b0 + 1
        for key, value in (
            ("run_pk", s["run_pk"]),
            ("key_id", s["key_id"]),
            ("level", level),
            ("b0", b0),
            ("ntiles", ntiles),
            ("nb", min(nb, ntiles)),
        ):
            rows[key].append(value)
    return pa.table(
        {
            "run_pk": pa.array(rows["run_pk"], pa.int64()),
            "key_id": pa.array(rows["key_id"], pa.int32()),
            "level": pa.array(rows["level"], pa.int8()),
            "b0": pa.array(rows["b0"], pa.int64()),
            "ntiles": pa.array(rows["ntiles"], pa.int64()),
            "nb": pa.array(rows["nb"], pa.int64()),
        }
    )
