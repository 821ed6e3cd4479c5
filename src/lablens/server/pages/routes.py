"""The page routes: ``/{entity}/{project}``, ``/{entity}/{project}/runs/{id}`` and
``/{entity}/{project}/sweeps/{id}`` (the ``url`` of a ``Project``, a ``Run`` and a ``Sweep``),
the index ``/``, and the ``/-/`` routes around them (sign in and out, plotly's JavaScript).

Included after every API and compatibility route, so those keep their paths; ``/-/`` cannot be
a workspace (names start with a letter, digit or ``_``). A page answers HTML whatever happens:
the sign-in form (401) without a session, a page naming what is missing (404) for a project or
run that does not exist or that the user may not read (as the API does, a private project is
not told apart from a missing one), and never a 500 for bad input. Left out of
``/openapi.json``: they are pages, not the HTTP API.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from lablens.contract.media import CONTENT_TYPES
from lablens.server.auth import can_read_project, store_of
from lablens.server.pages import sweep_view, views
from lablens.server.pages.session import SignInFailed, page_user, sign_in, sign_out
from lablens.server.problems import Problem
from lablens.server.routers.media import MAX_THUMB, thumbnail
from lablens.server.routing import Route
from lablens.store.base import Store
from lablens.store.errors import InvalidInput, NotFound

router = APIRouter(include_in_schema=False, route_class=Route)

# First path segments that belong to the API or the compatibility protocols: an address under
# them that no route took is the API's 404 (problem+json), never a page.
_NOT_PAGES = {"api", "graphql", "files", "wandb", "sdk", "health", "docs", "redoc", "openapi.json"}
# Samples per metric on a run page.
_SAMPLES = 1000
_MAX_FORM = 16_384


def _html(text: str, status: int = 200) -> HTMLResponse:
    # A page shows the viewer's data: never kept by a shared cache.
    return HTMLResponse(text, status_code=status, headers={"Cache-Control": "private, no-store"})


def _signin(request: Request, message: str | None = None, status: int = 401) -> HTMLResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return _html(views.signin_page(target, message), status)


def _not_found(what: str, user: dict[str, Any] | None) -> HTMLResponse:
    return _html(views.message_page("Not found", what, user), 404)


def _runs(store: Store, ws: str, project: str, **query: Any) -> tuple[pa.Table, int]:
    """The first ``MAX_RUNS`` runs a page lists, and how many match in all."""
    reader = store.runs_table(ws, project, limit=views.MAX_RUNS, **query)
    table = pa.Table.from_batches(list(reader), schema=reader.schema)
    return table, int((reader.schema.metadata or {}).get(b"total", table.num_rows))


def _api_path(ws: str) -> None:
    if ws in _NOT_PAGES:
        raise Problem(404, "not_found", "Not Found")


@router.get("/-/plotly.js")
def plotly_js() -> Response:
    """plotly's JavaScript, for the pages' charts (the same file every time: cached a day)."""
    from plotly.offline import get_plotlyjs

    return Response(
        get_plotlyjs(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def _safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this server, never another site."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or "\\" in value:
        return "/"
    return value


@router.get("/-/signin")
def signin_form(request: Request, next: str | None = None) -> HTMLResponse:  # noqa: A002
    """The sign-in form."""
    return _html(views.signin_page(_safe_next(next)))


@router.post("/-/signin", response_model=None)
async def signin(request: Request) -> Response:
    """Sign in from the form (``api_key``, or ``username`` and ``password``), then go to
    ``next``; the form again, naming the problem, when it fails."""
    raw = await request.body()
    if len(raw) > _MAX_FORM:
        return _html(views.signin_page("/", "the form is too large"), 413)
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        fields = {}
    form = {k: v[0] for k, v in fields.items() if v}
    target = _safe_next(form.get("next"))
    response = RedirectResponse(target, status_code=303)
    try:
        await sign_in(request, form, response)
    except SignInFailed as exc:
        return _html(views.signin_page(target, str(exc)), exc.status)
    return response


@router.post("/-/signout")
def signout(request: Request) -> Response:
    """End the session and show the sign-in form."""
    response = RedirectResponse("/-/signin", status_code=303)
    sign_out(request, response)
    return response


@router.get("/")
def index(request: Request) -> HTMLResponse:
    """The projects the signed-in user can read, by workspace."""
    user = page_user(request)
    if user is None:
        return _signin(request)
    store = store_of(request)
    viewer = None if user["is_admin"] else user["username"]
    sections = []
    for ws in store.list_workspaces(user["username"]):
        projects = store.list_projects(ws["username"], viewer=viewer, limit=200)["items"]
        links = "".join(
            f"<li><a href='{views.project_url(ws['username'], p['name'])}'>"
            f"{views.esc(p['name'])}</a></li>"
            for p in projects
        )
        sections.append(
            f"<h2>{views.esc(ws['username'])}</h2>"
            + (f"<ul>{links}</ul>" if links else "<p class='meta'>No projects yet.</p>")
        )
    return _html(views.index_page(user, "".join(sections)))


@router.get("/{ws}/{project}")
def project_page(ws: str, project: str, request: Request) -> Response:
    """A project's page: its sweeps and runs."""
    _api_path(ws)
    user = page_user(request)
    if user is None:
        return _signin(request)
    store = store_of(request)
    try:
        can_read_project(store, user, ws, project)
        info = store.get_project(ws, project)
        table, total = _runs(store, ws, project)
        sweeps = store.list_sweeps(ws, project, limit=50)["items"]
    except (NotFound, Problem):
        return _not_found(f"There is no project {ws}/{project}, or you may not read it.", user)
    return _html(views.project_page(user, ws, project, info, table, total, sweeps))


