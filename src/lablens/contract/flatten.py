"""Nested dicts to dotted keys, the one way every layer does it.

``{"data": {"bs": 64}}`` becomes ``{"data.bs": 64}``: configs and summaries are stored, filtered
(``config.data.bs``) and shown as columns under their dotted names. Lists, empty dicts and
scalars are leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["flatten"]


def flatten(
    data: Mapping[str, Any],
    prefix: str = "",
    *,
    max_depth: int | None = None,
    too_deep: Callable[[str], Exception] | None = None,
    _depth: int = 1,
) -> dict[str, Any]:
    """Flatten nested dicts with dots, leaving the values as they are.

    Args:
        data: the nested dict.
        prefix: put before every key (``"config."``).
        max_depth: the most levels to go down; ``None`` for no bound.
        too_deep: makes the error raised at a dotted path nested deeper than ``max_depth``.

    Raises:
        Exception: what ``too_deep`` makes (``ValueError`` without it) when ``data`` nests
            deeper than ``max_depth`` levels.
    """
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            if max_depth is not None and _depth >= max_depth:
                raise (too_deep or ValueError)(name)
            out.update(
                flatten(
                    value, name + ".", max_depth=max_depth, too_deep=too_deep, _depth=_depth + 1
                )
            )
        else:
            out[name] = value
    return out
