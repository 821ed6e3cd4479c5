"""Run groups of a panel grid: runs grouped by their ``group`` (or ``job_type``) or a config
value, each group drawn as its mean line and min/max band."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from lablens.contract.flatten import flatten

if TYPE_CHECKING:
    from lablens.api import Run

__all__ = ["NO_VALUE", "check_group_by", "group_labels", "group_options"]

NO_VALUE = "(none)"
"""The group of a run without the value grouped by."""

_RUN_FIELDS = ("group", "job_type")


def check_group_by(value: str) -> str:
    """``value`` if a grid can group by it: ``""`` (no groups), ``group``, ``job_type`` or
    ``config.<dotted key>``.

    Raises:
        ValueError: anything else; the message says what is taken.
    """
    if value in ("", *_RUN_FIELDS) or (value.startswith("config.") and len(value) > 7):
        return value
    raise ValueError(
        f"group_by takes '', 'group', 'job_type' or 'config.<key>' (e.g. 'config.optim.lr'),"
        f" not {value!r}"
    )


def _label(value: Any) -> str:
    if value is None or value == "":
        return NO_VALUE
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def group_labels(runs: Iterable[Run], group_by: str) -> dict[str, str]:
    """Each run's group under ``group_by``, by run path; ``{}`` without ``group_by``.

    Example:
        >>> group_labels(api.runs("alice/mnist"), "config.optim.lr")
        {'alice/mnist/3f2a9c1b': '0.001', ...}
    """
    if not group_by:
        return {}
    out: dict[str, str] = {}
    for run in runs:
        if group_by in _RUN_FIELDS:
            out[run.path] = _label(getattr(run, group_by, None))
        else:
            out[run.path] = _label(flatten(run.config or {}).get(group_by[len("config.") :]))
    return out


def group_options(runs: Iterable[Run]) -> list[str]:
    """What runs can be grouped by: ``group``, ``job_type``, then each config key (dotted) the
    runs have, those whose values differ between them first."""
    values: dict[str, set[str]] = {}
    for run in runs:
        for key, value in flatten(run.config or {}).items():
            values.setdefault(key, set()).add(repr(value))
    differ = sorted(k for k, v in values.items() if len(v) > 1)
    same = sorted(k for k, v in values.items() if len(v) <= 1)
    return [*_RUN_FIELDS, *(f"config.{k}" for k in differ + same)]
