"""``Team`` and ``Member``: a TEAM workspace and the people in it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lablens.api._attrs import Attrs, html_table
from lablens.contract.routes import quote_segment, team_route

if TYPE_CHECKING:
    from lablens.api.api import Api
    from lablens.api.projects import Projects

__all__ = ["Member", "Team"]


class Member(Attrs):
    """A member of a team (W&B's ``Member``).

    Example:
        >>> team = api.team("vision")
        >>> [(m.username, m.role) for m in team.members]
        [('alice', 'OWNER'), ('bob', 'MEMBER')]
        >>> team.members[1].delete()
        True
    """

    username: str
    """The member's username."""
    name: str | None
    """The member's display name."""
    email: str | None
    """The member's email address."""
    role: str
    """``OWNER`` (manages members, deletes projects) or ``MEMBER`` (writes runs)."""
    team: str
    """The name of the team."""

    def __init__(self, api: Api, team: str, attrs: dict[str, Any]) -> None:
        self.team = team
        super().__init__(api, attrs)

    def _load(self, data: dict[str, Any]) -> None:
        self.username = data.get("username") or ""
        self.name = data.get("name")
        self.email = data.get("email")
        self.role = data.get("role") or "MEMBER"

    @property
    def admin(self) -> bool:
        """Whether the member is an OWNER of the team (W&B's team admin)."""
        return self.role == "OWNER"

    def delete(self) -> bool:
        """Remove this member from the team (team owners; any member may remove themself).

        Returns:
            ``True`` once the member is removed.

        Raises:
            PermissionDenied: you are neither an owner of the team nor this member.
            Conflict: this is the team's last owner.

        Example:
            >>> api.team("vision").members[1].delete()
            True
        """
        self._api.client.delete(f"{team_route(self.team)}/members/{quote_segment(self.username)}")
        return True

    def __repr__(self) -> str:
        return f"<Member {self.team}/{self.username} {self.role}>"


class Team(Attrs):
    """A team: a workspace of type ``TEAM`` shared by its members (W&B's ``Team``).

    Get one with ``api.team("vision")``, make one with ``api.create_team("vision")``. Its
    projects are those of the workspace of the same name.

    Example:
        >>> team = api.create_team("vision")
        >>> team.invite("bob")
        True
        >>> [m.username for m in team.members]
        ['alice', 'bob']
    """

    name: str
    """The team's unique name, also its workspace username (its W&B entity)."""
    display_name: str | None
    """The team's display name."""
    role: str | None
    """The signed-in user's role in the team: ``OWNER`` or ``MEMBER``."""
    created_at: str | None
    """When the team was made, ISO 8601 UTC."""
    members: list[Member]
    """The team's members, owners first."""

    def _load(self, data: dict[str, Any]) -> None:
        self.name = data.get("username") or data.get("name") or ""
        self.display_name = data.get("name")
        self.role = data.get("role")
        self.created_at = data.get("created_at")
        self.members = [Member(self._api, self.name, m) for m in data.get("members") or []]

    @property
    def username(self) -> str:
        """The team's workspace username (SwanLab's name for it)."""
        return self.name

    @property
    def entity(self) -> str:
        """The team under its W&B name, for paths: ``f"{team.entity}/project"``."""
        return self.name

    def load(self, force: bool = False) -> Team:
        """Read the team (and its members) from the server again.

        Args:
            force: accepted for W&B compatibility; the team is always read.

        Returns:
            The team itself, refreshed.
        """
        self._attrs = self._api.client.get_json(team_route(self.name))
        self._load(self._attrs)
        return self

    def invite(self, username_or_email: str, admin: bool = False) -> bool:
        """Add a user to the team (team owners and admins only).

        lablens has no email invitations: the user becomes a member at once.

        Args:
            username_or_email: the user's username or email address.
            admin: make the user an OWNER of the team, not a MEMBER.

        Returns:
            ``True`` once the user is a member.

        Raises:
            PermissionDenied: you are not an owner of the team.
            UserNotFound: there is no such user.
            Conflict: the user is already a member.

        Example:
            >>> api.team("vision").invite("bob@example.com")
            True
        """
        self._api.client.post_json(
            f"{team_route(self.name)}/members",
            {"username_or_email": username_or_email, "admin": bool(admin)},
        )
        self.load()
        return True

    def projects(self, per_page: int = 200) -> Projects:
        """The team's projects, as ``api.projects(team.name)``.

        Example:
            >>> [p.name for p in api.team("vision").projects()]
        """
        return self._api.projects(self.name, per_page=per_page)

    def __repr__(self) -> str:
        return f"<Team {self.name}>"

    def _repr_html_(self) -> str:
        return html_table(
            [("name", self.name), ("your role", self.role)]
            + [(m.username, m.role) for m in self.members],
            title=f"Team {self.name}",
        )
