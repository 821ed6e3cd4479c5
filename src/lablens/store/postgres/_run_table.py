"""The flat run table of the PostgreSQL store, read as CSV and parsed by Arrow, in bounded pieces.

A run table has a row per run and a column per config and summary key of the project (the
columns and their types: ``lablens.store.run_table``). PostgreSQL writes the rows with ``COPY
... TO STDOUT (FORMAT csv)`` and pyarrow's CSV reader parses them into typed columns in C++: for
100k runs that is several times faster than psycopg making a Python object per cell. The CSV is
parsed a few megabytes at a time on another thread while PostgreSQL writes the rest, so the
parse hides behind the query. Times travel as microseconds since the epoch (exact), tags as a
JSON array; a number, integer or bool key's value as ``->>`` writes it (a number's digits in
full; ``NaN`` and the infinities, kept as strings, read as numbers as the filters read them),
typed by Arrow's parser; a text key's value as its JSON text (see ``_text``).

Measured on 100k runs of 30 keys (PostgreSQL 15, a shared 2-core machine), most of the query's
time is PostgreSQL finding each key in the jsonb and writing a number's text (``numeric_out``).
What was not faster: one ``jsonb_to_record`` or ``jsonb_each_text`` per run (the same lookup
and text per value, plus a row or a record per run), casting numbers to ``float8`` in
PostgreSQL (a numeric's cast is its text read back: 50% more server time, for CSV or binary
COPY alike), a lateral lookup shared by a text key's two columns, and a parallel plan (no gain
on two busy cores).

Two ways to build it, as in the embedded store:

- **narrow** (at most ``WIDE_KEYS`` key columns): one query, the page cut and counted first (a
  window over the matching runs), with each run's version; the key columns come from
  ``RunValues`` (``store/run_table_values.py``), which has each key looked up (as below) only
  in the page's runs that are new or changed since it last saw them, in the same snapshot.
- **wide** (more keys; PostgreSQL also caps a query at 1,664 columns): the page's runs are read
  ``BATCH_CELLS // K`` at a time in long form (run, key, value, from ``jsonb_each``) and pivoted
  to columns with ``run_table.pivot_long``, in one snapshot held by one connection while the
  batches are read.

Values of a ``string`` or ``json`` key that are not strings (numbers, booleans, arrays, objects)
come as their JSON text and are written as the embedded store writes them (compact JSON,
Python's float text); jsonb keeps no key order, so an object inside an array has its keys in
jsonb's order, and a float written with an exponent (``1e+16``) comes back as the integer jsonb
kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from lablens.store.postgres._db import Database, copy_out_chunks
from lablens.store.postgres._filter_sql import compile_filters
from lablens.store.postgres._ordering import order_by_sql, parse_order
from lablens.store.run_table import (
    ARROW_TYPES,
    BASE_TYPES,
    chosen_columns,
    pivot_long,
    with_total,
)
from lablens.store.run_table_values import RunValues, Spec
from lablens.store.run_values import check_page

#: Key columns past which a table is built in long form (see the module docstring).
WIDE_KEYS = 256
#: Cells (runs x key columns) of one batch of a wide table.
BATCH_CELLS = 500_000
#: Bytes of CSV parsed at a time while the rest arrives.
CHUNK_BYTES = 4 << 20

_TIMES = ("created_at", "finished_at", "heartbeat_at")
_JSON_COLUMN = {"config": "r.config_flat", "summary": "r.summary"}

# The CSV parse: an unquoted empty field is NULL, a quoted one the empty string.
# An empty line is a row: a one-column read writes a NULL as nothing at all (an empty text
# comes quoted), and that row must not be skipped.
_PARSE = pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False)
_READ = {"block_size": 1 << 24}


class _Plan(NamedTuple):
    """A run table to build: its columns and the SQL that picks and orders its page of runs."""

    base: Mapping[str, str]  # column name -> SQL, of ``run_table.BASE``
    keys: Mapping[str, list[str]]  # "config" / "summary" -> the keys shown
    fields: Mapping[str, Mapping[str, str]]  # "config" / "summary" -> key -> type
    where: str  # the filter, on ``runs r``
    params: list[Any]  # the project id, then the filter's
    order_sql: str
    page_sql: str  # "", " LIMIT %s OFFSET %s" or " OFFSET %s"
    page: list[Any]  # the page's parameters


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
    narrow one takes its key columns from ``values``."""
    check_page(offset, limit)
    where, params = compile_filters(filters, alias="r")
    terms = parse_order(order, alias="r")
    base, keys = chosen_columns(fields, columns)
    page_sql, page = "", []
    if limit is not None:
        page_sql, page = " LIMIT %s OFFSET %s", [int(limit), int(offset)]
    elif offset:
        page_sql, page = " OFFSET %s", [int(offset)]
    plan = _Plan(base, keys, fields, where, [pid, *params], order_by_sql(terms), page_sql, page)
    if len(keys["config"]) + len(keys["summary"]) <= WIDE_KEYS:
        return _narrow(db, plan, values)
    return _wide(db, plan)


