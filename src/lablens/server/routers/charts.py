"""Custom chart presets of an entity (W&B's ``create_custom_chart``): a Vega-Lite spec and the
query whose rows it draws.

Access: members of the entity (and admins) create, read and delete its presets; a ``public``
preset is readable by every signed-in user, a ``private`` one answers 404 to outsiders, as if it
did not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict

from lablens.server.auth import CurrentUser, can_write, role_in, store_of
from lablens.server.paging import PageQuery
from lablens.server.problems import Problem
from lablens.server.routing import Route

router = APIRouter(prefix="/api/v1/workspaces/{ws}/charts", tags=["charts"], route_class=Route)


class NewChart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    display_name: str | None = None
    spec_type: str = "vega2"
    access: str = "private"
    #: the Vega-Lite spec, an object or its JSON text
    spec: Any = None
    #: what the chart draws: ``keys``, ``fields``, ``filters``... (``store/chart_values.py``)
    query: dict[str, Any] | None = None


@router.post("", status_code=201)
def create_chart(ws: str, body: NewChart, request: Request, user: CurrentUser) -> dict[str, Any]:
    """Save a preset in the entity (members); 409 when it has one of that name."""
    store = store_of(request)
    can_write(store, user, ws)
    return store.create_custom_chart(
        ws,
        name=body.name,
        display_name=body.display_name,
        spec_type=body.spec_type,
        access=body.access,
        spec=body.spec,
        query=body.query,
        username=user["username"],
    )


@router.get("")
def list_charts(ws: str, request: Request, user: CurrentUser, page: PageQuery) -> dict[str, Any]:
    """A page of the entity's presets by name: all of them for members, the public ones for
    everyone else."""
    store = store_of(request)
    outsider = role_in(store, user, ws) is None
    return store.list_custom_charts(ws, public_only=outsider, cursor=page.cursor, limit=page.limit)


def _readable(request: Request, user: dict[str, Any], ws: str, name: str) -> dict[str, Any]:
    store = store_of(request)
    chart = store.get_custom_chart(ws, name)
    if chart["access"] != "public" and role_in(store, user, ws) is None:
        # a private preset is not told apart from a missing one
        raise Problem(
            404,
            "custom_chart_not_found",
            f"custom_chart not found: {ws}/{name}",
            path=f"{ws}/{name}",
        )
    return chart


@router.get("/{name}")
def get_chart(ws: str, name: str, request: Request, user: CurrentUser) -> dict[str, Any]:
    """One preset (a private one: members only)."""
    return _readable(request, user, ws, name)


@router.delete("/{name}", status_code=204)
def delete_chart(ws: str, name: str, request: Request, user: CurrentUser) -> Response:
    """Delete a preset (members)."""
    _readable(request, user, ws, name)
    store = store_of(request)
    can_write(store, user, ws)
    store.delete_custom_chart(ws, name)
    return Response(status_code=204)
