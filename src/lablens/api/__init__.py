"""The ``Api`` client and the resources it returns (workspaces, projects, runs, files, users)."""

from lablens.api.api import Api
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
    "File",
    "Files",
    "HistoryScan",
    "Paginator",
    "Profile",
    "Project",
    "Projects",
    "Run",
    "RunState",
    "Runs",
    "Summary",
    "User",
    "Workspace",
]
