"""Users, API keys, workspaces and projects in the embedded store."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from lablens.store import _json
from lablens.store.embedded._db import Database, iso, now
from lablens.store.errors import Conflict, InvalidInput, NotFound
from lablens.store.names import check_account_name, check_project_name
from lablens.store.ordering import cut_page, decode_cursor

KEY_PREFIX = "ll_"
# 24 random bytes as 48 hex characters: W&B's client takes a key's part after its first '-' as
# the secret and wants 40+ word characters of it, so a key has no '-' and is long enough.
KEY_BYTES = 24
PROJECT_SORTS = {"created_at": "p.created_at", "updated_at": "p.updated_at", "name": "p.name"}


def hash_key(key: str) -> str:
    """sha256 of an API key: keys are long random strings, so a fast hash is safe."""
    return hashlib.sha256(key.encode()).hexdigest()


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _user_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "username": row["username"],
        "name": row["name"],
        "email": row["email"],
        "is_admin": bool(row["is_admin"]),
        "created_at": row["created_at"],
    }


class Accounts:
    """Mixin of ``EmbeddedStore``: the people and places runs belong to."""

    db: Database

    # -- users ----------------------------------------------------------------------------
    def create_user(
        self,
        username: str,
        *,
        name: str | None = None,
        email: str | None = None,
        is_admin: bool = False,
        password_hash: str | None = None,
    ) -> dict[str, Any]:
        check_account_name(username, "username")
        with self.db.write() as con:
            self._name_free(username)
            t = now()
            uid = con.execute(
                "INSERT INTO users (username, name, email, is_admin, password_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                [username, name or username, email, is_admin, password_hash, t],
            ).fetchone()[0]
            wid = con.execute(
                "INSERT INTO workspaces (username, name, kind, profile, created_at)"
                " VALUES (?, ?, 'PERSON', ?, ?) RETURNING id",
                [username, name or username, _json.dumps({"email": email}), t],
            ).fetchone()[0]
            con.execute("INSERT INTO members VALUES (?, ?, 'OWNER')", [wid, uid])
        return self.get_user(username)

    def get_user(self, username: str) -> dict[str, Any]:
        row = self.db.one(
            f"SELECT username, name, email, is_admin, {iso('created_at')} AS created_at"
            " FROM users WHERE username = ? OR email = ?",
            [username, username],
        )
        if row is None:
            raise NotFound("user", username)
        user = _user_row(row)
        user["teams"] = [
            r["username"]
            for r in self.db.all(
                "SELECT w.username FROM workspaces w JOIN members m ON m.workspace_id = w.id"
                " JOIN users u ON u.id = m.user_id WHERE u.username = ? AND w.kind = 'TEAM'"
                " ORDER BY w.username",
                [user["username"]],
            )
        ]
        return user

    def list_users(self, search: str | None = None) -> list[dict[str, Any]]:
        where, params = "", []
        if search:
            where = " WHERE username ILIKE ? OR email ILIKE ?"
            params = [f"%{search}%"] * 2
        rows = self.db.all(
            f"SELECT username, name, email, is_admin, {iso('created_at')} AS created_at"
            f" FROM users{where} ORDER BY id",
            params,
        )
        teams: dict[str, list[str]] = {}
        for r in self.db.all(
            "SELECT u.username AS member, w.username AS team FROM members m"
            " JOIN workspaces w ON w.id = m.workspace_id JOIN users u ON u.id = m.user_id"
            " WHERE w.kind = 'TEAM' ORDER BY w.username"
        ):
            teams.setdefault(r["member"], []).append(r["team"])
        return [{**_user_row(r), "teams": teams.get(r["username"], [])} for r in rows]

    def set_password(self, username: str, password_hash: str | None) -> None:
        uid = self._user_id(username)
        with self.db.write() as con:
            con.execute("UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, uid])

    def password_hash(self, username: str) -> tuple[str, str | None] | None:
        row = self.db.one(
            "SELECT username, password_hash FROM users WHERE username = ?"
            " OR email = ? ORDER BY username = ? DESC LIMIT 1",
            [username, username, username],
        )
        return (row["username"], row["password_hash"]) if row else None

    def user_count(self) -> int:
        return self.db.one("SELECT count(*) AS n FROM users")["n"]

    def _user_id(self, username: str) -> int:
        row = self.db.one("SELECT id FROM users WHERE username = ?", [username])
        if row is None:
            raise NotFound("user", username)
        return row["id"]

    # -- API keys -------------------------------------------------------------------------
    def create_api_key(
        self,
        username: str,
        *,
        name: str | None = None,
        key: str | None = None,
        expires_in: dt.timedelta | None = None,
    ) -> dict[str, Any]:
        uid = self._user_id(username)
        key = key or KEY_PREFIX + secrets.token_hex(KEY_BYTES)
        # The public id is random: an id shown in lists and logs tells nothing of the key.
        # (Keys made before schema 4 keep their ids, which held the key's first 8 characters.)
        key_id = secrets.token_hex(6)
        t = now()
        expires_at = t + expires_in if expires_in else None
        with self.db.write() as con:
            con.execute(
                "INSERT INTO api_keys (id, user_id, key_hash, name, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [key_id, uid, hash_key(key), name, t, expires_at],
            )
        return {
            "id": key_id,
            "key": key,
            "name": name,
            "created_at": _iso(t),
            "expires_at": _iso(expires_at) if expires_at else None,
        }

    def list_api_keys(self, username: str) -> list[dict[str, Any]]:
        uid = self._user_id(username)
        return self.db.all(
            f"SELECT id, name, {iso('created_at')} AS created_at,"
            f" {iso('expires_at')} AS expires_at FROM api_keys"
            " WHERE user_id = ? ORDER BY created_at",
            [uid],
        )

    def delete_api_key(self, username: str, id_or_key: str) -> None:
        uid = self._user_id(username)
        with self.db.write() as con:
            gone = con.execute(
                "DELETE FROM api_keys WHERE user_id = ? AND (id = ? OR key_hash = ?) RETURNING id",
                [uid, id_or_key, hash_key(id_or_key)],
            ).fetchall()
        if not gone:
            raise NotFound("key", id_or_key)

    def user_for_key(self, key: str) -> dict[str, Any] | None:
        row = self.db.one(
            f"SELECT u.username, u.name, u.email, u.is_admin, {iso('u.created_at')} AS created_at,"
            " coalesce(k.expires_at <= now(), false) AS key_expired"
            " FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?",
            [hash_key(key)],
        )
        if row is None:
            return None
        return {**_user_row(row), "key_expired": bool(row["key_expired"])}

    # -- workspaces -----------------------------------------------------------------------
    def _workspace_sql(self) -> str:
        return (
            f"SELECT w.id, w.username, w.name, w.kind AS workspace_type, w.profile,"
            f" {iso('w.created_at')} AS created_at FROM workspaces w"
        )

    def _workspace_out(self, row: dict[str, Any], role: str | None) -> dict[str, Any]:
        out = {k: row[k] for k in ("username", "name", "workspace_type", "created_at")}
        out["profile"] = _json.loads(row["profile"]) or {}
        out["role"] = role
        return out

    def get_workspace(self, username: str, *, viewer: str | None = None) -> dict[str, Any]:
        row = self.db.one(self._workspace_sql() + " WHERE w.username = ?", [username])
        if row is None:
            raise NotFound("workspace", username)
        return self._workspace_out(row, self.role(username, viewer) if viewer else None)

    def list_workspaces(self, viewer: str) -> list[dict[str, Any]]:
        rows = self.db.all(
            self._workspace_sql().replace("FROM workspaces w", ", m.role FROM workspaces w")
            + " JOIN members m ON m.workspace_id = w.id JOIN users u ON u.id = m.user_id"
            " WHERE u.username = ? ORDER BY w.kind = 'TEAM', w.username",
            [viewer],
        )
        return [self._workspace_out(r, r["role"]) for r in rows]

    def role(self, workspace: str, username: str) -> str | None:
        row = self.db.one(
            "SELECT m.role FROM members m JOIN workspaces w ON w.id = m.workspace_id"
            " JOIN users u ON u.id = m.user_id WHERE w.username = ? AND u.username = ?",
            [workspace, username],
        )
        return row["role"] if row else None

    # -- teams ----------------------------------------------------------------------------
    def _name_free(self, name: str) -> None:
        # Under the write lock: users and teams share one namespace, whatever the case.
        taken = self.db.one(
            "SELECT username FROM workspaces WHERE lower(username) = lower(?)", [name]
        )
        if taken and taken["username"] == name:
            raise Conflict(f"the name {name!r} is already taken")
        if taken:
            raise Conflict(
                f"the name {name!r} is already taken as {taken['username']!r}: names that differ"
                " only in case are one name"
            )

    def create_team(self, name: str, owner: str) -> dict[str, Any]:
        check_account_name(name, "name")
        uid = self._user_id(owner)
        with self.db.write() as con:
            self._name_free(name)
            wid = con.execute(
                "INSERT INTO workspaces (username, name, kind, profile, created_at)"
                " VALUES (?, ?, 'TEAM', '{}', ?) RETURNING id",
                [name, name, now()],
            ).fetchone()[0]
            con.execute("INSERT INTO members VALUES (?, ?, 'OWNER')", [wid, uid])
        return self.get_workspace(name, viewer=owner)

    def _team_id(self, workspace: str) -> int:
        row = self.db.one("SELECT id, kind FROM workspaces WHERE username = ?", [workspace])
        if row is None or row["kind"] != "TEAM":
            raise NotFound("team", workspace)
        return row["id"]

    def list_members(self, workspace: str) -> list[dict[str, Any]]:
        wid = self._workspace_id(workspace)
        return self.db.all(
            "SELECT u.username, u.name, u.email, m.role FROM members m"
            " JOIN users u ON u.id = m.user_id WHERE m.workspace_id = ?"
            " ORDER BY m.role = 'OWNER' DESC, u.username",
            [wid],
        )

    def add_member(self, workspace: str, username: str, role: str) -> dict[str, Any]:
        if role not in ("OWNER", "MEMBER"):
            raise InvalidInput("role must be OWNER or MEMBER", field="role")
        wid = self._team_id(workspace)
        user = self.db.one(
            "SELECT id, username FROM users WHERE username = ? OR email = ?"
            " ORDER BY username = ? DESC LIMIT 1",
            [username, username, username],
        )
        if user is None:
            raise NotFound("user", username)
        with self.db.write() as con:
            if self.db.one(
                "SELECT 1 FROM members WHERE workspace_id = ? AND user_id = ?", [wid, user["id"]]
            ):
                raise Conflict(f"{user['username']} is already a member of {workspace}")
            con.execute("INSERT INTO members VALUES (?, ?, ?)", [wid, user["id"], role])
        return next(m for m in self.list_members(workspace) if m["username"] == user["username"])

    def remove_member(self, workspace: str, username: str) -> None:
        wid = self._team_id(workspace)
        uid = self._user_id(username)
        with self.db.write() as con:
            row = self.db.one(
                "SELECT role FROM members WHERE workspace_id = ? AND user_id = ?", [wid, uid]
            )
            if row is None:
                raise NotFound("member", f"{workspace}/{username}")
            owners = self.db.one(
                "SELECT count(*) AS n FROM members WHERE workspace_id = ? AND role = 'OWNER'", [wid]
            )["n"]
            if row["role"] == "OWNER" and owners == 1:
                raise Conflict(
                    f"{username} is the last owner of {workspace}; make another"
                    " member an owner first"
                )
            con.execute("DELETE FROM members WHERE workspace_id = ? AND user_id = ?", [wid, uid])

    def _workspace_id(self, username: str) -> int:
        row = self.db.one("SELECT id FROM workspaces WHERE username = ?", [username])
        if row is None:
            raise NotFound("workspace", username)
        return row["id"]

    # -- projects -------------------------------------------------------------------------
    def _project_sql(self) -> str:
        return (
            "SELECT p.id, w.username AS entity, p.name, p.description, p.labels, p.visibility,"
            f" {iso('p.created_at')} AS created_at, {iso('p.updated_at')} AS updated_at,"
            " (SELECT count(*) FROM runs r WHERE r.project_id = p.id) AS run_count"
            " FROM projects p JOIN workspaces w ON w.id = p.workspace_id"
        )

    @staticmethod
    def _project_out(row: dict[str, Any]) -> dict[str, Any]:
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

    def create_project(
        self,
        workspace: str,
        name: str,
        *,
        description: str | None = None,
        labels: Sequence[str] = (),
        visibility: str = "PRIVATE",
        exist_ok: bool = False,
    ) -> dict[str, Any]:
        visibility = (visibility or "PRIVATE").upper()
        if visibility not in ("PUBLIC", "PRIVATE"):
            raise InvalidInput("visibility must be PUBLIC or PRIVATE", field="visibility")
        wid = self._workspace_id(workspace)
        with self.db.write() as con:
            if self.db.one(
                "SELECT 1 FROM projects WHERE workspace_id = ? AND name = ?", [wid, name]
            ):
                if not exist_ok:
                    raise Conflict(f"project {workspace}/{name} already exists")
            else:
                # Only a new name is checked, so projects named before the rule keep working.
                check_project_name(name)
                t = now()
                con.execute(
                    "INSERT INTO projects (workspace_id, name, description, labels, visibility,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [wid, name, description, list(labels), visibility, t, t],
                )
        return self.get_project(workspace, name)

    def get_project(self, workspace: str, name: str) -> dict[str, Any]:
        row = self.db.one(
            self._project_sql() + " WHERE w.username = ? AND p.name = ?", [workspace, name]
        )
        if row is None:
            self._workspace_id(workspace)
            raise NotFound("project", f"{workspace}/{name}")
        return self._project_out(row)

    def _project_id(self, workspace: str, name: str) -> int:
        row = self.db.one(
            "SELECT p.id FROM projects p JOIN workspaces w ON w.id = p.workspace_id"
            " WHERE w.username = ? AND p.name = ?",
            [workspace, name],
        )
        if row is None:
            self._workspace_id(workspace)
            raise NotFound("project", f"{workspace}/{name}")
        return row["id"]

    def list_projects(
        self,
        workspace: str,
        *,
        sort: str | None = None,
        search: str | None = None,
        cursor: str | None = None,
        limit: int = 200,
        viewer: str | None = None,
    ) -> dict[str, Any]:
        self._workspace_id(workspace)
        desc = bool(sort) and sort.startswith("-")
        key = (sort or "created_at").lstrip("+-")
        if key not in PROJECT_SORTS:
            raise InvalidInput(f"sort must be one of {sorted(PROJECT_SORTS)}", field="sort")
        col = PROJECT_SORTS[key]
        where = ["w.username = ?"]
        params: list[Any] = [workspace]
        if viewer is not None and self.role(workspace, viewer) is None:
            where.append("p.visibility = 'PUBLIC'")
        if search:
            where.append("p.name ILIKE ?")
            params.append(f"%{search}%")
        total = self.db.one(
            "SELECT count(*) AS n FROM projects p JOIN workspaces w ON w.id = p.workspace_id"
            f" WHERE {' AND '.join(where)}",
            params,
        )["n"]
        op = "<" if desc else ">"
        if cursor:
            last_value, last_id = decode_cursor(cursor)
            where.append(f"({col}, p.id) {op} (?, ?)")
            params += [last_value, last_id]
        direction = "DESC" if desc else "ASC"
        rows = self.db.all(
            self._project_sql().replace(" FROM projects p", f", {col} AS _sort FROM projects p")
            + f" WHERE {' AND '.join(where)} ORDER BY {col} {direction}, p.id {direction}"
            " LIMIT ?",
            [*params, limit + 1],
        )
        rows, nxt = cut_page(rows, limit, "_sort", "id")
        return {"items": [self._project_out(r) for r in rows], "total": total, "next": nxt}

    def update_project(
        self, workspace: str, name: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        pid = self._project_id(workspace, name)
        sets: list[str] = []
        params: list[Any] = []
        if "description" in changes:
            value = changes["description"]
            if value is not None and not isinstance(value, str):
                raise InvalidInput("description must be a string", field="description")
            sets.append("description = ?")
            params.append(value)
        if "labels" in changes:
            labels = changes["labels"] or []
            if not isinstance(labels, list) or not all(isinstance(v, str) for v in labels):
                raise InvalidInput("labels must be a list of strings", field="labels")
            sets.append("labels = ?")
            params.append(labels)
        if "visibility" in changes:
            visibility = str(changes["visibility"] or "").upper()
            if visibility not in ("PUBLIC", "PRIVATE"):
                raise InvalidInput("visibility must be PUBLIC or PRIVATE", field="visibility")
            sets.append("visibility = ?")
            params.append(visibility)
        if sets:
            with self.db.write() as con:
                con.execute(
                    f"UPDATE projects SET {', '.join(sets)}, updated_at = ? WHERE id = ?",
                    [*params, now(), pid],
                )
        return self.get_project(workspace, name)

    def delete_project(self, workspace: str, name: str) -> None:
        pid = self._project_id(workspace, name)
        runs = "(SELECT pk FROM runs WHERE project_id = ?)"
        with self.db.write() as con:
            self._delete_project_artifacts(con, pid, f"{workspace}/{name}")  # type: ignore[attr-defined]
            for table in ("points", "point_tiles", "run_keys", "batches", "files", "console"):
                con.execute(f"DELETE FROM {table} WHERE run_pk IN {runs}", [pid])
            con.execute(
                "DELETE FROM sweep_trials WHERE sweep_pk IN"
                " (SELECT pk FROM sweeps WHERE project_id = ?)",
                [pid],
            )
            for table in ("runs", "sweeps", "reports", "project_fields"):
                con.execute(f"DELETE FROM {table} WHERE project_id = ?", [pid])
            con.execute("DELETE FROM projects WHERE id = ?", [pid])

    def project_fields(self, workspace: str, project: str) -> dict[str, dict[str, str]]:
        pid = self._project_id(workspace, project)
        out: dict[str, dict[str, str]] = {"config": {}, "summary": {}}
        for r in self.db.all(
            "SELECT kind, key, type FROM project_fields WHERE project_id = ? ORDER BY key", [pid]
        ):
            out[r["kind"]][r["key"]] = r["type"]
        return out
