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

__all__ = ["check_samples", "sample_numpy"]


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
