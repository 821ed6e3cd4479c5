"""The embedded store's parse of run table key columns (``store/run_table_values.py`` keeps
them by run version): DuckDB's ``json_transform`` of each run's JSON, as the table always read
them, and the raw JSON values that filters look up."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa

from lablens.store.embedded._filter_sql import json_path
from lablens.store.run_table_values import Spec

#: DuckDB's type of a key column, by the key's field type.
DUCK_TYPES = {
    "integer": "BIGINT",
    "number": "DOUBLE",
    "bool": "BOOLEAN",
    "string": "VARCHAR",
    "json": "VARCHAR",
}
#: The field type of a key read as its raw JSON value (for filters), not typed.
RAW = "raw"
#: Where each kind of key is, in ``runs``.
_SOURCE = {"config": "config_flat", "summary": "summary"}


def parse_sql(spec: Spec) -> str:
    """SQL of the typed key columns of the runs in ``_run_pks`` (``pk``, ``ord``), in ``ord``
    order: one ``json_transform`` per run and kind for all its keys, not one per key.

    A key of type ``RAW`` is its JSON value as ``json_extract`` gives it (NULL when missing), as
    the filter compiler reads it (``_filter_sql.json_value``).
    """
    structs = []
    for kind, alias in (("config", "_c"), ("summary", "_s")):
        keys = [(k, t) for kd, k, t in spec if kd == kind and t != RAW]
        if keys:
            shape = json.dumps({k: DUCK_TYPES[t] for k, t in keys}).replace("'", "''")
            structs.append(f"json_transform(r.{_SOURCE[kind]}, '{shape}') AS {alias}")
    select = []
    for kind, k, t in spec:
        quoted = k.replace('"', '""')
        if t == RAW:
            path = json_path(k).replace("'", "''")
            select.append(f"json_extract(r.{_SOURCE[kind]}, '{path}') AS \"{kind}.{quoted}\"")
        else:
            alias = "_c" if kind == "config" else "_s"
            select.append(f'{alias}."{quoted}" AS "{kind}.{quoted}"')
    if not select:
        return "SELECT p.ord FROM _run_pks p ORDER BY p.ord"
    inner = ", ".join(["p.ord", "r.config_flat", "r.summary", *structs])
    return (
        f"SELECT {', '.join(select)} FROM (SELECT {inner}"
        " FROM _run_pks p JOIN runs r ON r.pk = p.pk) r ORDER BY r.ord"
    )


def parse(cur: Any, spec: Spec, pks: np.ndarray) -> pa.Table:
    """The key columns of runs ``pks``, parsed from their JSON, rows in the order given."""
    pks = np.asarray(pks, np.int64)
    cur.register("_run_pks", pa.table({"pk": pks, "ord": np.arange(len(pks), dtype=np.int64)}))
    try:
        table = cur.sql(parse_sql(spec)).to_arrow_table()
    finally:
        cur.unregister("_run_pks")
    if not spec:
        return table.drop_columns(["ord"])
    return table.combine_chunks()