# --- SQL of the columns --------------------------------------------------------------------------


def _base_sql(name: str, sql: str) -> str:
    if name in _TIMES:
        return f"(extract(epoch FROM {sql}) * 1000000)::bigint"
    if name == "tags":
        return f"array_to_json({sql})::text"
    return sql


def _json_sql(column: str) -> str:
    """The CSV column of a text key's value in JSON ``column``: its JSON text (``_text`` reads
    strings back out of it and renders the other values)."""
    return f"({column} -> %s::text)::text"


# --- reading CSV ---------------------------------------------------------------------------------


def _read_csv(
    con: Any, sql: str, params: Sequence[Any], types: Mapping[str, pa.DataType]
) -> pa.Table:
    """The rows of ``sql``, in its order, as a table of the columns ``types`` names (parameters
    bound by psycopg): PostgreSQL's CSV, parsed a chunk at a time on another thread while the
    next chunk arrives, so the parse hides behind the query."""
    statement = f"COPY ({sql}) TO STDOUT (FORMAT csv)"
    with ThreadPoolExecutor(1, thread_name_prefix="lablens-csv") as parser:
        parts = [
            parser.submit(_parse_csv, b"".join(chunk), types)
            for chunk in copy_out_chunks(con, statement, params, CHUNK_BYTES)
        ]
        tables = [part.result() for part in parts]
    if not tables:
        return _parse_csv(b"", types)
    return pa.concat_tables(tables)


def _parse_csv(data: bytes, types: Mapping[str, pa.DataType]) -> pa.Table:
    """CSV of the columns ``types`` names, in order, as a table of those types."""
    if not data:
        return pa.table({name: pa.array([], t) for name, t in types.items()})
    convert = pacsv.ConvertOptions(
        column_types=dict(types),
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        null_values=[""],
        true_values=["t", "true"],
        false_values=["f", "false"],
    )
    # Column names of our own: a key may be any text, and a CSV header would have to carry it.
    read = pacsv.ReadOptions(column_names=list(types), **_READ)
    return pacsv.read_csv(
        pa.BufferReader(data), read_options=read, parse_options=_PARSE, convert_options=convert
    )


def _csv_base_types(base: Mapping[str, str]) -> dict[str, pa.DataType]:
    out: dict[str, pa.DataType] = {}
    for name in base:
        if name in _TIMES:
            out[name] = pa.int64()
        elif name == "tags":
            out[name] = pa.string()
        else:
            out[name] = BASE_TYPES[name]
    return out


def _base_arrays(table: pa.Table, base: Mapping[str, str]) -> list[pa.Array]:
    """The base columns of a parsed table, as the run table types them."""
    arrays = []
    for name in base:
        col = table.column(name).combine_chunks()
        if name in _TIMES:
            col = col.cast(BASE_TYPES[name])
        elif name == "tags":
            col = _tags(col)
        arrays.append(col)
    return arrays


def _tags(texts: pa.Array) -> pa.Array:
    """Tags from their JSON arrays' text; runs share few tag sets, so each is parsed once."""
    encoded = texts.dictionary_encode()
    sets = [json.loads(text) for text in encoded.dictionary.to_pylist()]
    return pa.array(sets, BASE_TYPES["tags"]).take(encoded.indices)


