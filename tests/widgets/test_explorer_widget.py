"""WorkspaceTree and Explorer against a real server."""

from __future__ import annotations

import pandas as pd
import pytest

from lablens.widgets import Explorer, WorkspaceTree
from lablens.widgets._colors import PALETTE


def run_code(api, code: str) -> pd.DataFrame:
    scope = {"api": api}
    exec(code, scope)
    return scope["df"]


@pytest.fixture
def project(make_project, make_run):
    project = make_project()
    for i in range(3):
        make_run(
            project,
            name=f"r{i}",
            config={"lr": 0.1 * (i + 1)},
            summary={"loss": 1.0 / (i + 1)},
            points={"loss": [1.0, 0.5, 0.25 + i]},
        )
    return project


def test_tree_opens_lazily_and_code_reproduces(api, project):
    tree = WorkspaceTree(api)
    entity = project.entity
    assert any(n["path"] == entity for n in tree._nodes)
    assert all("children" not in n for n in tree._nodes)
    pd.testing.assert_frame_equal(run_code(api, tree.code), tree.to_pandas())
    tree.expand(entity)
    projects = tree.to_pandas()
    assert project.path in set(projects["path"])
    pd.testing.assert_frame_equal(run_code(api, tree.code), projects)
    tree.expand(project.path)
    tree.expand(f"{project.path}:runs")
    runs = tree.to_pandas()
    assert sorted(runs["name"]) == ["r0", "r1", "r2"]
    pd.testing.assert_frame_equal(run_code(api, tree.code), runs)
    assert tree.error == ""
    tree.expand("nope/nothing")
    assert "nope/nothing" in tree.error


def test_explorer_links_tree_table_chart_and_logs_calls(api, project):
    ex = Explorer(api, path=project.path)
    assert ex.table.path == project.path and ex.table.total == 3
    ex.table.filters = {"config.lr": {"$gt": 0.15}}
    assert ex.table.total == 2
    rows = ex.table.to_pandas()
    ex.table.selected = [f"{project.path}/{rid}" for rid in rows["id"]]
    # Every metric the selected runs logged has a panel; both runs are drawn in it, each in
    # the colour of its row.
    assert ex.panels.shown == ["loss"] and ex.panels.runs == ex.table.selected
    assert ex.panels.to_pandas()["run_id"].nunique() == 2
    assert ex.panels._colors == {p: c for p, c in zip(ex.table.selected, PALETTE, strict=False)}
    pd.testing.assert_frame_equal(run_code(api, ex.panels.code), ex.panels.to_pandas())
    pd.testing.assert_frame_equal(run_code(api, ex.code), ex.to_pandas())
    log = ex.actions
    assert any(a.startswith("import pandas as pd") for a in log)  # the tree's listing
    assert any(".histories(" in a for a in log) and any(".to_arrow(" in a for a in log)
    for source in log:
        compile(source, "<action>", "exec")  # each entry is runnable Python
    assert repr(ex).startswith(f"<Explorer {project.path}: 2 runs, 2 selected")


def test_saved_report_reopens_the_same_view(api, project):
    ex = Explorer(api, path=project.path)
    ex.table.filters = {"config.lr": {"$gt": 0.15}}
    ex.table.order = "-summary_metrics.loss"
    ids = list(ex.table.to_pandas()["id"])
    ex.table.selected = [f"{project.path}/{rid}" for rid in ids]
    ex.panels.smoothing = 0.5
    ex.panels.full_width = ["loss"]
    report = ex.save_report("two best", description="lr above 0.15")
    assert any("api.create_report(" in a for a in ex.actions)

    again = Explorer(api)
    again.open_report(report.path)
    assert again.table.path == project.path
    assert again.table.filters == {"config.lr": {"$gt": 0.15}}
    assert again.table.order == "-summary_metrics.loss"
    assert sorted(again.table.selected) == sorted(ex.table.selected)
    assert again.panels.shown == ex.panels.shown == ["loss"]
    assert again.panels.smoothing == 0.5 and again.panels.full_width == ["loss"]
    pd.testing.assert_frame_equal(again.to_pandas(), ex.to_pandas())
    pd.testing.assert_frame_equal(again.panels.to_pandas(), ex.panels.to_pandas())


def test_tree_lists_sweeps_and_reports(api, project):
    api.create_report(project.path, "empty view")
    tree = WorkspaceTree(api)
    tree.expand(project.entity)
    calls: list[str] = []
    tree.on_api_call(calls.append)
    tree.expand(project.path)  # reads the sweeps, the reports and the runs: one call each
    assert [c.split("for ")[-1].split(" in ")[1].split("(")[0] for c in calls] == [
        "api.sweeps",
        "api.reports",
        "api.runs",
    ]
    scope = {"api": api}
    exec(calls[1], scope)
    assert list(scope["df"]["name"]) == ["empty view"]
    node = find(tree._nodes, f"{project.path}:reports")
    assert [r["label"] for r in node["children"]] == ["empty view"]
    assert find(tree._nodes, f"{project.path}:sweeps")["meta"] == "no sweeps yet"
    # code repeats the last listing, the runs.
    pd.testing.assert_frame_equal(run_code(api, tree.code), tree.to_pandas())
    assert sorted(tree.to_pandas()["name"]) == ["r0", "r1", "r2"]


def find(nodes, path):
    for n in nodes:
        if n["path"] == path:
            return n
        found = find(n.get("children") or [], path)
        if found:
            return found
    return None


def test_tree_expand_syncs_the_opened_nodes(api, project):
    tree = WorkspaceTree(api)
    tree.expand(project.entity)
    changes = []
    tree.observe(changes.append, "_nodes")
    tree.expand(project.path)  # a node nested under the workspace
    # The change reaches traitlets (and so the page): the old value does not hold the children.
    assert len(changes) == 1
    [old_ws] = [n for n in changes[0]["old"] if n["path"] == project.entity]
    assert all("children" not in p for p in old_ws["children"])
    [ws] = [n for n in tree._nodes if n["path"] == project.entity]
    [node] = [p for p in ws["children"] if p["path"] == project.path]
    assert [c["path"] for c in node["children"]] == [
        f"{project.path}:runs",
        f"{project.path}:sweeps",
        f"{project.path}:reports",
        f"{project.path}:artifacts",
    ]
    # The runs are read with the project: their folder is open.
    runs = node["children"][0]["children"]
    assert sorted(r["label"] for r in runs) == ["r0", "r1", "r2"]
    assert tree.code.count("api.runs(") == 1 and "per_page=100)[:100]" in tree.code
    tree.expand(f"{project.path}:runs")  # already read: nothing to sync
    assert len(changes) == 1


def test_every_logged_action_runs_again(api, project):
    """Each statement in the action log, run in order in a fresh namespace with ``api``, works
    and gives what the widgets read."""
    ex = Explorer(api, path=project.path)
    ids = list(ex.table.to_pandas()["id"])
    ex.table.selected = [f"{project.path}/{rid}" for rid in ids[:2]]
    scope = {"api": api}
    for source in ex.actions:
        exec(source, scope)
    assert sorted(scope["fields"]["config"]) == ["lr"] and "state" in scope["fields"]["run"]
    # The compare view reads last; the panels' read is the last history read.
    pd.testing.assert_frame_equal(scope["df"], ex.compare.to_pandas())
    exec([a for a in ex.actions if "histories(" in a][-1], scope)
    pd.testing.assert_frame_equal(scope["df"], ex.panels.to_pandas())
