"""Run liveness: a RUNNING run whose process fell silent is marked CRASHED."""

from __future__ import annotations

import datetime as dt

from lablens.store.postgres._db import Database, now


class Liveness:
    """Part of ``PostgresStore``: finding runs whose heartbeat stopped."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def crash_silent_runs(self, timeout: float) -> int:
        cutoff = now() - dt.timedelta(seconds=timeout)
        # Every server's watch runs this at once. An UPDATE waits for a row another server is
        # updating and then checks its WHERE again, so a run is crashed once and counted by
        # the one server that did it; a heartbeat committed meanwhile keeps its run running.
        with self.db.transaction() as conn:
            rows = conn.execute(
                "UPDATE runs SET state = 'CRASHED',"
                " finished_at = coalesce(heartbeat_at, created_at)"
                " WHERE state = 'RUNNING' AND coalesce(heartbeat_at, created_at) < %s"
                " RETURNING pk",
                [cutoff],
            ).fetchall()
        return len(rows)
