"""Downsampling metric series so that charts keep their shape (M4 per x-bucket).

The rule is the same for every engine; each engine writes it in its SQL (DuckDB's:
``lablens.store.embedded._sampling_sql``). :func:`sample_numpy` is the rule in numpy, the
reference the tests hold each engine's SQL against, and :func:`check_samples` the check of the
argument.

What is kept, per series (``run_pk, key_id``), with ``S = samples``:

- ``S`` is ``None``, or the series has at most ``S`` points: every point.
- Otherwise the x-range is cut into ``B`` equal-width buckets, ``B = max(1, S // 4)``, or
  ``max(1, S // 5)`` when the series holds a NaN. Each bucket keeps its first and last point (by
  step), the point with the smallest and the one with the largest value, and its first NaN point;
  points that play several roles are kept once. So a series has at most ``S`` points (for
  ``S >= 5``), and always its first and last point and its global minimum and maximum.
- NaN is a value: NaN points never count as a minimum or maximum (SQL engines may rank NaN above
  +inf and hide the real maximum), but each bucket that has one keeps its first NaN point, so a
  divergence shows. That fifth role is why a series with NaN gets ``S // 5`` buckets.
  +inf and -inf are ordinary extremes. A NULL value is never an extreme, only a first or last.
- With ``S < 5`` not every role fits; points are kept in the priority first, last, minimum,
  maximum, NaN (then by step) up to ``S``.
- Ties: among equal minimum (or maximum) values an engine may keep any one of them;
  :func:`sample_numpy` keeps the earliest.

Buckets: with ``x="step"`` they are cut on the integer step: width ``w = (max - min) // B + 1``,
bucket ``(step - min) // w``, so every bucket spans exactly ``w`` steps (there may be fewer than
``B`` of them) and nothing can overflow. With any other ``x`` (the caller put the x-axis value in
``selected.x``: a timestamp, a float step) the bucket is ``least(B - 1, floor((x - min) * B /
(max - min)))``, and rows whose ``x`` is NULL, NaN or infinite are left out: they have no place on
the axis. Steps are taken to be unique within a series; a series that fits is grouped by step.
"""

from __future__ import annotations

import numpy as np

from lablens.store.errors import InvalidInput

__all__ = ["check_samples", "group_roles", "sample_numpy", "sample_sorted"]


def check_samples(samples: int | None) -> None:
    """Raise ``InvalidInput(field="samples")`` unless ``samples`` is ``None`` or a positive
    integer."""
    if samples is not None and (
        not isinstance(samples, int) or isinstance(samples, bool) or samples < 1
    ):
        raise InvalidInput("samples must be a positive integer", field="samples")


