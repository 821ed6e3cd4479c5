"""Every route of the W&B wire protocol, for ``create_app`` to include."""

from __future__ import annotations

from lablens.server.wandb import artifacts, file_stream, files, graphql, telemetry, uploads

ROUTERS = [
    graphql.router,
    file_stream.router,
    uploads.router,
    telemetry.router,
    files.router,
    artifacts.router,
]
