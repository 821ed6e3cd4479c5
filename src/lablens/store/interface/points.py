"""The ``Store`` interface's methods for metric points (history), run files and console lines."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa


class PointStore(abc.ABC):
    """Metric points (history), run files and console lines."""

    # -- metric points --------------------------------------------------------------------
    @abc.abstractmethod
    def append_points(
        self,
        workspace: str,
        project: str,
        run_id: str,
        points: pa.Table,
        *,
        stream: str = "default",
        batch_id: str | None = None,
    ) -> dict[str, Any]:
        """Store a batch (``key step timestamp value``); a known ``batch_id`` stores nothing."""

    @abc.abstractmethod
    def history(
        self,
        workspace: str,
        project: str,
        run_ids: Sequence[str] | None,
        *,
        keys: Sequence[str] | None = None,
        samples: int | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
        min_x: float | None = None,
        max_x: float | None = None,
        stream: str = "default",
        x_axis: str = "step",
        x_key: str | None = None,
        filters: Mapping[str, Any] | None = None,
        order: str | None = None,
    ) -> pa.Table:
        """Points of several runs, long form ``run_id key step timestamp value``; the schema
        metadata ``started`` maps each run id to its start (seconds since the epoch) and
        ``names`` to its display name.

        The runs are ``run_ids``, or (when ``None``) every run ``filters`` matches.

        ``min_x``/``max_x`` (inclusive) cut the range before sampling, measured on ``x_axis``:
        ``step``; ``timestamp`` (seconds since the epoch); ``runtime`` (a point's timestamp
        minus its run's ``started``); or ``metric``, the value of the metric ``x_key``: each run
        keeps the steps where ``x_key`` lies in the range (without a range, where it was
        logged), and every key is read at those steps only; ``x_key``'s points come too, and
        when sampling they are those at the steps kept for the other keys. A bad ``x_axis``,
        ``x_key`` or range is ``InvalidInput`` naming the field.
        """

    # -- files and console ----------------------------------------------------------------
    @abc.abstractmethod
    def put_file(
        self, workspace: str, project: str, run_id: str, name: str, content: bytes
    ) -> dict[str, Any]:
        """Store (or replace) a run file."""

    @abc.abstractmethod
    def list_files(
        self, workspace: str, project: str, run_id: str, names: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """The run's files, optionally only those named."""

    @abc.abstractmethod
    def read_file(
        self, workspace: str, project: str, run_id: str, name: str
    ) -> tuple[dict[str, Any], bytes]:
        """A run file's description and content."""

    @abc.abstractmethod
    def append_console(
        self,
        workspace: str,
        project: str,
        run_id: str,
        lines: Sequence[Mapping[str, Any]],
        *,
        batch_id: str | None = None,
    ) -> dict[str, Any]:
        """Store console lines ``{ts, stream, line}``; a known ``batch_id`` stores nothing."""

    @abc.abstractmethod
    def read_console(self, workspace: str, project: str, run_id: str) -> list[dict[str, Any]]:
        """The run's console lines in order."""
