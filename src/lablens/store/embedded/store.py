"""``EmbeddedStore``: a DuckDB file under a data dir and a ``BlobStore`` for blobs, as parts.

Each part owns one concept and is built here with the one ``Database`` handle and the parts it
needs (see ``lablens.store.parts``): the order below is the order of their dependencies. Every
``Store`` method is answered by the part that defines it; what spans parts is written here.
"""

from __future__ import annotations

from pathlib import Path

from lablens.store.blob_files import BlobFiles
from lablens.store.blobs import BlobStore, LocalBlobs
from lablens.store.common.accounts import Accounts
from lablens.store.common.artifact_collections import ArtifactCollections
from lablens.store.common.artifact_files import ArtifactFiles
from lablens.store.common.artifact_lineage import ArtifactLineage
from lablens.store.common.artifact_versions import ArtifactVersions
from lablens.store.common.artifacts import Artifacts
from lablens.store.common.blob_grants import BlobGrants
from lablens.store.common.liveness import Liveness
from lablens.store.common.media import Media
from lablens.store.common.projects import Projects
from lablens.store.common.reports import Reports
from lablens.store.common.run_creation import RunCreation
from lablens.store.common.run_files import RunFiles
from lablens.store.common.run_updates import RunUpdates
from lablens.store.common.runs import Runs
from lablens.store.common.sweeps import Sweeps
from lablens.store.embedded._db import Database
from lablens.store.embedded._history import History
from lablens.store.embedded._points import Points
from lablens.store.embedded._run_query import RunQueries
from lablens.store.embedded._sql import EmbeddedSql
from lablens.store.parts import StoreOfParts


class EmbeddedStore(StoreOfParts):
    """The default store: ``DATA/lablens.duckdb`` and content-addressed blobs, in
    ``DATA/blobs/`` unless ``blobs`` names another ``BlobStore`` (an S3 bucket).

    The server that opens it is its single writer; nothing else opens the file meanwhile.
    ``blobs.check()`` runs at open: an unusable blob store is a ``BlobStoreUnavailable`` here,
    not a failure at the first upload.
    """

    PARTS = {
        "accounts": Accounts,
        "projects": Projects,
        "runs": Runs,
        "run_creation": RunCreation,
        "run_updates": RunUpdates,
        "points": Points,
        "history_reads": History,
        "run_files": RunFiles,
        "liveness": Liveness,
        "sweeps": Sweeps,
        "reports": Reports,
        "blob_grants": BlobGrants,
        "media": Media,
        "artifact_collections": ArtifactCollections,
        "artifact_versions": ArtifactVersions,
        "artifacts": Artifacts,
        "artifact_files": ArtifactFiles,
        "artifact_lineage": ArtifactLineage,
    }

    def __init__(self, data_dir: Path | str, blobs: BlobStore | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if blobs is None:
            blobs = LocalBlobs(self.data_dir / "blobs")
        self.blob_store = blob_store = blobs
        # Before the database is opened: a refused bucket leaves no file lock behind.
        blob_store.check()
        self.db = db = Database(self.data_dir / "lablens.duckdb")
        # The handle of the parts written once for both engines (``store/common``).
        self.sql = EmbeddedSql(db)
        # The one part that touches blob bytes.
        self.blobs = files = BlobFiles(blob_store)
        self.accounts = accounts = Accounts(self.sql)
        self.projects = projects = Projects(self.sql, accounts)
        self.runs = runs = Runs(self.sql, projects, RunQueries(db))
        self.run_creation = run_creation = RunCreation(self.sql, projects, runs)
        self.run_updates = RunUpdates(self.sql, projects, runs)
        self.points = Points(db, runs, projects)
        self.history_reads = History(db, projects)
        self.run_files = RunFiles(self.sql, runs, files)
        self.liveness = Liveness(self.sql)
        self.sweeps = Sweeps(self.sql, projects, runs, run_creation)
        self.reports = Reports(self.sql, projects)
        self.blob_grants = grants = BlobGrants(self.sql, files)
        self.media = Media(self.sql, projects, runs, grants, files)
        self.artifact_collections = collections = ArtifactCollections(self.sql, projects)
        self.artifact_versions = versions = ArtifactVersions(self.sql, projects, collections)
        self.artifacts = Artifacts(self.sql, projects, runs, grants, collections, versions)
        self.artifact_files = ArtifactFiles(self.sql, versions, files)
        self.artifact_lineage = ArtifactLineage(self.sql, runs, versions)

    def __repr__(self) -> str:
        return f"<EmbeddedStore {self.data_dir} blobs={self.blob_store.url}>"

    def delete_project(self, workspace: str, name: str) -> None:
        # Spans two parts: a project's artifacts go in the transaction that deletes the project,
        # which is refused while one of them is linked from another project.
        pid = self.projects.project_id(workspace, name)
        with self.sql.transaction() as tx:
            self.artifact_collections.delete_project_artifacts(tx, pid, f"{workspace}/{name}")
            self.projects.delete_rows(tx, pid)

    def close(self) -> None:
        self.db.close()
