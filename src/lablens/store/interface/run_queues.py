"""The ``Store`` interface's methods for run queues and the items agents claim from them."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any


class RunQueueStore(abc.ABC):
    """Run queues of a workspace, and their items."""

    # -- queues ---------------------------------------------------------------------------
    @abc.abstractmethod
    def put_run_queue(
        self, workspace: str, data: Mapping[str, Any], *, username: str, replace: bool
    ) -> tuple[dict[str, Any], bool]:
        """Make the queue ``{name, type, prioritization_mode?, config?, template_variables?,
        external_links?}`` in ``workspace``; with ``replace`` an existing one of that name takes
        the new settings, without it that is a ``Conflict``. Returns it and whether it is new.
        ``InvalidInput`` names a bad name or type (a type lablens' agent cannot run too)."""

    @abc.abstractmethod
    def get_run_queue(self, workspace: str, name: str) -> dict[str, Any]:
        """One queue; ``NotFound("run_queue", ...)`` when absent."""

    @abc.abstractmethod
    def list_run_queues(self, workspace: str) -> list[dict[str, Any]]:
        """The workspace's queues, by name."""

    @abc.abstractmethod
    def delete_run_queue(self, workspace: str, name: str) -> None:
        """Delete a queue with its items (the runs they made stay)."""

    # -- items ----------------------------------------------------------------------------
    @abc.abstractmethod
    def enqueue_run(
        self, workspace: str, queue: str, data: Mapping[str, Any], *, username: str
    ) -> dict[str, Any]:
        """Add a ``pending`` item ``{project, job, job_id, config?, priority?,
        template_variables?}`` to a queue (the project, in the queue's workspace, is made when
        missing)."""

    @abc.abstractmethod
    def get_queue_item(self, workspace: str, queue: str, item_id: str) -> dict[str, Any]:
        """One item; ``NotFound("queued_run", ...)``."""

    @abc.abstractmethod
    def list_queue_items(
        self,
        workspace: str,
        queue: str,
        *,
        state: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """A page ``{items, total, next}`` of a queue's items, oldest first (``state``: only
        those in it)."""

    @abc.abstractmethod
    def delete_queue_item(self, workspace: str, queue: str, item_id: str) -> None:
        """Take an item off its queue; ``Conflict`` while an agent holds it."""

    @abc.abstractmethod
    def claim_queue_item(
        self,
        workspace: str,
        queue: str,
        *,
        username: str,
        agent: str,
        project: str | None = None,
    ) -> dict[str, Any] | None:
        """Hand ``agent`` the queue's next pending item (lowest priority number, then oldest;
        of ``project`` only, if given), atomically: it becomes ``claimed`` and its run is made
        (config = the item's). ``None`` when none is pending. No item is handed out twice,
        whichever servers the agents ask. Held items whose agent has been silent for the
        heartbeat timeout are recorded ``failed`` first (never handed out again)."""

    @abc.abstractmethod
    def heartbeat_queue_item(
        self, workspace: str, queue: str, item_id: str, *, agent: str, running: bool = False
    ) -> dict[str, Any]:
        """The agent holding an item is alive (``running``: its process started, the item
        becomes ``running``); ``Conflict`` when ``agent`` does not hold it."""

    @abc.abstractmethod
    def end_queue_item(
        self, workspace: str, queue: str, item_id: str, data: Mapping[str, Any], *, agent: str
    ) -> dict[str, Any]:
        """Record an item's end ``{state: finished|failed, exit_code?, error?}``; its run, if
        still RUNNING, becomes FINISHED or CRASHED. ``Conflict`` when ``agent`` does not hold
        it."""
