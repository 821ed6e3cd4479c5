"""The flat run table of the embedded store, built in bounded pieces and streamed as batches.

A run table has a row per run and a column per config and summary key of the project. Two ways
to build it, both reading each value with DuckDB's ``json_transform`` (so a value reads the same
either way):

- **narrow** (at most ``WIDE_KEYS`` key columns, every key a plain name): one query reads the
  page's other columns with each run's version, and the key columns come from ``RunValues``
  (``store/run_table_values.py``), which has each new or changed run's JSON spread into a struct
  of all the keys (``_run_values.py``) and keeps the result. Fastest for the usual table (100k
  runs, 30 keys).
- **wide** (more keys, or keys a struct cannot carry: ``""``, names equal but for case, control
  characters): a struct of K fields costs DuckDB memory and time growing with K², so the page's
  runs are read ``BATCH_CELLS // K`` at a time in long form (run, key, value) and pivoted to
  columns with pyarrow. Memory then grows with one batch, not with the square of the keys.

Either way the answer is a ``RecordBatchReader`` whose schema is known before the first batch is
sent (so a bad filter is still a 400, not a broken stream) and whose metadata ``total`` counts
the matching runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from lablens.store.embedded._db import Database
from lablens.store.embedded._filter_sql import compile_filters, json_keys
from lablens.store.embedded._order_sql import order_by_sql, parse_order
from lablens.store.embedded._run_values import RAW, parse
from lablens.store.run_table import chosen_columns, pivot_long, with_total
from lablens.store.run_table_values import RunValues
from lablens.store.run_values import check_page

#: Key columns past which a table is built in long form (see the module docstring).
WIDE_KEYS = 256
#: Cells (runs x key columns) of one batch of a wide table.
BATCH_CELLS = 500_000

_LONG_SQL = """
SELECT e.row, k.idx,
  CASE WHEN k.type = 'integer' THEN json_transform(e.v, '"BIGINT"') END AS i,
  CASE WHEN k.type = 'number' THEN json_transform(e.v, '"DOUBLE"') END AS d,
  CASE WHEN k.type = 'bool' THEN json_transform(e.v, '"BOOLEAN"') END AS b,
  CASE WHEN k.type IN ('string', 'json') THEN json_transform(e.v, '"VARCHAR"') END AS s
