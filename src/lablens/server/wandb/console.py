"""A run's console as ``wandb.Api``'s ``run.console_logs()`` reads it: ``logLineCount`` and the
``logLines`` connection (pages from the start, or the last lines), each line numbered from 0,
``level`` ``error`` for stderr, its time in UTC as W&B writes it (no zone)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ariadne import ObjectType
from graphql import GraphQLResolveInfo

from lablens.server.wandb.projects import page_size, store_and_user
from lablens.store.errors import InvalidInput

run_type = ObjectType("Run")


def _lines(info: GraphQLResolveInfo, run: dict[str, Any]) -> list[dict[str, Any]]:
    # A run's console is read once per request, however many of its fields are asked.
    cache = info.context.setdefault("wandb_console", {})
    stored = run["_run"]
    key = (stored["entity"], stored["project"], stored["id"])
    if key not in cache:
        store, _ = store_and_user(info)
        cache[key] = store.read_console(*key)
    return cache[key]


def _time(ts: Any) -> str | None:
    if not isinstance(ts, (int, float)):
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).replace(tzinfo=None).isoformat()


def _node(number: int, line: dict[str, Any], run_id: str) -> dict[str, Any]:
    return {
        "id": f"{run_id}:{number}",
        "number": number,
        "timestamp": _time(line.get("ts")),
        "level": "error" if line.get("stream") == "stderr" else "",
        "label": "",
        "line": line.get("line") or "",
    }


@run_type.field("logLineCount")
def resolve_log_line_count(run: dict[str, Any], info: GraphQLResolveInfo) -> int:
    return len(_lines(info, run))


@run_type.field("logLines")
def resolve_log_lines(
    run: dict[str, Any],
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    **_: Any,
) -> dict[str, Any]:
    lines = _lines(info, run)
    if last is not None:
        if last < 0:
            raise InvalidInput(f"last must not be negative, not {last}", field="last")
        start = max(0, len(lines) - last)
        end = len(lines)
    else:
        try:
            start = int(after) if after else 0
        except ValueError:
            raise InvalidInput(f"not a console cursor: {after!r}", field="after") from None
        end = min(len(lines), start + page_size(first, default=1000))
    run_id = run["_run"]["id"]
    edges = [{"node": _node(i, lines[i], run_id), "cursor": str(i + 1)} for i in range(start, end)]
    return {
        "edges": edges,
        "pageInfo": {
            "endCursor": str(end) if edges else after,
            "hasNextPage": end < len(lines),
            "startCursor": str(start),
            "hasPreviousPage": start > 0,
        },
    }


BINDABLES = [run_type]
