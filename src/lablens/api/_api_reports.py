"""The report methods of ``Api``: ``reports()``, ``report()`` and ``create_report()``. A part of
``Api`` (see ``_api_part.py``); each returns a resource from ``reports.py``."""

from __future__ import annotations

from typing import Any

from lablens.api._api_part import ApiPart
from lablens.api.reports import BetaReport, Reports
from lablens.contract import paths
from lablens.contract.routes import project_route, quote_segment


class ApiReports(ApiPart):
    """``Api.reports()``, ``report()`` and ``create_report()``."""

    def reports(self, path: str = "", name: str | None = None, per_page: int = 50) -> Reports:
        """The reports of a project, newest first.

        Args:
            path: ``entity/project``, or a project with the default entity.
            name: only reports with this name, title or id.
            per_page: reports per request.

        Returns:
            A lazy ``Reports`` collection of ``BetaReport``.

        Example:
            >>> for report in api.reports("alice/mnist"):
            ...     print(report.display_name, report.updated_at, report.url)
        """
        ws, proj = paths.parse_project_path(
            path or None, lambda: self.default_entity, self._default_project
        )
        return Reports(self._api, ws, proj, name=name, per_page=per_page)

    def report(self, path: str) -> BetaReport:
        """One report, by ``entity/project/reports/<name>-<id>`` (or its URL).

        Raises:
            ReportNotFound: there is no such report.

        Example:
            >>> report = api.report("alice/mnist/reports/LR-sweep-ab12cd34")
        """
        entity, project, report_id = paths.parse_report_path(path, lambda: self.default_entity)
        data = self._transport.get_json(
            f"{project_route(entity, project)}/reports/{quote_segment(report_id)}"
        )
        return BetaReport.from_json(self._api, data)

    def create_report(
        self,
        path: str,
        title: str,
        *,
        description: str | None = None,
        runsets: list[dict[str, Any]] | None = None,
        panels: list[dict[str, Any]] | None = None,
        spec: dict[str, Any] | None = None,
    ) -> BetaReport:
        """Save a report: run sets (filters) and panels (chart settings) under a title.

        This is the call the explorer makes to save its view (``Explorer.save_report``): it
        passes its whole state as ``spec``, and re-opens a report from ``report.spec``.

        Args:
            path: the project the report belongs to, ``entity/project``.
            title: the report's title.
            description: what it shows.
            runsets: ``[{"name", "project", "filters", "order", "runs"}]``; ``project``
                defaults to the report's, ``runs`` pins run ids.
            panels: ``[{"type": "line"|"bar"|"scatter", "runset", "title", "x", "y", ...}]``,
                or ``{"type": "custom", "chart": "entity/name", "runset"}``: a custom chart
                preset drawn from the run set's runs.
            spec: the whole spec at once, instead of ``runsets`` and ``panels``; keys other
                than those two are kept as given.

        Returns:
            The saved ``BetaReport``.

        Raises:
            BadRequest: a run set's filter or order is invalid (``.field`` names it).
            ProjectNotFound: a run set names a project you may not read.
            PermissionDenied: you are not a member of the project's workspace.

        Example:
            >>> report = api.create_report(
            ...     "alice/mnist", "LR sweep", description="which lr wins",
            ...     runsets=[{"filters": {"sweep": "x1y2z3w4"}}],
            ...     panels=[{"type": "line", "y": ["val/acc"]},
            ...             {"type": "scatter", "x": "config.lr", "y": "summary_metrics.val/acc"}])
        """
        ws, proj = paths.parse_project_path(path, lambda: self.default_entity)
        body_spec = dict(spec or {})
        if runsets is not None:
            body_spec["runsets"] = list(runsets)
        if panels is not None:
            body_spec["panels"] = list(panels)
        body: dict[str, Any] = {"title": title, "spec": body_spec}
        if description is not None:
            body["description"] = description
        data = self._transport.post_json(f"{project_route(ws, proj)}/reports", body)
        return BetaReport.from_json(self._api, data)
