"""The ``Store`` interface's methods for users, API keys, workspaces and teams (a workspace is a
user's own or a team's)."""

from __future__ import annotations

import abc
import datetime as dt
from typing import Any


class AccountStore(abc.ABC):
    """Users, API keys, workspaces and teams."""

    # -- users and keys -------------------------------------------------------------------
    @abc.abstractmethod
    def create_user(
        self,
        username: str,
        *,
        name: str | None = None,
        email: str | None = None,
        is_admin: bool = False,
        password_hash: str | None = None,
    ) -> dict[str, Any]:
        """Create a user and its PERSON workspace (owned by it)."""

    @abc.abstractmethod
    def get_user(self, username: str) -> dict[str, Any]:
        """One user by username; ``NotFound("user", ...)`` when absent."""

    @abc.abstractmethod
    def list_users(self, search: str | None = None) -> list[dict[str, Any]]:
        """Every user, or those whose username or email contains ``search``."""

    @abc.abstractmethod
    def set_password(self, username: str, password_hash: str | None) -> None:
        """Store a user's password hash (made by the server's KDF); ``None`` removes it."""

    @abc.abstractmethod
    def password_hash(self, username: str) -> tuple[str, str | None] | None:
        """``(username, hash)`` of the user with this username or email, or ``None``."""

    @abc.abstractmethod
    def user_count(self) -> int:
        """How many users exist (0 on a new data dir)."""

    @abc.abstractmethod
    def create_api_key(
        self,
        username: str,
        *,
        name: str | None = None,
        key: str | None = None,
        expires_in: dt.timedelta | None = None,
    ) -> dict[str, Any]:
        """Make a key (or store the one given); the answer holds it, the store only its hash.

        A new key is ``ll_`` and 48 hex characters (no ``-``, 40+ characters, as every client
        wants); its public ``id`` is random, nothing of the key. ``expires_in`` from now ends it
        (``expires_at`` in the answer); ``None``: it lasts until revoked.
        """

    @abc.abstractmethod
    def create_first_admin(self, username: str, *, key: str | None = None) -> dict[str, Any] | None:
        """Make the first user: ``username``, an admin, with an API key named ``admin`` (``key``,
        else a new one), if and only if the store has no user yet.

        Returns ``create_api_key``'s answer with ``username`` in it, or ``None`` when a user
        exists. Of several servers sharing one store and starting together, exactly one makes it.
        """

    @abc.abstractmethod
    def list_api_keys(self, username: str) -> list[dict[str, Any]]:
        """The user's keys, without the keys themselves."""

    @abc.abstractmethod
    def delete_api_key(self, username: str, id_or_key: str) -> None:
        """Revoke one of the user's keys, named by its id or the key itself."""

    @abc.abstractmethod
    def user_for_key(self, key: str) -> dict[str, Any] | None:
        """The user a key belongs to, or ``None`` for an unknown or revoked key.

        ``key_expired`` in the answer is true for a key past its ``expires_at``.
        """

    @abc.abstractmethod
    def key_owner(self, key: str) -> dict[str, Any] | None:
        """The user a key belongs to with ``key_expires_at`` (an aware datetime, ``None`` for a
        key that never expires), or ``None`` for an unknown or revoked key: what a server may
        cache until :meth:`access_epoch` moves."""

    @abc.abstractmethod
    def access_epoch(self) -> int:
        """A number that moves whenever who may do what changes: a key revoked, a member added
        or removed, a project's visibility changed or the project deleted (written in the
        transaction of the change, so every server of a database sees it with the change).
        Servers cache keys, roles and projects under it (``server/auth.py``)."""

    #: Whether :meth:`access_epoch` is a number in memory (no database read): then a server
    #: may ask it, and its cache, on the event loop, without a worker thread.
    access_epoch_in_memory: bool = False

    # -- workspaces -----------------------------------------------------------------------
    @abc.abstractmethod
    def get_workspace(self, username: str, *, viewer: str | None = None) -> dict[str, Any]:
        """One workspace, with ``role`` the viewer's role in it (or ``None``)."""

    @abc.abstractmethod
    def list_workspaces(self, viewer: str) -> list[dict[str, Any]]:
        """The workspaces the viewer belongs to, personal first."""

    @abc.abstractmethod
    def role(self, workspace: str, username: str) -> str | None:
        """``OWNER``, ``MEMBER`` or ``None``."""

    # -- teams ----------------------------------------------------------------------------
    @abc.abstractmethod
    def create_team(self, name: str, owner: str) -> dict[str, Any]:
        """Create a TEAM workspace with ``owner`` as its first OWNER; ``Conflict`` if taken."""

    @abc.abstractmethod
    def list_members(self, workspace: str) -> list[dict[str, Any]]:
        """The members of a workspace: ``{username, name, email, role}``, owners first."""

    @abc.abstractmethod
    def add_member(self, workspace: str, username: str, role: str) -> dict[str, Any]:
        """Add a user (by username or email) to a TEAM workspace; ``Conflict`` if a member."""

    @abc.abstractmethod
    def remove_member(self, workspace: str, username: str) -> None:
        """Remove a member from a TEAM workspace; ``Conflict`` for its last OWNER."""
