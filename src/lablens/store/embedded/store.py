"""``EmbeddedStore``: one DuckDB file and a blob directory under a data dir."""

from __future__ import annotations

from pathlib import Path

from lablens.store.base import Store
from lablens.store.embedded._accounts import Accounts
from lablens.store.embedded._artifact_collections import ArtifactCollections
from lablens.store.embedded._artifact_files import ArtifactFiles
from lablens.store.embedded._artifact_lineage import ArtifactLineage
from lablens.store.embedded._artifacts import Artifacts
from lablens.store.embedded._blobs import Blobs
from lablens.store.embedded._db import Database
from lablens.store.embedded._history import History
from lablens.store.embedded._liveness import Liveness
from lablens.store.embedded._media import Media
from lablens.store.embedded._points import Points
from lablens.store.embedded._projects import Projects
from lablens.store.embedded._reports import Reports
from lablens.store.embedded._run_creation import RunCreation
from lablens.store.embedded._run_files import RunFiles
from lablens.store.embedded._run_updates import RunUpdates
from lablens.store.embedded._sweeps import Sweeps


class EmbeddedStore(
    Accounts,
    Projects,
    RunCreation,
    RunUpdates,
    Points,
    History,
    RunFiles,
    Liveness,
    Sweeps,
    Reports,
    ArtifactCollections,
    Artifacts,
    ArtifactFiles,
    ArtifactLineage,
    Blobs,
    Media,
    Store,
):
    """The default store: ``DATA/lablens.duckdb`` and content-addressed ``DATA/blobs/``.

    The server that opens it is its single writer; nothing else opens the file meanwhile.
    """

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.blob_dir = self.data_dir / "blobs"
        self.blob_dir.mkdir(exist_ok=True)
        self.db = Database(self.data_dir / "lablens.duckdb")

    def __repr__(self) -> str:
        return f"<EmbeddedStore {self.data_dir}>"

    def close(self) -> None:
        self.db.close()
