"""The ``Api`` client and the resources it returns (workspaces, projects, runs, files, artifacts,
users, teams, sweeps, reports, custom charts, run queues and jobs, automations and their parts)."""

from lablens.api.api import Api
from lablens.api.artifact_collections import (
    ArtifactCollection,
    ArtifactCollections,
    ArtifactType,
    ArtifactTypes,
)
from lablens.api.artifact_files import ArtifactFiles, ArtifactManifest, ArtifactManifestEntry
from lablens.api.artifacts import Artifact, Artifacts
from lablens.api.automation_specs import (
    ArtifactEvent,
    DoNothing,
    MetricThresholdFilter,
    NewAutomation,
    OnAddArtifactAlias,
    OnCreateArtifact,
    OnRunMetric,
    OnRunState,
    RunEvent,
    SendNotification,
    SendWebhook,
)
from lablens.api.automations import (
    Automation,
    Automations,
    Deliveries,
    Delivery,
    Integrations,
    SlackIntegration,
    WebhookIntegration,
)
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
    "ArtifactEvent",
    "ArtifactFiles",
    "ArtifactManifest",
    "ArtifactManifestEntry",
    "ArtifactType",
    "ArtifactTypes",
    "Artifacts",
    "Automation",
    "Automations",
    "BetaReport",
    "ChartView",
    "CustomChart",
    "CustomCharts",
    "Deliveries",
    "Delivery",
    "DoNothing",
    "File",
    "Files",
    "HistoryScan",
    "Integrations",
    "Job",
    "MediaItem",
    "Member",
    "MetricThresholdFilter",
    "NewAutomation",
    "OnAddArtifactAlias",
    "OnCreateArtifact",
    "OnRunMetric",
    "OnRunState",
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
    "RunEvent",
    "RunQueue",
    "RunState",
    "Runs",
    "SendNotification",
    "SendWebhook",
    "SlackIntegration",
    "Summary",
    "Sweep",
    "Sweeps",
    "Team",
    "UnknownKeyWarning",
    "User",
    "WebhookIntegration",
    "Workspace",
]