def sample_numpy(
    steps: np.ndarray, values: np.ndarray, samples: int | None, *, x: np.ndarray | None = None
) -> np.ndarray:
    """The indices of the points the sampling rule keeps from one series, by step.

    The reference implementation for tests: ``steps`` are unique integers in any order,
    ``values`` floats (NaN and +/-inf allowed); with ``x`` given it buckets on ``x`` instead of
    the step. Among equal extremes it keeps the earliest point.
    """
    steps = np.asarray(steps, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    idx = np.argsort(steps, kind="stable")
    if x is not None:
        xs = np.asarray(x, dtype=np.float64)
        idx = idx[np.isfinite(xs[idx])]
    n = len(idx)
    if samples is None or n <= samples:
        return idx
    v = values[idx]
    nan = np.isnan(v)
    nb = max(1, samples // 5) if nan.any() else max(1, samples // 4)
    if x is None:
        s = steps[idx]
        width = (int(s[-1]) - int(s[0])) // nb + 1
        bucket = (s - s[0]) // width
    else:
        xv = xs[idx]
        lo, hi = xv.min(), xv.max()
        if hi > lo:
            bucket = np.minimum(nb - 1, np.floor((xv - lo) * nb / (hi - lo))).astype(np.int64)
        else:
            bucket = np.zeros(n, dtype=np.int64)
    prio: dict[int, int] = {}  # position (in step order) -> best role priority
    for b in np.unique(bucket):
        pos = np.flatnonzero(bucket == b)  # in step order
        roles = [pos[0], pos[-1]]
        numbers = pos[~nan[pos]]
        if len(numbers):
            roles.append(numbers[np.argmin(v[numbers])])
            roles.append(numbers[np.argmax(v[numbers])])
        else:
            # All NaN: DuckDB's arg_min(value) and arg_min(-value) then land on a NaN point.
            roles += [pos[0], pos[0]]
        nans = pos[nan[pos]]
        if len(nans):
            roles.append(nans[0])
        for p, role in enumerate(roles):
            prio[int(role)] = min(prio.get(int(role), p), p)
    kept = sorted(prio, key=lambda p: (prio[p], p))
    if samples < 5:
        kept = kept[:samples]
    return idx[np.sort(np.array(kept, dtype=np.int64))]


def _first_in_group(cand: np.ndarray, starts: np.ndarray, groups: int) -> np.ndarray:
    """Per group (starting at ``starts``), the first position where ``cand`` holds (``-1``
    where none does)."""
    out = np.full(groups, -1, np.int64)
    at = np.flatnonzero(cand)
    if len(at):
        # The candidates are few: finding their groups beats a group number for every entry.
        g = np.searchsorted(starts, at, side="right") - 1
        first = np.r_[True, g[1:] != g[:-1]]
        out[g[first]] = at[first]
    return out


def group_roles(
    starts: np.ndarray,
    total: int,
    mn_ok: np.ndarray | None,
    mn_value: np.ndarray,
    mx_ok: np.ndarray | None,
    mx_value: np.ndarray,
    nn_ok: np.ndarray | None,
) -> dict[str, np.ndarray]:
    """The sampler's five roles in each group of consecutive entries, all groups at once.

    Groups start at ``starts`` (of ``total`` entries), their entries in step order. Per group:
    ``f`` and ``l`` its first and last entry, ``mn`` (``mx``) the first entry with the smallest
    (largest) ``mn_value`` (``mx_value``) among those where ``mn_ok`` (``mx_ok``) holds, ``nn``
    the first entry where ``nn_ok`` holds; each a position, ``-1`` where no entry qualifies.
    An ``ok`` of ``None`` holds for every entry (``nn_ok``: for none), which spares a pass.
    Entries are points (a tile of one) or tiles, so this both builds tiles and samples.
    """
    groups = len(starts)
    sizes = np.diff(np.r_[starts, total])
    out = {"f": starts.astype(np.int64), "l": np.r_[starts[1:], total].astype(np.int64) - 1}
    for role, ok, value, reduce, fill in (
        ("mn", mn_ok, mn_value, np.minimum, np.inf),
        ("mx", mx_ok, mx_value, np.maximum, -np.inf),
    ):
        masked = value if ok is None else np.where(ok, value, fill)
        best = reduce.reduceat(masked, starts) if total else masked
        cand = masked == np.repeat(best, sizes)
        if ok is not None:
            cand &= ok
        out[role] = _first_in_group(cand, starts, groups)
    if nn_ok is None:
        out["nn"] = np.full(groups, -1, np.int64)
    else:
        out["nn"] = _first_in_group(nn_ok, starts, groups)
    return out


def sample_sorted(
    series: np.ndarray,
    steps: np.ndarray,
    values: np.ndarray,
    nulls: np.ndarray | None,
    samples: int | None,
    *,
    x: np.ndarray | None = None,
) -> np.ndarray:
    """The positions of the points the sampling rule keeps, for many series at once (numpy).

    The points are ordered by series (``series``, any integer labels, non-decreasing) and by
    step within a series; ``nulls`` marks NULL values (``None``: none). With ``x`` it buckets on
    ``x`` (points whose ``x`` is not finite are left out), else on the step. Returns increasing
    positions. The rule is the one this module's docstring states and that each SQL engine
    writes; where they may keep any of equal extremes, this keeps the earliest.
    """
    check_samples(samples)
    if x is None:
        # Every point has its place on the step axis: the arrays as given, no copies.
        base = np.arange(len(steps))
        sid, step, value, null = series, steps, values, nulls
    else:
        base = np.flatnonzero(np.isfinite(x))
        sid, step, value = series[base], steps[base], values[base]
        null = None if nulls is None else nulls[base]
    if samples is None or not len(base):
        return base
    total = len(base)
    sstarts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]])
    counts = np.diff(np.r_[sstarts, total])
    # Per-series figures are spread to their points by np.repeat, which is cheaper than
    # gathering them by a series number per point.
    ser = None if x is None else np.repeat(np.arange(len(sstarts)), counts)
    nan = np.isnan(value)
    if null is not None:
        nan &= ~null
    any_nan = bool(nan.any())
    has_nan = np.add.reduceat(nan, sstarts) > 0 if any_nan else np.zeros(len(sstarts), bool)
    s = samples
    nb = np.where(has_nan, max(1, s // 5), max(1, s // 4))
    if x is None:
        lo = step[sstarts]
        width = (step[np.r_[sstarts[1:], total] - 1] - lo) // nb + 1
        bucket = (step - np.repeat(lo, counts)) // np.repeat(width, counts)
    else:
        xv = x[base]
        lo = np.minimum.reduceat(xv, sstarts)
        span = np.maximum.reduceat(xv, sstarts) - lo
        with np.errstate(divide="ignore", invalid="ignore"):
            cut = np.floor((xv - lo[ser]) * nb[ser] / span[ser])
        bucket = np.where(span[ser] > 0, np.minimum(nb[ser] - 1, np.nan_to_num(cut)), 0).astype(
            np.int64
        )
    # A series that fits keeps every point: one group per step.
    fits = counts <= s
    if fits.any():
        bucket = np.where(np.repeat(fits, counts), step, bucket)
    # On the step axis the points are in bucket order already: no reordering copies.
    order = None if x is None else np.lexsort((step, bucket, ser))
    o_bucket, o_nan, o_value, o_null = (
        (bucket, nan, value, null)
        if order is None
        else (bucket[order], nan[order], value[order], None if null is None else null[order])
    )
    change = o_bucket[1:] != o_bucket[:-1]
    # A new series starts a new group even where its first bucket number equals the last one's
    # (series are contiguous in both orders).
    change[sstarts[1:] - 1] = True
    gstarts = np.flatnonzero(np.r_[True, change])
    if not any_nan and o_null is None:
        roles = group_roles(gstarts, total, None, o_value, None, o_value, None)
    else:
        number = ~o_nan if o_null is None else ~o_nan & ~o_null
        roles = group_roles(gstarts, total, number, o_value, number, o_value, o_nan)
    # A bucket of NaNs only: its extremes are a NaN point (SQL ranks NaN above every number).
    for role in ("mn", "mx"):
        roles[role] = np.where(roles[role] < 0, roles["nn"], roles[role])
    picked = [roles[r] for r in ("f", "l", "mn", "mx", "nn")]
    if s >= 5:
        # A mask, not np.unique: a hash unique of the few kept positions cost more than all
        # the rest of the sampling of millions of points.
        keep = np.zeros(total, bool)
        for p in picked:
            keep[p[p >= 0]] = True
        kept = np.flatnonzero(keep)
        return base[kept] if order is None else np.sort(base[order[kept]])
    if order is None:
        order = np.arange(total)
        ser = np.repeat(np.arange(len(sstarts)), counts)
    # Too few samples for every role (one bucket, up to five points): keep by priority.
    pos = np.concatenate(picked)
    prio = np.repeat(np.arange(5), [len(p) for p in picked])
    pos, prio = pos[pos >= 0], prio[pos >= 0]
    first = np.lexsort((prio, pos))
    pos, prio = pos[first], prio[first]
    best = np.r_[True, pos[1:] != pos[:-1]]
    pos, prio = pos[best], prio[best]
    orig = order[pos]
    rank_order = np.lexsort((step[orig], prio, ser[orig]))
    pos_ser = ser[orig][rank_order]
    starts_r = np.flatnonzero(np.r_[True, pos_ser[1:] != pos_ser[:-1]])
    rank = np.arange(len(rank_order)) - np.repeat(
        starts_r, np.diff(np.r_[starts_r, len(rank_order)])
    )
    return np.sort(base[orig[rank_order][rank < s]])
