"""Artifact names as users type them, and the server routes of artifacts.

An artifact name is ``entity/project/collection:version`` (W&B's form): the version part is
``v3``, an alias (``latest``, ``best``) or a manifest digest, and may be left out (``latest``).
``project/collection`` uses the default entity and a bare ``collection`` also the default
project, else ``uncategorized`` as in W&B.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import lablens._artifact_names as rules
from lablens.contract.routes import project_route, quote_segment
from lablens.errors import UsageError

DEFAULT_PROJECT = "uncategorized"


class ArtifactPath(NamedTuple):
    """What ``parse_artifact_name`` found; ``version`` is ``None`` when the name has none."""

    entity: str
    project: str
    name: str
    version: str | None = None


def parse_artifact_name(
    name: str,
    default_entity: Callable[[], str | None] | str | None = None,
    default_project: Callable[[], str | None] | str | None = None,
    *,
    what: str = "artifact name",
) -> ArtifactPath:
    """Split ``entity/project/collection:version`` into its parts.

    Args:
        name: the name, with or without entity, project and version.
        default_entity: the entity when the name has none (a value or a callable giving it).
        default_project: the project when the name has none; by default ``uncategorized``.
        what: how errors call the name.

    Returns:
        ``ArtifactPath(entity, project, name, version)``.

    Raises:
        UsageError: the name is empty or malformed (a ``ValueError`` too, as in W&B).

    Example:
        >>> parse_artifact_name("alice/mnist/mlp:v3")
        ArtifactPath(entity='alice', project='mnist', name='mlp', version='v3')
    """
    if not isinstance(name, str) or not name.strip():
        raise UsageError(f"the {what} is not specified: {name!r}")
    text, sep, version = name.strip().partition(":")
    if ":" in version:
        raise UsageError(f"malformed {what} {name!r}: one ':' at most, before the version")
    parts = text.split("/")
    if len(parts) > 3 or any(not p for p in parts):
        raise UsageError(
            f"malformed {what} {name!r}: expected 'entity/project/name:version', "
            "'project/name:version' or 'name:version'"
        )
    entity = parts[-3] if len(parts) == 3 else _resolve(default_entity)
    project = parts[-2] if len(parts) >= 2 else (_resolve(default_project) or DEFAULT_PROJECT)
    if not entity:
        raise UsageError(f"{name!r} has no entity and the Api has none: write 'entity/project/...'")
    try:
        rules.check_name(parts[-1], what)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if sep and not version:
        raise UsageError(f"malformed {what} {name!r}: nothing after ':'")
    return ArtifactPath(entity, project, parts[-1], version or None)


def _resolve(value: Callable[[], str | None] | str | None) -> str | None:
    return value() if callable(value) else value


def collection_route(entity: str, project: str, name: str) -> str:
    """``/api/v1/projects/{entity}/{project}/artifact_collections/{name}``."""
    return f"{project_route(entity, project)}/artifact_collections/{quote_segment(name)}"


def artifact_route(entity: str, project: str, artifact_id: str) -> str:
    """``/api/v1/projects/{entity}/{project}/artifacts/{id}``."""
    return f"{project_route(entity, project)}/artifacts/{quote_segment(artifact_id)}"


def file_route(entity: str, project: str, artifact_id: str, path: str) -> str:
    """The route of one file of a version; ``/`` stays a separator inside ``path``."""
    quoted = "/".join(quote_segment(part) for part in path.split("/"))
    return f"{artifact_route(entity, project, artifact_id)}/files/{quoted}"
