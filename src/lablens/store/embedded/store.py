"""``EmbeddedStore``: a DuckDB file under a data dir and a ``BlobStore`` for blobs, as parts.

The parts written once for both engines (``store/common/store.py`` builds them over this
engine's ``Sql``), with DuckDB's own parts for metric points, history reads and the pages of
the run table. Every ``Store`` method is answered by the part that defines it (see
``lablens.store.parts``).
"""

from __future__ import annotations

from pathlib import Path

from lablens.store.blobs import BlobStore, LocalBlobs
from lablens.store.common.store import COMMON_PARTS, SqlStore
from lablens.store.embedded._db import Database
from lablens.store.embedded._history import History
from lablens.store.embedded._points import Points
from lablens.store.embedded._run_query import RunQueries
from lablens.store.embedded._sql import EmbeddedSql


class EmbeddedStore(SqlStore):
    """The default store: ``DATA/lablens.duckdb`` and content-addressed blobs, in
    ``DATA/blobs/`` unless ``blobs`` names another ``BlobStore`` (an S3 bucket).

    The server that opens it is its single writer; nothing else opens the file meanwhile.
    ``blobs.check()`` runs at open: an unusable blob store is a ``BlobStoreUnavailable`` here,
    not a failure at the first upload.
    """

    PARTS = {**COMMON_PARTS, "points": Points, "history_reads": History}

    def __init__(self, data_dir: Path | str, blobs: BlobStore | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if blobs is None:
            blobs = LocalBlobs(self.data_dir / "blobs")
        self.blob_store = blob_store = blobs
        # Before the database is opened: a refused bucket leaves no file lock behind.
        blob_store.check()
        self.db = db = Database(self.data_dir / "lablens.duckdb")
        self.build(db, EmbeddedSql(db), points=Points, history=History, run_queries=RunQueries(db))

    def __repr__(self) -> str:
        return f"<EmbeddedStore {self.data_dir} blobs={self.blob_store.url}>"

    def close(self) -> None:
        self.db.close()
