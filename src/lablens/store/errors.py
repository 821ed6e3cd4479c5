"""The store's own errors; the server turns each into a problem+json answer."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's errors."""


class NotFound(StoreError):
    """A workspace, project, run, file, user, key or artifact that does not exist.

    ``kind`` is ``"workspace"``, ``"project"``, ``"run"``, ``"file"``, ``"user"``, ``"key"``,
    ``"artifact"``, ``"artifact_type"`` or ``"artifact_collection"``.
    """

    def __init__(self, kind: str, path: str) -> None:
        super().__init__(f"{kind} not found: {path}")
        self.kind = kind
        self.path = path


class Conflict(StoreError):
    """The write clashes with what is stored (a name already taken, a run that exists)."""


class InvalidInput(StoreError):
    """A value the store cannot take; ``field`` names it (``"data.loss"``, ``"order"``)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidFilter(InvalidInput):
    """A filter that cannot be compiled; ``field`` names the bad part (``filters.$and[1].$gt``)."""


class LimitExceeded(InvalidInput):
    """A request past one of the server's limits (``store/limits.py``); ``limit`` is its value.

    ``status`` is the HTTP status the server answers: 400, or 413 for sizes.
    """

    def __init__(
        self, message: str, field: str | None = None, *, limit: int | float, status: int = 400
    ) -> None:
        super().__init__(message, field)
        self.limit = limit
        self.status = status


class StoreUnreachable(StoreError):
    """The store's database server cannot be reached; ``host`` and ``port`` name it."""

    def __init__(self, message: str, *, host: str, port: int | None) -> None:
        super().__init__(message)
        self.host = host
        self.port = port


class SchemaTooNew(StoreError):
    """The database was migrated by a newer lablens: its schema ``found`` is past the ``known``
    versions of this code, which refuses to touch it."""

    def __init__(self, message: str, *, found: int, known: int) -> None:
        super().__init__(message)
        self.found = found
        self.known = known
