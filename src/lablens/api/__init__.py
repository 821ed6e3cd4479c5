"""The ``Api`` client and the resources it returns (workspaces, projects, runs, files, artifacts,
users, teams, sweeps, reports)."""

from lablens.api.api import Api
from lablens.api.artifact_collections import (
    ArtifactCollection,
    ArtifactCollections,
    ArtifactType,
    ArtifactTypes,
)
from lablens.api.artifact_files import ArtifactFiles, ArtifactManifest, ArtifactManifestEntry
from lablens.api.artifacts import Artifact, Artifacts
from lablens.api.files import File, Files
from lablens.api.history import HistoryScan, UnknownKeyWarning
from lablens.api.media import MediaItem
from lablens.api.paging import Paginator
from lablens.api.projects import Project, Projects
from lablens.api.registries import Registries, Registry, RegistryCollections, RegistryVersions
from lablens.api.reports import BetaReport, Reports
from lablens.api.run import Run
from lablens.api.run_artifacts import RunArtifacts
from lablens.api.run_fields import Profile, RunState, Summary
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
    "File",
    "Files",
    "HistoryScan",
    "MediaItem",
    "Member",
    "Paginator",
    "Profile",
    "Project",
    "Projects",
    "Registries",
    "Registry",
    "RegistryCollections",
    "RegistryVersions",
    "Reports",
    "Run",
    "RunArtifacts",
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
