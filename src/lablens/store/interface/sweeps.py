"""The ``Store`` interface's methods for sweeps and the claiming of their trials."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any


class SweepStore(abc.ABC):
    """Sweeps and their trials."""

    # -- sweeps ---------------------------------------------------------------------------
    @abc.abstractmethod
    def create_sweep(
        self,
        workspace: str,
        project: str,
        config: Mapping[str, Any],
        *,
        username: str,
        name: str | None = None,
    ) -> dict[str, Any]:
        """Create a sweep (and its project when missing) from a checked configuration."""

    @abc.abstractmethod
    def get_sweep(self, workspace: str, project: str, sweep_id: str) -> dict[str, Any]:
        """One sweep; ``NotFound("sweep", ...)`` when absent."""

    @abc.abstractmethod
    def list_sweeps(
        self, workspace: str, project: str, *, cursor: str | None = None, limit: int = 50
    ) -> dict[str, Any]:
        """A page ``{items, total, next}`` of the project's sweeps, newest first."""

    @abc.abstractmethod
    def update_sweep(
        self, workspace: str, project: str, sweep_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change a sweep's ``state`` (``RUNNING``, ``PAUSED``, ``CANCELED``), name or
        description."""

    @abc.abstractmethod
    def claim_trial(
        self,
        workspace: str,
        project: str,
        sweep_id: str,
        *,
        username: str,
        agent: str | None = None,
    ) -> dict[str, Any] | None:
        """Hand out the sweep's next trial, atomically: make its run (config = the trial's
        parameters, ``sweep`` = the sweep id) and return ``{index, params, run}``; ``None``
        when the sweep has no trial left or is not RUNNING."""
