"""``POST /files/{entity}/{project}/{run}/file_stream``: what a W&B run streams while it runs.

Each post carries slices of the run's files, each with the line ``offset`` of its first line:
``wandb-history.jsonl`` (logged rows: points, and media references, kept in the run file
``wandb-media.jsonl`` and made media items by ``media.py``), ``wandb-summary.json`` (the whole
summary: merged), ``wandb-events.jsonl`` (system metrics: the ``system`` stream, a line's
offset its step) and ``output.log`` (console lines). ``complete`` with ``exitcode`` ends the
run: FINISHED for 0, CRASHED otherwise. Every post is a heartbeat.

A client retries a post it got no answer to, so each slice is stored under a batch id made of
the file's name, the offset and the content's digest: a retry stores nothing twice, while a
console line the client rewrote in place (a progress bar) is a new batch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from lablens.server.auth import store_of
from lablens.server.problems import Problem
from lablens.server.routing import Route
from lablens.server.wandb.access import WandbError, check_writable
from lablens.server.wandb.auth import WandbUser
from lablens.server.wandb.buckets import MEDIA, plain_summary
from lablens.server.wandb.media import media_of_rows
from lablens.server.wandb.rows import BadRow, Points, add_row, parse_line, row_step, row_time
from lablens.store.base import Store
from lablens.store.errors import NotFound

router = APIRouter(tags=["wandb"], route_class=Route)

HISTORY = "wandb-history.jsonl"
SUMMARY = "wandb-summary.json"
EVENTS = "wandb-events.jsonl"
OUTPUT = "output.log"

# A console line as the client sends it: "[ERROR ]<ISO time> <text>" (ERROR marks stderr).
_CONSOLE = re.compile(
    r"^(?P<err>ERROR )?(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?) ?(?P<line>.*)$", re.S
)


def batch_id(name: str, offset: int, content: Sequence[str]) -> str:
    """The batch id of a file slice: its name, offset and a digest of its lines."""
    digest = hashlib.sha256("\n".join(content).encode("utf-8", "surrogatepass")).hexdigest()
    return f"wandb:{name}:{offset}:{digest[:16]}"


def _slice(files: Mapping[str, Any], name: str) -> tuple[int, list[str]] | None:
    """``(offset, lines)`` of one file in a post, or ``None`` when the post has none of it."""
    item = files.get(name)
    if item is None:
        return None
    if not isinstance(item, Mapping):
        raise BadRow(f"files.{name} must be an object with 'offset' and 'content'")
    offset = item.get("offset", 0)
    content = item.get("content") or []
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise BadRow(f"files.{name}.offset must be a non-negative integer")
    if not isinstance(content, list) or not all(isinstance(x, str) for x in content):
        raise BadRow(f"files.{name}.content must be a list of strings")
    return offset, content


def _history(
    store: Store,
    path: tuple[str, str, str],
    offset: int,
    lines: list[str],
    now: float,
    username: str | None,
) -> None:
    points = Points()
    for i, line in enumerate(lines):
        where = f"files.{HISTORY}.content[{i}]"
        row = parse_line(line, where)
        step = row_step(row, offset + i, where)
        ts = row_time(row, now)
        met = len(points.media)
        add_row(points, row, step, ts)
        for media in points.media[met:]:
            media["timestamp"] = ts
    # Media first: it is kept once per (step, key) whatever the batch, so a retry after a
    # failure between the two writes still finds both stored.
    if points.media:
        _append_media(store, path, points.media)
        if username is not None:
            media_of_rows(store, path, points.media, username)
    store.append_points(*path, points.table(), batch_id=batch_id(HISTORY, offset, lines))


def _append_media(store: Store, path: tuple[str, str, str], media: list[dict[str, Any]]) -> None:
    """Add media references to ``wandb-media.jsonl``, each ``(step, key)`` once."""
    try:
        _, old = store.read_file(*path, MEDIA)
    except NotFound:
        old = b""
    seen = set()
    for line in old.decode().splitlines():
        if line.strip():
            item = json.loads(line)
            seen.add((item["step"], item["key"]))
    new = [m for m in media if (m["step"], m["key"]) not in seen]
    if new:
        text = "".join(json.dumps(m, allow_nan=True) + "\n" for m in new)
        store.put_file(*path, MEDIA, old + text.encode())


def _events(
    store: Store, path: tuple[str, str, str], offset: int, lines: list[str], now: float
) -> None:
    points = Points()
    for i, line in enumerate(lines):
        row = parse_line(line, f"files.{EVENTS}.content[{i}]")
        # System samples have no step of their own: the line's place in the file is one.
        add_row(points, row, offset + i, row_time(row, now))
    store.append_points(
        *path, points.table(), stream="system", batch_id=batch_id(EVENTS, offset, lines)
    )


def console_line(text: str, now: float) -> dict[str, Any]:
    """One ``output.log`` line as ``{ts, stream, line}``."""
    match = _CONSOLE.match(text)
    if match is None:
        return {"ts": now, "stream": "stdout", "line": text.rstrip("\n")}
    ts = now
    stamp = match["ts"].rstrip("Z")
    with contextlib.suppress(ValueError):
        ts = datetime.fromisoformat(stamp).replace(tzinfo=UTC).timestamp()
    stream = "stderr" if match["err"] else "stdout"
    return {"ts": ts, "stream": stream, "line": match["line"].rstrip("\n")}


def _output(
    store: Store, path: tuple[str, str, str], offset: int, lines: list[str], now: float
) -> None:
    store.append_console(
        *path, [console_line(x, now) for x in lines], batch_id=batch_id(OUTPUT, offset, lines)
    )


def apply_post(
    store: Store, path: tuple[str, str, str], body: Mapping[str, Any], username: str | None = None
) -> None:
    """Store what one file_stream post carries; ``username`` (the poster) makes its media
    items."""
    now = time.time()
    files = body.get("files") or {}
    if not isinstance(files, Mapping):
        raise BadRow("files must be an object of file slices")
    history = _slice(files, HISTORY)
    if history is not None and history[1]:
        _history(store, path, history[0], history[1], now, username)
    for name, handle in ((EVENTS, _events), (OUTPUT, _output)):
        part = _slice(files, name)
        if part is not None and part[1]:
            handle(store, path, part[0], part[1], now)
    summary = _slice(files, SUMMARY)
    changes: dict[str, Any] = {}
    if summary is not None and summary[1]:
        row = parse_line(summary[1][-1], f"files.{SUMMARY}.content[-1]")
        changes["summary"] = plain_summary(row)
    if body.get("complete"):
        code = body.get("exitcode")
        code = code if isinstance(code, int) and not isinstance(code, bool) else 0
        changes.update(state="FINISHED" if code == 0 else "CRASHED", exit_code=code)
    else:
        changes["heartbeat"] = True
    store.update_run(*path, changes)


@router.post("/files/{entity}/{project}/{run_id}/file_stream", include_in_schema=False)
async def file_stream(
    entity: str, project: str, run_id: str, request: Request, user: WandbUser
) -> dict[str, Any]:
    """Store one post of a run's file stream."""
    try:
        body = await request.json()
    except ValueError as exc:
        raise Problem(400, "bad_request", f"the body is not JSON: {exc}", field="body") from exc
    if not isinstance(body, dict):
        raise Problem(400, "bad_request", "the body must be a JSON object", field="body")
    store = store_of(request)
    try:
        check_writable(store, user, entity)
        store.get_run(entity, project, run_id)
        await run_in_threadpool(
            apply_post, store, (entity, project, run_id), body, user["username"]
        )
    except WandbError as exc:
        raise Problem(exc.status, "permission_denied", str(exc)) from exc
    except BadRow as exc:
        raise Problem(400, "bad_request", str(exc), field="body") from exc
    return {"exitcode": None, "limits": {}}
