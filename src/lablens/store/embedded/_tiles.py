"""The sampling pyramid: per-bucket summaries of long series, kept up to date on ingest.

Only series of at least ``TILE_FROM`` points have tiles (built when they reach it); shorter
ones are sampled from their points, which is exact and fast at that size.

Sampling 100 runs of 100k steps by scanning 10M points costs seconds on two cores; the same
chart from tiles reads ~1,600 rows per series. Each tile keeps the roles the sampler keeps
(first, last, min, max, first NaN; see ``lablens.store.sampling``), so sampling from tiles keeps
the same guarantees: at most ``samples`` points per series, always its first and last point, its
global minimum and maximum, and a NaN point wherever NaNs were logged. Bucket edges differ from
sampling the raw points (a target bucket is a run of whole tiles), so the two can pick different
interior points.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

BASE = 64  # steps per tile at level 0
LEVELS = 8  # 64 * 4**7 = 1M steps per tile at the top
TILES_PER_BUCKET = 8  # read at most this many tiles per target bucket
# Series with fewer points than this are sampled from the raw points: exact, and fast enough.
RAW_LIMIT = 50_000
# A series gets its tiles once it holds this many points (built then from its points, and kept
# up to date from each batch after): below RAW_LIMIT tiles are never read, and building eight
# tiles for each point of a batch of thousands of new short series was most of its cost.
TILE_FROM = RAW_LIMIT // 2

_ROLE = "{{'step': {p}_step, 'ts': {p}_ts, 'value': {p}_value}}"

_UP_LEVELS_SQL = ", ".join(f"({lvl}, {4**lvl})" for lvl in range(1, LEVELS))

# Summaries of a batch (registered as ``_batch``), one row per key, level and bucket. Level 0
# comes from the points; the levels above from level 0's tiles, which are 64 times fewer.
_TILES_SQL = f"""
WITH t0 AS (
  SELECT b.run_pk, b.key_id, 0::TINYINT AS level, b.step // {BASE} AS bucket, count(*) AS n,
    min(b.step) AS f_step, arg_min(b.ts, b.step) AS f_ts, arg_min(b.value, b.step) AS f_value,
    max(b.step) AS l_step, arg_max(b.ts, b.step) AS l_ts, arg_max(b.value, b.step) AS l_value,
    arg_min(b.step, b.value) FILTER (WHERE NOT isnan(b.value)) AS mn_step,
    arg_min(b.ts, b.value) FILTER (WHERE NOT isnan(b.value)) AS mn_ts,
    min(b.value) FILTER (WHERE NOT isnan(b.value)) AS mn_value,
    arg_max(b.step, b.value) FILTER (WHERE NOT isnan(b.value)) AS mx_step,
    arg_max(b.ts, b.value) FILTER (WHERE NOT isnan(b.value)) AS mx_ts,
    max(b.value) FILTER (WHERE NOT isnan(b.value)) AS mx_value,
    min(b.step) FILTER (WHERE isnan(b.value)) AS nn_step,
    arg_min(b.ts, b.step) FILTER (WHERE isnan(b.value)) AS nn_ts
  FROM {{source}} b WHERE b.value IS NOT NULL
  GROUP BY b.run_pk, b.key_id, b.step // {BASE}
)
SELECT * FROM t0
UNION ALL
SELECT t.run_pk, t.key_id, lv.level::TINYINT, t.bucket // lv.factor, sum(t.n)::BIGINT,
  min(t.f_step), arg_min(t.f_ts, t.f_step), arg_min(t.f_value, t.f_step),
  max(t.l_step), arg_max(t.l_ts, t.l_step), arg_max(t.l_value, t.l_step),
  arg_min(t.mn_step, t.mn_value), arg_min(t.mn_ts, t.mn_value), min(t.mn_value),
  arg_max(t.mx_step, t.mx_value), arg_max(t.mx_ts, t.mx_value), max(t.mx_value),
  min(t.nn_step), arg_min(t.nn_ts, t.nn_step)
FROM t0 t CROSS JOIN (VALUES {_UP_LEVELS_SQL}) lv(level, factor)
GROUP BY t.run_pk, t.key_id, lv.level, t.bucket // lv.factor
"""


def tiles_sql(source: str = "_batch") -> str:
    """The tiles of the points in ``source`` (a relation ``run_pk key_id step ts value``)."""
    return _TILES_SQL.replace("{source}", source)


BATCH_TILES_SQL = tiles_sql()


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


# Merge a batch's tiles into the stored ones: counts add up, each role keeps the better point.
_MERGE_SQL = f"""
INSERT INTO point_tiles {{tiles}}
ON CONFLICT (run_pk, key_id, level, bucket) DO UPDATE SET
  n = point_tiles.n + excluded.n,
  {_pick("f", "excluded.f_step < point_tiles.f_step")},
  {_pick("l", "excluded.l_step >= point_tiles.l_step")},
  {_pick("mn", "point_tiles.mn_value IS NULL OR excluded.mn_value < point_tiles.mn_value")},
  {_pick("mx", "point_tiles.mx_value IS NULL OR excluded.mx_value > point_tiles.mx_value")},
  {_pick("nn", "point_tiles.nn_step IS NULL OR excluded.nn_step < point_tiles.nn_step")}
"""


def merge_sql(source: str = "_batch") -> str:
    """SQL merging the tiles of the points in ``source`` into the stored tiles."""
    return _MERGE_SQL.replace("{tiles}", tiles_sql(source))


MERGE_SQL = merge_sql()


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


# Sampled points of the planned series (registered as ``_plan``): tiles are grouped into ``nb``
# target buckets of consecutive tiles, and each target bucket keeps its five roles.
SAMPLE_SQL = f"""
WITH t AS (
  SELECT t.*, ((t.bucket - p.b0) * p.nb) // p.ntiles AS tb
  FROM point_tiles t JOIN _plan p
    ON t.run_pk = p.run_pk AND t.key_id = p.key_id AND t.level = p.level
),
agg AS (
  SELECT run_pk, key_id,
    arg_min({_ROLE.format(p="f")}, f_step) AS f,
    arg_max({_ROLE.format(p="l")}, l_step) AS l,
    arg_min({_ROLE.format(p="mn")}, mn_value) FILTER (WHERE mn_step IS NOT NULL) AS mn,
    arg_max({_ROLE.format(p="mx")}, mx_value) FILTER (WHERE mx_step IS NOT NULL) AS mx,
    arg_min({{'step': nn_step, 'ts': nn_ts, 'value': 'NaN'::DOUBLE}}, nn_step)
      FILTER (WHERE nn_step IS NOT NULL) AS nn
  FROM t GROUP BY run_pk, key_id, tb
),
roles AS (
  SELECT run_pk, key_id, unnest([f, l, mn, mx, nn]) AS p FROM agg
)
SELECT DISTINCT ON (run_pk, key_id, p.step) run_pk, key_id, p.step AS step, p.ts AS ts,
  p.value AS value
FROM roles WHERE p IS NOT NULL
ORDER BY run_pk, key_id, step
"""
