"""Every route of the W&B wire protocol, for ``create_app`` to include."""

from __future__ import annotations

from lablens.server.wandb import artifacts, files, graphql

ROUTERS = [graphql.router, files.router, artifacts.router]
