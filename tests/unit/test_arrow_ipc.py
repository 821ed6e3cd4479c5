"""The IPC writer of every Arrow answer and upload (``contract/arrow.py``), written into a buffer
of its exact size (issue 17, item 2): the same bytes as pyarrow's growing buffer wrote."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from lablens.contract.arrow import ipc_bytes, ipc_to_table, table_to_ipc


def _grown(table: pa.Table) -> bytes:
    """The stream as it was written before: a growing ``BufferOutputStream``."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


TABLES = {
    "empty": pa.table({"a": pa.array([], pa.int64())}),
    "metadata": pa.table({"a": [1, 2, 3], "s": ["x", None, "z"]}).replace_schema_metadata(
        {b"total": b"3"}
    ),
    "dictionary": pa.table(
        {"run_id": pa.array(["a", "b", "a"]).dictionary_encode(), "v": [1.0, -0.0, 3.0]}
    ),
    "chunks": pa.concat_tables(
        [pa.table({"step": np.arange(i * 1000, (i + 1) * 1000)}) for i in range(5)]
    ),
    "lists and times": pa.table(
        {
            "tags": pa.array([["a"], [], None], pa.list_(pa.field("l", pa.string()))),
            "t": pa.array([0, 1, None], pa.timestamp("us", tz="UTC")),
        }
    ),
    "big": pa.table({"x": np.random.default_rng(0).normal(size=300_000)}),
}


@pytest.mark.parametrize("name", TABLES)
def test_a_table_is_written_as_the_growing_buffer_wrote_it(name):
    table = TABLES[name]
    data = table_to_ipc(table)
    assert data == _grown(table)
    assert isinstance(data, bytes)
    assert ipc_to_table(data).equals(table, check_metadata=True)


def test_batches_with_a_schema_of_their_own_are_written_in_order():
    table = TABLES["chunks"]
    schema = table.schema.with_metadata({b"total": b"5000"})
    batches = [b.replace_schema_metadata(schema.metadata) for b in table.to_batches()]
    back = ipc_to_table(ipc_bytes(schema, batches))
    assert back.schema.metadata == {b"total": b"5000"}
    assert back.column("step").to_pylist() == list(range(5000))
    assert ipc_to_table(ipc_bytes(schema, [])).num_rows == 0
