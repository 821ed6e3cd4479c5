"""Every route of SwanLab's protocol, as one router for ``create_app`` to include."""

from __future__ import annotations

from fastapi import APIRouter

from lablens.server.routing import Route
from lablens.server.swanlab import accounts, media, metrics, projects, session, writes

router = APIRouter(route_class=Route)
for _part in (session, accounts, projects, metrics, writes, media):
    router.include_router(_part.router)
router.include_router(media.uploads)
