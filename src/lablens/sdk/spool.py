"""The offline spool: what the server had not taken when ``finish()`` gave up, kept on disk.

One directory per run (``<dir>/run-<time>-<id>/spool/``):

- ``run.json``: ``{"host", "entity", "project", "id"}``, where the data belongs;
- ``<stream>-<batch id>.arrows``: one batch of points each, the Arrow IPC stream that was (or would
  have been) the request body. Sending one again with its batch id as ``X-Lablens-Batch-Id`` is
  safe: the server stores a batch id once, so points the server did take are not stored twice;
- ``patches.jsonl``: run updates not sent (``PATCH`` bodies: config, summary, state), in order;
- ``console.jsonl``: console lines not sent (``POST .../console`` bodies).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lablens.transport import encode_floats


class Spool:
    """Writes a run's unsent data under ``path``, creating it on the first write."""

    def __init__(self, path: Path, run: dict[str, str]) -> None:
        self.path = path
        self._run = run
        self.points = 0
        self.items = 0

    def _open(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        meta = self.path / "run.json"
        if not meta.exists():
            meta.write_text(json.dumps(self._run, indent=2))

    def add_batch(self, stream: str, batch_id: str, body: bytes, points: int) -> None:
        """Keep one Arrow IPC batch under its batch id."""
        self._open()
        (self.path / f"{stream}-{batch_id}.arrows").write_bytes(body)
        self.points += points
        self.items += 1

    def add_json(self, name: str, body: dict[str, Any]) -> None:
        """Append one request body to ``<name>.jsonl``."""
        self._open()
        with open(self.path / f"{name}.jsonl", "a") as f:
            f.write(json.dumps(encode_floats(body)) + "\n")
        self.items += 1
