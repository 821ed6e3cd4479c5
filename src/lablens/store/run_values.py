"""What a run's fields may hold, checked, and a run's row as the JSON it travels as: the same
for every engine (each reads a run's row with the schema's column names)."""

from __future__ import annotations

import datetime as dt
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lablens.contract.flatten import flatten
from lablens.store import _json
from lablens.store.errors import InvalidInput, LimitExceeded
from lablens.store.limits import LIMITS

STATES = ("RUNNING", "FINISHED", "CRASHED", "ABORTED")
RUN_ID_CHARS = string.ascii_lowercase + string.digits
#: Characters a run id may not hold: it is one segment of every run URL, so it must survive
#: quoting and unquoting as itself (no ``/``, and no ``\\`` that some clients and proxies turn
#: into ``/``) and be text a log line and a terminal show as it is (no control characters).
_ID_FORBIDDEN = frozenset("/\\") | {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))}
#: The exit code column is a 32-bit integer, as a process's exit status is.
EXIT_CODE_RANGE = (-(2**31), 2**31 - 1)
#: The largest offset or limit of a run table page: what a BIGINT holds.
MAX_ROWS = 2**63 - 1
#: A string column's text (name, notes, group ...) may not hold NUL or lone surrogates.
_TEXT_FIELDS = (
    "name",
    "notes",
    "description",
    "group",
    "job_type",
    "host",
    "requirements",
    "conda",
)


def check_run_id(run_id: Any, field: str = "id") -> str:
    """A run id that can round-trip through a URL path segment, or ``InvalidInput``.

    The rule: 1 to 64 characters, not ``.`` or ``..`` (a path resolves them away), no ``/`` or
    ``\\``, no control characters (NUL, newline, DEL ...) and no lone surrogates.
    """
    if (
        not isinstance(run_id, str)
        or not 1 <= len(run_id) <= 64
        or run_id in (".", "..")
        or not _ID_FORBIDDEN.isdisjoint(run_id)
        or _json._bad_text(run_id)
    ):
        raise InvalidInput(
            "id must be 1 to 64 characters, not '.' or '..', without '/', '\\' or control"
            " characters",
            field=field,
        )
    return run_id


def check_texts(data: Mapping[str, Any], prefix: str = "") -> None:
    """Refuse NUL and lone surrogates in the text fields of ``data`` (``name``, ``notes`` ...)."""
    for name in _TEXT_FIELDS:
        _json.check_text(data.get(name), f"{prefix}{name}")


def checked_fields(value: dict[str, Any], field: str) -> dict[str, Any]:
    """``value`` flattened, once it is within the limits of depth, key length and key count."""
    leaves = _json.check_fields(value, field)
    check_field_count(leaves, field)
    return flatten(value)


def check_field_count(count: int, field: str) -> None:
    """Refuse more config or summary keys than a run may hold."""
    if count > LIMITS.max_fields_per_run:
        raise LimitExceeded(
            f"{field} would hold {count} keys, more than {LIMITS.max_fields_per_run} per run",
            field=field,
            limit=LIMITS.max_fields_per_run,
        )


def new_run_id() -> str:
    """Eight random lowercase letters and digits."""
    return "".join(secrets.choice(RUN_ID_CHARS) for _ in range(8))


