"""Parsing of the paths users type: runs, projects, workspaces, and URLs copied from a browser.

A run path is ``entity/project/run_id`` (SwanLab's ``username/project_name/experiment_id``), also
written ``entity/project/runs/run_id`` (W&B's ``from_path``), ``project/run_id`` or ``run_id`` when
the ``Api`` has default entity and project, or a run URL ``http://host/entity/project/runs/run_id``
(SwanLab's ``https://swanlab.cn/@username/project/runs/id/chart`` form too). A project path is
``entity/project``, ``project`` with a default entity, or a project URL.

Every function here is pure: a malformed path raises ``lablens.errors.UsageError`` naming the path,
before anything is sent to the server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urlsplit

from lablens.errors import UsageError

__all__ = [
    "ParsedPath",
    "RunPath",
    "parse_path",
    "parse_project_path",
    "parse_report_path",
    "parse_run_path",
    "parse_sweep_path",
    "parse_workspace",
]

# A default is given either as a value or as a callable that finds it (``Api.default_entity``
# asks the server for the viewer), so a complete path never costs a request.
Default = str | Callable[[], str | None] | None

# Segments of a W&B path that name the kind of object: entity/project/<kind>/<id>.
_KINDS = {
    "runs": "run",
    "run": "run",
    "sweeps": "sweep",
    "sweep": "sweep",
    "reports": "report",
    "report": "report",
    "artifacts": "artifact",
}


class RunPath(NamedTuple):
    """A run's three parts, as ``parse_run_path`` returns them."""

    entity: str
    project: str
    run_id: str

    def __str__(self) -> str:
        return f"{self.entity}/{self.project}/{self.run_id}"


class ParsedPath(NamedTuple):
    """What ``parse_path`` found: ``kind`` is ``project``, ``run``, ``sweep`` or ``report``."""

    kind: str
    entity: str
    project: str
    id: str | None = None


def _resolve(default: Default) -> str | None:
    return default() if callable(default) else default


def _segments(path: object, what: str) -> tuple[list[str], bool]:
    """Split a path or URL into its non-empty segments; say whether it was a URL."""
    if not isinstance(path, str):
        raise UsageError(f"a {what} path must be a string, not {type(path).__name__}: {path!r}")
    text = path.strip()
    is_url = "://" in text
    if is_url:
        # Query and fragment are browser state (chart tabs, filters), never part of the path.
        text = urlsplit(text).path
    text = text.strip("/")
    if not text:
        raise UsageError(f"empty {what} path: {path!r}")
    parts = text.split("/")
    if any(not p.strip() for p in parts):
        raise UsageError(f"malformed {what} path {path!r}: it has an empty segment")
    if any(p != p.strip() for p in parts):
        raise UsageError(f"malformed {what} path {path!r}: a segment has surrounding spaces")
    if is_url:
        # SwanLab's web URLs put the workspace as "@username".
        parts[0] = parts[0].removeprefix("@")
    return parts, is_url


def _need(value: str | None, what: str, path: str, hint: str) -> str:
    if not value:
        raise UsageError(f"{path!r} has no {what}, and the Api has no default {what}: {hint}")
    return value


def parse_run_path(
    path: str, default_entity: Default = None, default_project: Default = None
) -> RunPath:
    """Split a run path into entity, project and run id.

    Args:
        path: ``entity/project/run_id``, ``entity/project/runs/run_id``, ``project/run_id``,
            ``run_id``, or a run URL ``http://host/entity/project/runs/run_id``.
        default_entity: the entity for paths without one (a value, or a callable giving it).
        default_project: the project for a bare run id (a value, or a callable giving it).

    Returns:
        A ``RunPath(entity, project, run_id)``.

    Raises:
        UsageError: the path is malformed, names a sweep or report, or lacks a part that has no
            default.

    Example:
        >>> parse_run_path("alice/mnist/3f2a9c1b")
        RunPath(entity='alice', project='mnist', run_id='3f2a9c1b')
        >>> parse_run_path("http://127.0.0.1:8123/alice/mnist/runs/3f2a9c1b")
        RunPath(entity='alice', project='mnist', run_id='3f2a9c1b')
        >>> parse_run_path("mnist/3f2a9c1b", default_entity="alice").entity
        'alice'
    """
    return RunPath(*_parse_object_path(path, "run", default_entity, default_project))


def parse_sweep_path(
    path: str, default_entity: Default = None, default_project: Default = None
) -> RunPath:
    """Split a sweep path into entity, project and sweep id, as ``parse_run_path`` does runs.

    Args:
        path: ``entity/project/sweep_id``, ``entity/project/sweeps/sweep_id``,
            ``project/sweep_id``, ``sweep_id``, or a sweep URL.
        default_entity: the entity for paths without one.
        default_project: the project for a bare sweep id.

    Returns:
        A ``RunPath(entity, project, run_id)`` whose third part is the sweep id.

    Raises:
        UsageError: the path is malformed, names a run or report, or lacks a part.

    Example:
        >>> tuple(parse_sweep_path("alice/mnist/sweeps/x1y2z3w4"))
        ('alice', 'mnist', 'x1y2z3w4')
    """
    return RunPath(*_parse_object_path(path, "sweep", default_entity, default_project))


def parse_report_path(path: str, default_entity: Default = None) -> RunPath:
    """Split a report path ``entity/project/reports/<name>-<id>`` into entity, project and id.

    The last segment may be the report's id alone, or W&B's ``<name>-<id>``.

    Example:
        >>> tuple(parse_report_path("alice/mnist/reports/LR-sweep-ab12cd34"))
        ('alice', 'mnist', 'ab12cd34')
    """
    found = parse_path(path, default_entity)
    if found.kind != "report" or not found.id:
        raise UsageError(f"{path!r} is not a report path: expected 'entity/project/reports/name'")
    return RunPath(found.entity, found.project, found.id.rsplit("-", 1)[-1])


