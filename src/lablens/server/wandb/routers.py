"""Every route of the W&B wire protocol, for ``create_app`` to include."""

from __future__ import annotations

from lablens.server.wandb import file_stream, graphql, telemetry, uploads

ROUTERS = [graphql.router, file_stream.router, uploads.router, telemetry.router]
