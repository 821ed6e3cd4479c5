"""Run liveness: a RUNNING run whose process fell silent is marked CRASHED."""

from __future__ import annotations

import datetime as dt

from lablens.store.embedded._db import Database, now


class Liveness:
    """Part of ``EmbeddedStore``: finding runs whose heartbeat stopped."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def crash_silent_runs(self, timeout: float) -> int:
        cutoff = now() - dt.timedelta(seconds=timeout)
        silent = "state = 'RUNNING' AND coalesce(heartbeat_at, created_at) < ?"
        # Most checks find nothing: look first without the write lock, so writers never wait.
        if not self.db.one(f"SELECT count(*) AS n FROM runs WHERE {silent}", [cutoff])["n"]:
            return 0
        with self.db.write() as con:
            # The run ended, as far as anyone can tell, at its last sign of life.
            rows = con.execute(
                "UPDATE runs SET state = 'CRASHED',"
                " finished_at = coalesce(heartbeat_at, created_at)"
                f" WHERE {silent} RETURNING pk",
                [cutoff],
            ).fetchall()
        return len(rows)
