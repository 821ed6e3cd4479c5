"""Custom chart presets as every engine keeps them: what a preset may hold, checked before it is
stored, and its JSON.

A preset is a Vega-Lite spec and the query whose rows it draws. The spec is checked as far as a
client's mistake can be told without a Vega-Lite compiler: an object with a ``$schema`` naming
Vega-Lite and a ``mark`` (or a composition of views that have one). The query names what a
chart reads (see ``check_query``); each refusal names the bad part (``spec.mark``,
``query.keys[1]``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from lablens.store import _json
from lablens.store.errors import InvalidInput

#: Spec types a preset may have: W&B's ``vega2`` (its name for a Vega-Lite spec) and ours.
SPEC_TYPES = ("vega2", "vega-lite")
#: Who may read a preset: members of its entity (``private``), or every signed-in user.
ACCESS = ("private", "public")
#: Keys of a Vega-Lite view that holds others instead of a ``mark``.
_COMPOSITIONS = ("layer", "concat", "hconcat", "vconcat", "facet", "repeat", "spec")
_QUERY_KEYS = ("keys", "fields", "x_axis", "samples", "filters", "order", "project")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_MAX_SPEC = 1_000_000


def parse_spec(spec: Any) -> dict[str, Any]:
    """A spec given as an object or as JSON text, as an object; refused (``spec``) otherwise."""
    if isinstance(spec, (str, bytes)):
        try:
            spec = json.loads(spec)
        except ValueError as exc:
            raise InvalidInput(f"spec is not JSON: {exc}", field="spec") from exc
    if not isinstance(spec, Mapping):
        raise InvalidInput("spec must be a JSON object (a Vega-Lite spec)", field="spec")
    return dict(spec)


def _check_view(view: Any, field: str) -> None:
    """A view has a ``mark`` or is a composition of views that have one."""
    if not isinstance(view, Mapping):
        raise InvalidInput("a Vega-Lite view must be an object", field=field)
    if "mark" in view:
        mark = view["mark"]
        kind = mark.get("type") if isinstance(mark, Mapping) else mark
        if not isinstance(kind, str) or not kind:
            raise InvalidInput(
                "mark must be a mark type ('line', 'point', ...) or {'type': ...}",
                field=f"{field}.mark",
            )
        return
    found = [k for k in _COMPOSITIONS if k in view]
    if not found:
        raise InvalidInput(
            "a Vega-Lite spec needs a mark ('line', 'point', 'bar', ...) or a composition"
            " (layer, concat, hconcat, vconcat, facet, repeat)",
            field=f"{field}.mark",
        )
    for key in found:
        inner = view[key]
        if key in ("facet", "repeat"):
            continue  # their views are under "spec"
        views = inner if isinstance(inner, list) else [inner]
        for i, sub in enumerate(views):
            _check_view(sub, f"{field}.{key}[{i}]" if isinstance(inner, list) else f"{field}.{key}")


def check_spec(spec: Any) -> dict[str, Any]:
    """A Vega-Lite spec, parsed and checked: ``$schema`` names Vega-Lite, and the top view has a
    ``mark`` or composes views that have one. ``InvalidInput`` names the bad part."""
    spec = parse_spec(spec)
    schema = spec.get("$schema")
    if not isinstance(schema, str) or not schema:
        raise InvalidInput(
            "spec needs a $schema, e.g. 'https://vega.github.io/schema/vega-lite/v5.json'",
            field="spec.$schema",
        )
    if "vega-lite" not in schema:
        raise InvalidInput(
            f"spec.$schema must name a Vega-Lite schema, not {schema!r}", field="spec.$schema"
        )
    _check_view(spec, "spec")
    if len(json.dumps(spec)) > _MAX_SPEC:
        raise InvalidInput(f"spec is larger than {_MAX_SPEC} bytes of JSON", field="spec")
    return spec


def _string_list(value: Any, field: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise InvalidInput("must be a list of names", field=field)
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item:
            raise InvalidInput("must be a non-empty string", field=f"{field}[{i}]")
    return list(value)


def check_query(query: Any) -> dict[str, Any]:
    """The query a chart draws, checked (``InvalidInput`` names the bad part, ``query.keys``):

    - ``keys``: history keys; the chart's rows are then one per (run, step);
    - ``fields``: run-table columns (``config.lr``, ``summary.acc``, ``name``...), a list, or a
      mapping of the name the spec uses to the column (Vega-Lite reads a dot as nesting);
    - ``x_axis``, ``samples``: as ``histories()``;
    - ``filters``, ``order``: the runs (checked against the project when drawn);
    - ``project``: ``entity/project``, the project drawn when none is given.
    """
    if query is None:
        return {}
    if not isinstance(query, Mapping):
        raise InvalidInput("query must be an object", field="query")
    unknown = [k for k in query if k not in _QUERY_KEYS]
    if unknown:
        raise InvalidInput(
            f"unknown query key {unknown[0]!r}; known: {', '.join(_QUERY_KEYS)}",
            field=f"query.{unknown[0]}",
        )
    out = dict(query)
    if "keys" in out and out["keys"] is not None:
        out["keys"] = _string_list(out["keys"], "query.keys")
    fields = out.get("fields")
    if isinstance(fields, Mapping):
        for alias, column in fields.items():
            if not isinstance(column, str) or not column:
                raise InvalidInput("must be a run-table column", field=f"query.fields.{alias}")
    elif fields is not None:
        out["fields"] = _string_list(fields, "query.fields")
    samples = out.get("samples")
    if samples is not None and (not isinstance(samples, int) or samples < 1):
        raise InvalidInput("samples must be a positive integer", field="query.samples")
    for key in ("x_axis", "order"):
        if out.get(key) is not None and not isinstance(out[key], str):
            raise InvalidInput(f"{key} must be a string", field=f"query.{key}")
    if out.get("filters") is not None and not isinstance(out["filters"], Mapping):
        raise InvalidInput("filters must be an object", field="query.filters")
    project = out.get("project")
    if project is not None and (
        not isinstance(project, str) or project.count("/") != 1 or not all(project.split("/"))
    ):
        raise InvalidInput("project must be 'entity/project'", field="query.project")
    return out


def chart_columns(
    name: Any, display_name: Any, spec_type: Any, access: Any, spec: Any, query: Any
) -> dict[str, Any]:
    """The ``custom_charts`` columns of a preset, each checked first (``InvalidInput`` names
    the bad one)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            "name must be 1-128 letters, digits, '_', '-' or '.', starting with a letter,"
            " digit or '_'",
            field="name",
        )
    if display_name is not None and not isinstance(display_name, str):
        raise InvalidInput("display_name must be a string", field="display_name")
    if spec_type not in SPEC_TYPES:
        raise InvalidInput(
            f"spec_type must be one of {', '.join(SPEC_TYPES)}, not {spec_type!r}",
            field="spec_type",
        )
    if access not in ACCESS:
        raise InvalidInput(
            f"access must be one of {', '.join(ACCESS)}, not {access!r}", field="access"
        )
    return {
        "name": name,
        "display_name": display_name or name,
        "spec_type": spec_type,
        "access": access,
        "spec": _json.dumps(check_spec(spec)),
        "query": _json.dumps(check_query(query)),
    }


def chart_select(iso: Any) -> str:
    """The ``SELECT`` of presets (``c``) with their entity's name: what :func:`chart_out`
    reads. ``iso`` is the engine's SQL rendering a time column as ISO text."""
    return (
        "SELECT c.pk, w.username AS entity, c.name, c.display_name, c.spec_type, c.access,"
        " c.spec, c.query, c.username,"
        f" {iso('c.created_at')} AS created_at, {iso('c.updated_at')} AS updated_at"
        " FROM custom_charts c JOIN workspaces w ON w.id = c.workspace_id"
    )


def chart_out(row: Mapping[str, Any]) -> dict[str, Any]:
    """A preset's row as its JSON."""
    return {
        "entity": row["entity"],
        "name": row["name"],
        "display_name": row["display_name"],
        "spec_type": row["spec_type"],
        "access": row["access"],
        "spec": _json.loads(row["spec"]) or {},
        "query": _json.loads(row["query"]) or {},
        "username": row["username"],
        "path": f"{row['entity']}/{row['name']}",
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
