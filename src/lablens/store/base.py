"""The ``Store`` interface: everything the server asks of a storage engine.

Each engine (``embedded/`` for DuckDB, later ``postgres/``) implements every method; they are
abstract so an engine missing one fails when it is built, not when a route calls it. Rows travel
as plain dicts with ISO 8601 UTC times; bulk results (run tables, history) as Arrow tables.

Each concept's methods, with their docstrings, are in :mod:`lablens.store.interface`; ``Store`` is
all of them together.
"""

from __future__ import annotations

import abc
import contextlib

from lablens.store.interface import (
    AccountStore,
    ArtifactStore,
    AutomationStore,
    BlobUpload,
    ChartStore,
    MediaStore,
    PointStore,
    ProjectStore,
    RegistryStore,
    ReportStore,
    RunQueueStore,
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
    ChartStore,
    RunQueueStore,
    RegistryStore,
    AutomationStore,
):
    """Users, keys, workspaces and teams, projects, runs, metric points, files, console lines,
    sweeps, reports, artifacts, media, custom chart presets, run queues, registries and
    automations."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the engine's resources."""

    def one_commit(self) -> contextlib.AbstractContextManager[None]:
        """The writes of the block committed together, where the engine can: on the embedded
        store the block is one transaction (one commit, whose flush to disk is most of a small
        write's time); on PostgreSQL each write commits on its own, as outside the block (its
        parts keep their own transactions, such as the metric keys' deadlock retries). A
        failing block stores none of its writes on the embedded store."""
        return contextlib.nullcontext()
