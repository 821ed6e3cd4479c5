"""Storage engines behind the server. ``open_store`` picks one by URL."""

from __future__ import annotations

from pathlib import Path

from lablens.store.base import Store


def open_store(url: str | Path) -> Store:
    """Open a store: ``duckdb:///path/to/dir`` or a plain directory path (the embedded store).

    Raises:
        ValueError: for a scheme no engine handles, and for ``postgresql://`` (its engine,
            ``store/postgres/``, is not complete yet).
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
    from lablens.store.embedded.store import EmbeddedStore

    return EmbeddedStore(Path(text))


__all__ = ["Store", "open_store"]