def run_out(row: dict[str, Any], keys: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A run's row (the schema's columns) as the JSON it travels as, with its metric keys."""
    history_keys = {k["name"]: {"count": k["n"], "last_step": k["last_step"]} for k in (keys or [])}
    return {
        "id": row["id"],
        "entity": row["entity"],
        "project": row["project"],
        "path": f"{row['entity']}/{row['project']}/{row['id']}",
        "name": row["name"],
        "notes": row["notes"] or "",
        "state": row["state"],
        "group": row["group_name"],
        "job_type": row["job_type"],
        "tags": list(row["tags"] or []),
        "created_at": row["created_at"],
        "finished_at": row["finished_at"],
        "heartbeat_at": row["heartbeat_at"],
        "username": row["username"],
        "host": row["host"],
        "config": _json.loads(row["config"]) or {},
        "summary": _json.loads(row["summary"]) or {},
        "system_metrics": _json.loads(row["system_metrics"]) or {},
        "metadata": _json.loads(row["metadata"]) or {},
        "requirements": row["requirements"],
        "conda": row["conda"],
        "show": bool(row["shown"]),
        "exit_code": row["exit_code"],
        "sweep": row["sweep"],
        "history_keys": history_keys,
        "last_history_step": max((k["last_step"] for k in keys or []), default=-1),
    }


def value_types(flat: Mapping[str, Any], types: dict[str, str] | None = None) -> dict[str, str]:
    """The field type of each non-null value, merged into ``types`` when given."""
    types = {} if types is None else types
    for key, value in flat.items():
        if value is not None:
            types[key] = _json.merge_type(types.get(key), _json.type_of(value))
    return types


def str_list(value: Any, field: str) -> list[str]:
    """A list of strings (``[]`` for ``None``), or ``InvalidInput`` naming ``field``."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidInput(f"{field} must be a list of strings", field=field)
    if not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{field} must be a list of strings", field=field)
    for i, v in enumerate(value):
        _json.check_text(v, f"{field}[{i}]")
    return list(value)


def as_time(value: Any, field: str) -> dt.datetime | None:
    """A point in time given as a datetime or an ISO 8601 string; naive means UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"{field} must be an ISO 8601 time", field=field) from None
    if not isinstance(value, dt.datetime):
        raise InvalidInput(f"{field} must be an ISO 8601 time", field=field)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def as_mapping(value: Any, field: str) -> dict[str, Any]:
    """A dict copy of an object (``{}`` for ``None``), or ``InvalidInput`` naming ``field``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{field} must be an object", field=field)
    return dict(value)


@dataclass(frozen=True)
class RunChanges:
    """A run's changes, checked: the new values of the ``runs`` columns they set, the new config
    flattened (``None``: unchanged) and the summary keys to merge, flattened (``None``: none; a
    key set to ``None`` is removed)."""

    columns: dict[str, Any]
    config_flat: dict[str, Any] | None
    summary: dict[str, Any] | None


def checked_run_changes(changes: Mapping[str, Any], t: dt.datetime) -> RunChanges:
    """Check what ``Store.update_run`` is given, naming a bad field; ``t`` is the time now
    (a run's end and its last heartbeat when the changes imply them)."""
    columns: dict[str, Any] = {}

    def put(column: str, value: Any) -> None:
        columns[column] = value

    for field, column in (
        ("name", "name"),
        ("notes", "notes"),
        ("group", "group_name"),
        ("job_type", "job_type"),
        ("requirements", "requirements"),
        ("conda", "conda"),
    ):
        if field in changes:
            value = changes[field]
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"{field} must be a string", field=field)
            _json.check_text(value, field)
            put(column, value)
    if "description" in changes and "notes" not in changes:
        _json.check_text(changes["description"], "description")
        put("notes", changes["description"])
    if "tags" in changes:
        put("tags", str_list(changes["tags"], "tags"))
    if "show" in changes:
        put("shown", bool(changes["show"]))
    if "exit_code" in changes:
        code = changes["exit_code"]
        lo, hi = EXIT_CODE_RANGE
        if code is not None and (
            isinstance(code, bool) or not isinstance(code, int) or not lo <= code <= hi
        ):
            raise InvalidInput(
                f"exit_code must be an integer from {lo} to {hi}, or null", field="exit_code"
            )
        put("exit_code", code)
    if "metadata" in changes:
        metadata = as_mapping(changes["metadata"], "metadata")
        _json.check_fields(metadata, "metadata")
        put("metadata", _json.dumps(metadata))
    if "state" in changes:
        state = str(changes["state"] or "").upper()
        if state not in STATES:
            raise InvalidInput(f"state must be one of {', '.join(STATES)}", field="state")
        put("state", state)
        if "finished_at" not in changes:
            put("finished_at", None if state == "RUNNING" else t)
    if changes.get("heartbeat"):
        put("heartbeat_at", t)
    if "finished_at" in changes:
        # An imported run ends when it ended at its source; that was its last sign of life.
        finished = as_time(changes["finished_at"], "finished_at")
        put("finished_at", finished)
        if finished is not None and not changes.get("heartbeat"):
            put("heartbeat_at", finished)
    config = flat = None
    if "config" in changes:
        config = as_mapping(changes["config"], "config")
        flat = checked_fields(config, "config")
        put("config", _json.dumps(config))
        put("config_flat", _json.dumps(flat))
    summary_changes = None
    if "summary" in changes:
        summary_changes = as_mapping(changes["summary"], "summary")
        _json.check_fields(summary_changes, "summary")
        summary_changes = flatten(summary_changes)
    return RunChanges(columns, flat, summary_changes)


