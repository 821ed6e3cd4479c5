"""A version's lineage: the run that logged it and the runs that used it, and its details.

``code`` repeats it as three calls on the artifact and a DataFrame ``role path name state``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from lablens.api.artifact_display import size_text
from lablens.widgets._call import ApiCall, api_call
from lablens.widgets._listing import Listing

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["Lineage", "detail", "read_lineage"]

_LOGGED_BY = ApiCall("artifact").then("logged_by")
_USED_BY = ApiCall("artifact").then("used_by")
_ROWS = Listing("role, r", role="role", path="r.path", name="r.name", state="str(r.state)")
# The (role, run) pairs, in the source; ``_pairs`` makes the same list.
_PAIRS = "[*([('logged_by', producer)] if producer else []), *[('used_by', r) for r in users]]"


def _pairs(producer: Any, users: Sequence[Any]) -> list[tuple[str, Any]]:
    return [*([("logged_by", producer)] if producer else []), *[("used_by", r) for r in users]]


class Lineage:
    """What ``read_lineage`` read: the artifact, its producer and users, and the code."""

    def __init__(self, artifact: Any, producer: Any, users: list[Any], source: str) -> None:
        self.artifact = artifact
        self.producer = producer
        self.users = users
        self.source = source
        """The code that gives ``frame()`` as ``df``."""

    def frame(self) -> pd.DataFrame:
        """The runs as a DataFrame ``role path name state``."""
        return _ROWS.frame(_pairs(self.producer, self.users))


def read_lineage(api: Api, version: str) -> Lineage:
    """Read a version and its lineage: ``api.artifact(version)``, ``.logged_by()``,
    ``.used_by()``."""
    call = api_call("artifact", version)
    artifact = call.run(api)
    producer = _LOGGED_BY.run(artifact)
    users = list(_USED_BY.run(artifact))
    source = _ROWS.imports() + "\n".join(
        [
            call.assign("artifact"),
            _LOGGED_BY.assign("producer"),
            _USED_BY.assign("users"),
            _ROWS.source(_PAIRS),
        ]
    )
    return Lineage(artifact, producer, users, source)


def _run_row(r: Any) -> dict[str, Any]:
    return {"path": r.path, "name": r.name, "state": str(r.state)}


def detail(lineage: Lineage) -> dict[str, Any]:
    """The version's details as the page shows them, with ``logged_by`` and ``used_by``."""
    artifact = lineage.artifact
    return {
        "path": artifact.qualified_name,
        "version": artifact.version or "",
        "type": artifact.type,
        "description": artifact.description or "",
        "aliases": list(artifact.aliases),
        "tags": list(artifact.tags),
        "metadata": json.loads(json.dumps(artifact.metadata, default=str)),
        "size": artifact.size,
        "size_text": size_text(artifact.size),
        "file_count": artifact.file_count,
        "created_at": artifact.created_at or "",
        "digest": artifact.digest or "",
        "logged_by": _run_row(lineage.producer) if lineage.producer else None,
        "used_by": [_run_row(r) for r in lineage.users],
    }
