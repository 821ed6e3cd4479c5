"""The sampling rule (``lablens.store.sampling``) as DuckDB SQL.

:func:`sampled_points_sql` reads a relation named ``selected`` that the caller defines (a CTE with
``run_pk, key_id, step, ts, value`` and ``x DOUBLE``, the x-axis value) and returns SQL for the
kept points: ``run_pk, key_id, step, ts, value`` ordered by ``run_pk, key_id, step``. The text is a
plain ``SELECT``, so it goes right after the CTE: ``f"WITH selected AS (...) {sql}"``.

Ties: the first/last point is unique when steps are, but among equal minimum (or maximum)
values DuckDB's ``arg_min`` keeps one of them, not necessarily the earliest. Breaking the tie by
  step would need a struct comparison per point, which doubled the query time.

Speed: two scans of ``selected`` (one for each series' count and range, one joined to it), then
a single hash aggregation over ``(run_pk, key_id, bucket)`` in which each role carries its whole
point (``arg_min`` of a struct), so nothing is joined back to the points. Measured on this 2-core
machine (shared, so best of 6 at low load), 100 runs x 100,000 steps of one key (10M points) read
from a DuckDB table and sampled to 1,000 points per run (95,316 points out):

- ``selected`` a plain scan of ``points``: 355 ms with ``x="step"`` (690 ms CPU), 420 ms with
  ``x="x"``;
- ``selected`` as the store writes it (``run_pk IN (SELECT unnest(?))`` ...): 435 ms / 490 ms,
  of which some 70 ms per scan is that filter (``list_contains(?, run_pk)`` costs half as much).

That misses the 200 ms hoped for. The aggregation is the bulk (about 35 ns of CPU per point for
five roles with their points, against 8 ns for a bare GROUP BY), and no formulation tried did
better: the plain one (aggregate the steps only, join the kept steps back to the 10M points) took
380 / 505 ms; window functions instead of the join, 2x as long behind the store's filters;
building each point once, or passing ts and value as separate arg_min payloads, the same or
slower; tie-breaking extremes by step (a struct key), 2x. Getting well under 200 ms would need
the store to keep pre-bucketed extremes per run and key, not a better query.
"""

from __future__ import annotations

from lablens.store.sampling import check_samples

__all__ = ["sampled_points_sql"]

_COLUMNS = "run_pk, key_id, step, ts, value"
_POINT = "{'step': step, 'ts': ts, 'value': value}"
# The roles, in the priority used when fewer than five points fit.
_ROLES = ("f", "l", "mn", "mx", "nn")


def sampled_points_sql(samples: int | None, *, x: str = "step") -> str:
    """SQL keeping at most ``samples`` points per series of ``selected``, shape preserved.

    ``x="step"`` buckets on the integer ``step`` column; any other value (e.g. ``"x"``) buckets on
    ``selected.x``. ``samples=None`` keeps every point. Raises ``InvalidInput(field="samples")``
    unless ``samples`` is ``None`` or a positive integer.
    """
    check_samples(samples)
    if samples is None:
        return f"SELECT {_COLUMNS} FROM selected ORDER BY run_pk, key_id, step"
    if not isinstance(x, str) or not x:
        raise ValueError("x names the x axis: 'step' or the selected.x column")
    s = samples
    # Per series: how many points, where its x-range starts and how wide a bucket is. Fewer
    # buckets when the series has a NaN, whose bucket keeps a fifth point.
    buckets = f"CASE WHEN bool_or(isnan(value)) THEN {max(1, s // 5)} ELSE {max(1, s // 4)} END"
    if x == "step":
        # In 128 bits: steps from -2^63 to 2^63 - 1 span more than a BIGINT holds.
        stats = f"min(step) AS lo, (max(step)::HUGEINT - min(step)) // {buckets} + 1 AS width"
        bucket = "((p.step::HUGEINT - st.lo) // st.width)::BIGINT"
        finite = ""
    else:
        stats = f"min(x) AS lo, max(x) AS hi, {buckets} AS nb"
        bucket = (
            "CASE WHEN st.hi > st.lo THEN least(st.nb - 1,"
            " floor((p.x - st.lo) * st.nb / (st.hi - st.lo)))::BIGINT ELSE 0 END"
        )
        finite = " WHERE isfinite(x)"
    # A series that fits keeps every point: one group per step.
    bucket = f"CASE WHEN st.n <= {s} THEN p.step ELSE {bucket} END"
    # An explicit join rather than window functions over the series: DuckDB rewrites such a
    # window into this join only for some inputs (not behind the store's IN filters), and a
    # real window operator took twice as long.
    points = (
        f"SELECT p.run_pk, p.key_id, p.step, p.ts, p.value, {bucket} AS bucket"
        f" FROM (SELECT * FROM selected{finite}) p JOIN (SELECT run_pk, key_id, count(*) AS n,"
        f" {stats} FROM selected{finite} GROUP BY run_pk, key_id) st USING (run_pk, key_id)"
    )
    # The whole point rides along in each arg_min/arg_max, so nothing is joined back. The max is
    # arg_min of -value because NaN (ranked above +inf) then never wins; the NaN role is the
    # first step whose value is NaN.
    aggregate = (
        f"SELECT run_pk, key_id,"
        f" arg_min({_POINT}, step) AS f,"
        f" arg_max({_POINT}, step) AS l,"
        f" arg_min({_POINT}, value) AS mn,"
        f" arg_min({_POINT}, -value) AS mx,"
        f" arg_min({_POINT}, CASE WHEN isnan(value) THEN step END) AS nn"
        f" FROM ({points}) GROUP BY run_pk, key_id, bucket"
    )
    if s >= 5:
        roles = f"[{', '.join(_ROLES)}]"
        return (
            f"SELECT DISTINCT {_COLUMNS} FROM ("
            f"SELECT run_pk, key_id,"
            f" unnest(list_filter({roles}, lambda _p: _p IS NOT NULL), recursive := true)"
            f" FROM ({aggregate})) ORDER BY run_pk, key_id, step"
        )
    # Too few samples for every role (one bucket, up to five points): keep by priority.
    roles = ", ".join(f"struct_insert({r}, prio := {i})" for i, r in enumerate(_ROLES))
    return (
        f"SELECT {_COLUMNS} FROM ("
        f"SELECT {_COLUMNS}, min(prio) AS best FROM ("
        f"SELECT run_pk, key_id,"
        f" unnest(list_filter([{roles}], lambda _p: _p.step IS NOT NULL), recursive := true)"
        f" FROM ({aggregate})) GROUP BY {_COLUMNS})"
        f" QUALIFY row_number() OVER (PARTITION BY run_pk, key_id ORDER BY best, step) <= {s}"
        f" ORDER BY run_pk, key_id, step"
    )
