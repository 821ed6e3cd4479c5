"""The ``Store`` interface's methods for reports of a project."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any


class ReportStore(abc.ABC):
    """Reports of a project."""

    # -- reports --------------------------------------------------------------------------
    @abc.abstractmethod
    def create_report(
        self,
        workspace: str,
        project: str,
        *,
        title: str,
        description: str | None,
        spec: Mapping[str, Any],
        username: str,
    ) -> dict[str, Any]:
        """Save a report in a project."""

    @abc.abstractmethod
    def get_report(self, workspace: str, project: str, report_id: str) -> dict[str, Any]:
        """One report; ``NotFound("report", ...)`` when absent."""

    @abc.abstractmethod
    def list_reports(
        self,
        workspace: str,
        project: str,
        *,
        name: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """A page of the project's reports, newest first; ``name`` matches name or title."""

    @abc.abstractmethod
    def update_report(
        self, workspace: str, project: str, report_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change a report's ``title``, ``description`` or ``spec``."""

    @abc.abstractmethod
    def delete_report(self, workspace: str, project: str, report_id: str) -> None:
        """Delete a report."""
