"""``User``: an account on the server, its teams and its API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lablens.api._attrs import Attrs
from lablens.contract.routes import API, VIEWER, quote_segment, user_route

if TYPE_CHECKING:
    from lablens.api.api import Api

__all__ = ["User"]


class User(Attrs):
    """A user of the server.

    ``api.user()`` (or ``api.viewer``) is the signed-in user; ``api.user("bob")`` another one.
    API keys can be listed, made and deleted for yourself, and by admins for anyone.

    Example:
        >>> me = api.user()
        >>> me.username, me.is_self, me.teams
        ('alice', True, [])
        >>> key = me.generate_api_key()
        >>> me.delete_api_key(key)
    """

    username: str
    """The user's unique name."""
    name: str | None
    """The user's display name."""
    email: str | None
    """The user's email address."""
    is_admin: bool
    """Whether the user administers the server."""
    teams: list[Any]
    """The teams (workspaces of type ``TEAM``) the user belongs to."""
    default_entity: str | None
    """The workspace runs go to when no entity is given (the user's own)."""

    def __init__(
        self, api: Api, attrs: dict[str, Any] | None = None, *, is_self: bool | None = None
    ):
        self._is_self = is_self
        super().__init__(api, attrs)

    @classmethod
    def from_json(cls, api: Api, data: dict[str, Any], *, is_self: bool | None = None) -> User:
        """Build a user from the server's JSON answer.

        Args:
            api: the ``Api`` the user talks through.
            data: the JSON object the server answered.
            is_self: whether this is the signed-in user; ``None`` works it out when asked.

        Returns:
            The ``User``.
        """
        return cls(api, data, is_self=is_self)

    def _load(self, data: dict[str, Any]) -> None:
        self.username = data.get("username") or ""
        self.name = data.get("name")
        self.email = data.get("email")
        self.is_admin = bool(data.get("is_admin", False))
        self.teams = list(data.get("teams") or [])
        self.default_entity = data.get("default_entity") or self.username or None

    @property
    def is_self(self) -> bool:
        """Whether this user is the signed-in user."""
        if self._is_self is None:
            self._is_self = self.username == self._api.viewer.username
        return self._is_self

    def _keys_route(self) -> str:
        # Your own keys, or (for admins) another user's.
        if self.is_self:
            return f"{VIEWER}/api_keys"
        return f"{user_route(self.username)}/api_keys"

    @property
    def api_keys(self) -> list[str]:
        """The ids of the user's API keys (the keys themselves are never shown again).

        An id can be passed to ``delete_api_key()``. Your own keys; an admin's for any user.

        Raises:
            PermissionDenied: this is another user and you are not an admin.
        """
        answer = self._api.client.get_json(self._keys_route())
        items = answer.get("items", []) if isinstance(answer, dict) else answer
        return [item["id"] for item in items]

    def generate_api_key(self, description: str | None = None) -> str:
        """Make a new API key for this user (yourself; admins for anyone).

        Args:
            description: a name for the key, shown in the key list.

        Returns:
            The new key. This is the only time it is shown: store it now.

        Raises:
            PermissionDenied: this is another user and you are not an admin.

        Example:
            >>> key = api.user().generate_api_key("ci")
        """
        body = {"name": description} if description else {}
        return self._api.client.post_json(self._keys_route(), body)["key"]

    def delete_api_key(self, api_key: str) -> bool:
        """Revoke one of this user's API keys (yourself; admins for anyone); it stops working
        at once.

        Args:
            api_key: the key itself, or its id from ``api_keys``.

        Returns:
            ``True`` once the key is revoked.

        Raises:
            PermissionDenied: this is another user and you are not an admin.
            NotFound: there is no such key.

        Example:
            >>> me = api.user()
            >>> me.delete_api_key(me.generate_api_key())
            True
        """
        self._api.client.delete(f"{self._keys_route()}/{quote_segment(api_key)}")
        return True

    def create(
        self,
        username: str,
        password: str | None = None,
        *,
        name: str | None = None,
        email: str | None = None,
        is_admin: bool = False,
    ) -> User:
        """Create a user with its personal workspace (administrators only), as SwanLab's
        ``api.user().create(username=..., password=...)``.

        Args:
            username: the new user's unique name (no ``/``).
            password: at least 8 characters; lets the user sign in with ``lablens login
                --username`` (stored as a salted scrypt hash). Without one the user signs in
                with the API key in the answer only.
            name: the display name.
            email: the email address.
            is_admin: make the user an administrator.

        Returns:
            The new ``User``; its ``api_key`` attribute holds a first API key, shown only now.

        Raises:
            PermissionDenied: the signed-in user is not an administrator.
            Conflict: the username is taken.
            BadRequest: the password is too short.

        Example:
            >>> api.user().create(username="testuser", password="test123456")
        """
        body = {"username": username, "name": name, "email": email, "is_admin": is_admin}
        if password is not None:
            body["password"] = password
        data = self._api.client.post_json(f"{API}/users", body)
        return User.from_json(self._api, data, is_self=False)

    def __repr__(self) -> str:
        return f"<User {self.username}>"
