"""``User``: an account on the server, its teams and its API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lablens.api._attrs import Attrs
from lablens.api.paths import quote_segment
from lablens.errors import UsageError

if TYPE_CHECKING:
    from lablens.api.api import Api

__all__ = ["User"]


class User(Attrs):
    """A user of the server.

    ``api.user()`` (or ``api.viewer``) is the signed-in user; ``api.user("bob")`` another one.
    API keys can be listed, made and deleted only for the signed-in user.

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

    def _need_self(self, what: str) -> None:
        if not self.is_self:
            raise UsageError(f"{what} works only for the signed-in user, not for {self.username!r}")

    @property
    def api_keys(self) -> list[str]:
        """The ids of the user's API keys (the keys themselves are never shown again).

        An id can be passed to ``delete_api_key()``. Only for the signed-in user.

        Raises:
            UsageError: this is not the signed-in user.
        """
        self._need_self("api_keys")
        answer = self._api.client.get_json("/api/v1/viewer/api_keys")
        items = answer.get("items", []) if isinstance(answer, dict) else answer
        return [item["id"] for item in items]

    def generate_api_key(self, description: str | None = None) -> str:
        """Make a new API key for the signed-in user.

        Args:
            description: a name for the key, shown in the key list.

        Returns:
            The new key. This is the only time it is shown: store it now.

        Raises:
            UsageError: this is not the signed-in user.

        Example:
            >>> key = api.user().generate_api_key("ci")
        """
        self._need_self("generate_api_key()")
        body = {"name": description} if description else {}
        return self._api.client.post_json("/api/v1/viewer/api_keys", body)["key"]

    def delete_api_key(self, api_key: str) -> bool:
        """Revoke one of the signed-in user's API keys.

        Args:
            api_key: the key itself, or its id from ``api_keys``.

        Returns:
            ``True`` once the key is revoked.

        Raises:
            UsageError: this is not the signed-in user.
            NotFound: there is no such key.

        Example:
            >>> me = api.user()
            >>> me.delete_api_key(me.generate_api_key())
            True
        """
        self._need_self("delete_api_key()")
        self._api.client.delete(f"/api/v1/viewer/api_keys/{quote_segment(api_key)}")
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
            password: accepted for SwanLab code and not used: lablens signs users in with API
                keys, never with passwords.
            name: the display name.
            email: the email address.
            is_admin: make the user an administrator.

        Returns:
            The new ``User``.

        Raises:
            PermissionDenied: the signed-in user is not an administrator.
            Conflict: the username is taken.

        Example:
            >>> api.user().create(username="testuser", password="test123456")
        """
        body = {"username": username, "name": name, "email": email, "is_admin": is_admin}
        data = self._api.client.post_json("/api/v1/users", body)
        return User.from_json(self._api, data, is_self=False)

    def __repr__(self) -> str:
        return f"<User {self.username}>"
