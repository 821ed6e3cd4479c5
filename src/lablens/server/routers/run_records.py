"""A run's records in one request: its creation, points, updates, console lines and end.

What the SDK sends (``contract/records.py``): a short run is created, logged into and finished
by one request, and ``finish()`` is one round trip whatever the run queued last.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa
from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from lablens.contract.arrow import ipc_to_table
from lablens.contract.records import MEDIA_TYPE, decode_records
from lablens.server.auth import CurrentUser, writable_store
from lablens.server.automation_events import AutomationEvents
from lablens.server.problems import Problem
from lablens.server.records_journal import Entry, RecordsJournal
from lablens.server.routers.files import ConsoleLines
from lablens.server.routers.runs import NewRun, RunChanges
from lablens.server.routing import Route
from lablens.store.base import Store
from lablens.store.errors import StoreError
from lablens.store.limits import LIMITS
from lablens.store.points import check_keys_per_run, check_stream, conform_points
from lablens.store.run_files import console_table
from lablens.store.run_values import checked_new_run, checked_run_changes

router = APIRouter(prefix="/api/v1/projects/{ws}/{project}", tags=["runs"], route_class=Route)

_KINDS = ("points", "patch", "console", "finish")


def _bad(message: str, field: str) -> Problem:
    return Problem(400, "bad_request", message, field=field)


def _model(model: Any, value: Any, where: str) -> Any:
    """``value`` checked by a route's pydantic model; a 400 naming the bad field otherwise."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join([where, *(str(p) for p in first["loc"])])
        raise _bad(f"{field}: {first['msg']}", field) from None


def _parse(raw: bytes) -> tuple[dict[str, Any] | None, list[tuple[str, Any]]]:
    """The create body and the records, checked, with each points batch as its table."""
    try:
        header, rest = decode_records(raw)
    except RecursionError:
        raise _bad("the header is nested too deeply", "body") from None
    except ValueError as exc:
        raise _bad(f"the body is not {MEDIA_TYPE}: {exc}", "body") from None
    if not isinstance(header, dict) or not isinstance(header.get("records"), list):
        raise _bad("the header must be {'create'?, 'records': [...]}", "records")
    create = header.get("create")
    if create is not None:
        create = _model(NewRun, create, "create").model_dump()
    out: list[tuple[str, Any]] = []
    offset = 0
    for i, rec in enumerate(header["records"]):
        where = f"records[{i}]"
        kind = rec.get("t") if isinstance(rec, dict) else None
        if kind not in _KINDS:
            raise _bad(f"{where}.t must be one of {', '.join(_KINDS)}", f"{where}.t")
        if kind == "points":
            size = rec.get("size")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise _bad("size must be the batch's byte count", f"{where}.size")
            if offset + size > len(rest):
                raise _bad("the body ends before this batch's bytes", f"{where}.size")
            try:
                table = ipc_to_table(bytes(rest[offset : offset + size]))
            except (pa.ArrowInvalid, OSError) as exc:
                raise _bad(f"not an Arrow IPC stream: {exc}", f"{where}.size") from exc
            offset += size
            stream = rec.get("stream", "default")
            batch = rec.get("id")
            if not isinstance(stream, str) or not (batch is None or isinstance(batch, str)):
                raise _bad("stream and id must be strings", where)
            out.append((kind, (table, stream, batch)))
        elif kind == "patch":
            changes = _model(RunChanges, rec.get("body"), f"{where}.body")
            out.append((kind, changes.model_dump(exclude_unset=True)))
        elif kind == "console":
            lines = _model(ConsoleLines, {"lines": rec.get("lines")}, where).lines
            batch = rec.get("id")
            if not (batch is None or isinstance(batch, str)):
                raise _bad("id must be a string", f"{where}.id")
            out.append((kind, (lines, batch)))
        else:
            end = {k: rec[k] for k in ("state", "exit_code", "finished_at") if k in rec}
            out.append((kind, _model(RunChanges, end, where).model_dump(exclude_unset=True)))
    if offset != len(rest):
        raise _bad(f"{len(rest) - offset} bytes follow the last batch", "body")
    return create, out


def _merge_update(changes: dict[str, Any], value: Mapping[str, Any]) -> None:
    """Fold an update into the consecutive ones before it (``changes``): they are stored as
    one, later fields winning and summaries merged key by key."""
    summary = {**changes.get("summary", {}), **value.get("summary", {})}
    changes.update(value)
    if summary:
        changes["summary"] = summary


def _store(
    store: Store,
    events: AutomationEvents | None,
    fired: list[Callable[[], None]],
    ws: str,
    project: str,
    run_id: str,
    username: str,
    create: dict[str, Any] | None,
    records: list[tuple[str, Any]],
) -> dict[str, Any]:
    """Store the records in order; what automations see of them (a run's state change, metric
    points) goes into ``fired``, for the caller to tell once the transaction has committed."""
    created = False
    if create is not None:
        if create.get("id") not in (None, run_id):
            raise _bad(f"create.id must be the run's id {run_id!r}", "create.id")
        created = store.start_run(ws, project, {**create, "id": run_id}, username=username)
    points = 0
    changes: dict[str, Any] = {}

    def update() -> None:
        if changes:
            before = events.state_before(ws, project, run_id, changes) if events else None
            store.change_run(ws, project, run_id, changes)
            if events is not None and before is not None:  # watched: tell the new state
                run = store.get_run(ws, project, run_id)
                fired.append(lambda: events.run_changed(ws, project, before, run, username))
            changes.clear()

    for kind, value in records:
        if kind in ("patch", "finish"):
            _merge_update(changes, value)
            continue
        update()  # in order: an update logged before these points is applied before them
        if kind == "points":
            table, stream, batch = value
            stored = store.append_points(ws, project, run_id, table, stream=stream, batch_id=batch)
            points += int(stored.get("stored", 0) or 0)
            if events is not None and not stored.get("duplicate"):
                fired.append(
                    functools.partial(
                        events.points_logged, ws, project, run_id, table, stream, username
                    )
                )
        else:
            lines, batch = value
            store.append_console(ws, project, run_id, lines, batch_id=batch)
    update()
    return {
        "created": created,
        "stored_points": points,
        "heartbeat_timeout": LIMITS.heartbeat_timeout,
    }


