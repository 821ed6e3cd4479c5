"""The run queue and job methods of ``Api``, as W&B's launch names them: ``create_run_queue()``,
``upsert_run_queue()``, ``run_queue()``, ``queued_run()``, ``job()``, ``list_jobs()``, and
``create_job()`` (lablens' own; W&B makes jobs from its CLI). A part of ``Api`` (see
``_api_part.py``); each returns a resource from ``run_queues.py`` or ``jobs.py``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lablens.api._api_part import ApiPart
from lablens.api.jobs import Job, log_job
from lablens.api.run_queues import QueuedRun, RunQueue
from lablens.contract.artifact_names import check_name
from lablens.contract.jobs import JOB_TYPE, job_spec
from lablens.contract.routes import queue_item_route, run_queue_route, workspace_route
from lablens.errors import ArtifactNotFound, UsageError


class ApiRunQueues(ApiPart):
    """``Api.create_run_queue()``, ``upsert_run_queue()``, ``run_queue()``, ``queued_run()``,
    ``job()``, ``list_jobs()`` and ``create_job()``."""

    def _entity_arg(self, entity: str | None) -> str:
        found = entity or self.default_entity
        if not found:
            raise UsageError("no entity given and the Api has none", field="entity")
        return found

    def create_run_queue(
        self,
        name: str,
        type: str,  # noqa: A002 - W&B's name
        entity: str | None = None,
        prioritization_mode: str | None = None,
        config: dict[str, Any] | None = None,
        template_variables: dict[str, Any] | None = None,
    ) -> RunQueue:
        """Create a new run queue (launch).

        Args:
            name: Name of the queue to create.
            type: Type of resource to be used for the queue. lablens' agent runs
                ``local-process`` (a job's command as a local process); ``local-container``,
                ``kubernetes``, ``sagemaker`` and ``gcp-vertex`` are refused (not built).
            entity: Name of the entity to create the queue. If None, use the configured or
                default entity.
            prioritization_mode: Version of prioritization to use. Either ``"V0"`` or None.
            config: Default resource configuration to be used for the queue.
            template_variables: A dictionary of template variable schemas to use with the
                config.

        Returns:
            The newly created ``RunQueue``.

        Raises:
            ValueError: a parameter is invalid (``BadRequest`` naming it: the name, the type).
            Conflict: the entity has a queue of that name already.

        Example:
            >>> queue = api.create_run_queue("gpu", "local-process")
        """
        ws = self._entity_arg(entity)
        body = {
            "name": name,
            "type": type,
            "prioritization_mode": prioritization_mode,
            "config": config,
            "template_variables": template_variables,
        }
        data = self._transport.post_json(f"{workspace_route(ws)}/run-queues", body)
        return RunQueue.from_json(self._api, data)

    def upsert_run_queue(
        self,
        name: str,
        resource_config: dict[str, Any],
        resource_type: str,
        entity: str | None = None,
        template_variables: dict[str, Any] | None = None,
        external_links: dict[str, Any] | None = None,
        prioritization_mode: str | None = None,
    ) -> RunQueue:
        """Upsert a run queue (launch): create it, or give an existing one these settings.

        Args:
            name: Name of the queue to create.
            resource_config: Optional default resource configuration to be used for the queue.
            resource_type: Type of resource to be used for the queue (``local-process``; the
                other W&B types are refused, not built).
            entity: Optional name of the entity to create the queue. If None, use the
                configured or default entity.
            template_variables: A dictionary of template variable schemas to be used with the
                config.
            external_links: Optional dictionary of external links (``{name: url}``).
            prioritization_mode: Optional version of prioritization to use. Either ``"V0"`` or
                None.

        Returns:
            The upserted ``RunQueue``.

        Raises:
            ValueError: a parameter is invalid (``BadRequest`` naming it).

        Example:
            >>> api.upsert_run_queue("gpu", {}, "local-process", prioritization_mode="V0")
        """
        ws = self._entity_arg(entity)
        body = {
            "type": resource_type,
            "prioritization_mode": prioritization_mode,
            "config": resource_config,
            "template_variables": template_variables,
            "external_links": external_links,
        }
        route = run_queue_route(ws, name)
        data = self._transport.request("PUT", route, json_body=body).json()
        return RunQueue.from_json(self._api, data)

    def run_queue(self, entity: str, name: str) -> RunQueue:
        """Return the named ``RunQueue`` for entity.

        To create a new ``RunQueue``, use ``api.create_run_queue(...)``.

        Args:
            entity: the workspace the queue belongs to.
            name: the queue's name.

        Returns:
            The ``RunQueue``.

        Raises:
            NotFound: there is no such queue.

        Example:
            >>> [item.state for item in api.run_queue("alice", "gpu").items]
        """
        data = self._transport.get_json(run_queue_route(entity or self._entity_arg(None), name))
        return RunQueue.from_json(self._api, data)

    def queued_run(
        self,
        entity: str,
        project: str,
        queue_name: str,
        run_queue_item_id: str,
        project_queue: str | None = None,
        priority: int | None = None,
    ) -> QueuedRun:
        """Return a single queued run based on the path ``entity/project/queue/item_id``.

        Args:
            entity: the workspace of the queue.
            project: W&B's project of the path; lablens finds the item by its queue and id,
                so it is not checked.
            queue_name: the queue's name.
            run_queue_item_id: the item's id.
            project_queue: W&B's project of the queue; ignored (queues belong to a workspace).
            priority: W&B's; ignored (the item has its own).

        Returns:
            The ``QueuedRun``.

        Raises:
            NotFound: there is no such item.

        Example:
            >>> api.queued_run("alice", "mnist", "gpu", "k2j4h6g8").state
        """
        del project, project_queue, priority  # the item is found by queue and id alone
        data = self._transport.get_json(queue_item_route(entity, queue_name, run_queue_item_id))
        return QueuedRun.from_json(self._api, data)

    def job(self, name: str | None, path: str | None = None) -> Job:
        """Return a ``Job`` from the given parameters.

        Args:
            name: The job name, ``entity/project/name:version`` (as an artifact's; the version
                or alias defaults to ``latest``, the entity and project to the Api's).
            path: If given, the root path in which to download the job artifact.

        Returns:
            A ``Job`` object.

        Raises:
            ValueError: no name, or the artifact is not a job.
            ArtifactNotFound: there is no such job.

        Example:
            >>> job = api.job("alice/mnist/train:latest")
            >>> job.call({"lr": 0.1}, queue="gpu")
        """
        if not name:
            raise UsageError("job: a name is needed, entity/project/name:version", field="name")
        artifact = self._api.artifact(name, type=JOB_TYPE)
        return Job(self._api, artifact, path=path)

    def list_jobs(self, entity: str, project: str) -> list[dict[str, Any]]:
        """Return a list of jobs, if any, for the given entity and project.

        Args:
            entity: The entity for the listed jobs.
            project: The project for the listed jobs.

        Returns:
            A list of matching jobs, each ``{"name", "entity", "project", "versions",
            "latest", "description", "created_at", "updated_at"}`` (``latest`` the full name
            of its newest version).

        Example:
            >>> [j["name"] for j in api.list_jobs("alice", "mnist")]
        """
        try:
            collections = list(self._api.artifact_collections(f"{entity}/{project}", JOB_TYPE))
        except ArtifactNotFound:  # no job was ever made in the project
            return []
        jobs = []
        for c in collections:
            jobs.append(
                {
                    "name": c.name,
                    "entity": entity,
                    "project": project,
                    "versions": c.version_count,
                    "latest": f"{entity}/{project}/{c.name}:latest",
                    "description": c.description,
                    "created_at": c.created_at,
                    "updated_at": c.updated_at,
                }
            )
        return jobs

    def create_job(
        self,
        name: str,
        entrypoint: Sequence[str],
        *,
        project: str | None = None,
        entity: str | None = None,
        config: Mapping[str, Any] | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        description: str | None = None,
        aliases: Sequence[str] = (),
    ) -> Job:
        """Make a job, or a new version of it: a command a queued run executes (lablens' own
        method; W&B makes jobs with its CLI).

        The job is an artifact of type ``job``: logging the same content again gives back the
        version that has it, and other content makes the next version.

        Args:
            name: the job's name (an artifact collection name).
            entrypoint: the command, as a list (``["python", "train.py"]``); inside it
                ``lablens.init()`` joins the run the queue made.
            project: its project (default: the Api's, else ``uncategorized``).
            entity: its workspace (default: the Api's).
            config: the default config; ``Job.call(config)`` lays values over it.
            cwd: the directory the agent runs the command in (default: the agent's own).
            env: extra environment variables for the command.
            description: a description of the version.
            aliases: aliases of the version besides ``latest``.

        Returns:
            The ``Job``.

        Raises:
            UsageError: a bad name or entrypoint.

        Example:
            >>> job = api.create_job("train", ["python", "train.py"], project="mnist",
            ...                      config={"lr": 0.01})
        """
        check_name(name)
        ws = self._entity_arg(entity)
        proj = project or self.settings.get("project") or "uncategorized"
        spec = job_spec(entrypoint, config=config, cwd=cwd, env=env)
        artifact = log_job(
            self._api, ws, proj, name, spec, description=description, aliases=aliases
        )
        return Job(self._api, artifact)
