"""The colours of runs: one palette, so a run has the same colour in every part of a widget."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["PALETTE", "run_colors"]

#: Ten colours told apart on white, in the order runs take them: d3's category10, the colours
#: of the metric chart's lines, so a run's swatch matches its curve.
PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def run_colors(run_ids: Iterable[str]) -> dict[str, str]:
    """A CSS colour per run id, in the order given; the palette repeats after ten runs.

    Example:
        >>> run_colors(["a", "b"])
        {'a': '#1f77b4', 'b': '#ff7f0e'}
    """
    return {rid: PALETTE[i % len(PALETTE)] for i, rid in enumerate(dict.fromkeys(run_ids))}
