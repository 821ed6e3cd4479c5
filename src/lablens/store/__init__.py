"""Storage engines behind the server. ``open_store`` picks one by URL."""

from __future__ import annotations

from pathlib import Path

from lablens.store.base import Store


def open_store(url: str | Path, blobs: str | None = None) -> Store:
    """Open a store: ``duckdb:///path/to/dir`` or a plain directory path (the embedded store).

    ``blobs`` is where the bytes of run files, artifact files and media go, as
    ``lablens.store.blobs.open_blobs`` takes it (``file:///path``, ``s3://BUCKET/PREFIX``);
    by default the data dir's ``blobs/``.

    Raises:
        ValueError: for a scheme no engine handles, and for ``postgresql://`` (its engine,
            ``store/postgres/``, is not complete yet); for a blob URL no blob store handles.
        BlobStoreUnavailable: the blob store cannot be used (a missing bucket, refused
            credentials, an endpoint that does not answer).
    """
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        raise ValueError(
            "the PostgreSQL store is not complete yet: its schema, migrations and filters exist"
            " (lablens.store.postgres) but not the engine that serves runs from them; use a"
            " data directory (--data DIR) for now"
        )
    if text.startswith("duckdb://"):
        text = text[len("duckdb://") :]
    elif "://" in text:
        raise ValueError(f"no store engine for {text!r}; use a directory or duckdb:///dir")
    from lablens.store.blobs import open_blobs
    from lablens.store.embedded.store import EmbeddedStore

    return EmbeddedStore(Path(text), open_blobs(blobs) if blobs else None)


__all__ = ["Store", "open_store"]