FROM (
  SELECT row, kind, unnest(map_keys(m)) AS key, unnest(map_values(m)) AS v FROM (
    SELECT p.ord - ? AS row, 'config' AS kind, CAST(r.config_flat AS MAP(VARCHAR, JSON)) AS m
    FROM _page p JOIN runs r ON r.pk = p.pk WHERE p.ord >= ? AND p.ord < ? AND ?
    UNION ALL
    SELECT p.ord - ? AS row, 'summary' AS kind, CAST(r.summary AS MAP(VARCHAR, JSON)) AS m
    FROM _page p JOIN runs r ON r.pk = p.pk WHERE p.ord >= ? AND p.ord < ? AND ?
  )
) e JOIN _keys k ON k.kind = e.kind AND k.key = e.key
ORDER BY k.idx, e.row
"""


class _Plan(NamedTuple):
    """A run table to build: its columns and the SQL that picks and orders its page of runs."""

    pid: int
    base: Mapping[str, str]  # column name -> SQL, of ``BASE``
    keys: Mapping[str, list[str]]  # "config" / "summary" -> the keys shown
    fields: Mapping[str, Mapping[str, str]]  # "config" / "summary" -> key -> type
    where: str  # the filter, on ``runs r``
    params: list[Any]  # the project id, then the filter's
    order_sql: str
    page_sql: str  # "", " LIMIT ? OFFSET ?" or " OFFSET ?"
    page: list[Any]  # the page's parameters


def _plain(keys: Sequence[str]) -> bool:
    """Whether a DuckDB struct can carry these keys as fields (non-empty, printable, and
    distinct ignoring case, as DuckDB compares names)."""
    seen = set()
    for k in keys:
        low = k.lower()
        if not k or not k.isprintable() or low in seen:
            return False
        seen.add(low)
    return True


def runs_table(
    db: Database,
    pid: int,
    fields: Mapping[str, Mapping[str, str]],
    *,
    filters: Mapping[str, Any] | None,
    order: str | None,
    columns: Sequence[str] | None,
    offset: int,
    limit: int | None,
    values: RunValues,
) -> pa.RecordBatchReader:
    """The run table of project ``pid`` (see ``Store.runs_table``) as a stream of batches; a
    narrow one takes its parsed key columns from ``values``."""
    check_page(offset, limit)
    where, params = compile_filters(filters, alias="r")
    terms = parse_order(order, alias="r")
    base, keys = chosen_columns(fields, columns)
    page_sql, page = "", []
    if limit is not None:
        page_sql, page = " LIMIT ? OFFSET ?", [int(limit), int(offset)]
    elif offset:
        page_sql, page = " OFFSET ?", [int(offset)]
    plan = _Plan(
        pid, base, keys, fields, where, [pid, *params], order_by_sql(terms), page_sql, page
    )
    n_keys = len(keys["config"]) + len(keys["summary"])
    if n_keys <= WIDE_KEYS and all(_plain(keys[kind]) for kind in keys):
        return _narrow(db, plan, values, filters)
    return _wide(db, plan)


def _total(cur: Any, where: str, params: list[Any], source: str = "runs r") -> int:
    sql = f"SELECT count(*) FROM {source} WHERE r.project_id = ? AND ({where})"
    return int(cur.execute(sql, params).fetchall()[0][0])


def _narrow(
    db: Database, plan: _Plan, values: RunValues, filters: Mapping[str, Any] | None
) -> pa.RecordBatchReader:
    _, base, keys, fields, where, params, order_sql, page_sql, page = plan
    select = [f'{sql} AS "{name}"' for name, sql in base.items()]
    spec = tuple((kind, k, fields[kind][k]) for kind in ("config", "summary") for k in keys[kind])
    used, json_only = json_keys(filters) if filters else ([], False)
    cur = db.reader()
    # One snapshot for the page and the values parsed for it.
    cur.execute("BEGIN TRANSACTION")
    try:
        source = "runs r"
        if used:
            # The JSON values the filter looks up, kept by run version as the key columns are:
            # the filter then parses no run's JSON object that it parsed before.
            cur.register("_kv", _looked_up(cur, values, plan.pid, used))
            where, filter_params = compile_filters(
                filters,
                alias="r",
                looked_up={key: f'_kv."j{i}"::JSON' for i, key in enumerate(used)},
            )
            if json_only:
                # A condition on these values alone holds or not for each distinct set of them
                # (hyperparameters take few values): tested once per set, not once per run.
                # OFFSET 0 keeps DuckDB from pushing the condition below the DISTINCT, which
                # would test it on every run again (35 ms against 5 for 100k runs).
                cols = [f"j{i}" for i in range(len(used))]
                same = " AND ".join(f"k.{c} IS NOT DISTINCT FROM ok.{c}" for c in cols)
                where = (
                    f"r.pk IN (SELECT k.pk FROM _kv k SEMI JOIN (SELECT * FROM (SELECT DISTINCT"
                    f" {', '.join(cols)} FROM _kv OFFSET 0) _kv WHERE {where}) ok ON {same})"
                )
            else:
                source = "runs r LEFT JOIN _kv ON _kv.pk = r.pk"
            params = [plan.pid, *filter_params]
        # The key columns come from ``values``: parsed from the JSON of only the page's runs
        # that are new or changed since last read.
        columns = f"{', '.join(select)}, r.pk AS _pk, coalesce(r.rev, -1) AS _rev"
        if page:
            # The page is cut first, on the sort keys alone, and counted in the same pass (a
            # window over the matching runs): the filter runs once.
            sql = (
                f"WITH m AS (SELECT r.pk, count(*) OVER () AS _total FROM {source}"
                f" WHERE r.project_id = ? AND ({where}) ORDER BY {order_sql}{page_sql})"
                f" SELECT {columns}, r._total AS _total FROM (SELECT r.*, m._total FROM runs r"
                f" JOIN m ON r.pk = m.pk) r ORDER BY {order_sql}"
            )
        else:
            # Every matching run: one pass, counted by the rows it gives (a third faster than
            # the window and the join back for 100k runs).
            sql = (
                f"SELECT {columns}, NULL::BIGINT AS _total FROM {source}"
                f" WHERE r.project_id = ? AND ({where}) ORDER BY {order_sql}"
            )
        table = cur.sql(sql, params=[*params, *page]).to_arrow_table()
        if not page:
            total = table.num_rows
        elif table.num_rows:
            total = table.column("_total")[0].as_py()
        elif page[-1]:  # past the end: the window saw no row, so count apart
            total = _total(cur, where, params, source)
        else:
            total = 0
        pks = table.column("_pk").to_numpy()
        revs = table.column("_rev").to_numpy()
        key_columns = None
        if spec:
            key_columns = values.columns(
                plan.pid, spec, pks, revs, lambda stale: parse(cur, spec, stale)
            )
    except BaseException:
        # A failed statement leaves the transaction aborted: rolled back, so that this thread's
        # cursor reads again (and the error is the statement's, not COMMIT's).
        _end(cur, used, "ROLLBACK")
        raise
    _end(cur, used, "COMMIT")
    table = table.drop_columns(["_pk", "_rev", "_total"])
    if key_columns is not None:
        for name, column in zip(key_columns.column_names, key_columns.columns, strict=True):
            table = table.append_column(name, column)
    schema = with_total(table.schema, total)
    # A narrow table is whole in memory already: its own chunks go out as they are (one for most
    # answers), so the route can send it with its length instead of re-cut and streamed.
    batches = table.replace_schema_metadata(schema.metadata).to_batches()
    return pa.RecordBatchReader.from_batches(schema, batches)


def _end(cur: Any, used: list[tuple[str, str]], how: str) -> None:
    if used:
        cur.unregister("_kv")
    cur.execute(how)


def _looked_up(cur: Any, values: RunValues, pid: int, used: list[tuple[str, str]]) -> pa.Table:
    """``pk`` and ``j0``, ``j1``... : the JSON value of each ``used`` key of every run of the
    project, as the filter compiler would look it up."""
    runs = cur.sql(
        "SELECT pk, coalesce(rev, -1) AS rev FROM runs WHERE project_id = ?", params=[pid]
    ).to_arrow_table()
    spec = tuple((kind, key, RAW) for kind, key in used)
    pks, revs = runs.column("pk").to_numpy(), runs.column("rev").to_numpy()
    found = values.columns(pid, spec, pks, revs, lambda stale: parse(cur, spec, stale))
    return pa.table({"pk": runs.column("pk"), **{f"j{i}": c for i, c in enumerate(found.columns)}})


def _wide(db: Database, plan: _Plan) -> pa.RecordBatchReader:
    _, base, keys, fields, where, params, order_sql, page_sql, page = plan
    names = [(kind, k, fields[kind][k]) for kind in ("config", "summary") for k in keys[kind]]
    # A cursor of its own, in one transaction: every batch reads the same snapshot, whichever
    # server thread asks for the next one.
    cur = db.con.cursor()
    try:
        cur.execute("SET TimeZone = 'UTC'")
        cur.execute("BEGIN TRANSACTION")
        pks = cur.sql(
            f"SELECT r.pk FROM runs r WHERE r.project_id = ? AND ({where})"
            f" ORDER BY {order_sql}{page_sql}",
            params=[*params, *page],
        ).to_arrow_table()
        n = pks.num_rows
        total = _total(cur, where, params) if page else n
        cur.register(
            "_page", pa.table({"pk": pks.column("pk"), "ord": pa.array(np.arange(n), pa.int64())})
        )
        cur.register(
            "_keys",
            pa.table(
                {
                    "kind": pa.array([kind for kind, _, _ in names], pa.string()),
                    "key": pa.array([k for _, k, _ in names], pa.string()),
                    "idx": pa.array(np.arange(len(names)), pa.int32()),
                    "type": pa.array([t for _, _, t in names], pa.string()),
                }
            ),
        )
        step = max(1, BATCH_CELLS // max(1, len(names)))
        base_cols = ", ".join(f'{sql} AS "{name}"' for name, sql in base.items())
        base_sql = (
            f"SELECT {base_cols}"
            " FROM _page p JOIN runs r ON r.pk = p.pk WHERE p.ord >= ? AND p.ord < ?"
            " ORDER BY p.ord"
        )
        first = _wide_batch(cur, base_sql, names, 0, min(step, n), keys)
    except BaseException:
        cur.close()
        raise
    schema = with_total(first.schema, total)

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield first.replace_schema_metadata(schema.metadata)
            for start in range(step, n, step):
                batch = _wide_batch(cur, base_sql, names, start, min(start + step, n), keys)
                yield batch.replace_schema_metadata(schema.metadata)
        finally:
            cur.close()

    return pa.RecordBatchReader.from_batches(schema, batches())


def _wide_batch(
    cur: Any,
    base_sql: str,
    names: list[tuple[str, str, str]],
    start: int,
    stop: int,
    keys: Mapping[str, list[str]],
) -> pa.RecordBatch:
    """Rows ``start:stop`` of the page: base columns, then each key pivoted from long form."""
    rows = stop - start
    base = cur.sql(base_sql, params=[start, stop]).to_arrow_table()
    arrays = [base.column(i).combine_chunks() for i in range(base.num_columns)]
    out_names = list(base.column_names)
    if names:
        has = [bool(keys["config"]), bool(keys["summary"])]
        long = cur.sql(
            _LONG_SQL,
            params=[start, start, stop, has[0], start, start, stop, has[1]],
        ).to_arrow_table()
        key_names, key_arrays = pivot_long(long, names, rows)
        out_names += key_names
        arrays += key_arrays
    return pa.RecordBatch.from_arrays(arrays, names=out_names)
