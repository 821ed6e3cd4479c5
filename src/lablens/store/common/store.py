"""``SqlStore``: what both engines' store classes are, the parts written once put together.

An engine's store class opens its database and its ``Sql``, then calls :meth:`SqlStore.build`
with the parts that are its own in substance (metric points, history reads, the pages of the
run table); every other part is the same class on both engines, built here in the order of
their dependencies (see ``lablens.store.parts``). What spans parts is written here too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from lablens.contract.registries import is_registry_project, registry_name
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
from lablens.store.common.custom_charts import CustomCharts
from lablens.store.common.liveness import Liveness
from lablens.store.common.media import Media
from lablens.store.common.projects import Projects
from lablens.store.common.registries import Registries
from lablens.store.common.reports import Reports
from lablens.store.common.run_creation import RunCreation
from lablens.store.common.run_files import RunFiles
from lablens.store.common.run_queues import RunQueues
from lablens.store.common.run_updates import RunUpdates
from lablens.store.common.runs import Runs
from lablens.store.common.sweeps import Sweeps
from lablens.store.errors import InvalidInput
from lablens.store.parts import StoreOfParts
from lablens.store.registry_values import check_type_accepted
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
    "custom_charts": CustomCharts,
    "run_queues": RunQueues,
    "registries": Registries,
    "automations": Automations,
    "automation_deliveries": AutomationDeliveries,
}


class SqlStore(StoreOfParts):
    """A ``Store`` of the shared parts over one engine's :class:`~lablens.store.sql.Sql`, with
    the engine's own parts for metric points."""

    sql: Sql
    blob_store: BlobStore

    def one_commit(self) -> contextlib.AbstractContextManager[None]:
        return self.sql.one_commit()

    @property
    def access_epoch_in_memory(self) -> bool:  # type: ignore[override]
        # The embedded engine's epoch is a counter of this process, its only writer.
        return not self.sql.concurrent

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
        self.custom_charts = CustomCharts(sql, accounts)
        self.run_queues = RunQueues(sql, accounts, projects, run_creation)
        self.registries = Registries(sql, accounts, projects, collections, versions)
        self.automations = automations = Automations(sql, accounts, projects, collections)
        self.automation_deliveries = AutomationDeliveries(sql, automations)

    def delete_project(self, workspace: str, name: str) -> None:
        # Spans two parts: a project's artifacts go in the transaction that deletes the project,
        # which is refused while one of them is linked from another project.
        pid = self.projects.project_id(workspace, name)
        with self.accounts.changing_access() as tx:
            self.artifact_collections.delete_project_artifacts(tx, pid, f"{workspace}/{name}")
            self.registries.delete_rows(tx, pid)
            self.automations.delete_project_automations(tx, pid)
            self.projects.delete_rows(tx, pid)

    # -- registries: a registry is a project (store/common/registries.py) ----------------------
    def delete_registry(self, organization: str, name: str) -> None:
        project = self.registries.get_registry(organization, name)["project"]
        self.delete_project(organization, project)

    def commit_artifact(
        self, workspace: str, project: str, data: Mapping[str, Any], *, username: str
    ) -> tuple[dict[str, Any], bool]:
        # A registry holds links only, as W&B's: a version is logged into a project, then linked.
        if is_registry_project(project):
            raise InvalidInput(
                f"{workspace}/{project} is a registry: log the artifact into a project, then"
                " link it into the registry (artifact.link)",
                field="project",
            )
        return self.artifacts.commit_artifact(workspace, project, data, username=username)

    def link_artifact(
        self,
        workspace: str,
        project: str,
        artifact_id: str,
        *,
        target_workspace: str,
        target_project: str,
        target_name: str,
        aliases: Sequence[str] = (),
        username: str,
    ) -> dict[str, Any]:
        # A link into a registry: the registry must exist (no project is made for it) and
        # accept the version's type.
        if is_registry_project(target_project):
            registry = self.registries.get_registry(target_workspace, registry_name(target_project))
            source = self.artifact_versions.get_artifact_by_id(workspace, project, artifact_id)
            check_type_accepted(registry, source["type"])
        return self.artifacts.link_artifact(
            workspace,
            project,
            artifact_id,
            target_workspace=target_workspace,
            target_project=target_project,
            target_name=target_name,
            aliases=aliases,
            username=username,
        )
