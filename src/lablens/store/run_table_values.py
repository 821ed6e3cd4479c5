"""The config and summary columns of run tables, parsed from each run's JSON once per version of
it rather than on every read (both engines).

A run table spreads each run's config and summary (JSON) into a column per key. Parsing that
JSON is most of the cost of a table: 100k runs with 30 keys take ~200 ms in DuckDB's
``json_transform`` against ~20 ms for every other column together, and most of PostgreSQL's
second. So the parsed columns of a table's keys are kept here, by project and keys, with the
version of each run they were parsed at (``runs.rev``, moved by every change of its config or
summary; NULL, read as -1, until the first one). A read takes the runs and versions of its page
in the same snapshot (transaction) as its other columns, parses only the runs that are new or
changed since, and takes the rest from here: a table of unchanged runs needs no JSON at all, a
run logging points costs one run's parse, and several servers on one database each keep their
own, right by the versions they read.

Each engine parses with the SQL it used before, so values are the same. Memory is bounded by
``MAX_CELLS`` (runs x key columns over all entries); the least recently read entry goes first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

#: Cells (runs x key columns) kept over all entries: 100k runs of 30 keys are 3M.
MAX_CELLS = 30_000_000

#: The key columns of a table: ``(kind, key, field type)`` in column order.
Spec = tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class _Entry:
    """Parsed columns of some runs (a row per run, any order); replaced, never changed."""

    pks: np.ndarray  # int64
    revs: np.ndarray  # int64, -1 for a NULL rev
    index: pd.Index  # pk -> row
    table: pa.Table  # a column per key of the spec

    @property
    def cells(self) -> int:
        return self.table.num_rows * max(1, self.table.num_columns)


class RunValues:
    """The parsed key columns of recent run tables, shared by the store's reading threads."""

    def __init__(self, max_cells: int = MAX_CELLS) -> None:
        self.max_cells = max_cells
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, Spec], _Entry] = OrderedDict()

    def columns(
        self,
        pid: int,
        spec: Spec,
        pks: np.ndarray,
        revs: np.ndarray,
        parse: Callable[[np.ndarray], pa.Table],
    ) -> pa.Table:
        """The key columns of ``spec`` for runs ``pks`` at versions ``revs``, rows in that order.

        ``parse(pks)`` reads the key columns of those runs from their JSON, rows in the order
        given, in the transaction that read ``pks`` and ``revs`` (so that their values are of
        the versions given).
        """
        key = (pid, spec)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is None:
            # A first read: parsed in the page's order, which the next read of the same page
            # takes as it is.
            table = parse(pks)
            if len(pks):
                self._keep(key, _Entry(pks, revs, pd.Index(pks), table))
            return table
        pos = entry.index.get_indexer(pks)
        stale = pos < 0
        stale[~stale] = entry.revs[pos[~stale]] != revs[~stale]
        if stale.any():
            # New or changed runs parsed, the others kept (a page of a few runs does not
            # drop the rest of the project's).
            fresh = parse(pks[stale])
            kept = np.flatnonzero(~np.isin(entry.pks, pks[stale]))
            old = entry.table
            if len(kept) < old.num_rows:
                old = old.take(pa.array(kept))
            entry = _Entry(
                np.concatenate([entry.pks[kept], pks[stale]]),
                np.concatenate([entry.revs[kept], revs[stale]]),
                pd.Index(np.concatenate([entry.pks[kept], pks[stale]])),
                pa.concat_tables([old, fresh]),
            )
            self._keep(key, entry)
        rows = entry.index.get_indexer(pks)
        if len(rows) and rows[0] + len(rows) - 1 == rows[-1] and _consecutive(rows):
            return entry.table.slice(int(rows[0]), len(rows))  # no copy
        table = entry.table.take(pa.array(rows))
        if len(rows) == entry.table.num_rows:
            # The whole entry in another order (a table read whole after a page or a change):
            # kept in this order, so that the next such read is not copied again.
            self._keep(key, _Entry(pks, revs, pd.Index(pks), table))
        return table

    def _keep(self, key: tuple[int, Spec], entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            total = sum(e.cells for e in self._entries.values())
            while total > self.max_cells and len(self._entries) > 1:
                _, old = self._entries.popitem(last=False)
                total -= old.cells
            if total > self.max_cells:  # one table larger than the bound: not kept
                self._entries.clear()


def _consecutive(rows: np.ndarray) -> bool:
    return bool((np.diff(rows) == 1).all())
