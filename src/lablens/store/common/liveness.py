"""Run liveness, for every engine: a RUNNING run whose process fell silent is marked CRASHED."""

from __future__ import annotations

import datetime as dt

from lablens.store.sql import Sql

_SILENT = "state = 'RUNNING' AND coalesce(heartbeat_at, created_at) < ?"


class Liveness:
    """A store's part: finding runs whose heartbeat stopped."""

    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def crash_silent_runs(self, timeout: float) -> int:
        cutoff = self.sql.now() - dt.timedelta(seconds=timeout)
        # Most checks find nothing: look first outside any transaction, so the embedded store's
        # writers never wait for its write lock.
        if not self.sql.one(f"SELECT count(*) AS n FROM runs WHERE {_SILENT}", [cutoff])["n"]:
            return 0
        # Every PostgreSQL server's watch runs this at once. An UPDATE waits for a row another
        # server is updating and then checks its WHERE again, so a run is crashed once and
        # counted by the one server that did it; a heartbeat committed meanwhile keeps its run
        # running.
        with self.sql.transaction() as tx:
            # The run ended, as far as anyone can tell, at its last sign of life.
            crashed = tx.rows(
                "UPDATE runs SET state = 'CRASHED',"
                " finished_at = coalesce(heartbeat_at, created_at)"
                f" WHERE {_SILENT} RETURNING pk",
                [cutoff],
            )
        return len(crashed)
