"""Arrow IPC streams: how bulk data (history, run tables, exports) travels between server and
clients, as ``application/vnd.apache.arrow.stream``."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.ipc

ARROW = "application/vnd.apache.arrow.stream"


def table_to_ipc(table: pa.Table) -> bytes:
    """Serialize an Arrow table as an IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def ipc_bytes(schema: pa.Schema, batches: list[pa.RecordBatch]) -> bytes:
    """The IPC stream of ``batches``, written once into one buffer (not each batch serialized
    on its own and then joined: two copies fewer of a 30 MB run table).

    ``bytes``, not a view of that buffer: uvicorn sends a ``bytes`` body several times faster
    (a view of 32 MB took 60 ms more to go out than its copy).
    """
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def ipc_to_table(data: bytes) -> pa.Table:
    """Read an Arrow IPC stream into a table."""
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()
