"""One claimed item run to its end: the job's command as a local process, heartbeats while it
runs, and its exit recorded on the item.

The process gets the run's coordinates in its environment (``lablens.contract.jobs``), so
``lablens.init()`` inside it joins the run the claim made and the queued config wins over the
job's defaults. It runs in a session of its own: a Ctrl-C meant for the agent does not reach
it; the agent ends it itself (SIGTERM, then SIGKILL) when asked to stop.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from lablens import errors as E
from lablens.contract import jobs
from lablens.contract.artifact_paths import file_route
from lablens.contract.routes import queue_item_route
from lablens.transport import Transport

__all__ = ["JobProcess"]

#: Seconds a job has to exit after SIGTERM before it is killed.
GRACE = 10.0


class JobProcess:
    """Run the job of one claimed ``item`` (the server's JSON) and report its end.

    ``stop`` is the agent's stop signal: once set, the job is ended and the item recorded
    ``failed`` (the agent was stopped, the job did not finish).
    """

    def __init__(
        self,
        http: Transport,
        item: Mapping[str, Any],
        *,
        agent: str,
        heartbeat: float,
        stop: threading.Event,
        say: Callable[[str], None],
    ) -> None:
        self.http = http
        self.item = item
        self.agent = agent
        self.heartbeat = heartbeat
        self.stop = stop
        self.say = say
        self.route = queue_item_route(item["entity"], item["queue"], item["id"])

    def run(self) -> dict[str, Any]:
        """Run the job and record its end; the item as the server has it afterwards."""
        try:
            spec = self._job_spec()
        except (E.LablensError, OSError) as exc:
            return self._end("failed", None, f"cannot read job {self.item['job']}: {exc}")
        try:
            proc = subprocess.Popen(
                spec["entrypoint"],
                cwd=spec["cwd"],
                env=self._environment(spec),
                start_new_session=True,
            )
        except OSError as exc:
            return self._end("failed", None, f"cannot start {spec['entrypoint']!r}: {exc}")
        self.say(f"running {self.item['id']} (run {self.item['run_id']}, pid {proc.pid})")
        held = self._beat(running=True)
        code = self._wait(proc, held)
        if self.stop.is_set():
            return self._end("failed", code, "the agent was stopped (SIGTERM) while it ran")
        if not held[0]:
            return dict(self.item)  # taken off the queue meanwhile: nothing to record
        return self._end("finished" if code == 0 else "failed", code, None)

    def _job_spec(self) -> dict[str, Any]:
        entity, project, _ = str(self.item["job"]).split("/", 2)
        route = file_route(entity, project, self.item["job_id"], jobs.JOB_FILE)
        return jobs.read_job_spec(self.http.request("GET", route).content)

    def _environment(self, spec: Mapping[str, Any]) -> dict[str, str]:
        item = self.item
        env = {**os.environ, **spec["env"]}
        env.update(
            {
                "LABLENS_HOST": self.http.base_url,
                jobs.ENV_ENTITY: item["entity"],
                jobs.ENV_PROJECT: item["project"],
                jobs.ENV_RUN_ID: item["run_id"],
                jobs.ENV_RUN_CONFIG: json.dumps(item["config"]),
                jobs.ENV_QUEUED_RUN: f"{item['entity']}/{item['queue']}/{item['id']}",
            }
        )
        if self.http.api_key:
            env["LABLENS_API_KEY"] = self.http.api_key
        return env

    def _beat(self, *, running: bool = False) -> list[bool]:
        """Heartbeat the item; ``[False]`` once the agent no longer holds it (deleted)."""
        try:
            self.http.post_json(
                f"{self.route}/heartbeat", {"agent": self.agent, "running": running}
            )
        except (E.Conflict, E.NotFound) as exc:
            self.say(f"{self.item['id']} is no longer ours ({exc}): ending its job")
            return [False]
        except (E.ConnectionFailed, E.ApiError) as exc:
            # The server may be restarting: the job goes on, the next beat tries again.
            self.say(f"heartbeat of {self.item['id']} failed: {exc}")
        return [True]

    def _wait(self, proc: subprocess.Popen[bytes], held: list[bool]) -> int:
        """Wait for the process, heartbeating; end it when stopped or no longer held."""
        next_beat = time.monotonic() + self.heartbeat
        while True:
            try:
                return proc.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                pass
            if self.stop.is_set() or not held[0]:
                return _end_process(proc)
            if time.monotonic() >= next_beat:
                held[:] = self._beat()
                next_beat = time.monotonic() + self.heartbeat

    def _end(self, state: str, code: int | None, error: str | None) -> dict[str, Any]:
        body = {"agent": self.agent, "state": state, "exit_code": code, "error": error}
        for attempt in range(5):
            try:
                item = self.http.post_json(f"{self.route}/end", body)
                self.say(f"{self.item['id']} {state} (exit code {code})")
                return item
            except (E.ConnectionFailed, E.ApiError) as exc:
                if isinstance(exc, E.ApiError) and exc.status is not None and exc.status < 500:
                    raise
                time.sleep(min(2**attempt, 10))
        raise E.ConnectionFailed(f"cannot record the end of queued run {self.item['id']}")


def _end_process(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM the job's session, SIGKILL it after :data:`GRACE` seconds; its exit code."""
    for sig, wait in ((signal.SIGTERM, GRACE), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            return proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return proc.wait()
