"""A job: what a queued run executes, as the ``Api`` writes it and the agent reads it.

A job is an artifact of type ``job`` (as in W&B), so it is versioned, aliased and listed like
every artifact; its one file, :data:`JOB_FILE`, holds the command to run and the default
config. A queue's item names a job version, and the agent reads that file to run it.
Environment variables hand a job's process its run (:data:`ENV_RUN_ID` ...), so that
``lablens.init()`` inside it joins the run the claim made.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from lablens.errors import UsageError

__all__ = [
    "ENV_ENTITY",
    "ENV_PROJECT",
    "ENV_QUEUED_RUN",
    "ENV_RUN_CONFIG",
    "ENV_RUN_ID",
    "JOB_FILE",
    "JOB_TYPE",
    "job_spec",
    "read_job_spec",
]

#: The artifact type of jobs.
JOB_TYPE = "job"
#: The job's file inside its artifact.
JOB_FILE = "lablens-job.json"
#: The form of :data:`JOB_FILE`, so a later lablens can read an older job.
JOB_FORMAT = "lablens-job/1"

#: What the agent sets for a job's process, and ``lablens.init()`` reads.
ENV_RUN_ID = "LABLENS_RUN_ID"
ENV_ENTITY = "LABLENS_ENTITY"
ENV_PROJECT = "LABLENS_PROJECT"
#: The run's config as JSON: laid over what the job's own ``init(config=...)`` gives.
ENV_RUN_CONFIG = "LABLENS_RUN_CONFIG"
#: The queued run's id (``entity/queue/item``), for the job's own use.
ENV_QUEUED_RUN = "LABLENS_QUEUED_RUN"


def _entrypoint(value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise UsageError(
            "entrypoint must be a non-empty list of strings, e.g. ['python', 'train.py']",
            field="entrypoint",
        )
    if not all(isinstance(part, str) for part in value):
        raise UsageError("entrypoint must hold only strings", field="entrypoint")
    return list(value)


def job_spec(
    entrypoint: Sequence[str],
    *,
    config: Mapping[str, Any] | None = None,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The content of a job's :data:`JOB_FILE`: the command (``entrypoint``, a list as
    ``subprocess`` takes it), its default config, the directory to run it in and extra
    environment variables."""
    if cwd is not None and not isinstance(cwd, str):
        raise UsageError("cwd must be a directory's path", field="cwd")
    spec = {
        "format": JOB_FORMAT,
        "source_type": "local-process",
        "entrypoint": _entrypoint(entrypoint),
        "config": dict(config or {}),
        "cwd": cwd,
        "env": {str(k): str(v) for k, v in (env or {}).items()},
    }
    json.dumps(spec)  # a config that cannot travel fails here, not on the agent
    return spec


def read_job_spec(data: bytes) -> dict[str, Any]:
    """A job's :data:`JOB_FILE` read back, checked; ``UsageError`` for one lablens cannot run."""
    try:
        spec = json.loads(data)
    except ValueError as exc:
        raise UsageError(f"{JOB_FILE} is not JSON: {exc}") from None
    if not isinstance(spec, dict) or spec.get("format") != JOB_FORMAT:
        raise UsageError(f"{JOB_FILE} is not a lablens job (format {JOB_FORMAT})")
    return job_spec(
        spec.get("entrypoint") or [],
        config=spec.get("config") or {},
        cwd=spec.get("cwd"),
        env=spec.get("env") or {},
    )
