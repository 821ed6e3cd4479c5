"""The ``Store`` interface's methods for runs: creating, updating, deleting, querying and the run
table."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from lablens.store.filter_parse import parse_filters
from lablens.store.order_tree import parse_order_key


class RunStore(abc.ABC):
    """Runs: creation, updates, queries and run tables."""

    # -- runs -----------------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self, workspace: str, project: str, data: Mapping[str, Any], *, username: str
    ) -> tuple[dict[str, Any], bool]:
        """Create (or resume) a run; returns the run and whether it was created."""

    @abc.abstractmethod
    def start_run(
        self, workspace: str, project: str, data: Mapping[str, Any], *, username: str
    ) -> bool:
        """``create_run`` without reading the run back: whether it was created."""

    @abc.abstractmethod
    def run_id_free(self, workspace: str, project: str, run_id: str) -> bool:
        """Whether a new run of this id can be made in this project now: the project exists
        and holds no run of that id (a missing workspace or project answers ``False``)."""

    @abc.abstractmethod
    def insert_runs(
        self, workspace: str, project: str, runs: Sequence[Mapping[str, Any]], *, username: str
    ) -> int:
        """Store many finished runs in one transaction (imports, benchmarks); returns how many.

        Each run is a mapping like ``create_run``'s, plus optional ``state``, ``summary``,
        ``created_at`` and ``finished_at`` (datetimes).
        """

    @abc.abstractmethod
    def get_run(self, workspace: str, project: str, run_id: str) -> dict[str, Any]:
        """One run; ``NotFound("run", ...)`` when absent."""

    @abc.abstractmethod
    def update_run(
        self, workspace: str, project: str, run_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Apply the given changes (name, notes, tags, config, summary merge, state ...)."""

    @abc.abstractmethod
    def change_run(
        self, workspace: str, project: str, run_id: str, changes: Mapping[str, Any]
    ) -> None:
        """``update_run`` without reading the run back."""

    @abc.abstractmethod
    def delete_run(self, workspace: str, project: str, run_id: str) -> None:
        """Delete a run with its points, files and console lines."""

    @abc.abstractmethod
    def crash_silent_runs(self, timeout: float) -> int:
        """Mark ``CRASHED`` every ``RUNNING`` run with no heartbeat or write for ``timeout``
        seconds, its ``finished_at`` its last sign of life; returns how many were marked.

        A run's ``heartbeat_at`` moves with each heartbeat and each batch of points, so only a
        run whose process is gone (or cut off) falls silent that long.
        """

    @abc.abstractmethod
    def query_runs(
        self,
        workspace: str,
        project: str,
        *,
        filters: Mapping[str, Any] | None = None,
        order: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """A page ``{items, total, next}`` of matching runs, keyset-paged."""

    @abc.abstractmethod
    def runs_table(
        self,
        workspace: str,
        project: str,
        *,
        filters: Mapping[str, Any] | None = None,
        order: str | None = None,
        columns: Sequence[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> pa.RecordBatchReader:
        """Every matching run as one row, config and summary flattened into columns.

        ``offset``/``limit`` cut one page out of the ordered rows (a table view jumps to any row,
        which a keyset cursor cannot do); the schema metadata ``total`` holds the number of
        matching runs either way. The rows come as a stream of batches of bounded size, so a
        table of many runs or many keys is never built whole; a bad filter, order, offset or
        limit raises before the first batch.
        """

    def check_run_query(self, filters: Mapping[str, Any] | None, order: str | None = None) -> None:
        """Check a run filter and order as ``query_runs`` reads them, without running a query.

        Raises ``InvalidFilter`` naming the bad part (``filters.config.lr.$gt``, ``order``). The
        check is the engine-neutral parse, so it is the same for every engine.
        """
        parse_filters(filters)
        parse_order_key(order)
