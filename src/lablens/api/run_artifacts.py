"""``RunArtifacts``: the artifact versions a run logged or used, and the ``Run`` methods that
list them (W&B's ``logged_artifacts()`` and ``used_artifacts()``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from lablens.api.artifact_display import versions_html
from lablens.api.artifacts import Artifact
from lablens.api.paging import Paginator
from lablens.contract.routes import run_route
from lablens.errors import UsageError

if TYPE_CHECKING:
    from lablens.api.api import Api
    from lablens.api.run import Run

__all__ = ["RunArtifactMethods", "RunArtifacts"]


class RunArtifacts(Paginator[Artifact]):
    """The versions a run logged, or used, oldest first.

    Returned by ``run.logged_artifacts()`` and ``run.used_artifacts()``.

    Example:
        >>> [a.name for a in api.run("alice/mnist/3f2a9c1b").logged_artifacts()]
    """

    def __init__(self, api: Api, run: Run, mode: str = "logged", per_page: int = 50) -> None:
        super().__init__(api, per_page)
        if mode not in ("logged", "used"):
            raise UsageError(f"mode must be 'logged' or 'used', not {mode!r}")
        self.run = run
        self.mode = mode

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        route = f"{run_route(self.run.entity, self.run.project, self.run.id)}/{self.mode}_artifacts"
        return self._get_page(route, cursor, limit)

    def _convert(self, item: dict[str, Any]) -> Artifact:
        return Artifact.from_json(self._api, item)

    def __repr__(self) -> str:
        return f"<RunArtifacts {self.run.path} {self.mode}>"

    def _repr_html_(self) -> str:
        return versions_html(f"{self.run.path} ({self.mode})", self[:20], len(self))


class RunArtifactMethods:
    """The artifact methods of ``Run`` (W&B's ``logged_artifacts()``, ``used_artifacts()``).
    A mixin, so ``run.py`` stays one resource's size."""

    if TYPE_CHECKING:
        _api: Api

    def _run(self) -> Run:
        # This is only ever a part of Run.
        return cast("Run", self)

    def logged_artifacts(self, per_page: int = 100) -> RunArtifacts:
        """The artifact versions this run logged.

        Args:
            per_page: versions per request.

        Returns:
            A lazy ``RunArtifacts``, oldest first.

        Example:
            >>> for artifact in api.run("alice/mnist/3f2a9c1b").logged_artifacts():
            ...     print(artifact.name, artifact.type, artifact.aliases)
        """
        return RunArtifacts(self._api, self._run(), "logged", per_page)

    def used_artifacts(self, per_page: int = 100) -> RunArtifacts:
        """The artifact versions this run used (``run.use_artifact()`` in the SDK).

        Args:
            per_page: versions per request.

        Returns:
            A lazy ``RunArtifacts``, oldest first.

        Example:
            >>> [a.qualified_name for a in api.run("alice/mnist/3f2a9c1b").used_artifacts()]
        """
        return RunArtifacts(self._api, self._run(), "used", per_page)
