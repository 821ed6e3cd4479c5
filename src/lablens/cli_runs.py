"""``lablens runs ls PATH``: the runs of a project as a table in the terminal, read in one
request (the run table), with a filter, an order and a few summary values."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["format_table", "runs_ls"]

_FIXED = ("id", "name", "state", "created_at")
_SUMMARY_COLUMNS = 3  # summary values shown when none are asked for


def parse_filter(text: str | None) -> dict[str, Any] | None:
    """``--filter``'s JSON as a dict, or a ``ValueError`` saying what is wrong with it."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--filter is not JSON: {exc.msg} at character {exc.pos}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"--filter must be a JSON object, not {type(value).__name__}")
    return value


_FIRST = ("val", "valid", "validation", "eval", "test")  # what a reader compares runs by


def _rank(column: str) -> tuple[int, str]:
    key = column[len("summary.") :]
    return (0 if key.split("/")[0].split(".")[0].split("_")[0] in _FIRST else 1, key)


def _default_summary(columns: Sequence[str], table: Any) -> list[str]:
    """Three summary columns holding numbers in the rows shown: validation and test metrics
    first, then the others by name, leaving out the ones the run keeps for itself
    (``_runtime``, ``system/...``)."""
    import pyarrow.types as pat

    chosen = []
    for name in sorted(columns, key=_rank):
        if not name.startswith("summary."):
            continue
        key = name[len("summary.") :]
        if key.startswith(("_", "system/")):
            continue
        column = table.column(name)
        if not (pat.is_integer(column.type) or pat.is_floating(column.type)):
            continue
        if column.null_count == len(column):
            continue
        chosen.append(name)
        if len(chosen) == _SUMMARY_COLUMNS:
            break
    return chosen


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone()  # the reader's local time
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] == "T":
        try:
            return _cell(dt.datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows as text columns under ``header``, each column as wide as its widest cell."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def runs_ls(
    api: Any,
    path: str,
    *,
    filters: dict[str, Any] | None = None,
    order: str = "-created_at",
    limit: int = 20,
    summary: Sequence[str] | None = None,
) -> str:
    """The text ``lablens runs ls`` prints: a header, one line per run, and a count.

    Args:
        api: the ``Api`` to read with.
        path: ``entity/project``, or ``project`` in your default workspace.
        filters: a MongoDB-style filter.
        order: ``+`` or ``-`` and a field; newest first by default.
        limit: at most this many runs.
        summary: summary keys to show (``val/acc``); default three with numbers, validation and
            test metrics first.

    Returns:
        The table as text.
    """
    runs = api.runs(path, filters=filters, order=order)
    table = runs.to_arrow(limit=limit)
    total = int((table.schema.metadata or {}).get(b"total", table.num_rows))
    if summary:
        wanted = [k if k.startswith("summary.") else f"summary.{k}" for k in summary]
        missing = [k for k in wanted if k not in table.column_names]
        if missing and table.num_rows:
            prefix = "summary."
            have = sorted(n[len(prefix) :] for n in table.column_names if n.startswith(prefix))
            raise ValueError(
                f"no summary key {', '.join(m[len('summary.') :] for m in missing)} in these runs;"
                f" they have: {', '.join(have) or 'none'}"
            )
        extra = [k for k in wanted if k in table.column_names]
    else:
        extra = _default_summary(table.column_names, table)
    columns = [*_FIXED, *extra]
    data = table.select(columns).to_pylist()
    header = ["id", "name", "state", "created", *(c[len("summary.") :] for c in extra)]
    rows = [[row[c] for c in columns] for row in data]
    where = f"{runs.entity}/{runs.project}"
    if not rows:
        return f"No runs in {where}" + (" match the filter." if filters else ".")
    noun = "run" if total == 1 else "runs"
    shown = f"{len(rows)} of {total} {noun}" if total > len(rows) else f"{total} {noun}"
    more = " (--limit shows more)" if total > len(rows) else ""
    return f"{format_table(header, rows)}\n{shown} in {where}{more}"
