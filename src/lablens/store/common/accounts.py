"""Users, API keys, workspaces and teams, for every engine (projects: ``projects.py``).

Several PostgreSQL servers may write at once, so what the embedded store keeps under its one
process's write lock is kept there by the database: a new user or team name is checked and
inserted under the lock :data:`NAMES_LOCK` (names are unique whatever their case, which no
constraint of the schema says), a member is added with ``ON CONFLICT``, a team's members are
locked while its last owner is looked for, and the first admin is made under
``Sql.first_admin_once``. On the embedded engine those locks are its write lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
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
from lablens.store.errors import Conflict, NotFound
from lablens.store.names import check_account_name
from lablens.store.sql import Sql, Tx

#: The lock key under which a user or team name is checked and taken: an arbitrary 64-bit
#: number, the same in every lablens version, unlike the setup lock of ``postgres/_db.py``.
NAMES_LOCK = 0x2F5B_0B0E_2C60_4E1E

# Names sort by their bytes, as DuckDB sorts them, whatever a PostgreSQL database's locale.
_C = 'COLLATE "C"'


class Accounts:
    """A store's part: the people and places runs belong to."""

    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        # The access epoch where this process is the database's only writer (embedded): only
        # its own writes change it, so memory is the truth (Sql.concurrent).
        self._epoch = 0
        # Workspace ids by name. A workspace is never renamed or deleted, so an id once read
        # stays right on every server of the database; only ids that exist are kept.
        self._workspace_ids: dict[str, int] = {}
        # ``profile`` is read as its text, as the embedded store keeps it.
        self._workspace_sql = (
            "SELECT w.id, w.username, w.name, w.kind AS workspace_type,"
            f" w.profile::text AS profile, {sql.iso('w.created_at')} AS created_at"
            " FROM workspaces w"
        )

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
        with self.sql.transaction() as tx:
            self._insert_user(tx, username, name, email, is_admin, password_hash)
        return self.get_user(username)

    def _insert_user(
        self,
        tx: Tx,
        username: str,
        name: str | None,
        email: str | None,
        is_admin: bool,
        password_hash: str | None,
    ) -> int:
        """Insert a user, its PERSON workspace and its ownership of it; the user's id."""
        self._take_name(tx, username)
        t = self.sql.now()
        uid = tx.value(
            "INSERT INTO users (username, name, email, is_admin, password_hash, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            [username, name or username, email, is_admin, password_hash, t],
        )
        wid = tx.value(
            "INSERT INTO workspaces (username, name, kind, profile, created_at)"
            " VALUES (?, ?, 'PERSON', ?, ?) RETURNING id",
            [username, name or username, _json.dumps({"email": email}), t],
        )
        tx.execute("INSERT INTO members VALUES (?, ?, 'OWNER')", [wid, uid])
        return uid

    def get_user(self, username: str) -> dict[str, Any]:
        row = self.sql.one(
            f"SELECT username, name, email, is_admin, {self.sql.iso('created_at')} AS created_at"
            " FROM users WHERE username = ? OR email = ?",
            [username, username],
        )
        if row is None:
            raise NotFound("user", username)
        user = user_out(row)
        user["teams"] = [
            r["username"]
            for r in self.sql.all(
                "SELECT w.username FROM workspaces w JOIN members m ON m.workspace_id = w.id"
                " JOIN users u ON u.id = m.user_id WHERE u.username = ? AND w.kind = 'TEAM'"
                f" ORDER BY w.username {_C}",
                [user["username"]],
            )
        ]
        return user

    def list_users(self, search: str | None = None) -> list[dict[str, Any]]:
        where, params = "", []
        if search:
            where = " WHERE username ILIKE ? OR email ILIKE ?"
            params = [f"%{search}%"] * 2
        rows = self.sql.all(
            f"SELECT username, name, email, is_admin, {self.sql.iso('created_at')} AS created_at"
            f" FROM users{where} ORDER BY id",
            params,
        )
        teams: dict[str, list[str]] = {}
        for r in self.sql.all(
            "SELECT u.username AS member, w.username AS team FROM members m"
            " JOIN workspaces w ON w.id = m.workspace_id JOIN users u ON u.id = m.user_id"
            f" WHERE w.kind = 'TEAM' ORDER BY w.username {_C}"
        ):
            teams.setdefault(r["member"], []).append(r["team"])
        return [{**user_out(r), "teams": teams.get(r["username"], [])} for r in rows]

    def set_password(self, username: str, password_hash: str | None) -> None:
        uid = self.user_id(username)
        with self.sql.transaction() as tx:
            tx.execute("UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, uid])

    def password_hash(self, username: str) -> tuple[str, str | None] | None:
        row = self.sql.one(
            "SELECT username, password_hash FROM users WHERE username = ?"
            " OR email = ? ORDER BY username = ? DESC LIMIT 1",
            [username, username, username],
        )
        return (row["username"], row["password_hash"]) if row else None

    def user_count(self) -> int:
        return self.sql.one("SELECT count(*) AS n FROM users")["n"]

    def user_id(self, username: str) -> int:
        """The id of a user; ``NotFound`` when there is none."""
        row = self.sql.one("SELECT id FROM users WHERE username = ?", [username])
        if row is None:
            raise NotFound("user", username)
        return row["id"]

    def create_first_admin(self, username: str, *, key: str | None = None) -> dict[str, Any] | None:
        check_account_name(username, "username")

        def make(tx: Tx) -> dict[str, Any]:
            uid = self._insert_user(tx, username, None, None, True, None)
            return {"username": username, **self._insert_key(tx, uid, "admin", key, None)}

        # The "no user yet" check and the writes in one transaction under the engine's lock: of
        # several servers starting together on an empty database, the first makes the admin
        # and the others find a user.
        return self.sql.first_admin_once(make)

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
        with self.sql.transaction() as tx:
            return self._insert_key(tx, uid, name, key, expires_in)

    def _insert_key(
        self,
        tx: Tx,
        uid: int,
        name: str | None,
        key: str | None,
        expires_in: dt.timedelta | None,
    ) -> dict[str, Any]:
        key = key or new_api_key()
        key_id = new_key_id()
        t = self.sql.now()
        expires_at = t + expires_in if expires_in else None
        tx.execute(
            "INSERT INTO api_keys (id, user_id, key_hash, name, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [key_id, uid, hash_key(key), name, t, expires_at],
        )
        return api_key_out(key_id, key, name, t, expires_at)

    def list_api_keys(self, username: str) -> list[dict[str, Any]]:
        uid = self.user_id(username)
        # Ordered by the timestamp column, not the text of the same name made from it.
        return self.sql.all(
            f"SELECT id, name, {self.sql.iso('created_at')} AS created_at,"
            f" {self.sql.iso('expires_at')} AS expires_at FROM api_keys"
            " WHERE user_id = ? ORDER BY api_keys.created_at",
            [uid],
        )

    def delete_api_key(self, username: str, id_or_key: str) -> None:
        uid = self.user_id(username)
        with self.changing_access() as tx:
            gone = tx.rows(
                "DELETE FROM api_keys WHERE user_id = ? AND (id = ? OR key_hash = ?) RETURNING id",
                [uid, id_or_key, hash_key(id_or_key)],
            )
        if not gone:
            raise NotFound("key", id_or_key)

    def user_for_key(self, key: str) -> dict[str, Any] | None:
        found = self.key_owner(key)
        if found is None:
            return None
        expires = found.pop("key_expires_at")
        return {**found, "key_expired": expires is not None and expires <= self.sql.now()}

    def key_owner(self, key: str) -> dict[str, Any] | None:
        row = self.sql.one(
            "SELECT u.username, u.name, u.email, u.is_admin,"
            f" {self.sql.iso('u.created_at')} AS created_at, k.expires_at"
            " FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?",
            [hash_key(key)],
        )
        if row is None:
            return None
        expires = row["expires_at"]
        if expires is not None and expires.tzinfo is None:  # DuckDB's TIMESTAMP is UTC
            expires = expires.replace(tzinfo=dt.UTC)
        return {**user_out(row), "key_expires_at": expires}

    # -- the access epoch -----------------------------------------------------------------
    def access_epoch(self) -> int:
        if not self.sql.concurrent:
            return self._epoch
        return int(self.sql.one("SELECT n FROM auth_epoch WHERE id = 1")["n"])

    @contextlib.contextmanager
    def changing_access(self) -> Iterator[Tx]:
        """A transaction that changes who may do what (a key revoked, a member added or
        removed, a project's visibility changed or the project deleted): the access epoch
        moves with its commit, so every server's cache of keys, roles and projects is stale
        for the next request (``server/auth.py``)."""
        with self.sql.transaction() as tx:
            yield tx
            if self.sql.concurrent:
                # In the transaction: a server that reads the new epoch reads the change too.
                tx.execute("UPDATE auth_epoch SET n = n + 1 WHERE id = 1")
        # After the commit: what a reader cached before it is tagged with the old epoch.
        self._epoch += 1

    # -- workspaces -----------------------------------------------------------------------
    def get_workspace(self, username: str, *, viewer: str | None = None) -> dict[str, Any]:
        row = self.sql.one(self._workspace_sql + " WHERE w.username = ?", [username])
        if row is None:
            raise NotFound("workspace", username)
        return workspace_out(row, self.role(username, viewer) if viewer else None)

    def list_workspaces(self, viewer: str) -> list[dict[str, Any]]:
        rows = self.sql.all(
            self._workspace_sql.replace(" FROM workspaces w", ", m.role FROM workspaces w")
            + " JOIN members m ON m.workspace_id = w.id JOIN users u ON u.id = m.user_id"
            f" WHERE u.username = ? ORDER BY w.kind = 'TEAM', w.username {_C}",
            [viewer],
        )
        return [workspace_out(r, r["role"]) for r in rows]

    def role(self, workspace: str, username: str) -> str | None:
        row = self.sql.one(
            "SELECT m.role FROM members m JOIN workspaces w ON w.id = m.workspace_id"
            " JOIN users u ON u.id = m.user_id WHERE w.username = ? AND u.username = ?",
            [workspace, username],
        )
        return row["role"] if row else None

    # -- teams ----------------------------------------------------------------------------
    @staticmethod
    def _take_name(tx: Tx, name: str) -> None:
        """Refuse a name taken whatever its case, holding :data:`NAMES_LOCK` until the caller's
        transaction ends: two servers making ``Alice`` and ``alice`` at once make one of them."""
        tx.lock(NAMES_LOCK)
        taken = tx.value("SELECT username FROM workspaces WHERE lower(username) = lower(?)", [name])
        check_name_free(name, taken)

    def create_team(self, name: str, owner: str) -> dict[str, Any]:
        check_account_name(name, "name")
        uid = self.user_id(owner)
        with self.sql.transaction() as tx:
            self._take_name(tx, name)
            wid = tx.value(
                "INSERT INTO workspaces (username, name, kind, profile, created_at)"
                " VALUES (?, ?, 'TEAM', '{}', ?) RETURNING id",
                [name, name, self.sql.now()],
            )
            tx.execute("INSERT INTO members VALUES (?, ?, 'OWNER')", [wid, uid])
        return self.get_workspace(name, viewer=owner)

    def _team_id(self, workspace: str) -> int:
        row = self.sql.one("SELECT id, kind FROM workspaces WHERE username = ?", [workspace])
        if row is None or row["kind"] != "TEAM":
            raise NotFound("team", workspace)
        return row["id"]

    def list_members(self, workspace: str) -> list[dict[str, Any]]:
        wid = self.workspace_id(workspace)
        return self.sql.all(
            "SELECT u.username, u.name, u.email, m.role FROM members m"
            " JOIN users u ON u.id = m.user_id WHERE m.workspace_id = ?"
            f" ORDER BY m.role = 'OWNER' DESC, u.username {_C}",
            [wid],
        )

    def add_member(self, workspace: str, username: str, role: str) -> dict[str, Any]:
        check_role(role)
        wid = self._team_id(workspace)
        user = self.sql.one(
            "SELECT id, username FROM users WHERE username = ? OR email = ?"
            " ORDER BY username = ? DESC LIMIT 1",
            [username, username, username],
        )
        if user is None:
            raise NotFound("user", username)
        with self.changing_access() as tx:
            # The key (workspace_id, user_id) decides: another server may add the same member.
            added = tx.rows(
                "INSERT INTO members VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING role",
                [wid, user["id"], role],
            )
        if not added:
            raise Conflict(f"{user['username']} is already a member of {workspace}")
        return next(m for m in self.list_members(workspace) if m["username"] == user["username"])

    def remove_member(self, workspace: str, username: str) -> None:
        wid = self._team_id(workspace)
        uid = self.user_id(username)
        with self.changing_access() as tx:
            # The team's member rows locked: two owners removing each other at once through two
            # servers cannot both see the other still there and leave the team with no owner.
            roles = dict(
                tx.rows(
                    "SELECT user_id, role FROM members WHERE workspace_id = ?"
                    + self.sql.if_concurrent(" FOR UPDATE"),
                    [wid],
                )
            )
            if uid not in roles:
                raise NotFound("member", f"{workspace}/{username}")
            owners = sum(1 for r in roles.values() if r == "OWNER")
            if roles[uid] == "OWNER" and owners == 1:
                raise Conflict(
                    f"{username} is the last owner of {workspace}; make another"
                    " member an owner first"
                )
            tx.execute("DELETE FROM members WHERE workspace_id = ? AND user_id = ?", [wid, uid])

    def workspace_id(self, username: str) -> int:
        """The id of a workspace (a user's or a team's); ``NotFound`` when there is none."""
        found = self._workspace_ids.get(username)
        if found is not None:
            return found
        row = self.sql.one("SELECT id FROM workspaces WHERE username = ?", [username])
        if row is None:
            raise NotFound("workspace", username)
        if len(self._workspace_ids) >= 100_000:
            self._workspace_ids.clear()
        self._workspace_ids[username] = row["id"]
        return row["id"]
