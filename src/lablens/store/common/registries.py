"""Registries, written once for both engines: an organization's collections of linked artifact
versions (W&B's Registry), with who may read each.

A registry ``model`` of organization (workspace) ``acme`` *is* the project
``acme/wandb-registry-model``: its collections are that project's artifact collections, made by
links (``Store.link_artifact``), its versions their versions, its description the project's. So
aliases, tags, reading, downloading and deleting a registry's versions are the artifact code
there is, and nothing is kept twice. The ``registries`` row holds what a project lacks: the
visibility, the artifact types accepted, and ``registry_members``, who a restricted registry
lets in (a user's own workspace, or a team's for all its members).

The lists (registries, their collections, their versions) are read whole for the registries a
user may read, filtered by ``store/registry_filters.py`` and cut into pages by their sort key
(a keyset over the sorted list): registries hold few objects beside a project's runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lablens.contract.registries import registry_project
from lablens.store.common.accounts import Accounts
from lablens.store.common.artifact_collections import ArtifactCollections
from lablens.store.common.artifact_versions import ArtifactVersions
from lablens.store.common.projects import Projects
from lablens.store.cursors import decode_cursor, encode_cursor
from lablens.store.errors import Conflict, InvalidInput, NotFound
from lablens.store.names import check_project_name
from lablens.store.registry_filters import (
    COLLECTION_FIELDS,
    REGISTRY_FIELDS,
    VERSION_FIELDS,
    compile_filter,
)
from lablens.store.registry_values import (
    check_artifact_types,
    check_registry_name,
    check_registry_role,
    check_registry_visibility,
    checked_registry_changes,
    registry_out,
    registry_role,
)
from lablens.store.sql import Sql, Tx

_C = 'COLLATE "C"'
# Collections are read whole per registry; a registry with more is not a registry any more.
_ALL = 1_000_000


class Registries:
    """A store's part: registries, their members, and the lists across them."""

    def __init__(
        self,
        sql: Sql,
        accounts: Accounts,
        projects: Projects,
        collections: ArtifactCollections,
        versions: ArtifactVersions,
    ) -> None:
        self.sql = sql
        self.accounts = accounts
        self.projects = projects
        self.collections = collections
        self.versions = versions
        self._select = (
            "SELECT p.id, w.username AS organization, p.name AS project, p.description,"
            " r.visibility, r.artifact_types, r.allow_all_types, r.created_by,"
            f" {sql.iso('p.created_at')} AS created_at, {sql.iso('p.updated_at')} AS updated_at"
            " FROM registries r JOIN projects p ON p.id = r.project_id"
            " JOIN workspaces w ON w.id = p.workspace_id"
        )

    # -- one registry ---------------------------------------------------------------------
    def create_registry(
        self,
        organization: str,
        name: str,
        *,
        visibility: str,
        description: str | None = None,
        artifact_types: Sequence[str] | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        name = check_registry_name(name)
        visibility = check_registry_visibility(visibility)
        types = check_artifact_types(list(artifact_types)) if artifact_types else []
        if description is not None and not isinstance(description, str):
            raise InvalidInput("description must be a string", field="description")
        wid = self.accounts.workspace_id(organization)
        project = registry_project(name)
        check_project_name(project, "name")
        t = self.sql.now()
        with self.sql.transaction() as tx:
            # The unique (workspace_id, name) decides between two servers making it at once.
            pid = tx.value(
                "INSERT INTO projects (workspace_id, name, description, labels, visibility,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, 'PRIVATE', ?, ?)"
                " ON CONFLICT (workspace_id, name) DO NOTHING RETURNING id",
                [wid, project, description, [], t, t],
            )
            if pid is None:
                raise Conflict(f"registry {name} of {organization} already exists")
            tx.execute(
                "INSERT INTO registries (project_id, visibility, artifact_types, allow_all_types,"
                " created_by) VALUES (?, ?, ?, ?, ?)",
                [pid, visibility, types, not types, username],
            )
            if username is not None:
                # The maker administers it, also when it is restricted and they are no OWNER.
                tx.execute(
                    "INSERT INTO registry_members (project_id, workspace_id, role)"
                    " SELECT ?, id, 'admin' FROM workspaces WHERE username = ? AND kind = 'PERSON'",
                    [pid, username],
                )
        return self.get_registry(organization, name)

    def _row(self, organization: str, name: str) -> dict[str, Any]:
        row = self.sql.one(
            self._select + " WHERE w.username = ? AND p.name = ?",
            [organization, registry_project(name)],
        )
        if row is None:
            self.accounts.workspace_id(organization)
            raise NotFound("registry", f"{organization}/{registry_project(name)}")
        return row

    def get_registry(self, organization: str, name: str) -> dict[str, Any]:
        return registry_out(self._row(organization, name))

    def registry_role(self, organization: str, name: str, username: str) -> str | None:
        row = self._row(organization, name)
        listed = [
            r["role"]
            for r in self.sql.all(
                "SELECT rm.role FROM registry_members rm WHERE rm.project_id = ?"
                " AND rm.workspace_id IN (SELECT m.workspace_id FROM members m"
                " JOIN users u ON u.id = m.user_id WHERE u.username = ?)",
                [row["id"], username],
            )
        ]
        return registry_role(self.accounts.role(organization, username), row["visibility"], listed)

    def update_registry(
        self, organization: str, name: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        row = self._row(organization, name)
        columns = checked_registry_changes(changes, list(row["artifact_types"] or []))
        description = columns.pop("description", row["description"])
        with self.sql.transaction() as tx:
            if columns:
                sets = ", ".join(f"{c} = ?" for c in columns)
                tx.execute(
                    f"UPDATE registries SET {sets} WHERE project_id = ?",
                    [*columns.values(), row["id"]],
                )
            tx.execute(
                "UPDATE projects SET description = ?, updated_at = ? WHERE id = ?",
                [description, self.sql.now(), row["id"]],
            )
        return self.get_registry(organization, name)

    def registry_project_id(self, organization: str, name: str) -> int:
        """The id of the registry's project; ``NotFound("registry")`` when there is none."""
        return self._row(organization, name)["id"]

    def delete_rows(self, tx: Tx, pid: int) -> None:
        """Forget that project ``pid`` is a registry, inside the caller's transaction deleting
        the project (``delete_project`` of each store class)."""
        tx.execute("DELETE FROM registry_members WHERE project_id = ?", [pid])
        tx.execute("DELETE FROM registries WHERE project_id = ?", [pid])

    # -- members --------------------------------------------------------------------------
    def list_registry_members(self, organization: str, name: str) -> list[dict[str, Any]]:
        pid = self._row(organization, name)["id"]
        rows = self.sql.all(
            "SELECT w.username AS name, w.kind, rm.role FROM registry_members rm"
            " JOIN workspaces w ON w.id = rm.workspace_id WHERE rm.project_id = ?"
            f" ORDER BY w.kind, w.username {_C}",
            [pid],
        )
        return [
            {
                "kind": "team" if r["kind"] == "TEAM" else "user",
                "name": r["name"],
                "role": r["role"],
            }
            for r in rows
        ]

    def _member_workspace(self, member: str, kind: str) -> int:
        if kind not in ("user", "team"):
            raise InvalidInput("kind must be user or team", field="kind")
        row = self.sql.one(
            "SELECT id FROM workspaces WHERE username = ? AND kind = ?",
            [member, "TEAM" if kind == "team" else "PERSON"],
        )
        if row is None:
            raise NotFound(kind, member)
        return row["id"]

    def add_registry_member(
        self, organization: str, name: str, member: str, *, kind: str = "user", role: str = "member"
    ) -> dict[str, Any]:
        role = check_registry_role(role)
        pid = self._row(organization, name)["id"]
        wid = self._member_workspace(member, kind)
        with self.sql.transaction() as tx:
            # Listed again: the new role (W&B's add_members after update_member).
            tx.execute(
                "INSERT INTO registry_members (project_id, workspace_id, role) VALUES (?, ?, ?)"
                " ON CONFLICT (project_id, workspace_id) DO UPDATE SET role = excluded.role",
                [pid, wid, role],
            )
        return {"kind": kind, "name": member, "role": role}

    def remove_registry_member(
        self, organization: str, name: str, member: str, *, kind: str = "user"
    ) -> None:
        pid = self._row(organization, name)["id"]
        wid = self._member_workspace(member, kind)
        with self.sql.transaction() as tx:
            gone = tx.rows(
                "DELETE FROM registry_members WHERE project_id = ? AND workspace_id = ?"
                " RETURNING role",
                [pid, wid],
            )
        if not gone:
            raise NotFound("member", f"{organization}/{registry_project(name)}/{member}")

    # -- lists ----------------------------------------------------------------------------
    def _readable(
        self, organization: str | None, viewer: str | None, registry: str | None = None
    ) -> list[dict[str, Any]]:
        """Every registry ``viewer`` may read (``None``: a server admin, all), of one
        organization when given (and only ``registry`` of it), as JSON with the viewer's
        role, by organization and name."""
        where, params = [], []
        if organization is not None:
            self.accounts.workspace_id(organization)
            where.append("w.username = ?")
            params.append(organization)
        if registry is not None:
            where.append("p.name = ?")
            params.append(registry_project(registry))
        rows = self.sql.all(
            self._select
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + f" ORDER BY w.username {_C}, p.name {_C}",
            params,
        )
        if viewer is None:
            return [registry_out(r, "admin") for r in rows]
        org_roles = {
            r["username"]: r["role"]
            for r in self.sql.all(
                "SELECT w.username, m.role FROM members m"
                " JOIN workspaces w ON w.id = m.workspace_id"
                " JOIN users u ON u.id = m.user_id WHERE u.username = ?",
                [viewer],
            )
        }
        listed: dict[int, list[str]] = {}
        for r in self.sql.all(
            "SELECT rm.project_id, rm.role FROM registry_members rm WHERE rm.workspace_id IN"
            " (SELECT m.workspace_id FROM members m JOIN users u ON u.id = m.user_id"
            " WHERE u.username = ?)",
            [viewer],
        ):
            listed.setdefault(r["project_id"], []).append(r["role"])
        out = []
        for r in rows:
            role = registry_role(
                org_roles.get(r["organization"]), r["visibility"], listed.get(r["id"], [])
            )
            if role is not None:
                out.append(registry_out(r, role))
        return out

    def list_registries(
        self,
        *,
        organization: str | None = None,
        viewer: str | None = None,
        filter: Any = None,  # noqa: A002 - W&B's name
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        keep = compile_filter(filter, REGISTRY_FIELDS)
        found = [r for r in self._readable(organization, viewer) if keep(r)]
        return _page(found, lambda r: [r["organization"], r["name"]], cursor, limit)

    def _collections(
        self,
        organization: str | None,
        registry: str | None,
        viewer: str | None,
        registry_filter: Any,
        filter: Any,  # noqa: A002
        where: str = "filter",
    ) -> list[dict[str, Any]]:
        keep_registry = compile_filter(registry_filter, REGISTRY_FIELDS, "registry_filter")
        keep = compile_filter(filter, COLLECTION_FIELDS, where)
        if registry is not None and organization is not None:
            self._row(organization, registry)
        out = []
        for reg in self._readable(organization, viewer, registry):
            if not keep_registry(reg):
                continue
            page = self.collections.list_artifact_collections(
                reg["organization"], reg["project"], limit=_ALL
            )
            for c in page["items"]:
                if keep(c):
                    out.append({**c, "registry": reg["name"], "organization": reg["organization"]})
        return out

    def list_registry_collections(
        self,
        *,
        organization: str | None = None,
        registry: str | None = None,
        viewer: str | None = None,
        registry_filter: Any = None,
        filter: Any = None,  # noqa: A002 - W&B's name
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        found = self._collections(organization, registry, viewer, registry_filter, filter)
        return _page(found, lambda c: [c["organization"], c["registry"], c["name"]], cursor, limit)

    def list_registry_versions(
        self,
        *,
        organization: str | None = None,
        registry: str | None = None,
        viewer: str | None = None,
        registry_filter: Any = None,
        collection_filter: Any = None,
        filter: Any = None,  # noqa: A002 - W&B's name
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        keep = compile_filter(filter, VERSION_FIELDS)
        found = self._collections(
            organization, registry, viewer, registry_filter, collection_filter, "collection_filter"
        )
        names = {c["id"]: c for c in found}
        rows = (
            self.sql.all(
                self.versions.select + " WHERE a.collection_id = ANY(?::INTEGER[])",
                [list(names)],
            )
            if names
            else []
        )
        out = [
            {**v, "registry": names[v["collection"]["id"]]["registry"]}
            for v in self.versions.artifacts_out(rows)
            if keep(v)
        ]
        # Newest version first within a collection, as a collection's own list.
        return _page(
            out,
            lambda v: [v["entity"], v["project"], v["collection"]["name"], -v["version_index"]],
            cursor,
            limit,
        )


def _named(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": row["name"], "role": row["role"]}


def _page(
    items: list[dict[str, Any]],
    key: Callable[[dict[str, Any]], list[Any]],
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """One page of ``items`` sorted by ``key`` (a keyset: after the cursor's key), as
    ``{items, total, next}``."""
    if not isinstance(limit, int) or limit < 1:
        raise InvalidInput("limit must be a positive integer", field="limit")
    ordered = sorted(items, key=lambda i: [_bytes(v) for v in key(i)])
    total = len(ordered)
    if cursor:
        last = [_bytes(v) for v in decode_cursor(cursor)]
        ordered = [i for i in ordered if [_bytes(v) for v in key(i)] > last]
    page = ordered[:limit]
    nxt = encode_cursor(key(page[-1])) if len(ordered) > limit else None
    return {"items": page, "total": total, "next": nxt}


def _bytes(value: Any) -> Any:
    """A sort value as the SQL lists sort it: text by its bytes (``COLLATE "C"``)."""
    return value.encode() if isinstance(value, str) else value
