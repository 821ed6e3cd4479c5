"""The maths on one series of a chart: EMA smoothing and the per-bucket min/max band."""

from __future__ import annotations

import numpy as np

__all__ = ["band", "ema"]


def ema(values: np.ndarray, smoothing: float) -> np.ndarray:
    """Exponential moving average with TensorBoard's debiasing; NaNs are skipped, not spread.

    Args:
        values: the series.
        smoothing: the weight of the past, 0 (none) to below 1.

    Returns:
        The smoothed series, NaN where ``values`` is NaN.
    """
    if smoothing <= 0:
        return values
    out = np.full(len(values), np.nan)
    last, weight = 0.0, 0.0
    for i, v in enumerate(values):
        if not np.isfinite(v):
            continue
        last = last * smoothing + (1 - smoothing) * v
        weight = weight * smoothing + (1 - smoothing)
        out[i] = last / weight
    return out


def band(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bucket x (middle), min and max of a sampled series, for the min/max band."""
    n = len(x)
    if n == 0:
        return x, y, y
    edges = np.linspace(0, n, min(buckets, n) + 1).astype(int)
    xs, lo, hi = [], [], []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if b > a:
            seg = y[a:b]
            xs.append(x[(a + b - 1) // 2])
            lo.append(np.nanmin(seg) if np.isfinite(seg).any() else np.nan)
            hi.append(np.nanmax(seg) if np.isfinite(seg).any() else np.nan)
    return np.asarray(xs), np.asarray(lo), np.asarray(hi)
