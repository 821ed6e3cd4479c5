"""The chart's zoom: the x range as ``(lo, hi)`` in x-axis units, checked, and read from what
plotly reports when the user zooms (numbers, or dates on a ``_timestamp`` axis)."""

from __future__ import annotations

import math
import numbers
from typing import Any

import pandas as pd

__all__ = ["check_range", "from_plotly", "to_plotly"]

# A date axis draws milliseconds since the epoch; ``x_range`` holds seconds.
_MS = 1000.0


def check_range(rng: Any) -> tuple[float, float] | None:
    """``rng`` as ``(lo, hi)`` floats, or ``None``.

    Raises:
        ValueError: not two finite numbers with ``lo <= hi``.
    """
    if rng is None:
        return None
    if (
        len(rng) != 2
        or not all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
            for v in rng
        )
        or rng[0] > rng[1]
    ):
        raise ValueError(f"x_range is (lo, hi), two finite numbers, lo <= hi; not {rng!r}")
    return (float(rng[0]), float(rng[1]))


def _seconds(value: Any) -> float:
    # A date axis gives dates as strings, in UTC as drawn; a number there is milliseconds.
    if isinstance(value, numbers.Real):
        return float(value) / _MS
    stamp = pd.Timestamp(value)
    return (stamp if stamp.tzinfo else stamp.tz_localize("UTC")).timestamp()


def from_plotly(rng: Any, x_axis: str) -> tuple[float, float] | None:
    """The x range of a plotly axis range (``None`` when zoomed out), low to high.

    Raises:
        TypeError, ValueError: ``rng`` is not two numbers or dates.
    """
    if rng is None:
        return None
    lo, hi = rng
    new = (_seconds(lo), _seconds(hi)) if x_axis == "_timestamp" else (float(lo), float(hi))
    return (min(new), max(new))  # a reversed axis gives them high to low


def to_plotly(rng: tuple[float, float], x_axis: str) -> list[float]:
    """The plotly axis range that shows ``rng``."""
    scale = _MS if x_axis == "_timestamp" else 1.0
    return [v * scale for v in rng]
