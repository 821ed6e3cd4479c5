"""``RunQueue`` and ``QueuedRun``: a workspace's queues of runs to make, and one item of one.

A queue (W&B's launch queue) holds items; each names a job version, the config of its run and a
priority. ``lablens agent --queue NAME`` claims items one at a time, makes each one's run and
executes the job as a local process; the item records the run it made, the agent and its times.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from lablens.api._attrs import Attrs, html_table
from lablens.api.paging import Paginator
from lablens.contract.routes import queue_item_route, run_queue_route

if TYPE_CHECKING:
    from lablens.api.api import Api
    from lablens.api.run import Run

__all__ = ["QueuedRun", "QueuedRuns", "RunQueue"]

#: The states after which an item changes no more.
_ENDED = ("finished", "failed")


class QueuedRun(Attrs):
    """One item of a run queue: a run to make from a job, and what became of it.

    Attributes:
        id: the item's id, unique in its queue.
        queue_name: the queue's name.
        entity: the queue's workspace.
        project: the project its run is made in.
        state: ``pending``, ``claimed`` (an agent took it), ``running``, ``finished`` or
            ``failed``.
        job: the job version it runs, ``entity/project/name:vN``.
        config: the config its run gets.
        priority: 0 (critical) to 4 (low); lower numbers are claimed first.
        run_id: the id of the run the claim made (``None`` while pending).
        agent: the name of the agent that claimed it.
        exit_code: the job process's exit code, once ended.
        error: why it failed, when the agent knows more than the exit code.
        created_at: when it was queued (ISO 8601 UTC).
        claimed_at: when an agent claimed it.
        started_at: when its process started.
        finished_at: when it ended.
    """

    def _load(self, data: dict[str, Any]) -> None:
        self.id: str = data["id"]
        self.queue_name: str = data.get("queue") or ""
        self.entity: str = data.get("entity") or ""
        self.project: str = data.get("project") or ""
        self.state: str = data.get("state") or ""
        self.job: str | None = data.get("job")
        self.config: dict[str, Any] = dict(data.get("config") or {})
        self.priority: int | None = data.get("priority")
        self.run_id: str | None = data.get("run_id")
        self.agent: str | None = data.get("agent")
        self.exit_code: int | None = data.get("exit_code")
        self.error: str | None = data.get("error")
        self.created_at: str | None = data.get("created_at")
        self.claimed_at: str | None = data.get("claimed_at")
        self.started_at: str | None = data.get("started_at")
        self.finished_at: str | None = data.get("finished_at")

    def _route(self) -> str:
        return queue_item_route(self.entity, self.queue_name, self.id)

    def load(self) -> QueuedRun:
        """Read the item again from the server (its state moves as an agent runs it).

        Returns:
            This ``QueuedRun``, updated.
        """
        self._attrs = self._api.client.get_json(self._route())
        self._load(self._attrs)
        return self

    @property
    def run(self) -> Run | None:
        """The run the item made, or ``None`` while no agent has claimed it."""
        if self.run_id is None:
            self.load()
        if self.run_id is None:
            return None
        return self._api.run(f"{self.entity}/{self.project}/{self.run_id}")

    def _wait(self, done: Any, what: str, timeout: float | None, poll: float) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not done(self.load()):
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"queued run {self.id} is still {self.state} after {timeout} s"
                    f" (waiting until {what})"
                )
            time.sleep(poll)

    def wait_until_running(self, timeout: float | None = None, poll: float = 1.0) -> Run:
        """Wait until an agent has claimed the item and made its run, and return the run.

        Args:
            timeout: seconds to wait at most (``None``: as long as it takes).
            poll: seconds between looks.

        Returns:
            The item's ``Run``.

        Raises:
            TimeoutError: the item is still pending after ``timeout`` seconds.
        """
        self._wait(lambda item: item.run_id is not None, "running", timeout, poll)
        run = self.run
        assert run is not None  # the wait ends only once the run is made
        return run

    def wait_until_finished(self, timeout: float | None = None, poll: float = 1.0) -> Run:
        """Wait until the item's job has ended (``finished`` or ``failed``), and return its run.

        Args:
            timeout: seconds to wait at most (``None``: as long as it takes).
            poll: seconds between looks.

        Returns:
            The item's ``Run``, read after the end.

        Raises:
            TimeoutError: the job has not ended after ``timeout`` seconds.
        """
        self._wait(lambda item: item.state in _ENDED, "finished", timeout, poll)
        return self.wait_until_running(timeout=0)

    def delete(self, delete_artifacts: bool = False) -> None:
        """Take the item off its queue (refused, ``Conflict``, while an agent runs it).

        Args:
            delete_artifacts: W&B's flag; the job stays either way (other items may use it).
        """
        del delete_artifacts  # the job is an artifact of its own, shared by other items
        self._api.client.delete(self._route())

    def __repr__(self) -> str:
        return f"<QueuedRun {self.queue_name} ({self.id}) {self.state}>"

    def _repr_html_(self) -> str:
        rows = [
            ("queue", f"{self.entity}/{self.queue_name}"),
            ("state", self.state),
            ("job", self.job),
            ("run", f"{self.project}/{self.run_id}" if self.run_id else None),
            ("agent", self.agent),
            ("exit code", self.exit_code),
        ]
        return html_table(rows, f"QueuedRun {self.id}")


class QueuedRuns(Paginator[QueuedRun]):
    """The items of a run queue, oldest first (``state``: only those in it)."""

    def __init__(
        self, api: Api, entity: str, queue: str, state: str | None = None, per_page: int = 50
    ) -> None:
        super().__init__(api, per_page)
        self.entity, self.queue, self.state = entity, queue, state

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        route = f"{run_queue_route(self.entity, self.queue)}/items"
        return self._get_page(route, cursor, limit, state=self.state)

    def _convert(self, item: dict[str, Any]) -> QueuedRun:
        return QueuedRun.from_json(self._api, item)

    def __repr__(self) -> str:
        return f"<QueuedRuns {self.entity}/{self.queue}>"


class RunQueue(Attrs):
    """A workspace's queue of runs to make (W&B's launch queue).

    Attributes:
        name: the queue's name, unique in its workspace.
        entity: the workspace it belongs to.
        id: the server's id of the queue.
        access: ``PROJECT``: the workspace's members use it.
        type: the resource its items run on; lablens runs ``local-process``.
        default_resource_config: the resource config given when it was made.
        template_variables: the template variables' schemas given when it was made.
        prioritization_mode: ``V0`` (items carry a priority) or ``None``.
        external_links: ``{name: url}`` given when it was made.
    """

    def _load(self, data: dict[str, Any]) -> None:
        self.name: str = data["name"]
        self.entity: str = data.get("entity") or ""
        self.id: str | None = data.get("id")
        self.access: str = data.get("access") or "PROJECT"
        self.type: str = data.get("type") or ""
        self.default_resource_config: dict[str, Any] = dict(
            data.get("default_resource_config") or {}
        )
        self.template_variables: dict[str, Any] = dict(data.get("template_variables") or {})
        self.prioritization_mode: str | None = data.get("prioritization_mode")
        self.external_links: dict[str, Any] = dict(data.get("external_links") or {})

    @property
    def items(self) -> list[QueuedRun]:
        """The queue's items, oldest first, read now (every state; see :meth:`queued_runs`)."""
        return list(self.queued_runs())

    def queued_runs(self, state: str | None = None, per_page: int = 50) -> QueuedRuns:
        """The queue's items as a lazy collection.

        Args:
            state: only items in this state (``pending``, ``claimed``, ``running``,
                ``finished``, ``failed``).
            per_page: items per request.

        Returns:
            A ``QueuedRuns`` collection, oldest first.
        """
        return QueuedRuns(self._api, self.entity, self.name, state=state, per_page=per_page)

    def delete(self) -> None:
        """Delete the queue and its items (the runs they made stay)."""
        self._api.client.delete(run_queue_route(self.entity, self.name))

    @classmethod
    def create(
        cls,
        name: str,
        resource: str,
        entity: str | None = None,
        prioritization_mode: str | None = None,
        config: dict[str, Any] | None = None,
        template_variables: dict[str, Any] | None = None,
        *,
        api: Api | None = None,
    ) -> RunQueue:
        """Create a run queue, as :meth:`Api.create_run_queue` (through ``api``, else a new
        ``Api()``)."""
        if api is None:
            from lablens.api.api import Api  # the default client, made only when asked

            api = Api()
        return api.create_run_queue(
            name,
            resource,
            entity=entity,
            prioritization_mode=prioritization_mode,
            config=config,
            template_variables=template_variables,
        )

    def __repr__(self) -> str:
        return f"<RunQueue {self.entity}/{self.name}>"

    def _repr_html_(self) -> str:
        rows = [("type", self.type), ("pending", self._attrs.get("pending"))]
        return html_table(rows, f"RunQueue {self.entity}/{self.name}")
