"""The run table's columns and their Arrow types, and the pivot of its long form: the same for
every engine (each reads the values with its own SQL).

A run table has the ``BASE`` columns, then a column per config and summary key of the project
(``config.<key>``, ``summary.<key>``), typed by the key's field type. A table with many keys is
read in long form (run, key, value) and turned into columns by :func:`pivot_long`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

#: The base columns every run table starts with, before config.* and summary.*: the name of
#: the column and the SQL of its value over ``runs r`` (the same column names in every engine).
BASE: dict[str, str] = {
    "id": "r.id",
    "name": "r.name",
    "state": "r.state",
    "tags": "r.tags",
    "group": "r.group_name",
    "job_type": "r.job_type",
    "created_at": "r.created_at",
    "finished_at": "r.finished_at",
    "heartbeat_at": "r.heartbeat_at",
    "username": "r.username",
    "host": "r.host",
    "notes": "r.notes",
    "sweep": "r.sweep",
}
#: The Arrow type of each base column.
BASE_TYPES: dict[str, pa.DataType] = {
    **{name: pa.string() for name in BASE},
    "tags": pa.list_(pa.field("l", pa.string())),
    **{t: pa.timestamp("us", tz="UTC") for t in ("created_at", "finished_at", "heartbeat_at")},
}
#: The Arrow type of a key's column, by its field type.
ARROW_TYPES: dict[str, pa.DataType] = {
    "integer": pa.int64(),
    "number": pa.float64(),
    "bool": pa.bool_(),
    "string": pa.string(),
    "json": pa.string(),
}
#: The long form's typed value column of each field type (the others are NULL there).
TYPED = {"integer": "i", "number": "d", "bool": "b", "string": "s", "json": "s"}


def chosen_columns(
    fields: Mapping[str, Mapping[str, str]], columns: Sequence[str] | None
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The base columns (name -> SQL) and the config and summary keys a table shows: all of
    them, or those ``columns`` names (``config`` alone names every config key); ``id`` always."""
    wanted = set(columns) if columns else None
    base = {
        name: sql for name, sql in BASE.items() if wanted is None or name in wanted or name == "id"
    }
    keys = {
        kind: [
            k for k in fields[kind] if wanted is None or f"{kind}.{k}" in wanted or kind in wanted
        ]
        for kind in ("config", "summary")
    }
    return base, keys


def with_total(schema: pa.Schema, total: int) -> pa.Schema:
    """The schema with the number of matching runs in its metadata (``total``)."""
    meta = dict(schema.metadata or {})
    meta[b"total"] = str(total).encode()
    return schema.with_metadata(meta)


def pivot_long(
    long: pa.Table, names: Sequence[tuple[str, str, str]], rows: int
) -> tuple[list[str], list[pa.Array]]:
    """Key columns from the long form of ``rows`` runs.

    ``long`` has a row per value: ``row`` (the run's place, from 0), ``idx`` (the key's place in
    ``names``) and the value in the column ``TYPED`` names for its type (``i``, ``d``, ``b``,
    ``s``), sorted by ``idx`` then ``row``. ``names`` is ``(kind, key, type)`` per key column.
    Returns the columns' names (``config.<key>`` ...) and arrays, a NULL where a run has no value.
    """
    idx = long.column("idx").to_numpy()
    row = long.column("row").to_numpy()
    typed = {c: long.column(c).combine_chunks() for c in ("i", "d", "b", "s")}
    bounds = np.searchsorted(idx, np.arange(len(names) + 1))
    out_names: list[str] = []
    arrays: list[pa.Array] = []
    for j, (kind, key, type_) in enumerate(names):
        a, b = int(bounds[j]), int(bounds[j + 1])
        arrow_type = ARROW_TYPES[type_]
        if a == b:
            col: Any = pa.nulls(rows, arrow_type)
        else:
            src = typed[TYPED[type_]].slice(a, b - a)
            if b - a == rows:  # a value in every row, rows in order
                col = src
            else:
                take = np.full(rows, -1, np.int64)
                take[row[a:b]] = np.arange(b - a)
                col = src.take(pa.array(take, mask=take < 0))
        arrays.append(col.cast(arrow_type) if col.type != arrow_type else col)
        out_names.append(f"{kind}.{key}")
    return out_names, arrays