@router.post("/runs/{run_id}/records")
async def append_records(
    ws: str, project: str, run_id: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Store several of a run's records in order (``contract/records.py``): its creation
    (``create``, as ``POST .../runs`` takes it, when the server may not have the run yet),
    points batches, updates, console lines and its end; answers once every one is stored."""
    store = writable_store(request, user, ws)
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith(MEDIA_TYPE):
        raise Problem(415, "bad_request", f"send records as {MEDIA_TYPE}", field="content-type")
    raw = await request.body()
    create, records = _parse(raw)
    args = (ws, project, run_id, user["username"], create, records)
    journal: RecordsJournal | None = getattr(request.app.state, "journal", None)
    if journal is not None:
        answer = await run_in_threadpool(_journaled, store, journal, raw, *args)
        if answer is not None:
            return answer
        await journal.settled()  # stored after what was journaled before it
    events = request.app.state.automations
    return await run_in_threadpool(_store_at_once, store, events, *args)


def _store_at_once(store: Store, events: AutomationEvents, *args: Any) -> dict[str, Any]:
    # One commit for the request where the engine can (Store.one_commit): on the embedded store
    # the commit's flush to disk is most of a small request's time.
    fired: list[Callable[[], None]] = []
    with store.one_commit():
        answer = _store(store, events, fired, *args)
    for tell in fired:
        tell()
    return answer


# Only small requests are journaled (a short run's): at most this many bytes, metric keys and
# summary keys. A wider one is stored at once, against what its run holds.
_JOURNAL_BYTES = 4 * 2**20
_JOURNAL_KEYS = 1000


def _journaled(
    store: Store,
    journal: RecordsJournal,
    raw: bytes,
    ws: str,
    project: str,
    run_id: str,
    username: str,
    create: dict[str, Any] | None,
    records: list[tuple[str, Any]],
) -> dict[str, Any] | None:
    """The answer of a request that makes a new run, once journaled (``records_journal.py``);
    ``None`` when it is to be stored now: it resumes a run, or something in it would be
    refused (storing it now raises that precisely), or the journal is full."""
    if create is None or len(raw) > _JOURNAL_BYTES:
        return None
    if create.get("id") not in (None, run_id) or journal.has(ws, project, run_id):
        return None
    stored = 0
    keys: set[tuple[str, str]] = set()
    batches: set[str] = set()
    changes: dict[str, Any] = {}
    summary_keys = 0  # the widest summary of the updates, each group merged as _store does

    def check_changes() -> None:
        nonlocal changes, summary_keys
        if changes:
            checked_run_changes(changes, dt.datetime.now(dt.UTC))
            summary_keys = max(summary_keys, len(changes.get("summary") or {}))
            changes = {}

    try:
        if checked_new_run({**create, "id": run_id}).resume != "never":
            return None  # a resumed run: stored against what it holds (None is "never" too)
        for kind, value in records:
            if kind in ("patch", "finish"):
                _merge_update(changes, value)  # as _store merges them, and checked as merged
                continue
            check_changes()
            if kind == "points":
                table, stream, batch = value
                check_stream(stream)
                conformed = conform_points(table)
                if batch is None or batch not in batches:  # a repeated id stores nothing
                    stored += conformed.num_rows
                if batch is not None:
                    batches.add(batch)
                keys.update((stream, k) for k in conformed["key"].unique().to_pylist())
            else:
                console_table(value[0])
        check_changes()
        check_keys_per_run(0, len(keys))
    except (StoreError, ValueError, TypeError):
        return None
    if len(keys) > _JOURNAL_KEYS or summary_keys > _JOURNAL_KEYS:
        return None  # a wide run: stored at once, where every limit is counted as it grows
    # Last, as the store is asked: a run made meanwhile (by another request) is stored now,
    # and then refused or resumed as that run's request would be.
    if not store.run_id_free(ws, project, run_id):
        return None
    entry = Entry(ws, project, run_id, username, raw, parsed=(create, records))
    if not journal.append(entry):
        return None
    return {"created": True, "stored_points": stored, "heartbeat_timeout": LIMITS.heartbeat_timeout}


def journal_applier(events: AutomationEvents | None) -> Callable[[Store, Entry], Any]:
    """What stores one journaled request inside the journal's transaction; it answers what
    to tell the automations (``events``) once that commits."""

    def apply(store: Store, entry: Entry) -> list[Callable[[], None]]:
        create, records = entry.parsed or _parse(entry.body)  # read back at a start: decoded
        if create is not None:
            # The id was free when the request was answered; a run of that id made since (by a
            # request storing at once that raced it) takes these records rather than lose them.
            create["resume"] = "allow"
        fired: list[Callable[[], None]] = []
        ws, project, run_id, who = entry.workspace, entry.project, entry.run_id, entry.username
        _store(store, events, fired, ws, project, run_id, who, create, records)
        return fired

    return apply
