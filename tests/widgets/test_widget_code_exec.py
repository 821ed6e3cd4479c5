"""Every widget's ``code`` runs in a fresh kernel: ``exec`` in an empty namespace gives a DataFrame
equal to the widget's ``to_pandas()``.

The key is never in the code: ``lablens.Api(host=...)`` finds it in the credentials the test
server wrote to ``LABLENS_HOME``, as a user's notebook finds the one ``lablens login`` stored.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pandas as pd
import pytest

import lablens
from lablens.sdk import init
from lablens.widgets import ArtifactBrowser, Explorer, MetricChart, RunTable, WorkspaceTree


def fresh(code: str) -> pd.DataFrame:
    """``df`` after running ``code`` in an empty namespace."""
    scope: dict = {}
    exec(code, scope)
    return scope["df"]


def assert_code_gives(widget) -> pd.DataFrame:
    df = widget.to_pandas()
    imports, rest = widget.code.split("\n\n", 1)
    assert "import lablens" in imports.splitlines()  # first, among the imports
    assert rest.startswith(f"api = lablens.Api(host={widget._api.host!r})\n")
    assert "api_key" not in widget.code and widget._api.api_key not in widget.code
    pd.testing.assert_frame_equal(fresh(widget.code), df)
    return df


@pytest.fixture
def project(make_project, make_run):
    project = make_project()
    for i in range(3):
        make_run(
            project,
            name=f"r{i}",
            config={"lr": 0.1 * (i + 1), "opt": "adam"},
            points={"loss": [1.0, 0.5, 0.25 + i], "acc": [0.1, 0.2, 0.3]},
        )
    return project


def test_run_table_code_runs_in_an_empty_namespace(api, server, project):
    table = RunTable(api, path=project.path, filters={"config.lr": {"$gt": 0.15}}, order="-name")
    assert table.code.splitlines()[:3] == [
        "import lablens",
        "",
        f"api = lablens.Api(host={server.url!r})",
    ]
    df = assert_code_gives(table)
    assert df["name"].tolist() == ["r2", "r1"]


def test_run_table_code_runs_in_a_new_process(api, project):
    table = RunTable(api, path=project.path, columns=["name", "config.lr"])
    script = table.code + "\nprint(df.to_json(orient='split'))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    df = pd.read_json(io.StringIO(done.stdout), orient="split")
    assert df["name"].tolist() == table.to_pandas()["name"].tolist() == ["r0", "r1", "r2"]
    assert df["config.lr"].tolist() == pytest.approx([0.1, 0.2, 0.3])


def test_metric_chart_code_runs_in_an_empty_namespace(api, project, make_project, make_run):
    runs = api.runs(project.path)
    chart = MetricChart(runs=runs[:2], keys="loss")  # Run objects: their Api, their paths
    assert chart._api is api
    df = assert_code_gives(chart)
    assert sorted(df["run_id"].unique()) == sorted(r.id for r in runs[:2])
    other = make_run(make_project(), name="elsewhere", points={"loss": [3.0, 2.0]})
    chart.runs = [runs[0], other]  # two projects: two calls, joined
    df = assert_code_gives(chart)
    assert "pd.concat" in chart.code and set(df["run_id"]) == {runs[0].id, other.id}


def test_workspace_tree_code_runs_in_an_empty_namespace(api, project):
    tree = WorkspaceTree(api)
    assert_code_gives(tree)
    tree.expand(project.entity)
    assert project.path in set(assert_code_gives(tree)["path"])
    tree.expand(project.path)
    tree.expand(f"{project.path}:runs")
    assert sorted(assert_code_gives(tree)["name"]) == ["r0", "r1", "r2"]


def test_artifact_browser_code_runs_in_an_empty_namespace(api, server, unique, tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")
    run = init(
        host=server.url,
        api_key=server.api_key,
        project=unique,
        name="producer",
        settings={"system_interval": 0, "console": False},
        dir=tmp_path / "runs",
    )
    art = lablens.Artifact("data", "dataset")
    art.add_file(str(tmp_path / "notes.txt"))
    run.log_artifact(art)
    run.finish()
    project = api.project(f"{api.default_entity}/{unique}")
    browser = ArtifactBrowser(path=project)  # a Project: its Api, its path
    assert browser.path == project.path
    assert assert_code_gives(browser)["type"].tolist() == ["dataset"]
    browser.expand(f"{project.path}/dataset")
    assert_code_gives(browser)
    browser.expand(f"{project.path}/dataset/data")
    assert_code_gives(browser)
    browser.expand(f"{project.path}/data:v0")
    assert assert_code_gives(browser)["path"].tolist() == ["notes.txt"]
    project.delete()


def test_explorer_code_and_action_log_run_in_an_empty_namespace(api, server, project):
    ex = Explorer(api, path=project)
    assert ex.actions[0] == f"import lablens\n\napi = lablens.Api(host={server.url!r})"
    df = assert_code_gives(ex)
    assert df["name"].tolist() == ["r0", "r1", "r2"]
    ex.table.selected = list(df["id"].map(lambda rid: f"{project.path}/{rid}"))[:2]
    assert_code_gives(ex.panels)
    # The log's first entry makes the api every later entry uses; the panels' read is the last
    # history read (the media panel and the compare view log their reads after it).
    scope: dict = {}
    exec(ex.actions[0] + "\n" + [a for a in ex.actions if "histories(" in a][-1], scope)
    pd.testing.assert_frame_equal(scope["df"], ex.panels.to_pandas())


def test_the_api_line_names_what_the_api_was_made_with(server):
    from lablens.api import Api
    from lablens.widgets._call import api_source, kernel_code

    api = Api(host=server.url)  # the key from LABLENS_HOME's credentials
    assert api_source(api) == f"api = lablens.Api(host={server.url!r})"
    overrides = {"entity": "root", "project": "mnist"}
    scoped = Api(host=server.url, overrides=overrides)
    assert api_source(scoped) == f"api = lablens.Api(host={server.url!r}, overrides={overrides!r})"
    api._local = True  # as when Api() found the local server by itself
    assert api_source(api) == "api = lablens.Api()"
    code = kernel_code(api, "import pandas as pd\n\nimport json\n\ndf = pd.DataFrame([json])")
    assert code == (
        "import json\nimport lablens\nimport pandas as pd\n\n"
        "api = lablens.Api()\ndf = pd.DataFrame([json])"
    )
