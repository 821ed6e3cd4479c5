"""The ``Store`` interface: everything the server asks of a storage engine.

Each engine (``embedded/`` for DuckDB, later ``postgres/``) implements every method; they are
abstract so an engine missing one fails when it is built, not when a route calls it. Rows travel
as plain dicts with ISO 8601 UTC times; bulk results (run tables, history) as Arrow tables.

Each concept's methods, with their docstrings, are in :mod:`lablens.store.interface`; ``Store`` is
all of them together.
"""

from __future__ import annotations

import abc

from lablens.store.interface import (
    AccountStore,
    ArtifactStore,
    AutomationStore,
    BlobUpload,
    MediaStore,
    PointStore,
    ProjectStore,
    ReportStore,
    RunStore,
    SweepStore,
)

__all__ = ["BlobUpload", "Store"]


class Store(
    AccountStore,
    ProjectStore,
    RunStore,
    PointStore,
    SweepStore,
    ReportStore,
    ArtifactStore,
    MediaStore,
    AutomationStore,
):
    """Users, keys, workspaces and teams, projects, runs, metric points, files, console lines,
    sweeps, reports, artifacts, media and automations."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the engine's resources."""
