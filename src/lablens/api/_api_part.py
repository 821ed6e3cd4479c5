"""What every part of ``Api`` may use: the attributes ``Api`` itself sets, declared for type
checkers.

``Api`` is one class built from parts, one module per concept (``_api_projects.py``,
``_api_runs.py``, ...); each part inherits from :class:`ApiPart` so that its methods can name
``self._transport``, ``self.default_entity`` and the rest with their types, and hand the client
to the resources they build as ``self._api``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from lablens.api.api import Api
    from lablens.api.users import User
    from lablens.transport import Transport


class ApiPart:
    """The base of each part of ``Api``: the client's own attributes, for type checkers."""

    if TYPE_CHECKING:
        _transport: Transport
        settings: dict[str, Any]

        @property
        def viewer(self) -> User: ...

        @property
        def default_entity(self) -> str | None: ...

        def _default_project(self) -> str | None: ...

        def _workspace_arg(self, path: str | None, entity: str | None) -> str: ...

    @property
    def _api(self) -> Api:
        """This client, as the resources take it: every part is only ever mixed into ``Api``."""
        return cast("Api", self)
