"""The FastAPI application: one router per resource over one store."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from starlette.routing import NoMatchFound

from lablens._version import __version__
from lablens.server import problems
from lablens.server.automation_events import AutomationEvents
from lablens.server.guards import RequestGuard
from lablens.server.pages import router as pages_router
from lablens.server.records_journal import JournalBarrier
from lablens.server.routers import (
    artifact_collections,
    artifacts,
    automations,
    blobs,
    charts,
    files,
    media,
    points,
    registries,
    reports,
    run_queues,
    run_records,
    runs,
    sweeps,
    teams,
    users,
    workspaces,
)
from lablens.server.routing import Route
from lablens.server.swanlab import router as swanlab_router
from lablens.server.wandb.routers import ROUTERS as WANDB_ROUTERS
from lablens.store.base import Store
from lablens.store.limits import LIMITS


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    # uvicorn ends the process with the signal that stopped it once this returns, so what
    # must be done before the process ends is done here: the records journal stores what it
    # answered (main.serve's own cleanup does not run after a SIGTERM).
    journal = app.state.journal
    if journal is not None:
        journal.stop()


def create_app(store: Store) -> FastAPI:
    """Build the app over an open store; the app owns it from now on."""
    app = FastAPI(
        lifespan=_lifespan,
        title="lablens",
        version=__version__,
        description="A self-hosted experiment tracker. Every route but /health and"
        " /api/v1/login needs 'Authorization: Bearer <api key>'.",
    )
    app.router.route_class = Route  # the app's own routes (/health) too
    app.state.store = store
    # Automations: the routes tell it what happens; its worker thread starts at the first event
    # (or with the server, main.py) and sends the webhooks.
    app.state.automations = AutomationEvents(store)
    problems.install(app)
    # Before any route: body size, JSON nesting and lone surrogates (guards.py).
    app.add_middleware(RequestGuard)
    # Requests wait for the records journaled before them (records_journal.py), when the
    # server keeps a journal (app.state.journal, set by main.serve on the embedded store).
    app.state.journal = None
    app.add_middleware(JournalBarrier)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, Any]:
        """Whether the server is up; needs no key. ``heartbeat_timeout``: the seconds of silence
        after which a RUNNING run is marked CRASHED (clients heartbeat well within it)."""
        return {
            "status": "ok",
            "version": __version__,
            "heartbeat_timeout": LIMITS.heartbeat_timeout,
        }

    for module in (
        users,
        teams,
        workspaces,
        runs,
        run_records,
        points,
        files,
        sweeps,
        reports,
        blobs,
        artifacts,
        artifact_collections,
        media,
        charts,
        run_queues,
        registries,
        automations,
    ):
        app.include_router(module.router)
    # The wire protocols of the real wandb (POST /graphql, file_stream, uploads) and swanlab
    # (/api/login, /api/project, ...) packages. They are those clients' APIs, not lablens's, so
    # /openapi.json (lablens's HTTP API, docs/http.md) leaves them out; docs/compat.md has them.
    for router in WANDB_ROUTERS:
        app.include_router(router, include_in_schema=False)
    app.include_router(swanlab_router, include_in_schema=False)
    # Last: the read-only HTML pages behind the reprs' URLs (/{entity}/{project}/...), whose
    # patterns would otherwise shadow the routes above (server/pages/).
    app.include_router(pages_router)
    return app


def warm_routes(app: FastAPI) -> None:
    """Build every route's request handling now, before the server takes requests.

    FastAPI builds an included router's routes (their dependencies and pydantic adapters) the
    first time a request's path is matched against them: ~0.1-0.4 s that the first request of a
    server process paid, a third of a hundred short runs' time (runs_lifecycle_100). Looking
    up a name no route has walks every router once and builds them all.
    """
    with contextlib.suppress(NoMatchFound):
        app.url_path_for("\0lablens-warm-up")
