"""The ``Api`` client and the resources it returns (workspaces, projects, runs, files, artifacts,
users, teams, sweeps, reports, custom charts, run queues and jobs)."""

from lablens.api.api import Api
from lablens.api.artifact_collections import (
    ArtifactCollection,
    ArtifactCollections,
    ArtifactType,
    ArtifactTypes,
)
from lablens.api.artifact_files import ArtifactFiles, ArtifactManifest, ArtifactManifestEntry
from lablens.api.artifacts import Artifact, Artifacts
from lablens.api.custom_charts import ChartView, CustomChart, CustomCharts
from lablens.api.files import File, Files
from lablens.api.history import HistoryScan, UnknownKeyWarning
from lablens.api.jobs import Job
from lablens.api.media import MediaItem
from lablens.api.paging import Paginator
from lablens.api.projects import Project, Projects
from lablens.api.registries import Registries, Registry, RegistryCollections, RegistryVersions
from lablens.api.reports import BetaReport, Reports
from lablens.api.run import Run
from lablens.api.run_artifacts import RunArtifacts
from lablens.api.run_fields import Profile, RunState, Summary
from lablens.api.run_queues import QueuedRun, QueuedRuns, RunQueue
from lablens.api.runs import Runs
from lablens.api.sweeps import Sweep, Sweeps
from lablens.api.teams import Member, Team
from lablens.api.users import User
from lablens.api.workspaces import Workspace

__all__ = [
    "Api",
    "Artifact",
    "ArtifactCollection",
    "ArtifactCollections",
    "ArtifactFiles",
    "ArtifactManifest",
    "ArtifactManifestEntry",
    "ArtifactType",
    "ArtifactTypes",
    "Artifacts",
    "BetaReport",
    "ChartView",
    "CustomChart",
    "CustomCharts",
    "File",
    "Files",
    "HistoryScan",
    "Job",
    "MediaItem",
    "Member",
    "Paginator",
    "Profile",
    "Project",
    "Projects",
    "QueuedRun",
    "QueuedRuns",
    "Registries",
    "Registry",
    "RegistryCollections",
    "RegistryVersions",
    "Reports",
    "Run",
    "RunArtifacts",
    "RunQueue",
    "RunState",
    "Runs",
    "Summary",
    "Sweep",
    "Sweeps",
    "Team",
    "UnknownKeyWarning",
    "User",
    "Workspace",
]
