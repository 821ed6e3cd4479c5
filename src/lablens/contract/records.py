"""The body of ``POST .../runs/{id}/records``: several of a run's records in one request.

A short run (a fold of a cross-validation, one evaluation) logs a few points and ends; sent one
request each (create, points, summary, end), most of its time is spent waiting on the server.
The SDK sends what it has queued as one request of this media type instead: its creation (while
the server does not have it yet), batches of points, updates, console lines, and its end.

The body is one line of JSON, the header, then the bytes of the points batches one after the
other (Arrow IPC streams, as ``POST .../points`` takes them)::

    {"create": {...},                       # optional: POST .../runs's body
     "records": [
        {"t": "points", "id": BATCH_ID, "stream": "default", "n": POINTS, "size": BYTES},
        {"t": "patch", "body": {...}},      # PATCH .../runs/{id}'s body
        {"t": "console", "id": BATCH_ID, "lines": [...]},
        {"t": "finish", "state": "FINISHED", "exit_code": 0, "finished_at": "..."}]}
    \\n
    <the points batches' bytes, in the order of their records>

The server applies the records in order and answers once all are stored. Each is idempotent as
its own request is (a batch id is stored once, updates set values), so the request may be sent
again as it is.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MEDIA_TYPE", "decode_records", "encode_records"]

MEDIA_TYPE = "application/vnd.lablens.records"


def encode_records(header: dict[str, Any], bodies: list[bytes]) -> bytes:
    """The request body: ``header`` (JSON-safe: non-finite floats already encoded) and the
    points batches' bytes, in the order of the header's points records."""
    # Compact JSON escapes every newline inside strings: the first b"\n" ends the header.
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return b"".join([head, b"\n", *bodies])


def decode_records(raw: bytes) -> tuple[Any, memoryview]:
    """The header (parsed JSON) and the bytes after it; ``ValueError`` when the body is not
    of this form (``RecursionError`` for JSON nested too deep)."""
    end = raw.find(b"\n")
    if end < 0:
        raise ValueError("no header line: expected one line of JSON, then the points' bytes")
    return json.loads(raw[:end]), memoryview(raw)[end + 1 :]
