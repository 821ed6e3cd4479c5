"""Teams: TEAM workspaces and their members."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict

from lablens.server.auth import CurrentUser, role_in, store_of
from lablens.server.problems import Problem
from lablens.server.routing import Route
from lablens.store.base import Store
from lablens.store.errors import NotFound

router = APIRouter(prefix="/api/v1/teams", tags=["teams"], route_class=Route)


class NewTeam(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: the rule is the store's (store/names.py), so every way of making a team keeps it.
    name: str
    admin_username: str | None = None


class Invite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username_or_email: str
    admin: bool = False


def _team_out(store: Store, team: str, user: dict[str, Any]) -> dict[str, Any]:
    out = store.get_workspace(team, viewer=user["username"])
    out["members"] = store.list_members(team)
    return out


def _need_member(store: Store, user: dict[str, Any], team: str) -> str:
    """The user's role in the team; 404 for outsiders, so a team's members stay private."""
    role = role_in(store, user, team)
    info = store.get_workspace(team)
    if info["workspace_type"] != "TEAM" or role is None:
        raise NotFound("team", team)
    return role


@router.post("", status_code=201)
def create_team(body: NewTeam, request: Request, user: CurrentUser) -> dict[str, Any]:
    """Create a team; ``admin_username`` (default: you) becomes its first OWNER.

    Any signed-in user may create a team for themself; naming someone else needs an admin.
    """
    store = store_of(request)
    owner = body.admin_username or user["username"]
    if owner != user["username"] and not user["is_admin"]:
        raise Problem(
            403,
            "permission_denied",
            "only admins create teams for someone else",
            field="admin_username",
        )
    owner = store.get_user(owner)["username"]
    store.create_team(body.name, owner)
    return _team_out(store, body.name, user)


@router.get("/{team}")
def get_team(team: str, request: Request, user: CurrentUser) -> dict[str, Any]:
    """A team with its members (members and admins only)."""
    store = store_of(request)
    _need_member(store, user, team)
    return _team_out(store, team, user)


@router.post("/{team}/members", status_code=201)
def invite(team: str, body: Invite, request: Request, user: CurrentUser) -> dict[str, Any]:
    """Add a user to the team, as OWNER when ``admin`` (team owners and admins only)."""
    store = store_of(request)
    if _need_member(store, user, team) != "OWNER":
        raise Problem(403, "permission_denied", f"only owners of {team} can add members")
    return store.add_member(team, body.username_or_email, "OWNER" if body.admin else "MEMBER")


@router.delete("/{team}/members/{username}", status_code=204)
def remove_member(team: str, username: str, request: Request, user: CurrentUser) -> Response:
    """Remove a member (team owners and admins; any member may leave)."""
    store = store_of(request)
    role = _need_member(store, user, team)
    if role != "OWNER" and username != user["username"]:
        raise Problem(403, "permission_denied", f"only owners of {team} can remove members")
    store.remove_member(team, username)
    return Response(status_code=204)
