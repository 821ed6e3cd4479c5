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


def ipc_to_table(data: bytes) -> pa.Table:
    """Read an Arrow IPC stream into a table."""
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()
