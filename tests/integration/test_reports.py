"""Reports: saved from Python, re-opened as saved, exported as standalone HTML with charts."""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest

from lablens.api import Api, BetaReport
from lablens.errors import BadRequest, PermissionDenied, ReportNotFound

PANELS = [
    {
        "type": "line",
        "title": "validation accuracy",
        "x": "_step",
        "y": ["val/acc"],
        "samples": 200,
        "log_y": False,
        "smoothing": 0.6,
    },
    {"type": "bar", "y": "summary_metrics.val/acc"},
    {"type": "scatter", "x": "config.lr", "y": "summary_metrics.val/acc", "log_x": True},
]


@pytest.fixture
def runs(make_project, make_run):
    project = make_project()
    made = []
    for i, lr in enumerate((0.001, 0.01, 0.1)):
        acc = [0.5 + 0.4 * (1 - 1 / (s + 2)) * (i + 1) / 3 for s in range(30)]
        made.append(
            make_run(
                project, config={"lr": lr}, tags=["good" if i else "bad"], points={"val/acc": acc}
            )
        )
    return project, made


def test_a_saved_report_reopens_with_its_filters_runs_and_charts(api, runs):
    project, made = runs
    runsets = [{"name": "good ones", "filters": {"tags": "good"}, "order": "-config.lr"}]
    saved = api.create_report(
        project.path,
        "LR sweep: results",
        description="which lr wins",
        runsets=runsets,
        panels=PANELS,
    )
    assert isinstance(saved, BetaReport)
    assert saved.name == "LR-sweep-results" and saved.display_name == "LR sweep: results"
    assert saved.user.username == api.viewer.username
    (again,) = api.reports(project.path, name="LR sweep: results")
    assert again.id == saved.id and again.description == "which lr wins"
    assert again.spec == {"runsets": runsets, "panels": PANELS}
    assert [r.id for r in again.runs()] == [made[2].id, made[1].id]
    assert [r.id for r in again.runs("good ones")] == [made[2].id, made[1].id]
    assert api.from_path(again.path).id == saved.id
    assert api.from_path(again.url).id == saved.id
    assert [r.id for r in project.reports()] == [saved.id]
    # pinned runs stay the runs of the report
    again.spec["runsets"][0]["runs"] = [made[1].id]
    again.display_name = "LR sweep, pinned"
    again.save()
    reread = api.report(again.path)
    assert reread.display_name == "LR sweep, pinned"
    assert [r.id for r in reread.runs()] == [made[1].id]
    assert len(reread.runs(only_selected=False)) == 2
    figures = reread.figures()
    assert [len(f.data) for f in figures] == [1, 1, 1]
    reread.delete()
    with pytest.raises(ReportNotFound):
        api.report(again.path)


def test_bad_run_sets_are_refused_naming_the_bad_part(api, runs):
    project, _ = runs
    with pytest.raises(BadRequest) as err:
        api.create_report(project.path, "bad", runsets=[{"filters": {"colour": "red"}}])
    assert err.value.field == "spec.runsets[0].filters.colour"
    with pytest.raises(BadRequest) as err:
        api.create_report(project.path, "bad", runsets=[{}], panels=[{"runset": 3}])
    assert err.value.field == "spec.panels[0].runset"


def test_only_its_author_or_an_owner_deletes_a_report(api, server, runs):
    project, _ = runs
    tag = uuid.uuid4().hex[:6]
    owner = Api(host=server.url, api_key=api.user().create(f"o-{tag}").api_key)
    member = Api(host=server.url, api_key=api.user().create(f"m-{tag}").api_key)
    team = owner.create_team(f"t-{tag}")
    team.invite(member.viewer.username)
    owner.create_project("p", team.name)
    owners = owner.create_report(f"{team.name}/p", "by the owner")
    mine = member.create_report(f"{team.name}/p", "by the member")
    with pytest.raises(PermissionDenied):
        member.report(owners.path).delete()
    member.report(mine.path).delete()
    owner.create_report(f"{team.name}/p", "again")
    owner.report(owners.path).delete()


@pytest.mark.skipif(not shutil.which("chromium"), reason="needs chromium")
def test_report_html_opens_in_chromium_and_shows_the_charts(api, runs, tmp_path):
    project, _ = runs
    report = api.create_report(
        project.path, "Offline <charts>", description="no network", runsets=[{}], panels=PANELS
    )
    page = tmp_path / "report.html"
    text = report.to_html(page)
    assert "<script src=" not in text and "cdn" not in text.lower().split("<body>")[1]
    assert "Offline &lt;charts&gt;" in text
    dom = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=10000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    # plotly drew every panel: an SVG per chart, lines, bars and markers in them
    assert dom.count('class="main-svg"') >= 2 * len(PANELS)
    assert dom.count('class="trace scatter') >= 4  # three runs' lines and the scatter
    assert 'class="trace bars"' in dom
    assert "validation accuracy" in dom
