"""The colours of runs: one palette, so a run has the same colour in every part of a widget."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["PALETTE", "run_colors"]

#: Ten colours told apart on white, in the order runs take them (plotly's default sequence,
#: which the metric chart's lines use too).
PALETTE: tuple[str, ...] = (
    "#636efa",
    "#ef553b",
    "#00cc96",
    "#ab63fa",
    "#ffa15a",
    "#19d3f3",
    "#ff6692",
    "#b6e880",
    "#ff97ff",
    "#fecb52",
)


def run_colors(run_ids: Iterable[str]) -> dict[str, str]:
    """A CSS colour per run id, in the order given; the palette repeats after ten runs.

    Example:
        >>> run_colors(["a", "b"])
        {'a': '#636efa', 'b': '#ef553b'}
    """
    return {rid: PALETTE[i % len(PALETTE)] for i, rid in enumerate(dict.fromkeys(run_ids))}
