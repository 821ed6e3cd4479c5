"""Projects as every engine takes them: their visibility, the changes a project takes and the
orders its list takes, checked, a bad one named."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lablens.store.errors import InvalidInput

#: The orders of a workspace's projects (``-name``: descending).
PROJECT_SORTS = ("created_at", "updated_at", "name")


def project_out(row: dict[str, Any]) -> dict[str, Any]:
    """A project's row (its columns, ``entity``: its workspace's name, ``run_count``) as its
    JSON."""
    return {
        "id": row["id"],
        "name": row["name"],
        "entity": row["entity"],
        "path": f"{row['entity']}/{row['name']}",
        "description": row["description"],
        "labels": list(row["labels"] or []),
        "visibility": row["visibility"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "count": {"runs": row["run_count"]},
    }


def check_visibility(value: Any) -> str:
    """``PUBLIC`` or ``PRIVATE`` (any case), upper-cased; else ``InvalidInput``."""
    visibility = str(value or "").upper()
    if visibility not in ("PUBLIC", "PRIVATE"):
        raise InvalidInput("visibility must be PUBLIC or PRIVATE", field="visibility")
    return visibility


def parse_project_sort(sort: str | None) -> tuple[str, bool]:
    """A project order (``"-updated_at"``) as its key and whether it descends; ``None`` is
    ``created_at`` ascending."""
    desc = bool(sort) and sort.startswith("-")
    key = (sort or "created_at").lstrip("+-")
    if key not in PROJECT_SORTS:
        raise InvalidInput(f"sort must be one of {sorted(PROJECT_SORTS)}", field="sort")
    return key, desc


def checked_project_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """What ``Store.update_project`` is given, checked: the new values of the ``projects``
    columns it sets."""
    columns: dict[str, Any] = {}
    if "description" in changes:
        value = changes["description"]
        if value is not None and not isinstance(value, str):
            raise InvalidInput("description must be a string", field="description")
        columns["description"] = value
    if "labels" in changes:
        labels = changes["labels"] or []
        if not isinstance(labels, list) or not all(isinstance(v, str) for v in labels):
            raise InvalidInput("labels must be a list of strings", field="labels")
        columns["labels"] = labels
    if "visibility" in changes:
        columns["visibility"] = check_visibility(changes["visibility"])
    return columns
