"""Run colours: one palette the run table, the panels and the media panel share, so a run has the
same colour everywhere, and keeps it while the selection changes.

The palette is Tableau's 10 (readable on white, distinct for the common colour blindnesses as far
as ten colours can be) followed by ten darker and lighter companions; past twenty runs colours
repeat in the same order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

__all__ = ["PALETTE", "run_colors"]

PALETTE: tuple[str, ...] = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#2f5d87",
    "#c4661a",
    "#a83537",
    "#3f8f88",
    "#32752d",
    "#b89514",
    "#7d4e74",
    "#d16b78",
    "#6b4c38",
    "#79706e",
)
"""The run colours, in the order new runs take them."""


def run_colors(
    run_ids: Iterable[str],
    previous: Mapping[str, str] | None = None,
    *,
    palette: Iterable[str] = PALETTE,
) -> dict[str, str]:
    """A colour for each run: a run in ``previous`` keeps its colour, a new one takes the first
    palette colour used the fewest times by the others.

    Args:
        run_ids: the runs (ids or paths), in the order they are shown.
        previous: the colours given before (the last selection's); runs kept keep theirs.
        palette: the colours to choose from (``PALETTE`` by default), CSS colour strings.

    Returns:
        ``{run_id: "#rrggbb"}`` for every run of ``run_ids``, in their order.

    Raises:
        ValueError: ``palette`` is empty.

    Example:
        >>> colors = run_colors(["a", "b"])
        >>> run_colors(["b", "c"], previous=colors)["b"] == colors["b"]
        True
    """
    colors = list(palette)
    if not colors:
        raise ValueError("run_colors needs a palette of at least one colour")
    ids = list(dict.fromkeys(run_ids))
    kept = {rid: previous[rid] for rid in ids if previous and rid in previous}
    used = Counter(kept.values())
    out: dict[str, str] = {}
    for rid in ids:
        if rid in kept:
            out[rid] = kept[rid]
            continue
        # The least used colour, first in palette order among equals: the first 20 runs of a
        # selection get 20 different colours.
        color = min(colors, key=lambda c: (used[c], colors.index(c)))
        used[color] += 1
        out[rid] = color
    return out
