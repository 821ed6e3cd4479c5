"""``QueueAgent``: pull a run queue's items from the server and run each as a local process.

The agent is client code: it talks to the server over HTTP only. It claims one item at a time
(``POST .../claim``; the server hands each item to one agent, whichever server it asks, and
makes the item's run), runs it (``job_process.py``) and records its end, then claims the next.
Any number of agents, on any machines, may drain one queue.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

from lablens import errors as E
from lablens._settings import resolve_api_key, resolve_host
from lablens.agent.job_process import JobProcess
from lablens.contract.routes import VIEWER, run_queue_route
from lablens.transport import Transport

__all__ = ["QueueAgent"]


def _default_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class QueueAgent:
    """An agent of one run queue.

    Args:
        queue: the queue's name.
        entity: its workspace (default: the signed-in user's default entity).
        project: claim only items whose runs go to this project.
        host: the server (default as ``Api()``'s: ``LABLENS_HOST``, else the local one).
        api_key: the key (default as ``Api()``'s).
        max_jobs: stop after running this many items (``None``: no limit).
        once: stop when the queue has no pending item, instead of waiting for more.
        poll_interval: seconds between looks at an empty queue.
        heartbeat: seconds between heartbeats of a running item.
        name: the agent's name, recorded on the items it claims (default: host-pid-random).
        say: where progress lines go (default: stderr).
    """

    def __init__(
        self,
        queue: str,
        *,
        entity: str | None = None,
        project: str | None = None,
        host: str | None = None,
        api_key: str | None = None,
        max_jobs: int | None = None,
        once: bool = False,
        poll_interval: float = 5.0,
        heartbeat: float = 10.0,
        name: str | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        if max_jobs is not None and max_jobs < 1:
            raise E.UsageError("max_jobs must be at least 1", field="max_jobs")
        if poll_interval <= 0 or heartbeat <= 0:
            raise E.UsageError("poll_interval and heartbeat must be positive seconds")
        server = resolve_host(host)
        self.http = Transport(server, resolve_api_key(server, api_key))
        self.queue = queue
        self.entity = entity or self.http.get_json(VIEWER)["default_entity"]
        self.project = project
        self.max_jobs = max_jobs
        self.once = once
        self.poll_interval = poll_interval
        self.heartbeat = heartbeat
        self.name = name or _default_name()
        self.stop = threading.Event()
        self._say = say or (lambda line: print(line, file=sys.stderr, flush=True))
        #: The items this agent ran, as the server recorded their ends.
        self.ran: list[dict[str, Any]] = []

    def say(self, line: str) -> None:
        self._say(f"lablens agent {self.name}: {line}")

    def claim(self) -> dict[str, Any] | None:
        """Claim the queue's next pending item (its run made), or ``None`` when none waits."""
        body: dict[str, Any] = {"agent": self.name}
        if self.project is not None:
            body["project"] = self.project
        answer = self.http.post_json(f"{run_queue_route(self.entity, self.queue)}/claim", body)
        return answer["item"]

    def run(self) -> int:
        """Claim and run items until stopped, ``max_jobs`` are done, or (``once``) the queue
        is empty; the number of items run."""
        # Asked once up front, so a wrong queue name fails at start, not after a poll.
        self.http.get_json(run_queue_route(self.entity, self.queue))
        self.say(f"polling {self.entity}/{self.queue}")
        while not self.stop.is_set():
            if self.max_jobs is not None and len(self.ran) >= self.max_jobs:
                break
            try:
                item = self.claim()
            except (E.ConnectionFailed, E.ApiError) as exc:
                if isinstance(exc, E.ApiError) and exc.status is not None and exc.status < 500:
                    raise
                self.say(f"claim failed, trying again: {exc}")
                self.stop.wait(self.poll_interval)
                continue
            if item is None:
                if self.once:
                    break
                self.stop.wait(self.poll_interval)
                continue
            self.say(f"claimed {item['id']} of {item['job']}")
            job = JobProcess(
                self.http,
                item,
                agent=self.name,
                heartbeat=self.heartbeat,
                stop=self.stop,
                say=self.say,
            )
            self.ran.append(job.run())
        self.say(f"done: {len(self.ran)} item(s) run")
        return len(self.ran)

    def close(self) -> None:
        """Release the HTTP session."""
        self.http.close()
