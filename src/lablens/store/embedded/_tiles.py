"""The sampling pyramid (``lablens.store.tiles``) in DuckDB SQL: tiles built from a batch's
points, merged into the stored ones, and read back as sampled points."""

from __future__ import annotations

from lablens.store.tiles import (  # noqa: F401  (re-exported for the embedded parts)
    BASE,
    LEVELS,
    MERGE_SET_SQL,
    RAW_LIMIT,
    TILE_FROM,
    TILES_PER_BUCKET,
    plan,
)

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


# Merge a batch's tiles into the stored ones: counts add up, each role keeps the better point.
_MERGE_SQL = f"INSERT INTO point_tiles {{tiles}} {MERGE_SET_SQL}"


def merge_sql(source: str = "_batch") -> str:
    """SQL merging the tiles of the points in ``source`` into the stored tiles."""
    return _MERGE_SQL.replace("{tiles}", tiles_sql(source))


MERGE_SQL = merge_sql()


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
