"""The user and team methods of ``Api``: ``user()``, ``users()``, ``create_user()``,
``create_team()`` and ``team()``. A part of ``Api`` (see ``_api_part.py``); each method builds a
route, calls the transport, and returns a resource from ``users.py`` or ``teams.py``."""

from __future__ import annotations

from typing import Any

from lablens.api._api_part import ApiPart
from lablens.api.teams import Team
from lablens.api.users import User
from lablens.contract import paths
from lablens.contract.routes import API, team_route, user_route
from lablens.errors import UsageError, UserNotFound


class ApiAccounts(ApiPart):
    """``Api.user()``, ``users()``, ``create_user()``, ``create_team()`` and ``team()``."""

    def user(
        self, username_or_email: str | None = None, *, username: str | None = None
    ) -> User | None:
        """A user by username or email; by default the signed-in one (as ``viewer``).

        Args:
            username_or_email: the user's username or email address (W&B); ``None`` for the
                signed-in user (SwanLab's ``api.user()``).
            username: the same, under SwanLab's keyword.

        Returns:
            The ``User``, or ``None`` when there is no such user (as W&B's ``user()``). For
            another user, the email and the teams you do not share are not shown.

        Example:
            >>> me = api.user()
            >>> me.username, me.is_self, me.teams, me.api_keys
            >>> api.user("bob@example.com")
        """
        name = username_or_email or username
        if name is None or name == self.viewer.username:
            return self.viewer
        try:
            data = self._transport.get_json(user_route(name))
        except UserNotFound:
            return None
        return User.from_json(self._api, data)

    def users(self, username_or_email: str | None = None) -> list[User]:
        """Every user of the server, or those whose username or email contains the text given
        (administrators only).

        Args:
            username_or_email: only users whose username or email contains this text.

        Returns:
            A list of ``User``.

        Raises:
            PermissionDenied: the signed-in user is not an administrator.

        Example:
            >>> for user in api.users():
            ...     print(user.username, user.is_self, user.teams)
            >>> api.users("@example.com")
        """
        params: dict[str, Any] = {}
        if username_or_email:
            params["search"] = username_or_email
        found: list[User] = []
        while True:
            page = self._transport.get_json(f"{API}/users", params=params or None)
            items = page if isinstance(page, list) else page.get("items", [])
            found += [User.from_json(self._api, u) for u in items]
            cursor = None if isinstance(page, list) else page.get("next")
            if not cursor or not items:
                return found
            params["cursor"] = cursor

    def create_user(
        self,
        email: str | None = None,
        admin: bool = False,
        *,
        username: str | None = None,
        password: str | None = None,
        name: str | None = None,
    ) -> User:
        """Create a user (administrators only), as W&B's ``create_user(email, admin)``.

        Args:
            email: the user's email address; the username is the part before the ``@`` (made
                unique) unless ``username`` is given.
            admin: make the user an administrator of the server.
            username: the new user's username.
            password: lets the user sign in with ``lablens login --username``.
            name: the display name.

        Returns:
            The new ``User``; ``user.api_key`` holds its first API key, shown only now.

        Raises:
            PermissionDenied: the signed-in user is not an administrator.
            Conflict: the username is taken.
            UsageError: neither ``email`` nor ``username`` is given.

        Example:
            >>> bob = api.create_user("bob@example.com")
            >>> bob.username, bob.api_key
        """
        if not email and not username:
            raise UsageError("create_user() needs an email or a username")
        body = {
            "username": username,
            "email": email,
            "is_admin": bool(admin),
            "password": password,
            "name": name,
        }
        data = self._transport.post_json(
            f"{API}/users", {k: v for k, v in body.items() if v is not None}
        )
        return User.from_json(self._api, data, is_self=False)

    def create_team(self, team: str, admin_username: str | None = None) -> Team:
        """Create a team: a shared workspace whose members log runs into its projects.

        Args:
            team: the team's name, unique among users and teams.
            admin_username: the team's first OWNER; by default you. Naming someone else needs
                an administrator.

        Returns:
            The new ``Team``.

        Raises:
            Conflict: the name is taken by a user or a team.
            PermissionDenied: ``admin_username`` is someone else and you are not an admin.

        Example:
            >>> team = api.create_team("vision")
            >>> team.invite("bob")
        """
        body: dict[str, Any] = {"name": team}
        if admin_username:
            body["admin_username"] = admin_username
        return Team.from_json(self._api, self._transport.post_json(f"{API}/teams", body))

    def team(self, team: str) -> Team:
        """A team with its members (visible to its members and to admins).

        Args:
            team: the team's name.

        Returns:
            The ``Team``.

        Raises:
            TeamNotFound: there is no such team, or you are not one of its members.

        Example:
            >>> [(m.username, m.role) for m in api.team("vision").members]
        """
        name = paths.parse_workspace(team)
        return Team.from_json(self._api, self._transport.get_json(team_route(name)))
