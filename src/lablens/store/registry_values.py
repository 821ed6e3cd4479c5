"""Registries as every engine keeps them: a new registry's values and a registry's changes
checked, the role a user has in one, and a registry's row as its JSON.

The rule of who may read a registry lives here, once (:func:`registry_role`): the server asks
the store for a user's role and maps it to what the user may do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lablens.contract import artifact_names as rules
from lablens.contract.registries import REGISTRY_PREFIX, ROLES, VISIBILITIES, registry_name
from lablens.store.errors import InvalidInput

#: Roles from the least to the most: a user listed twice (as themself and through a team) has
#: the greater.
_RANK = {role: i for i, role in enumerate(("viewer", "member", "admin"))}


def check_registry_name(value: Any) -> str:
    """A registry's name without ``wandb-registry-`` (given with it, it is taken off): an
    artifact collection's rule, ``A-Z a-z 0-9 _ . -``; else ``InvalidInput`` naming ``name``."""
    if not isinstance(value, str):
        raise InvalidInput("a registry's name must be a string", field="name")
    name = value[len(REGISTRY_PREFIX) :] if value.startswith(REGISTRY_PREFIX) else value
    try:
        rules.check_name(name, "registry name")
    except ValueError as exc:
        raise InvalidInput(str(exc), field="name") from None
    return name


def check_registry_visibility(value: Any) -> str:
    """``organization`` or ``restricted`` (any case), lower-cased; else ``InvalidInput``."""
    visibility = str(value or "").lower()
    if visibility not in VISIBILITIES:
        raise InvalidInput(
            f"visibility must be one of {', '.join(VISIBILITIES)}", field="visibility"
        )
    return visibility


def check_registry_role(value: Any) -> str:
    """``admin``, ``member`` or ``viewer``; else ``InvalidInput`` naming ``role``."""
    role = str(value or "").lower()
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    return role


def check_artifact_types(value: Any) -> list[str]:
    """The artifact types a registry accepts: a list of type names (W&B's rule: no ``/`` nor
    ``:``, at most 128 characters, as every artifact type here), each once, in order."""
    if not isinstance(value, list | tuple):
        raise InvalidInput("artifact_types must be a list of type names", field="artifact_types")
    out: list[str] = []
    for i, item in enumerate(value):
        try:
            name = rules.check_name(item, "artifact type")
        except ValueError as exc:
            raise InvalidInput(str(exc), field=f"artifact_types[{i}]") from None
        if name not in out:
            out.append(name)
    return out


def checked_registry_changes(
    changes: Mapping[str, Any], types_now: Sequence[str]
) -> dict[str, Any]:
    """What ``Store.update_registry`` is given, checked: ``description`` (of the project),
    ``visibility``, ``artifact_types`` (only added to, as W&B: a type accepted stays accepted)
    and ``allow_all_artifact_types``; the ``registries`` columns and ``description``."""
    out: dict[str, Any] = {}
    if "description" in changes:
        value = changes["description"]
        if value is not None and not isinstance(value, str):
            raise InvalidInput("description must be a string", field="description")
        out["description"] = value
    if "visibility" in changes:
        out["visibility"] = check_registry_visibility(changes["visibility"])
    if "artifact_types" in changes and changes["artifact_types"] is not None:
        types = check_artifact_types(changes["artifact_types"])
        if gone := [t for t in types_now if t not in types]:
            raise InvalidInput(
                f"a registry's artifact types can only be added to; {', '.join(gone)} would be"
                " removed",
                field="artifact_types",
            )
        out["artifact_types"] = types
    if "allow_all_artifact_types" in changes and changes["allow_all_artifact_types"] is not None:
        value = changes["allow_all_artifact_types"]
        if not isinstance(value, bool):
            raise InvalidInput(
                "allow_all_artifact_types must be true or false", field="allow_all_artifact_types"
            )
        out["allow_all_types"] = value
    return out


def registry_role(org_role: str | None, visibility: str, listed: Sequence[str]) -> str | None:
    """A user's role in a registry, or ``None`` when they may not read it.

    Args:
        org_role: the user's role in the organization's workspace (``OWNER``, ``MEMBER``,
            ``None``).
        visibility: the registry's.
        listed: the roles the registry lists for the user, as themself and through teams.

    The organization's OWNERs administer every registry of it; a listed member has their role;
    an ``organization`` registry lets every other member of the organization link versions
    (``member``); a ``restricted`` one no one else, and no one outside the organization reads
    either.
    """
    if org_role == "OWNER":
        return "admin"
    best = max(listed, key=_RANK.__getitem__, default=None)
    if best is not None and org_role is not None:
        return best
    if org_role is not None and visibility == "organization":
        return "member"
    return None


def registry_out(row: Mapping[str, Any], role: str | None = None) -> dict[str, Any]:
    """A registry's row (``registries`` joined to its project and workspace) as its JSON; with
    the asking user's ``role`` when known."""
    out = {
        "id": row["id"],
        "name": registry_name(row["project"]),
        "full_name": row["project"],
        "organization": row["organization"],
        "entity": row["organization"],
        "project": row["project"],
        "path": f"{row['organization']}/{row['project']}",
        "description": row["description"],
        "visibility": row["visibility"],
        "artifact_types": list(row["artifact_types"] or []),
        "allow_all_artifact_types": bool(row["allow_all_types"]),
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    if role is not None:
        out["role"] = role
    return out


def check_type_accepted(registry: Mapping[str, Any], type_name: str) -> None:
    """``InvalidInput`` naming ``type`` unless the registry accepts artifacts of ``type_name``."""
    if registry["allow_all_artifact_types"] or type_name in registry["artifact_types"]:
        return
    accepted = ", ".join(registry["artifact_types"]) or "none"
    raise InvalidInput(
        f"registry {registry['name']} of {registry['organization']} does not accept artifacts of"
        f" type {type_name!r} (it accepts: {accepted})",
        field="type",
    )
