"""The exceptions lablens raises, shared by every layer.

This module imports nothing from lablens, so the transport, the ``Api`` and the SDK raise the
same classes:

    LablensError
    ├── ApiError            .status .code .detail .field .request_id
    │   ├── BadRequest      .field names the bad part ("filters.$and[1].$gt")
    │   ├── Unauthorized
    │   ├── PermissionDenied
    │   ├── NotFound        .path
    │   │   ├── WorkspaceNotFound
    │   │   ├── ProjectNotFound
    │   │   ├── RunNotFound
    │   │   ├── FileNotFound
    │   │   ├── UserNotFound
    │   │   ├── TeamNotFound
    │   │   ├── SweepNotFound
    │   │   ├── ReportNotFound
    │   │   ├── ArtifactNotFound   an artifact, collection or type
    │   │   └── RegistryNotFound
    │   └── Conflict
    ├── ConnectionFailed    server unreachable or timed out, after retries
    └── UsageError          a call the client rejects before sending it (a bad path, a bad value)
"""

from __future__ import annotations

from typing import Any


class LablensError(Exception):
    """Base class of every error lablens raises."""


class UsageError(LablensError, ValueError):
    """A call rejected on the client before anything was sent: a malformed path, a bad value.

    It is also a ``ValueError``, which is what the W&B seeds raise for the same mistakes.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ApiError(LablensError):
    """The server answered with an error (a problem+json body).

    Attributes:
        status: the HTTP status code.
        code: the machine-readable error code, e.g. ``"run_not_found"``.
        detail: the human-readable explanation.
        field: the part of the request that was wrong, when the server named one.
        request_id: the server's id of the request, for its logs.
        errors: every ``{"field", "message"}`` pair the server reported.
    """

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
        field: str | None = None,
        request_id: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.code = code
        self.field = field
        self.request_id = request_id
        self.errors = errors or []

    def __str__(self) -> str:
        where = f" (field: {self.field})" if self.field else ""
        return f"{self.detail}{where}"


class BadRequest(ApiError, ValueError):
    """The request was malformed; ``field`` names the bad part, e.g. ``filters.$and[1].$gt``."""


class Unauthorized(ApiError):
    """No API key, or a wrong or revoked one."""


class PermissionDenied(ApiError):
    """The signed-in user may not do this."""


class NotFound(ApiError):
    """The resource does not exist (or is not visible to the signed-in user)."""

    def __init__(self, detail: str, *, path: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.path = path


class WorkspaceNotFound(NotFound):
    """No workspace with that username."""


class ProjectNotFound(NotFound):
    """No project at that path."""


class RunNotFound(NotFound):
    """No run at that path."""


class FileNotFound(NotFound):
    """No file of that name in the run."""


class UserNotFound(NotFound):
    """No user with that username."""


class TeamNotFound(NotFound):
    """No team of that name (or you are not one of its members)."""


class SweepNotFound(NotFound):
    """No sweep at that path."""


class ReportNotFound(NotFound):
    """No report at that path."""


class ArtifactNotFound(NotFound):
    """No artifact version, collection or type at that path (``entity/project/name:alias``)."""


class RegistryNotFound(NotFound):
    """No registry of that name in the organization, or one you may not read."""


class Conflict(ApiError):
    """The request clashes with what is stored, e.g. a project name already taken."""


class ConnectionFailed(LablensError):
    """The server could not be reached, or did not answer in time, after retries."""


# Aliases that code written for the W&B public API catches.
CommError = ApiError
"""W&B's name for an error the server answered: ``ApiError``."""
Error = LablensError
"""W&B's name for its base error: ``LablensError``."""
