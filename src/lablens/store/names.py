"""The rules for names of users, teams and projects, checked when one is made.

- A **user or team name** (a workspace's name; both share one namespace) is 1 to
  ``LIMITS.max_name_length`` characters of ASCII letters, digits, ``_``, ``.`` and ``-``, starting
  with a letter, a digit or ``_``. Names are unique regardless of case: ``Alice`` cannot be made
  beside ``alice``, as they would be one name to a person reading them.
- A **project name** is 1 to ``LIMITS.max_name_length`` characters, none of them a control
  character (NUL, newline, ...) or one of ``/ \\ # ? % :`` (W&B's rule), without surrounding
  spaces, and not ``.`` or ``..``. Project names are unique within their workspace as written
  (case counts), as in W&B.

Names stored before these rules keep working: they are checked only when something is made.
"""

from __future__ import annotations

import re
import unicodedata

from lablens.contract.registries import REGISTRY_PREFIX, is_registry_project
from lablens.store.errors import InvalidInput, LimitExceeded
from lablens.store.limits import LIMITS

ACCOUNT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
PROJECT_FORBIDDEN = set("/\\#?%:")


def _check_length(name: str, field: str, what: str) -> None:
    if not name:
        raise InvalidInput(f"{what} must not be empty", field=field)
    limit = LIMITS.max_name_length
    if len(name) > limit:
        raise LimitExceeded(
            f"{what} has {len(name)} characters; the limit is {limit} (LABLENS_MAX_NAME_LENGTH)",
            field,
            limit=limit,
        )


def check_account_name(name: str, field: str = "username") -> None:
    """Refuse a user or team name outside the rule (``InvalidInput`` / ``LimitExceeded``)."""
    what = "a team name" if field == "name" else "a username"
    _check_length(name, field, what)
    if not ACCOUNT_NAME.fullmatch(name):
        raise InvalidInput(
            f"{what} may hold only ASCII letters, digits, '_', '.' and '-', and must start with a"
            f" letter, a digit or '_': {name!r}",
            field=field,
        )


def check_project_name(name: str, field: str = "name") -> None:
    """Refuse a project name outside the rule (``InvalidInput`` / ``LimitExceeded``)."""
    _check_length(name, field, "a project name")
    bad = sorted({c for c in name if c in PROJECT_FORBIDDEN or unicodedata.category(c) == "Cc"})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise InvalidInput(
            f"a project name may not hold control characters or any of / \\ # ? % : (found"
            f" {shown})",
            field=field,
        )
    if name != name.strip():
        raise InvalidInput("a project name may not start or end with spaces", field=field)
    if name in (".", ".."):
        raise InvalidInput(f"{name!r} cannot be a project name: it is a path step", field=field)


def check_not_registry(name: str, field: str = "name") -> None:
    """Refuse a new project named as a registry's (``wandb-registry-...``): a registry's project
    is made with its registry (``Store.create_registry``), so that no project passes for one."""
    if is_registry_project(name):
        raise InvalidInput(
            f"project names starting with {REGISTRY_PREFIX!r} are registries': make one with"
            " Api.create_registry()",
            field=field,
        )