def _parse_object_path(
    path: str, kind: str, default_entity: Default, default_project: Default
) -> tuple[str, str, str]:
    plural = f"{kind}s"
    parts, is_url = _segments(path, kind)
    if is_url:
        # A browser URL may go on past the id (".../runs/<id>/chart"); the id follows "runs".
        if len(parts) >= 4 and parts[2] in _KINDS:
            if _KINDS[parts[2]] != kind:
                raise UsageError(f"{path!r} is a {_KINDS[parts[2]]} URL, not a {kind} URL")
            return parts[0], parts[1], parts[3]
        if len(parts) == 3 and parts[2] not in _KINDS:
            return parts[0], parts[1], parts[2]
        raise UsageError(
            f"malformed {kind} URL {path!r}: expected http://host/entity/project/{plural}/id"
        )
    if len(parts) == 4:
        found = _KINDS.get(parts[2])
        if found == kind:
            return parts[0], parts[1], parts[3]
        if found is not None:
            raise UsageError(f"{path!r} is a {found} path, not a {kind} path")
    elif len(parts) == 3 and parts[2] not in _KINDS:
        return parts[0], parts[1], parts[2]
    elif len(parts) == 2:
        entity = _need(
            _resolve(default_entity), "entity", path, f"write it as 'entity/project/{kind}_id'"
        )
        return entity, parts[0], parts[1]
    elif len(parts) == 1:
        entity = _need(
            _resolve(default_entity), "entity", path, f"write it as 'entity/project/{kind}_id'"
        )
        project = _need(
            _resolve(default_project),
            "project",
            path,
            f"write it as 'entity/project/{kind}_id', or set overrides={{'project': ...}}",
        )
        return entity, project, parts[0]
    raise UsageError(
        f"malformed {kind} path {path!r}: expected 'entity/project/{kind}_id' "
        f"(or 'entity/project/{plural}/{kind}_id', 'project/{kind}_id', '{kind}_id', a URL)"
    )


def parse_project_path(
    path: str | None, default_entity: Default = None, default_project: Default = None
) -> tuple[str, str]:
    """Split a project path into entity and project name.

    Args:
        path: ``entity/project``, ``project`` (with a default entity), a project URL
            ``http://host/entity/project``, or ``None`` for the defaults.
        default_entity: the entity for paths without one (a value, or a callable giving it).
        default_project: the project when ``path`` is ``None``.

    Returns:
        ``(entity, project)``.

    Raises:
        UsageError: the path is malformed or lacks a part that has no default.

    Example:
        >>> parse_project_path("alice/mnist")
        ('alice', 'mnist')
        >>> parse_project_path("mnist", default_entity="alice")
        ('alice', 'mnist')
    """
    if path is None or (isinstance(path, str) and not path.strip()):
        project = _resolve(default_project)
        if not project:
            raise UsageError(
                "no project path given and the Api has no default project: "
                "pass path='entity/project', or set overrides={'project': ...}"
            )
        path = project
    parts, _ = _segments(path, "project")
    if len(parts) == 2:
        return parts[0], parts[1]
    if len(parts) == 1:
        entity = _need(_resolve(default_entity), "entity", path, "write it as 'entity/project'")
        return entity, parts[0]
    raise UsageError(f"malformed project path {path!r}: expected 'entity/project' or 'project'")


def parse_workspace(path: str) -> str:
    """Check a workspace username (SwanLab's ``path='username'``, W&B's ``entity``).

    Args:
        path: the workspace username; a trailing ``/`` or a leading ``@`` is tolerated.

    Returns:
        The username.

    Raises:
        UsageError: the value is empty or has more than one segment.

    Example:
        >>> parse_workspace("@alice")
        'alice'
    """
    parts, _ = _segments(path, "workspace")
    if len(parts) != 1:
        raise UsageError(f"malformed workspace {path!r}: expected a username such as 'alice'")
    return parts[0].removeprefix("@")


def parse_path(path: str, default_entity: Default = None) -> ParsedPath:
    """Tell what a path names, as W&B's ``Api.from_path`` does.

    ``project`` and ``entity/project`` name a project; ``entity/project/run_id`` and
    ``entity/project/runs/run_id`` a run; ``entity/project/sweeps/id`` a sweep and
    ``entity/project/reports/name`` a report. URLs are accepted in the same shapes.

    Args:
        path: the path or URL.
        default_entity: the entity for a bare project name.

    Returns:
        A ``ParsedPath(kind, entity, project, id)``.

    Raises:
        UsageError: the path is malformed.

    Example:
        >>> parse_path("alice/mnist/runs/3f2a9c1b")
        ParsedPath(kind='run', entity='alice', project='mnist', id='3f2a9c1b')
        >>> parse_path("alice/mnist").kind
        'project'
    """
    parts, is_url = _segments(path, "object")
    if len(parts) <= 2:
        entity, project = parse_project_path(path, default_entity)
        return ParsedPath("project", entity, project)
    if len(parts) == 3 and parts[2] not in _KINDS:
        return ParsedPath("run", parts[0], parts[1], parts[2])
    if len(parts) >= 4 and parts[2] in _KINDS and (is_url or len(parts) == 4):
        return ParsedPath(_KINDS[parts[2]], parts[0], parts[1], parts[3])
    raise UsageError(
        f"malformed path {path!r}: expected 'project', 'entity/project', "
        "'entity/project/runs/run_id', 'entity/project/sweeps/id' or 'entity/project/reports/name'"
    )
