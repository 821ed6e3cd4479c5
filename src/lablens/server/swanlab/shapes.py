"""Our store's workspaces, projects, runs and users in the shapes SwanLab's client reads.

A SwanLab project's ``cuid`` is its path ``workspace/project`` and an experiment's ``cuid`` and
``slug`` are the lablens run id, so every id the client sends back names its object without a
lookup table.
"""

from __future__ import annotations

from typing import Any

#: The profile fields of a SwanLab workspace or user.
PROFILE_FIELDS = ("bio", "url", "institution", "school", "email", "location")


def profile(data: dict[str, Any] | None) -> dict[str, str]:
    """A SwanLab profile: every field, empty when we do not know it."""
    data = data or {}
    return {k: data.get(k) or "" for k in PROFILE_FIELDS}


def workspace(data: dict[str, Any]) -> dict[str, Any]:
    """A workspace as ``GET /api/group/{username}`` answers it."""
    return {
        "username": data["username"],
        "name": data.get("name") or data["username"],
        "type": data.get("workspace_type") or "PERSON",
        "comment": "",
        "role": data.get("role") or "",
        "profile": profile(data.get("profile")),
        "createdAt": data.get("created_at") or "",
    }


def project(data: dict[str, Any], role: str | None = None) -> dict[str, Any]:
    """A project as ``GET /api/project/{workspace}/{name}`` answers it."""
    out: dict[str, Any] = {
        "cuid": data["path"],
        "name": data["name"],
        "username": data["entity"],
        "path": data["path"],
        "visibility": data.get("visibility") or "PRIVATE",
        "description": data.get("description") or "",
        "group": {"username": data["entity"]},
        "projectLabels": [{"name": label} for label in data.get("labels") or []],
        "_count": {"experiments": int((data.get("count") or {}).get("runs", 0))},
        "createdAt": data.get("created_at") or "",
        "updatedAt": data.get("updated_at") or "",
        # Version 1: a project "with views", whose columns the client posts to .../series.
        "version": 1,
    }
    if role:
        out["role"] = role
    return out


def run(data: dict[str, Any], viewer: str) -> dict[str, Any]:
    """A run as ``GET /api/project/{workspace}/{project}/runs/{id}`` answers it."""
    return {
        "cuid": data["id"],
        "slug": data["id"],
        "project_id": f"{data['entity']}/{data['project']}",
        "name": data.get("name") or data["id"],
        "type": "CHAPTER",
        "description": data.get("notes") or "",
        "labels": [{"name": tag} for tag in data.get("tags") or []],
        "profile": {
            "config": data.get("config") or {},
            "metadata": data.get("metadata") or {},
            "requirements": data.get("requirements") or "",
            "conda": data.get("conda") or "",
        },
        "show": bool(data.get("show", True)),
        "state": data.get("state") or "RUNNING",
        "cluster": data.get("group") or "",
        "job": data.get("job_type") or "",
        "user": {
            "username": data.get("username") or "",
            "is_self": bool(data.get("username")) and data.get("username") == viewer,
        },
        "createdAt": data.get("created_at") or "",
        "finishedAt": data.get("finished_at"),
    }


def user_profile(data: dict[str, Any]) -> dict[str, Any]:
    """The signed-in user's profile, as ``GET /api/user/profile`` answers it."""
    return {
        **profile(data),
        "username": data["username"],
        "name": data.get("name") or "",
        "email": data.get("email") or "",
    }