def merged_summary(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A run's summary with flattened ``changes`` merged in; a key set to ``None`` is removed, as
    deleting from W&B's summary does. ``LimitExceeded`` past the keys a run may hold."""
    merged = {**current, **changes}
    merged = {k: v for k, v in merged.items() if v is not None}
    check_field_count(len(merged), "summary")
    return merged


@dataclass(frozen=True)
class NewRun:
    """What ``Store.create_run`` is given, checked: the run's id (a new one when none was given),
    how to resume, and its config, metadata, tags and start time (``None``: now)."""

    id: str
    resume: str
    config: dict[str, Any]
    metadata: dict[str, Any]
    tags: list[str]
    created: dt.datetime | None


def checked_new_run(data: Mapping[str, Any]) -> NewRun:
    """Check a run as it starts (or resumes), naming a bad field."""
    run_id = check_run_id(data["id"]) if data.get("id") else new_run_id()
    check_texts(data)
    resume = data.get("resume")
    if resume is True:
        resume = "allow"
    if resume in (None, False):
        resume = "never"
    if resume not in ("allow", "must", "never"):
        raise InvalidInput("resume must be 'allow', 'must' or 'never'", field="resume")
    config = as_mapping(data.get("config"), "config")
    checked_fields(config, "config")
    metadata = as_mapping(data.get("metadata"), "metadata")
    _json.check_fields(metadata, "metadata")
    tags = str_list(data.get("tags"), "tags")
    # An imported run keeps the time it started at its source.
    created = as_time(data.get("created_at"), "created_at")
    return NewRun(run_id, resume, config, metadata, tags, created)


@dataclass(frozen=True)
class FinishedRun:
    """One run of ``Store.insert_runs``, checked: its id (a new one when none was given), state,
    config (also flattened), flattened summary, metadata and tags."""

    id: str
    state: str
    config: dict[str, Any]
    config_flat: dict[str, Any]
    summary: dict[str, Any]
    metadata: dict[str, Any]
    tags: list[str]


def checked_finished_run(run: Mapping[str, Any], prefix: str) -> FinishedRun:
    """Check one run given whole (an import), naming a bad field under ``prefix``
    (``runs[3].``)."""
    config = as_mapping(run.get("config"), f"{prefix}config")
    flat = checked_fields(config, f"{prefix}config")
    summary = checked_fields(as_mapping(run.get("summary"), f"{prefix}summary"), f"{prefix}summary")
    metadata = as_mapping(run.get("metadata"), f"{prefix}metadata")
    _json.check_fields(metadata, f"{prefix}metadata")
    check_texts(run, prefix)
    state = str(run.get("state") or "FINISHED").upper()
    if state not in STATES:
        raise InvalidInput(f"state must be one of {', '.join(STATES)}", field=f"{prefix}state")
    run_id = check_run_id(run["id"], f"{prefix}id") if run.get("id") else new_run_id()
    tags = str_list(run.get("tags"), f"{prefix}tags")
    return FinishedRun(run_id, state, config, flat, summary, metadata, tags)


def check_page(offset: Any, limit: Any) -> None:
    """Refuse an offset or limit that is not a whole number from 0 (1 for limit) to 2^63 - 1."""
    for name, value, low in (("offset", offset, 0), ("limit", limit, 1)):
        if value is None and name == "limit":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_ROWS:
            raise InvalidInput(f"{name} must be an integer from {low} to {MAX_ROWS}", field=name)
