"""``BetaReport`` and ``Reports``: saved explorer views, and their standalone HTML.

A report is a title, a description and a spec::

    {"runsets": [{"name": "lr sweep", "project": "alice/mnist",        # default: the report's
                  "filters": {"sweep": "x1y2z3w4"}, "order": "-summary_metrics.val/acc",
                  "runs": ["3f2a9c1b", ...]}],                       # optional: pinned runs
     "panels": [{"type": "line", "runset": 0, "title": "accuracy",
                 "x": "_step", "y": ["val/acc"], "samples": 500, "log_y": False},
                {"type": "bar", "runset": 0, "y": "summary_metrics.val/acc"},
                {"type": "scatter", "runset": 0, "x": "config.lr",
                 "y": "summary_metrics.val/acc", "log_x": True},
                {"type": "custom", "runset": 0, "chart": "alice/loss-curve"}]}  # a preset

Run sets are filters evaluated when the report is read, with the reader's access: a reader who may
not read a run set's project gets ``ProjectNotFound`` for it, never its runs. Panels may carry
more settings than these (the explorer's); they are kept as saved.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lablens.api._attrs import Attrs, html_table
from lablens.api.paging import Paginator
from lablens.contract.routes import project_route, quote_segment
from lablens.errors import UsageError

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from lablens.api.api import Api
    from lablens.api.runs import Runs
    from lablens.api.users import User

__all__ = ["BetaReport", "Reports"]

PANEL_TYPES = ("line", "bar", "scatter", "custom")


class BetaReport(Attrs):
    """A report: a saved view of runs with its charts (W&B's ``BetaReport``).

    Get them with ``api.reports("alice/mnist")``, one with ``api.report(path)``; make one with
    ``api.create_report(...)``. Change ``display_name``, ``description`` or ``spec`` and call
    ``save()``.

    Example:
        >>> report = api.reports("alice/mnist", name="LR sweep")[0]
        >>> report.spec["panels"][0]["y"]
        ['val/acc']
        >>> report.runs().to_pandas()
        >>> report.to_html("lr-sweep.html")
    """

    id: str
    """The report id, unique in its project."""
    name: str
    """The report's name in paths and URLs (a slug of its title)."""
    display_name: str
    """The report's title."""
    description: str
    """What the report shows."""
    spec: dict[str, Any]
    """Run sets (``filters``, ``order``, pinned ``runs``) and panels (chart settings)."""
    entity: str
    """The workspace (entity) of the report's project."""
    project: str
    """The name of the report's project."""
    created_at: str | None
    """When the report was saved first, ISO 8601 UTC."""
    updated_at: str | None
    """When the report was saved last, ISO 8601 UTC."""

    def _load(self, data: dict[str, Any]) -> None:
        self.id = data.get("id") or ""
        self.name = data.get("name") or ""
        self.display_name = data.get("display_name") or data.get("title") or self.name
        self.description = data.get("description") or ""
        self.spec = dict(data.get("spec") or {})
        self.entity = data.get("entity") or ""
        self.project = data.get("project") or ""
        self.created_at = data.get("created_at")
        self.updated_at = data.get("updated_at")

    @property
    def title(self) -> str:
        """The report's title (``display_name``)."""
        return self.display_name

    @property
    def path(self) -> str:
        """``entity/project/reports/<name>-<id>``, what ``api.from_path()`` takes."""
        return f"{self.entity}/{self.project}/reports/{self.name}-{self.id}"

    @property
    def url(self) -> str:
        """The report's address in a browser."""
        return f"{self._api.host}/{self.path}"

    @property
    def user(self) -> User:
        """The user who created the report."""
        from lablens.api.users import User

        return User.from_json(self._api, {"username": self._attrs.get("username")})

    @property
    def runsets(self) -> list[dict[str, Any]]:
        """The spec's run sets; a report without any has one: every run of its project."""
        return list(self.spec.get("runsets") or [{}])

    @property
    def panels(self) -> list[dict[str, Any]]:
        """The spec's panels (chart settings)."""
        return list(self.spec.get("panels") or [])

    def _runset(self, section: int | str) -> dict[str, Any]:
        runsets = self.runsets
        if isinstance(section, str):
            named = [rs for rs in runsets if rs.get("name") == section]
            if not named:
                raise UsageError(f"report {self.display_name!r} has no run set {section!r}")
            return named[0]
        if not 0 <= section < len(runsets):
            raise UsageError(
                f"report {self.display_name!r} has {len(runsets)} run set(s);"
                f" there is no run set {section}"
            )
        return runsets[section]

    def runs(self, section: int | str = 0, per_page: int = 50, only_selected: bool = True) -> Runs:
        """The runs of one of the report's run sets, filtered as saved.

        Args:
            section: the run set, by index or by name.
            per_page: runs per request.
            only_selected: keep only the runs pinned in the run set (``runs``), when it pins
                some; ``False`` gives every run its filters match.

        Returns:
            A lazy ``Runs`` collection.

        Raises:
            ProjectNotFound: you may not read the run set's project.

        Example:
            >>> report.runs().to_pandas()
        """
        rs = self._runset(section)
        filters = rs.get("filters") or None
        if only_selected and rs.get("runs") is not None:
            pinned = {"id": {"$in": list(rs["runs"])}}
            filters = {"$and": [filters, pinned]} if filters else pinned
        return self._api.runs(
            rs.get("project") or f"{self.entity}/{self.project}",
            filters=filters,
            order=rs.get("order") or "+created_at",
            per_page=per_page,
        )

    def save(self) -> BetaReport:
        """Write the changed title (``display_name``), description and spec to the server.

        Returns:
            The report, as the server now holds it.

        Example:
            >>> report.spec["panels"][0]["log_y"] = True
            >>> report.save()
        """
        body = {"title": self.display_name, "description": self.description, "spec": self.spec}
        self._attrs = self._api.client.patch_json(self._route(), body)
        self._load(self._attrs)
        return self

    def delete(self) -> None:
        """Delete the report (its author, or an owner of the workspace)."""
        self._api.client.delete(self._route())

    def _route(self) -> str:
        return f"{project_route(self.entity, self.project)}/reports/{quote_segment(self.id)}"

    # -- HTML -----------------------------------------------------------------------------

    def figures(self) -> list[go.Figure]:
        """The report's panels as plotly figures, drawn from its run sets' current data."""
        from lablens.api import _report_charts

        return _report_charts.figures(self)

    def to_html(self, path: str | Path | None = None) -> str:
        """The report as one standalone HTML page: title, description and a chart per panel.

        plotly's JavaScript is inlined, so the page opens without a network (and without a
        lablens server).

        Args:
            path: where to write the page; ``None`` only returns it.

        Returns:
            The HTML text.

        Example:
            >>> report.to_html("lr-sweep.html")
        """
        from lablens.api import _report_charts

        text = _report_charts.page(self)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def __repr__(self) -> str:
        return f"<BetaReport {self.entity}/{self.project}/{self.display_name}>"

    def _repr_html_(self) -> str:
        return html_table(
            [
                ("title", self.display_name),
                ("description", self.description),
                ("panels", len(self.panels)),
                ("updated_at", self.updated_at),
                ("url", self.url),
            ],
            title=f"Report {html.escape(self.display_name)}",
        )


class Reports(Paginator[BetaReport]):
    """The reports of one project, newest first, read lazily (W&B's ``Reports``).

    Example:
        >>> [r.display_name for r in api.reports("alice/mnist")]
    """

    def __init__(
        self, api: Api, entity: str, project: str, *, name: str | None = None, per_page: int = 50
    ) -> None:
        super().__init__(api, per_page)
        self.entity = entity
        self.project = project
        self.name = name

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        route = f"{project_route(self.entity, self.project)}/reports"
        return self._get_page(route, cursor, limit, name=self.name)

    def _convert(self, item: dict[str, Any]) -> BetaReport:
        return BetaReport.from_json(self._api, item)

    def __repr__(self) -> str:
        return f"<Reports {self.entity}/{self.project}>"
