"""Arrow IPC streams: how bulk data (history, run tables, exports) travels between server and
clients, as ``application/vnd.apache.arrow.stream``."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.ipc

ARROW = "application/vnd.apache.arrow.stream"


def table_to_ipc(table: pa.Table) -> bytes:
    """Serialize an Arrow table as an IPC stream."""
    return ipc_bytes(table.schema, table.to_batches())


def ipc_bytes(schema: pa.Schema, batches: list[pa.RecordBatch]) -> bytes:
    """The IPC stream of ``batches``, written once into a buffer of its exact size.

    Measured first (``MockOutputStream`` copies nothing), so that the buffer is not grown and
    copied as it fills: 5 ms instead of 8.5 for a million points. ``bytes`` at the end, not a
    view of the buffer: a server answer of one ``bytes`` goes out through h11 as it is, where a
    view is copied again (a view of 32 MB took 60 ms more to send).
    """
    mock = pa.MockOutputStream()
    _write(mock, schema, batches)
    buffer = pa.allocate_buffer(mock.size())
    _write(pa.FixedSizeBufferWriter(buffer), schema, batches)
    return buffer.to_pybytes()


def _write(sink: pa.NativeFile, schema: pa.Schema, batches: list[pa.RecordBatch]) -> None:
    with pa.ipc.new_stream(sink, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)


def ipc_to_table(data: bytes) -> pa.Table:
    """Read an Arrow IPC stream into a table."""
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()
