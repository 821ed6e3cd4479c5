"""The check of ``$regex`` patterns: the filter language's regular expressions are RE2.

RE2 is Python's ``re`` without lookaround and backreferences. DuckDB links RE2, so a private
in-memory DuckDB connection is the judge of what compiles, whatever engine runs the query.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import duckdb

__all__ = ["regex_error"]

_regex_lock = threading.Lock()
_regex_conn: list[duckdb.DuckDBPyConnection] = []


@lru_cache(maxsize=512)
def regex_error(pattern: str) -> str | None:
    """RE2's complaint about ``pattern``, or ``None`` when it compiles."""
    with _regex_lock:
        if not _regex_conn:
            _regex_conn.append(duckdb.connect())
        try:
            _regex_conn[0].execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
        except duckdb.Error as e:
            return str(e).split(": ", 1)[-1]
    return None
