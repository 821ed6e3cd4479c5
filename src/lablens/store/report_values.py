"""Reports as every engine keeps them: what a report may hold, its path's slug, its JSON."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from lablens.store import _json
from lablens.store.errors import InvalidInput


def slug(title: str) -> str:
    """``"LR sweep: results!"`` -> ``"LR-sweep-results"``: a title fit for a path."""
    text = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")
    return text[:60] or "report"


def report_out(row: dict[str, Any]) -> dict[str, Any]:
    """A report's row (the schema's columns, with its ``entity`` and ``project``) as its JSON."""
    return {
        "id": row["id"],
        "entity": row["entity"],
        "project": row["project"],
        "name": row["name"],
        "display_name": row["display_name"],
        "title": row["display_name"],
        "description": row["description"] or "",
        "spec": _json.loads(row["spec"]) or {},
        "username": row["username"],
        "path": f"{row['entity']}/{row['project']}/reports/{row['name']}-{row['id']}",
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def check_report(title: Any, description: Any, spec: Any) -> None:
    """Refuse a report's title, description or spec of the wrong kind, naming it."""
    if not isinstance(title, str) or not title.strip():
        raise InvalidInput("title must be a non-empty string", field="title")
    if description is not None and not isinstance(description, str):
        raise InvalidInput("description must be a string", field="description")
    if not isinstance(spec, Mapping):
        raise InvalidInput("spec must be an object", field="spec")


def report_select(iso: Callable[[str], str]) -> str:
    """The ``SELECT`` of reports (``r``) joined to their project (``p``) and workspace
    (``w``): what :func:`report_out` reads. ``iso`` is the engine's SQL rendering a time column
    as an ISO string."""
    return (
        "SELECT r.pk, r.id, w.username AS entity, p.name AS project, r.name, r.display_name,"
        " r.description, r.spec, r.username,"
        f" {iso('r.created_at')} AS created_at, {iso('r.updated_at')} AS updated_at"
        " FROM reports r JOIN projects p ON p.id = r.project_id"
        " JOIN workspaces w ON w.id = p.workspace_id"
    )


def report_columns(title: Any, description: Any, spec: Any) -> dict[str, Any]:
    """The ``reports`` columns a title, description and spec are kept in, checked first
    (:func:`check_report`): ``name`` (the title's slug), ``display_name``, ``description``,
    ``spec`` (JSON text)."""
    check_report(title, description, spec)
    return {
        "name": slug(title),
        "display_name": title,
        "description": description,
        "spec": _json.dumps(dict(spec)),
    }


def changed_report(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of report ``current`` (its JSON) after ``changes`` (``title``,
    ``description``, ``spec``; what is missing stays), checked as :func:`report_columns`."""
    return report_columns(
        changes.get("title", current["display_name"]),
        changes.get("description", current["description"]),
        changes.get("spec", current["spec"]),
    )
