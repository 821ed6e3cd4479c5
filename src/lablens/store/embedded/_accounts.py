"""Users, API keys, workspaces and teams in the embedded store (projects: ``_projects.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lablens.store import _json
from lablens.store.account_values import (
    api_key_out,
    check_name_free,
    check_role,
    hash_key,
    new_api_key,
    new_key_id,
    user_out,
    workspace_out,
)
from lablens.store.embedded._db import Database, iso, now
from lablens.store.errors import Conflict, NotFound
from lablens.store.names import check_account_name


class Accounts:
    """Part of ``EmbeddedStore``: the people and places runs belong to."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
        user = user_out(row)
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
        return [{**user_out(r), "teams": teams.get(r["username"], [])} for r in rows]

    def set_password(self, username: str, password_hash: str | None) -> None:
        uid = self.user_id(username)
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

    def user_id(self, username: str) -> int:
        """The id of a user; ``NotFound`` when there is none."""
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
        uid = self.user_id(username)
        key = key or new_api_key()
        key_id = new_key_id()
        t = now()
        expires_at = t + expires_in if expires_in else None
        with self.db.write() as con:
            con.execute(
                "INSERT INTO api_keys (id, user_id, key_hash, name, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [key_id, uid, hash_key(key), name, t, expires_at],
            )
        return api_key_out(key_id, key, name, t, expires_at)

    def create_first_admin(self, username: str, *, key: str | None = None) -> dict[str, Any] | None:
        # Under the write lock, held across both writes: this process is the store's one writer.
        with self.db.lock:
            if self.user_count():
                return None
            self.create_user(username, is_admin=True)
            return {"username": username, **self.create_api_key(username, name="admin", key=key)}

    def list_api_keys(self, username: str) -> list[dict[str, Any]]:
        uid = self.user_id(username)
        return self.db.all(
            f"SELECT id, name, {iso('created_at')} AS created_at,"
            f" {iso('expires_at')} AS expires_at FROM api_keys"
            " WHERE user_id = ? ORDER BY created_at",
            [uid],
        )

    def delete_api_key(self, username: str, id_or_key: str) -> None:
        uid = self.user_id(username)
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
        return {**user_out(row), "key_expired": bool(row["key_expired"])}

    # -- workspaces -----------------------------------------------------------------------
    def _workspace_sql(self) -> str:
        return (
            f"SELECT w.id, w.username, w.name, w.kind AS workspace_type, w.profile,"
            f" {iso('w.created_at')} AS created_at FROM workspaces w"
        )

    def get_workspace(self, username: str, *, viewer: str | None = None) -> dict[str, Any]:
        row = self.db.one(self._workspace_sql() + " WHERE w.username = ?", [username])
        if row is None:
            raise NotFound("workspace", username)
        return workspace_out(row, self.role(username, viewer) if viewer else None)

    def list_workspaces(self, viewer: str) -> list[dict[str, Any]]:
        rows = self.db.all(
            self._workspace_sql().replace("FROM workspaces w", ", m.role FROM workspaces w")
            + " JOIN members m ON m.workspace_id = w.id JOIN users u ON u.id = m.user_id"
            " WHERE u.username = ? ORDER BY w.kind = 'TEAM', w.username",
            [viewer],
        )
        return [workspace_out(r, r["role"]) for r in rows]

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
        check_name_free(name, taken["username"] if taken else None)

    def create_team(self, name: str, owner: str) -> dict[str, Any]:
        check_account_name(name, "name")
        uid = self.user_id(owner)
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
        wid = self.workspace_id(workspace)
        return self.db.all(
            "SELECT u.username, u.name, u.email, m.role FROM members m"
            " JOIN users u ON u.id = m.user_id WHERE m.workspace_id = ?"
            " ORDER BY m.role = 'OWNER' DESC, u.username",
            [wid],
        )

    def add_member(self, workspace: str, username: str, role: str) -> dict[str, Any]:
        check_role(role)
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
        uid = self.user_id(username)
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

    def workspace_id(self, username: str) -> int:
        """The id of a workspace (a user's or a team's); ``NotFound`` when there is none."""
        row = self.db.one("SELECT id FROM workspaces WHERE username = ?", [username])
        if row is None:
            raise NotFound("workspace", username)
        return row["id"]
