"""Reports: saved explorer views (run sets as filters, and chart settings)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict

from lablens.server.auth import CurrentUser, can_read_project, can_write, readable_store, role_in
from lablens.server.paging import PageQuery
from lablens.server.problems import Problem
from lablens.server.routing import Route
from lablens.store.base import Store
from lablens.store.errors import InvalidFilter

router = APIRouter(
    prefix="/api/v1/projects/{ws}/{project}/reports", tags=["reports"], route_class=Route
)


class NewReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    description: str | None = None
    spec: dict[str, Any] = {}


class ReportChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = None
    description: str | None = None
    spec: dict[str, Any] | None = None


def _report_id(report_id: str) -> str:
    # Paths and URLs name a report "<slug>-<id>", as W&B's "My-Report-Vm11dsdf".
    return report_id.rsplit("-", 1)[-1]


def check_spec(
    store: Store, user: dict[str, Any], ws: str, project: str, spec: dict[str, Any]
) -> None:
    """Check a report's run sets: each project readable by the author, filters and order valid,
    and each panel's ``runset`` an index of one."""
    runsets = spec.get("runsets", [])
    if not isinstance(runsets, list):
        raise Problem(400, "bad_request", "runsets must be a list", field="spec.runsets")
    for i, rs in enumerate(runsets):
        field = f"spec.runsets[{i}]"
        if not isinstance(rs, dict):
            raise Problem(400, "bad_request", "a run set must be an object", field=field)
        path = rs.get("project") or f"{ws}/{project}"
        parts = path.split("/") if isinstance(path, str) else []
        if len(parts) != 2 or not all(parts):
            raise Problem(
                400, "bad_request", "project must be 'entity/project'", field=f"{field}.project"
            )
        try:
            can_read_project(store, user, *parts)
        except Problem as exc:
            exc.field = f"{field}.project"
            raise
        try:
            store.check_run_query(rs.get("filters"), rs.get("order"))
        except InvalidFilter as exc:
            raise InvalidFilter(exc.message, field=f"{field}.{exc.field}") from exc
        runs = rs.get("runs")
        if runs is not None and not (
            isinstance(runs, list) and all(isinstance(r, str) for r in runs)
        ):
            raise Problem(
                400, "bad_request", "runs must be a list of run ids", field=f"{field}.runs"
            )
    panels = spec.get("panels", [])
    if not isinstance(panels, list):
        raise Problem(400, "bad_request", "panels must be a list", field="spec.panels")
    for i, panel in enumerate(panels):
        if not isinstance(panel, dict):
            raise Problem(
                400, "bad_request", "a panel must be an object", field=f"spec.panels[{i}]"
            )
        index = panel.get("runset", 0)
        if runsets and (not isinstance(index, int) or not 0 <= index < len(runsets)):
            raise Problem(
                400,
                "bad_request",
                f"runset must be an index below {len(runsets)}",
                field=f"spec.panels[{i}].runset",
            )


@router.post("", status_code=201)
def create_report(
    ws: str, project: str, body: NewReport, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Save a report in the project (members)."""
    store = readable_store(request, user, ws, project)
    can_write(store, user, ws)
    check_spec(store, user, ws, project, body.spec)
    return store.create_report(
        ws,
        project,
        title=body.title,
        description=body.description,
        spec=body.spec,
        username=user["username"],
    )


@router.get("")
def list_reports(
    ws: str,
    project: str,
    request: Request,
    user: CurrentUser,
    page: PageQuery,
    name: str | None = None,
) -> dict[str, Any]:
    """A page of the project's reports, newest first; ``name`` matches name, title or id."""
    store = readable_store(request, user, ws, project)
    return store.list_reports(ws, project, name=name, cursor=page.cursor, limit=page.limit)


@router.get("/{report_id}")
def get_report(
    ws: str, project: str, report_id: str, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """One report, by id or by ``<name>-<id>``."""
    store = readable_store(request, user, ws, project)
    return store.get_report(ws, project, _report_id(report_id))


@router.patch("/{report_id}")
def update_report(
    ws: str, project: str, report_id: str, body: ReportChanges, request: Request, user: CurrentUser
) -> dict[str, Any]:
    """Change a report's title, description or spec (members)."""
    store = readable_store(request, user, ws, project)
    can_write(store, user, ws)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("spec") is not None:
        check_spec(store, user, ws, project, changes["spec"])
    return store.update_report(ws, project, _report_id(report_id), changes)


@router.delete("/{report_id}", status_code=204)
def delete_report(
    ws: str, project: str, report_id: str, request: Request, user: CurrentUser
) -> Response:
    """Delete a report (its author, and the workspace's owners)."""
    store = readable_store(request, user, ws, project)
    can_write(store, user, ws)
    report = store.get_report(ws, project, _report_id(report_id))
    if report["username"] != user["username"] and role_in(store, user, ws) != "OWNER":
        raise Problem(403, "permission_denied", "only its author and owners delete a report")
    store.delete_report(ws, project, report["id"])
    return Response(status_code=204)
