"""The run-field catalogue: every field a filter, an order or a run table column can name.

One list for every layer: the store resolves filters and orders against it, the server serves it
(``GET /api/v1/projects/{entity}/{project}/fields`` answers it as ``run``), and the widgets offer
its fields in the filter builder and the column picker. W&B's API spells fields in snake_case and
camelCase and SwanLab has names of its own, so each field has aliases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "FIELD_HELP",
    "JSON_PREFIXES",
    "RUN_FIELDS",
    "FieldKind",
    "RunField",
    "canonical_field",
    "run_field_types",
]

#: How a field compares: ``text`` (a string), ``state`` (a run state, case-blind),
#: ``time`` (an ISO time), ``tags`` (a list of strings; matches any element).
FieldKind = Literal["text", "state", "time", "tags"]

# What the widgets call each kind (filters.md's types).
_WIDGET_TYPE: dict[str, str] = {"text": "string", "state": "string", "time": "time", "tags": "list"}


@dataclass(frozen=True)
class RunField:
    """One plain run field: its canonical ``name``, how it compares, and its other names."""

    name: str
    kind: FieldKind
    aliases: tuple[str, ...] = ()

    @property
    def type(self) -> str:
        """The field's type as the filter builder shows it: ``string``, ``time`` or ``list``."""
        return _WIDGET_TYPE[self.kind]


#: The plain fields of every run, in the order the widgets offer them.
RUN_FIELDS: tuple[RunField, ...] = (
    RunField("state", "state"),
    RunField("name", "text", ("display_name", "displayName")),
    RunField("id", "text", ("run_id",)),
    RunField("group", "text"),
    RunField("job_type", "text", ("jobType",)),
    RunField("notes", "text", ("description",)),
    RunField("username", "text", ("user", "entity")),
    RunField("host", "text"),
    RunField("sweep", "text"),
    RunField("tags", "tags", ("labels",)),
    RunField("created_at", "time", ("createdAt",)),
    RunField("heartbeat_at", "time", ("heartbeatAt",)),
    RunField("finished_at", "time", ("finishedAt",)),
)

#: Prefixes of the open-ended fields -> which JSON document of the run they look in.
JSON_PREFIXES: dict[str, str] = {
    "config.": "config",
    "summary_metrics.": "summary",
    "summary.": "summary",
}

_BY_NAME: dict[str, RunField] = {name: f for f in RUN_FIELDS for name in (f.name, *f.aliases)}


def canonical_field(name: str) -> RunField | None:
    """The plain run field ``name`` names (itself or an alias), or ``None``."""
    return _BY_NAME.get(name)


def run_field_types() -> dict[str, str]:
    """``{name: type}`` of the plain run fields, in catalogue order (the server's ``run``)."""
    return {f.name: f.type for f in RUN_FIELDS}


def _help() -> str:
    plain = [f"{f.name} ({', '.join(f.aliases)})" if f.aliases else f.name for f in RUN_FIELDS]
    return ", ".join([*plain, "config.<key>", "summary_metrics.<key> (summary.<key>)"])


#: The fields, with their aliases, as error messages list them.
FIELD_HELP = _help()
