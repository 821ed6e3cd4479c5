"""What a run's fields may hold, checked, and a run's row as the JSON it travels as."""

from __future__ import annotations

import datetime as dt
import secrets
import string
from collections.abc import Mapping, Sequence
from typing import Any

from lablens.contract.flatten import flatten
from lablens.store import _json
from lablens.store.embedded._db import iso
from lablens.store.errors import InvalidInput, LimitExceeded
from lablens.store.limits import LIMITS

STATES = ("RUNNING", "FINISHED", "CRASHED", "ABORTED")
RUN_ID_CHARS = string.ascii_lowercase + string.digits
#: Characters a run id may not hold: it is one segment of every run URL, so it must survive
#: quoting and unquoting as itself (no ``/``, and no ``\\`` that some clients and proxies turn
#: into ``/``) and be text a log line and a terminal show as it is (no control characters).
_ID_FORBIDDEN = frozenset("/\\") | {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))}
#: The SQL exit code column is a 32-bit integer, as a process's exit status is.
_EXIT_CODE_RANGE = (-(2**31), 2**31 - 1)
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


def _check_texts(data: Mapping[str, Any], prefix: str = "") -> None:
    for name in _TEXT_FIELDS:
        _json.check_text(data.get(name), f"{prefix}{name}")


def _checked_fields(value: dict[str, Any], field: str) -> dict[str, Any]:
    """``value`` flattened, once it is within the limits of depth, key length and key count."""
    leaves = _json.check_fields(value, field)
    _check_field_count(leaves, field)
    return flatten(value)


def _check_field_count(count: int, field: str) -> None:
    if count > LIMITS.max_fields_per_run:
        raise LimitExceeded(
            f"{field} would hold {count} keys, more than {LIMITS.max_fields_per_run} per run",
            field=field,
            limit=LIMITS.max_fields_per_run,
        )


def new_run_id() -> str:
    """Eight random lowercase letters and digits."""
    return "".join(secrets.choice(RUN_ID_CHARS) for _ in range(8))


def _run_select() -> str:
    return (
        "SELECT r.pk, r.id, w.username AS entity, p.name AS project, r.name, r.notes, r.state,"
        " r.group_name, r.job_type, r.tags,"
        f" {iso('r.created_at')} AS created_at, {iso('r.finished_at')} AS finished_at,"
        f" {iso('r.heartbeat_at')} AS heartbeat_at, r.username, r.host, r.config, r.summary,"
        " r.system_metrics, r.metadata, r.requirements, r.conda, r.shown, r.exit_code, r.sweep"
        " FROM runs r JOIN projects p ON p.id = r.project_id"
        " JOIN workspaces w ON w.id = p.workspace_id"
    )


def _run_out(row: dict[str, Any], keys: list[dict[str, Any]] | None) -> dict[str, Any]:
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


def _str_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidInput(f"{field} must be a list of strings", field=field)
    if not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{field} must be a list of strings", field=field)
    for i, v in enumerate(value):
        _json.check_text(v, f"{field}[{i}]")
    return list(value)


def _time(value: Any, field: str) -> dt.datetime | None:
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


def _mapping(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{field} must be an object", field=field)
    return dict(value)
