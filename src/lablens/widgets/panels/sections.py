"""The sections of a panel grid: metrics grouped by their prefix, as W&B lays out a workspace.

``train/loss`` goes under "train", ``val/acc`` under "val", ``system/gpu`` under "system" and a
metric without a prefix under "Charts". Sections come train, val, the other prefixes by name,
Charts, then system last (machine metrics are looked at least).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["CHARTS", "section_of", "sections"]

CHARTS = "Charts"
"""The section of metrics without a prefix."""

_FIRST = ("train", "val")
_LAST = ("system",)


def section_of(key: str) -> str:
    """The section a metric's panel goes in: its prefix up to the first ``/``, or ``Charts``."""
    head, sep, rest = key.partition("/")
    return head if sep and head and rest else CHARTS


def _rank(title: str) -> tuple[int, str]:
    if title in _FIRST:
        return (0, str(_FIRST.index(title)))
    if title in _LAST:
        return (3, title)
    if title == CHARTS:
        return (2, "")
    return (1, title.lower())


def sections(keys: Iterable[str]) -> list[dict[str, object]]:
    """The panels of ``keys`` in sections: ``[{"title": "train", "keys": [...]}, ...]``.

    Panels keep the order of ``keys`` inside their section (a panel added goes last).

    Example:
        >>> sections(["val/acc", "loss", "train/loss"])
        [{'title': 'train', 'keys': ['train/loss']}, {'title': 'val', 'keys': ['val/acc']},
         {'title': 'Charts', 'keys': ['loss']}]
    """
    found: dict[str, list[str]] = {}
    for key in dict.fromkeys(keys):
        found.setdefault(section_of(key), []).append(key)
    return [{"title": title, "keys": found[title]} for title in sorted(found, key=_rank)]
