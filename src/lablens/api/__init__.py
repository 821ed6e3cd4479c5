"""The ``Api`` client and the resources it returns (workspaces, projects, runs, files, artifacts,
users)."""

from lablens.api.api import Api
from lablens.api.artifact_collections import (
    ArtifactCollection,
    ArtifactCollections,
    ArtifactType,
    ArtifactTypes,
)
from lablens.api.artifact_files import ArtifactFiles, ArtifactManifest, ArtifactManifestEntry
from lablens.api.artifacts import Artifact, Artifacts, RunArtifacts
from lablens.api.files import File, Files
from lablens.api.history import HistoryScan
from lablens.api.paging import Paginator
from lablens.api.projects import Project, Projects
from lablens.api.run_fields import Profile, RunState, Summary
from lablens.api.runs import Run, Runs
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
    "File",
    "Files",
    "HistoryScan",
    "Paginator",
    "Profile",
    "Project",
    "Projects",
    "Run",
    "RunArtifacts",
    "RunState",
    "Runs",
    "Summary",
    "User",
    "Workspace",
]
