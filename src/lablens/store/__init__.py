"""Storage engines behind the server. ``open_store`` picks one by URL.

Two engines answer the same ``Store`` interface (``store/base.py``): the embedded store
(``store/embedded/``: DuckDB, a data dir, one server) and the PostgreSQL store
(``store/postgres/``: a team server's, several servers sharing one database and one blob
store). What both engines need alike lives in the modules of this package.
"""

from __future__ import annotations

from pathlib import Path

from lablens.store.base import Store

#: The URL schemes of the PostgreSQL store.
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(url: str | Path, blobs: str | None = None) -> Store:
    """Open a store: ``duckdb:///path/to/dir`` or a plain directory path (the embedded store),
    or ``postgresql://USER:PASSWORD@HOST:PORT/DB`` (``postgres://`` too: the PostgreSQL store).

    ``blobs`` is where the bytes of run files, artifact files and media go, as
    ``lablens.store.blobs.open_blobs`` takes it (``file:///path``, ``s3://BUCKET/PREFIX``). The
    embedded store keeps them in its data dir's ``blobs/`` by default; the PostgreSQL store has
    no data dir, so it needs ``blobs``: a bucket, or a directory every server of the database
    shares.

    Raises:
        ValueError: for a scheme no engine handles; for a PostgreSQL store without ``blobs``;
            for a blob URL no blob store handles.
        BlobStoreUnavailable: the blob store cannot be used (a missing bucket, refused
            credentials, an endpoint that does not answer).
        StoreUnreachable: the PostgreSQL database cannot be reached (its host, port and why).
        SchemaTooNew: the PostgreSQL database was migrated by a newer lablens.
        ImportError: the PostgreSQL store without psycopg, S3 blobs without boto3 (both are
            the ``team`` extra).
    """
    from lablens.store.blobs import open_blobs

    text = str(url)
    if text.startswith(POSTGRES_SCHEMES):
        if not blobs:
            raise ValueError(
                "a PostgreSQL store needs a blob store for the bytes of files, artifacts and"
                " media, which it does not keep in the database: give --blobs"
                " s3://BUCKET/PREFIX (or LABLENS_BLOBS), or --blobs file:///DIR for a directory"
                " every server of this database shares"
            )
        from lablens.store.postgres.store import PostgresStore

        return PostgresStore(text, open_blobs(blobs))
    if text.startswith("duckdb://"):
        text = text[len("duckdb://") :]
    elif "://" in text:
        raise ValueError(
            f"no store engine for {text!r}; use a directory, duckdb:///dir or"
            " postgresql://USER:PASSWORD@HOST/DB"
        )
    from lablens.store.embedded.store import EmbeddedStore

    return EmbeddedStore(Path(text), open_blobs(blobs) if blobs else None)


__all__ = ["Store", "open_store"]
