"""SwanLab's project and experiment routes: ``/api/project/{workspace}`` (a page of projects),
``/api/project/{workspace}/{project}`` (one), ``.../runs`` (a page of runs), ``.../runs/shows``
(filtered runs) and ``.../runs/{id}`` (one run)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Query, Request

from lablens.server.auth import readable_store, role_in, store_of
from lablens.server.swanlab import shapes
from lablens.server.swanlab.filters import check_groups, to_store_filters, to_store_order
from lablens.server.swanlab.session import SwanlabUser
from lablens.server.swanlab.wire import SwanlabError, SwanlabRoute, as_object

router = APIRouter(prefix="/api/project", route_class=SwanlabRoute, tags=["swanlab"])

#: The most runs one ``runs/shows`` answer holds (it is not paged).
SHOWS_LIMIT = 10_000
#: Our store's largest page.
STORE_PAGE = 1000


def _page(
    fetch: Callable[[str | None, int], dict[str, Any]], page: int, size: int
) -> tuple[list[dict[str, Any]], int]:
    """Page ``page`` (from 1) of ``size`` items out of a keyset-paged listing, and the total.

    The listing is walked page by page up to the one asked for (a keyset cannot jump)."""
    answer = fetch(None, size)
    for _ in range(page - 1):
        if answer["next"] is None:
            return [], answer["total"]
        answer = fetch(answer["next"], size)
    return answer["items"], answer["total"]


def _paged(items: list[dict[str, Any]], total: int, page: int, size: int) -> dict[str, Any]:
    return {
        "list": items,
        "total": total,
        "size": size,
        "page": page,
        "pages": max(1, math.ceil(total / size)),
    }


@router.get("/{ws}")
def list_projects(
    ws: str,
    request: Request,
    user: SwanlabUser,
    page: int = Query(1, ge=1),
    size: int = Query(100, ge=1, le=1000),
    search: str | None = None,
    sort: str | None = None,
    detail: bool = True,
) -> dict[str, Any]:
    """A page of the workspace's projects the user may see (members see private ones)."""
    store = store_of(request)
    viewer = None if user["is_admin"] else user["username"]
    role = role_in(store, user, ws)
    items, total = _page(
        lambda cursor, limit: store.list_projects(
            ws, sort=sort, search=search, cursor=cursor, limit=limit, viewer=viewer
        ),
        page,
        size,
    )
    return _paged([shapes.project(p, role) for p in items], total, page, size)


@router.get("/{ws}/{project}")
def get_project(ws: str, project: str, request: Request, user: SwanlabUser) -> dict[str, Any]:
    """One project; a private one of another workspace answers 404, as one that is not there."""
    store = readable_store(request, user, ws, project)
    return shapes.project(store.get_project(ws, project), role_in(store, user, ws))


@router.get("/{ws}/{project}/runs")
def list_runs(
    ws: str,
    project: str,
    request: Request,
    user: SwanlabUser,
    page: int = Query(1, ge=1),
    size: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    """A page of the project's runs, newest first."""
    store = readable_store(request, user, ws, project)
    items, total = _page(
        lambda cursor, limit: store.query_runs(
            ws, project, order="-created_at", cursor=cursor, limit=limit
        ),
        page,
        size,
    )
    return _paged([shapes.run(r, user["username"]) for r in items], total, page, size)


@router.post("/{ws}/{project}/runs/shows")
def show_runs(
    ws: str, project: str, request: Request, user: SwanlabUser, raw: Any = Body(None)
) -> list[dict[str, Any]]:
    """Every run matching ``filters`` (AND-ed), in the first of ``sorts``; not paged."""
    body = as_object(raw)
    filters = to_store_filters(body.get("filters"))
    order = to_store_order(body.get("sorts"))
    check_groups(body.get("groups"))
    store = readable_store(request, user, ws, project)
    runs: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        answer = store.query_runs(
            ws, project, filters=filters, order=order, cursor=cursor, limit=STORE_PAGE
        )
        runs.extend(answer["items"])
        cursor = answer["next"]
        if cursor is None:
            break
        if len(runs) >= SHOWS_LIMIT:
            raise SwanlabError(
                400,
                "limit_exceeded",
                f"filters: more than {SHOWS_LIMIT} runs match, more than one answer holds;"
                " narrow the filters, or page with runs_get()",
            )
    return [shapes.run(r, user["username"]) for r in runs]


@router.get("/{ws}/{project}/runs/{run_id}")
def get_run(
    ws: str, project: str, run_id: str, request: Request, user: SwanlabUser
) -> dict[str, Any]:
    """One run, with its config, metadata, requirements and conda as ``profile``."""
    store = readable_store(request, user, ws, project)
    return shapes.run(store.get_run(ws, project, run_id), user["username"])