@router.get("/{ws}/{project}/sweeps/{sweep_id}")
def sweep_page(ws: str, project: str, sweep_id: str, request: Request) -> Response:
    """A sweep's page: its parallel coordinates and runs."""
    _api_path(ws)
    user = page_user(request)
    if user is None:
        return _signin(request)
    store = store_of(request)
    try:
        can_read_project(store, user, ws, project)
        sweep = store.get_sweep(ws, project, sweep_id)
    except (NotFound, Problem):
        return _not_found(
            f"There is no sweep {ws}/{project}/{sweep_id}, or you may not read it.", user
        )
    table, total = _runs(store, ws, project, filters={"sweep": sweep_id})
    return _html(sweep_view.sweep_page(user, ws, project, sweep, table, total))


@router.get("/{ws}/{project}/runs/{run_id}")
def run_page(ws: str, project: str, run_id: str, request: Request) -> Response:
    """A run's page: summary, config, a chart per metric, media thumbnails."""
    _api_path(ws)
    user = page_user(request)
    if user is None:
        return _signin(request)
    store = store_of(request)
    try:
        can_read_project(store, user, ws, project)
        run = store.get_run(ws, project, run_id)
    except (NotFound, Problem):
        return _not_found(f"There is no run {ws}/{project}/{run_id}, or you may not read it.", user)
    points = store.history(ws, project, [run_id], samples=_SAMPLES)
    keys = store.media_keys(ws, project, run_id)
    images = [k for k, v in keys.items() if v.get("type") == "image"]
    media = store.list_media(ws, project, [run_id], key=images) if images else []
    others = {k: v for k, v in keys.items() if k not in images}
    sweep_name = None
    if run.get("sweep"):
        with contextlib.suppress(NotFound):
            sweep_name = store.get_sweep(ws, project, run["sweep"]).get("name")
    return _html(views.run_page(user, ws, project, run, points, media, others, sweep_name))


@router.get("/{ws}/{project}/media/{digest}", response_model=None)
async def media_thumbnail(
    ws: str, project: str, digest: str, request: Request, thumb: str | None = None
) -> Response:
    """An image of the project's media as the pages show it (a thumbnail with ``thumb=N``)."""
    _api_path(ws)
    user = page_user(request)
    if user is None:
        return _html(views.message_page("Sign in", "Sign in to see this image."), 401)
    store = store_of(request)
    try:
        size = min(max(int(thumb), 1), MAX_THUMB) if thumb else None
    except ValueError:
        return _html(views.message_page("Bad address", f"thumb must be a number: {thumb!r}"), 400)
    try:
        can_read_project(store, user, ws, project)
        info, content = await run_in_threadpool(store.read_media, ws, project, digest)
    except (NotFound, Problem, InvalidInput):
        return _not_found(f"No such image in {ws}/{project}.", user)
    if info["type"] != "image":
        return _html(views.message_page("Not an image", f"this is a {info['type']}", user), 400)
    if size is not None:
        content = await run_in_threadpool(thumbnail, content, size)
    headers = {"Cache-Control": "private, max-age=31536000, immutable", "ETag": f'"{digest}"'}
    media_type = "image/png" if size else CONTENT_TYPES.get(info["format"], "image/png")
    return Response(content, media_type=media_type, headers=headers)
