"""``Job``: a versioned definition of what a queued run executes, and how to queue it.

A job is an artifact of type ``job`` (as in W&B), so its versions, aliases and listing are the
artifacts' own; its file ``lablens-job.json`` (``lablens.contract.jobs``) holds the command and
the default config. ``Job.call()`` puts a run of it on a run queue.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lablens.contract.artifact_paths import blobs_route
from lablens.contract.jobs import JOB_FILE, JOB_TYPE, job_spec, read_job_spec
from lablens.contract.routes import project_route, run_queue_route
from lablens.errors import UsageError

if TYPE_CHECKING:
    from lablens.api.api import Api
    from lablens.api.artifacts import Artifact
    from lablens.api.run_queues import QueuedRun

__all__ = ["Job"]

#: The resource types lablens' agent runs (the queue's ``type`` says the same).
_RESOURCES = ("local-process",)


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` laid on top, nested dicts merged key by key."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


class Job:
    """One version of a job: the command a queued run executes and its default config.

    Attributes:
        name: the version's full name, ``entity/project/name:vN``.
        entity: the workspace the job belongs to.
        project: its project.
        entrypoint: the command, as a list (``["python", "train.py"]``).
        config: the default config; ``call(config)`` lays its values over it.
        cwd: the directory the agent runs it in (``None``: the agent's own).
        env: extra environment variables for its process.
        artifact: the ``Artifact`` the job is stored as.
    """

    def __init__(self, api: Api, artifact: Artifact, path: str | None = None) -> None:
        self._api = api
        self.artifact = artifact
        self.entity: str = artifact.entity
        self.project: str = artifact.project
        self.name: str = artifact.qualified_name
        entry = artifact.get_entry(JOB_FILE)
        if path is not None:
            entry.download(path)
        spec = read_job_spec(entry.read())
        self._stored = spec  # what the artifact holds, to tell whether a call needs a new one
        self.entrypoint: list[str] = spec["entrypoint"]
        self.config: dict[str, Any] = spec["config"]
        self.cwd: str | None = spec["cwd"]
        self.env: dict[str, str] = spec["env"]

    def _spec(self) -> dict[str, Any]:
        return job_spec(self.entrypoint, config=self.config, cwd=self.cwd, env=self.env)

    def set_entrypoint(self, entrypoint: list[str]) -> None:
        """Run ``entrypoint`` instead: the next ``call()`` logs the job with it as a new
        version (unless one with the same content exists) and queues that version.

        Args:
            entrypoint: the command, as a list of strings.
        """
        self.entrypoint = job_spec(entrypoint)["entrypoint"]

    def call(
        self,
        config: Mapping[str, Any] | None = None,
        project: str | None = None,
        entity: str | None = None,
        queue: str | None = None,
        resource: str = "local-process",
        resource_args: Mapping[str, Any] | None = None,
        template_variables: Mapping[str, Any] | None = None,
        project_queue: str | None = None,
        priority: int | None = None,
    ) -> QueuedRun:
        """Queue a run of this job: ``lablens agent --queue QUEUE`` runs it.

        Args:
            config: values laid over the job's default config (nested dicts merged); the
                run's config is the result.
            project: the project the run is made in (default: the job's).
            entity: the workspace of the queue (default: the job's).
            queue: the run queue's name (default ``"default"``).
            resource: the resource to run on; lablens runs only ``local-process``.
            resource_args: W&B's per-run resource settings; a local process has none, so
                anything given is refused.
            template_variables: values of the queue's template variables, kept with the item.
            project_queue: W&B's project of the queue; lablens' queues belong to a workspace, so
                it is ignored.
            priority: 0 (critical) to 4 (low); default 2.

        Returns:
            The ``QueuedRun``, ``pending`` until an agent claims it.

        Raises:
            UsageError: a resource other than ``local-process``, or ``resource_args``.
            NotFound: the queue does not exist.
        """
        del project_queue  # queues belong to a workspace here, not to a project
        if resource not in _RESOURCES:
            raise UsageError(
                f"resource {resource!r} is not built in lablens: its agent runs only local-process",
                field="resource",
            )
        if resource_args:
            raise UsageError("resource_args: a local-process run takes none", field="resource_args")
        version = self._logged_version()
        from lablens.api.run_queues import QueuedRun

        ws = entity or self.entity
        body = {
            "project": project or self.project,
            "job": version.qualified_name,
            "job_id": version.id,
            "config": _merged(self.config, dict(config or {})),
            "template_variables": dict(template_variables or {}),
            "priority": priority,
        }
        data = self._api.client.post_json(f"{run_queue_route(ws, queue or 'default')}/items", body)
        return QueuedRun.from_json(self._api, data)

    def _logged_version(self) -> Artifact:
        """The version holding what this object says (a new one after ``set_entrypoint``)."""
        spec = self._spec()
        if spec == self._stored:
            return self.artifact
        collection = self.artifact.name.partition(":")[0]
        self.artifact = log_job(self._api, self.entity, self.project, collection, spec)
        self._stored = spec
        self.name = self.artifact.qualified_name
        return self.artifact

    def __repr__(self) -> str:
        return f"<Job {self.name}>"


def log_job(
    api: Api,
    entity: str,
    project: str,
    name: str,
    spec: dict[str, Any],
    *,
    description: str | None = None,
    aliases: Sequence[str] = (),
) -> Artifact:
    """Store ``spec`` as a version of the job ``name`` (an artifact of type ``job`` with one
    file), uploading the file if the server lacks it; the same content gives back the version
    that has it."""
    from lablens.api.artifacts import Artifact

    body = json.dumps(spec, sort_keys=True, indent=2).encode()
    digest = hashlib.sha256(body).hexdigest()
    blobs = blobs_route(entity, project)
    if api.client.post_json(f"{blobs}/missing", {"digests": [digest]})["missing"]:
        api.client.request(
            "PUT",
            f"{blobs}/{digest}",
            data=body,
            headers={"Content-Type": "application/octet-stream"},
        )
    data = api.client.post_json(
        f"{project_route(entity, project)}/artifacts",
        {
            "name": name,
            "type": JOB_TYPE,
            "description": description,
            "metadata": {"entrypoint": spec["entrypoint"], "source_type": spec["source_type"]},
            "aliases": list(aliases),
            "files": [{"path": JOB_FILE, "digest": digest, "size": len(body)}],
        },
    )
    return Artifact.from_json(api, data)
