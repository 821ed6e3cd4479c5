"""The sweep methods of ``Api``: ``sweep()`` and ``sweeps()``. A part of ``Api`` (see
``_api_part.py``); each returns a resource from ``sweeps.py``."""

from __future__ import annotations

from lablens.api._api_part import ApiPart
from lablens.api.sweeps import Sweep, Sweeps
from lablens.contract import paths
from lablens.contract.routes import sweep_route


class ApiSweeps(ApiPart):
    """``Api.sweep()`` and ``sweeps()``."""

    def sweep(self, path: str = "") -> Sweep:
        """A sweep, by ``entity/project/sweep_id``.

        Args:
            path: ``entity/project/sweep_id`` (also ``entity/project/sweeps/sweep_id`` or a
                sweep URL); ``project/sweep_id`` with a default entity; ``sweep_id`` with
                default entity and project (``overrides``).

        Returns:
            The ``Sweep``.

        Raises:
            UsageError: the path is malformed.
            SweepNotFound: there is no such sweep.

        Example:
            >>> sweep = api.sweep("alice/mnist/x1y2z3w4")
            >>> sweep.state, len(sweep.runs), sweep.best_run()
        """
        entity, project, sweep_id = paths.parse_sweep_path(
            path, lambda: self.default_entity, self._default_project
        )
        data = self._transport.get_json(sweep_route(entity, project, sweep_id))
        return Sweep.from_json(self._api, data)

    def sweeps(self, path: str | None = None, per_page: int = 50) -> Sweeps:
        """The sweeps of a project, newest first (as ``project.sweeps()``).

        Args:
            path: ``entity/project``, or a project with the default entity.
            per_page: sweeps per request.

        Returns:
            A lazy ``Sweeps`` collection.

        Example:
            >>> [s.id for s in api.sweeps("alice/mnist")]
        """
        ws, proj = paths.parse_project_path(
            path, lambda: self.default_entity, self._default_project
        )
        return Sweeps(self._api, ws, proj, per_page=per_page)