def _render(value: Any) -> str:
    """A JSON value that is not a string, as text the way the embedded store writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _text(texts: pa.Array) -> pa.Array:
    """A text key's column from its values' JSON text: a string's text, and the other values
    rendered (``_render``); a JSON null, like a missing key, is NULL.

    A string whose JSON holds no backslash has no escape, so its text is what lies between the
    quotes; the few others are parsed one by one.
    """
    quoted = pc.starts_with(texts, '"')
    plain = pc.and_(quoted, pc.invert(pc.match_substring(texts, "\\")))
    out = pc.if_else(plain, pc.utf8_slice_codeunits(texts, 1, -1), pa.scalar(None, pa.string()))
    rest = pc.and_(pc.invert(plain), pc.not_equal(texts, "null"))
    rest = pc.fill_null(rest, False).to_numpy(zero_copy_only=False)
    if not rest.any():
        return out
    values = out.to_pylist()
    for i in np.flatnonzero(rest):
        value = json.loads(texts[int(i)].as_py())
        values[i] = value if isinstance(value, str) else _render(value)
    return pa.array(values, pa.string())


# --- narrow --------------------------------------------------------------------------------------


def _narrow(db: Database, plan: _Plan, values: RunValues) -> pa.RecordBatchReader:
    base, keys, fields, where, params, order_sql, page_sql, page = plan
    select = [_base_sql(name, sql) for name, sql in base.items()]
    select.append("r.pk")
    select.append("coalesce(r.rev, -1)")
    types = _csv_base_types(base)
    types["_pk"] = pa.int64()
    types["_rev"] = pa.int64()
    spec = tuple((kind, k, fields[kind][k]) for kind in ("config", "summary") for k in keys[kind])
    if page:
        # The page is cut first, on the sort keys alone, and counted in the same pass (a window
        # over the matching runs): the filter runs once.
        sql = (
            f"WITH m AS (SELECT r.pk, count(*) OVER () AS _total FROM runs r"
            f" WHERE r.project_id = %s AND ({where}) ORDER BY {order_sql}{page_sql})"
            f" SELECT {', '.join(select)}, m._total"
            f" FROM m JOIN runs r ON r.pk = m.pk ORDER BY {order_sql}"
        )
        sql_params = [*params, *page]
        types["_total"] = pa.int64()
    else:
        # Every matching run: one pass, counted by the rows it gives.
        sql = (
            f"SELECT {', '.join(select)} FROM runs r"
            f" WHERE r.project_id = %s AND ({where}) ORDER BY {order_sql}"
        )
        sql_params = [*params]
    with db.transaction() as con:
        con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        table = _read_csv(con, sql, sql_params, types)
        if not page:
            total = table.num_rows
        elif table.num_rows:
            total = table.column("_total")[0].as_py()
        elif page and page[-1]:  # past the end: the window saw no row, so count apart
            total = _count(con, where, params)
        else:
            total = 0
        # The key columns: kept by run version, only the page's new or changed runs looked up
        # in their jsonb, in this snapshot.
        pks = table.column("_pk").to_numpy()
        revs = table.column("_rev").to_numpy()
        key_columns = None
        if spec:
            key_columns = values.columns(
                int(params[0]), spec, pks, revs, lambda stale: _key_columns(con, spec, stale)
            )
    arrays = _base_arrays(table, base)
    out_names = list(base)
    if key_columns is not None:
        arrays += [c.combine_chunks() for c in key_columns.columns]
        out_names += key_columns.column_names
    result = pa.Table.from_arrays(arrays, names=out_names)
    schema = with_total(result.schema, total)
    return pa.RecordBatchReader.from_batches(
        schema, result.replace_schema_metadata(schema.metadata).to_batches()
    )


def _key_columns(con: Any, spec: Spec, pks: np.ndarray) -> pa.Table:
    """The key columns of runs ``pks`` (rows in that order), each looked up in the run's jsonb
    as the table always read it."""
    select: list[str] = []
    select_params: list[Any] = []
    types: dict[str, pa.DataType] = {}
    for i, (kind, k, type_) in enumerate(spec):
        if type_ in ("integer", "number", "bool"):
            # As ``->>`` writes it (a number's digits in full, never an exponent; ``NaN`` for
            # the string kept for NaN; ``true``), typed by Arrow's parser: converting it in
            # PostgreSQL (numeric, float8, text) took most of the query's time.
            select.append(f"{_JSON_COLUMN[kind]} ->> %s::text")
            types[f"_k{i}"] = ARROW_TYPES[type_]
        else:
            select.append(_json_sql(_JSON_COLUMN[kind]))
            types[f"_k{i}"] = pa.string()
        select_params.append(k)
    sql = (
        f"SELECT {', '.join(select)} FROM unnest(%s::bigint[]) WITH ORDINALITY AS p(pk, ord)"
        " JOIN runs r ON r.pk = p.pk ORDER BY p.ord"
    )
    table = _read_csv(con, sql, [*select_params, [int(pk) for pk in pks]], types)
    arrays = []
    for i, (_, _, type_) in enumerate(spec):
        col = table.column(f"_k{i}").combine_chunks()
        arrays.append(_text(col) if type_ in ("string", "json") else col)
    return pa.Table.from_arrays(arrays, names=[f"{kind}.{k}" for kind, k, _ in spec])


def _count(con: Any, where: str, params: list[Any]) -> int:
    sql = f"SELECT count(*) FROM runs r WHERE r.project_id = %s AND ({where})"
    return int(con.execute(sql, params).fetchone()[0])


# --- wide ----------------------------------------------------------------------------------------

_LONG_SQL = """
SELECT k.idx, p.ord - 1 AS row,
  CASE WHEN k.type = 'integer' AND jsonb_typeof(e.value) = 'number' THEN e.value::text END AS i,
  CASE WHEN k.type = 'number' AND (jsonb_typeof(e.value) = 'number'
      OR e.value #>> '{}' IN ('NaN', 'Infinity', '-Infinity'))
    THEN e.value #>> '{}' END AS d,
  CASE WHEN k.type = 'bool' AND jsonb_typeof(e.value) = 'boolean' THEN e.value::text END AS b,
  CASE WHEN k.type IN ('string', 'json') THEN e.value::text END AS s
FROM unnest(%s::bigint[]) WITH ORDINALITY AS p(pk, ord)
JOIN runs r ON r.pk = p.pk
CROSS JOIN LATERAL (
  SELECT 'config' AS kind, c.key, c.value FROM jsonb_each(r.config_flat) c
  UNION ALL
  SELECT 'summary', s.key, s.value FROM jsonb_each(r.summary) s
) e
JOIN unnest(%s::text[], %s::text[], %s::int[], %s::text[]) AS k(kind, key, idx, type)
  ON k.kind = e.kind AND k.key = e.key
ORDER BY k.idx, p.ord
"""
_LONG_TYPES = {
    "idx": pa.int32(),
    "row": pa.int64(),
    "i": pa.int64(),
    "d": pa.float64(),
    "b": pa.bool_(),
    "s": pa.string(),
}


def _wide(db: Database, plan: _Plan) -> pa.RecordBatchReader:
    base, keys, fields, where, params, order_sql, page_sql, page = plan
    names = [(kind, k, fields[kind][k]) for kind in ("config", "summary") for k in keys[kind]]
    key_arrays = [
        [kind for kind, _, _ in names],
        [k for _, k, _ in names],
        list(range(len(names))),
        [t for _, _, t in names],
    ]
    # One connection in one snapshot for every batch, whoever asks for the next one; it goes
    # back to the pool when the last batch is read or the reader is dropped.
    pooled = db.pool.connection()
    con = pooled.__enter__()
    try:
        con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        pks = [
            row[0]
            for row in con.execute(
                f"SELECT r.pk FROM runs r WHERE r.project_id = %s AND ({where})"
                f" ORDER BY {order_sql}{page_sql}",
                [*params, *page],
            ).fetchall()
        ]
        n = len(pks)
        total = _count(con, where, params) if page else n
        step = max(1, BATCH_CELLS // max(1, len(names)))
        base_sql = (
            f"SELECT {', '.join(_base_sql(name, sql) for name, sql in base.items())}"
            " FROM unnest(%s::bigint[]) WITH ORDINALITY AS p(pk, ord)"
            " JOIN runs r ON r.pk = p.pk ORDER BY p.ord"
        )

        def batch(start: int) -> pa.RecordBatch:
            chunk = pks[start : start + step]
            table = _read_csv(con, base_sql, [chunk], _csv_base_types(base))
            arrays = _base_arrays(table, base)
            out_names = list(base)
            if names:
                long = _read_csv(con, _LONG_SQL, [chunk, *key_arrays], _LONG_TYPES)
                texts = _text(long.column("s").combine_chunks())
                long = long.set_column(long.schema.get_field_index("s"), "s", texts)
                key_names, key_cols = pivot_long(long, names, len(chunk))
                out_names += key_names
                arrays += key_cols
            return pa.RecordBatch.from_arrays(arrays, names=out_names)

        first = batch(0)
    except BaseException as exc:
        pooled.__exit__(type(exc), exc, exc.__traceback__)
        raise
    schema = with_total(first.schema, total)

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield first.replace_schema_metadata(schema.metadata)
            for start in range(step, n, step):
                yield batch(start).replace_schema_metadata(schema.metadata)
        finally:
            con.rollback()
            pooled.__exit__(None, None, None)

    return pa.RecordBatchReader.from_batches(schema, batches())
