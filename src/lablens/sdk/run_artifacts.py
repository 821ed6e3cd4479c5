"""``run.log_artifact()`` and ``run.use_artifact()``: the artifacts a run makes and reads.

``log_artifact`` uploads a ``lablens.Artifact`` (see ``artifacts.py``) as the run's output;
``use_artifact("name:alias")`` records that the run used a version (its lineage) and returns it,
ready to ``download()``. Both talk HTTP through the client contract; the SDK never imports the
``Api`` (nor pandas), so ``import lablens`` and ``init()`` stay fast.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lablens.contract.artifact_paths import parse_artifact_name, version_route
from lablens.contract.routes import run_route
from lablens.errors import UsageError
from lablens.sdk.artifacts import Artifact
from lablens.transport import Transport

if TYPE_CHECKING:
    from lablens.sdk.sender import Sender
    from lablens.sdk.settings import Settings

__all__ = ["RunArtifactLogging"]


class RunArtifactLogging:
    """``log_artifact()`` and ``use_artifact()`` of the SDK's ``Run``. A mixin, so ``runs.py``
    stays the size of one resource."""

    if TYPE_CHECKING:
        id: str
        entity: str
        project: str
        path: str
        host: str
        _closed: bool
        _transport: Transport
        _sender: Sender
        settings: Settings

        def _on_server(self) -> None: ...

    def _artifact_http(self) -> Transport:
        if getattr(self, "offline", False):
            raise UsageError(
                f"run {self.path} is offline: artifacts need a server (log them from an online"
                " run, or after `lablens sync`)"
            )
        self._on_server()  # an artifact's route needs the run
        http = getattr(self, "_artifacts_http", None)
        if http is None:
            # Its own session, with the transport's usual retries: uploads are safe to repeat
            # (blobs are named by content, and a commit of the same content is that version).
            http = Transport(self.host, self._transport.api_key)
            self._artifacts_http = http
        return http

    def _open(self, what: str) -> None:
        if self._closed:
            raise UsageError(
                f"run.{what}: run {self.path} is finished; start a new one with init()"
            )

    def log_artifact(
        self,
        artifact_or_path: Artifact | str | os.PathLike[str],
        name: str | None = None,
        type: str | None = None,  # noqa: A002 - W&B's name
        aliases: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
    ) -> Artifact:
        """Log an artifact as an output of this run: upload it and commit the next version.

        Blocks until the version is committed. Only contents the server does not have yet
        are uploaded; a version exists only once its whole manifest is committed, so an
        interrupted upload leaves none. Contents equal to an existing version of the
        collection give back that version (with ``aliases`` added) instead of a new one. The
        ``latest`` alias always moves to the newest version.

        Args:
            artifact_or_path: a ``lablens.Artifact``, or the path of a file or folder to log
                as one.
            name: for a path, the artifact's name (default ``run-<id>-<file name>``).
            type: for a path, its type (default ``unspecified``).
            aliases: aliases to give the version, e.g. ``["best"]``; each moves here from
                whichever version held it.
            tags: tags to give the version.

        Returns:
            The artifact, now the stored version (``version``, ``aliases``, ``download()``).

        Raises:
            UsageError: the run is finished, an alias or tag is not allowed, or the artifact
                is already logged.
            ConnectionFailed: the server could not be reached.

        Example:
            >>> artifact = lablens.Artifact("mlp", type="model")
            >>> artifact.add_file("model.npz")
            >>> run.log_artifact(artifact, aliases=["best"]).version
            'v0'
        """
        self._open("log_artifact")
        if isinstance(artifact_or_path, (str, os.PathLike)):
            local = Path(artifact_or_path)
            artifact = Artifact(name or f"run-{self.id}-{local.name}", type or "unspecified")
            if local.is_dir():
                artifact.add_dir(local)
            else:
                artifact.add_file(local)
        elif isinstance(artifact_or_path, Artifact):
            artifact = artifact_or_path
        else:
            raise UsageError(
                "log_artifact() takes a lablens.Artifact or a path, not"
                f" {artifact_or_path.__class__.__name__}"
            )
        artifact._commit(
            self._artifact_http(),
            self.entity,
            self.project,
            run_id=self.id,
            aliases=list(aliases or []),
            tags=list(tags or []),
        )
        return artifact

    def use_artifact(
        self,
        artifact_or_name: str | Any,
        type: str | None = None,  # noqa: A002 - W&B's name
        aliases: Sequence[str] | None = None,
        use_as: str | None = None,
    ) -> Any:
        """Declare an artifact as an input to this run, recording the lineage, and return it.

        Args:
            artifact_or_name: ``name:alias`` or ``name:v3`` (in this run's project unless
                prefixed with ``project/`` or ``entity/project/``), a stored artifact (a
                ``lablens.Artifact`` logged, or the ``Api``'s ``Artifact``), or a
                ``lablens.Artifact`` not logged yet, which is then committed (without a run
                that logged it) and used.
            type: the artifact's type; checked when given.
            aliases: for an artifact not logged yet, aliases to give it.
            use_as: accepted for W&B.

        Returns:
            The artifact used, ready to ``download()``: a ``lablens.Artifact`` for a name, else
            the object given.

        Raises:
            UsageError: the run is finished, or ``type`` does not match.
            ArtifactNotFound: there is no such artifact version.

        Example:
            >>> data = run.use_artifact("digits:latest", type="dataset")
            >>> root = data.download()
        """
        self._open("use_artifact")
        http = self._artifact_http()
        if isinstance(artifact_or_name, str):
            path = parse_artifact_name(artifact_or_name, self.entity, self.project)
            route = version_route(path.entity, path.project, path.name, path.version)
            artifact = Artifact._stored(http, http.get_json(route))
        elif isinstance(artifact_or_name, Artifact) or _is_stored_artifact(artifact_or_name):
            artifact = artifact_or_name
            if isinstance(artifact, Artifact) and not artifact.id:
                artifact._commit(
                    http, self.entity, self.project, run_id=None, aliases=list(aliases or [])
                )
        else:
            raise UsageError(
                "use_artifact() takes an artifact name or an Artifact, not"
                f" {artifact_or_name.__class__.__name__}"
            )
        if type is not None and artifact.type != type:
            raise UsageError(
                f"artifact {artifact.qualified_name} has type {artifact.type!r}, not {type!r}"
            )
        data = http.post_json(
            f"{run_route(self.entity, self.project, self.id)}/used_artifacts",
            {"entity": artifact.entity, "project": artifact.project, "id": artifact.id},
        )
        if isinstance(artifact, Artifact):
            artifact._load(data)
        else:  # the Api's Artifact: the same JSON, its own loader
            artifact._attrs = dict(data)
            artifact._load(artifact._attrs)
        return artifact

    def link_artifact(
        self, artifact: Any, target_path: str, aliases: Sequence[str] | None = None
    ) -> Any:
        """Link the given artifact to a portfolio (a promoted collection of artifacts), such as
        a registry's collection (``wandb-registry-model/digit-classifier``).

        Args:
            artifact: a ``lablens.Artifact`` (logged by this run first when it is not logged
                yet) or a stored one (the ``Api``'s ``Artifact``).
            target_path: ``entity/project/name``, ``project/name`` or ``name``; a registry's
                collection ``ORG/wandb-registry-NAME/collection``, or without ``ORG/`` when
                one organization of yours has a registry of that name.
            aliases: aliases for the link in the target collection.

        Returns:
            The link, a version of the target collection.

        Raises:
            UsageError: the run is finished, or ``artifact`` is no artifact.
            RegistryNotFound: the registry does not exist or you may not read it.

        Example:
            >>> run.link_artifact(model, "wandb-registry-model/digit-classifier",
            ...                   aliases=["production"])
        """
        self._open("link_artifact")
        if isinstance(artifact, Artifact) and not artifact.id:
            self.log_artifact(artifact)
        elif not (isinstance(artifact, Artifact) or _is_stored_artifact(artifact)):
            raise UsageError(
                f"link_artifact() takes an Artifact, not {artifact.__class__.__name__}"
            )
        return artifact.link(target_path, aliases=list(aliases or []))


def _is_stored_artifact(obj: object) -> bool:
    """Whether ``obj`` is an artifact version read with the ``Api`` (known by its shape: the SDK
    does not import the ``Api``)."""
    return all(hasattr(obj, a) for a in ("id", "entity", "project", "type", "_load"))
