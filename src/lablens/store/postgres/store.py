"""``PostgresStore``: a PostgreSQL database and a ``BlobStore`` for blobs, as parts.

The parts written once for both engines (``store/common/store.py`` builds them over this
engine's ``Sql``), with PostgreSQL's own parts for metric points, history reads and the pages
of the run table. Every ``Store`` method is answered by the part that defines it (see
``lablens.store.parts``).
"""

from __future__ import annotations

from lablens.store.blobs import BlobStore
from lablens.store.common.store import COMMON_PARTS, SqlStore
from lablens.store.postgres._db import Database, redact
from lablens.store.postgres._history import History
from lablens.store.postgres._points import Points
from lablens.store.postgres._run_query import RunQueries
from lablens.store.postgres._sql import PostgresSql


class PostgresStore(SqlStore):
    """The team store: a PostgreSQL database (``postgresql://USER:PASSWORD@HOST/DB``) and
    content-addressed blobs in ``blobs`` (an S3 bucket, or a directory every server shares).

    Several servers may open the same database and blob store at once and serve the same
    answers: the database keeps what must happen once (migrations, the first admin, unique
    names) and each server keeps nothing on its own disk. ``blobs.check()`` runs first: an
    unusable blob store is a ``BlobStoreUnavailable`` before the database is touched; then
    opening refuses a database that cannot be reached (``StoreUnreachable``) or whose schema
    is newer than this lablens (``SchemaTooNew``).
    """

    PARTS = {**COMMON_PARTS, "points": Points, "history_reads": History}

    def __init__(self, url: str, blobs: BlobStore) -> None:
        self.url = url
        self.blob_store = blob_store = blobs
        # Before the database: a refused bucket leaves no migration applied.
        blob_store.check()
        self.db = db = Database(url)
        try:
            self.build(
                db, PostgresSql(db), points=Points, history=History, run_queries=RunQueries(db)
            )
        except BaseException:
            db.close()
            raise

    def __repr__(self) -> str:
        return f"<PostgresStore {redact(self.url)} blobs={self.blob_store.url}>"

    def close(self) -> None:
        self.db.close()
