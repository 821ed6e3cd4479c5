"""``SqlStore``: what both engines' store classes are, the parts written once put together.

An engine's store class opens its database and its ``Sql``, then calls :meth:`SqlStore.build`
with the parts that are its own in substance (metric points, history reads, the pages of the
run table); every other part is the same class on both engines, built here in the order of
their dependencies (see ``lablens.store.parts``). What spans parts is written here too.
"""

from __future__ import annotations

from typing import Any

from lablens.store.blob_files import BlobFiles
from lablens.store.blobs import BlobStore
from lablens.store.common.accounts import Accounts
from lablens.store.common.artifact_collections import ArtifactCollections
from lablens.store.common.artifact_files import ArtifactFiles
from lablens.store.common.artifact_lineage import ArtifactLineage
from lablens.store.common.artifact_versions import ArtifactVersions
from lablens.store.common.artifacts import Artifacts
from lablens.store.common.automation_deliveries import AutomationDeliveries
from lablens.store.common.automations import Automations
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
from lablens.store.parts import StoreOfParts
from lablens.store.sql import Sql

#: The parts every engine shares, by attribute name; an engine's ``PARTS`` adds its own
#: ``points`` and ``history_reads``.
COMMON_PARTS: dict[str, type] = {
    "accounts": Accounts,
    "projects": Projects,
    "runs": Runs,
    "run_creation": RunCreation,
    "run_updates": RunUpdates,
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
    "automations": Automations,
    "automation_deliveries": AutomationDeliveries,
}


class SqlStore(StoreOfParts):
    """A ``Store`` of the shared parts over one engine's :class:`~lablens.store.sql.Sql`, with
    the engine's own parts for metric points."""

    sql: Sql
    blob_store: BlobStore

    def build(self, db: Any, sql: Sql, *, points: type, history: type, run_queries: Any) -> None:
        """Build every part over ``sql`` (and ``db``, the engine's handle, for its own
        ``points`` and ``history`` part classes; ``run_queries`` the runs part's page reads)."""
        self.sql = sql
        # The one part that touches blob bytes.
        self.blobs = files = BlobFiles(self.blob_store)
        self.accounts = accounts = Accounts(sql)
        self.projects = projects = Projects(sql, accounts)
        self.runs = runs = Runs(sql, projects, run_queries)
        self.run_creation = run_creation = RunCreation(sql, projects, runs)
        self.run_updates = RunUpdates(sql, projects, runs)
        self.points = points(db, runs, projects)
        self.history_reads = history(db, projects)
        self.run_files = RunFiles(sql, runs, files)
        self.liveness = Liveness(sql)
        self.sweeps = Sweeps(sql, projects, runs, run_creation)
        self.reports = Reports(sql, projects)
        self.blob_grants = grants = BlobGrants(sql, files)
        self.media = Media(sql, projects, runs, grants, files)
        self.artifact_collections = collections = ArtifactCollections(sql, projects)
        self.artifact_versions = versions = ArtifactVersions(sql, projects, collections)
        self.artifacts = Artifacts(sql, projects, runs, grants, collections, versions)
        self.artifact_files = ArtifactFiles(sql, versions, files)
        self.artifact_lineage = ArtifactLineage(sql, runs, versions)
        self.automations = automations = Automations(sql, accounts, projects, collections)
        self.automation_deliveries = AutomationDeliveries(sql, automations)

    def delete_project(self, workspace: str, name: str) -> None:
        # Spans two parts: a project's artifacts go in the transaction that deletes the project,
        # which is refused while one of them is linked from another project.
        pid = self.projects.project_id(workspace, name)
        with self.sql.transaction() as tx:
            self.artifact_collections.delete_project_artifacts(tx, pid, f"{workspace}/{name}")
            self.automations.delete_project_automations(tx, pid)
            self.projects.delete_rows(tx, pid)
