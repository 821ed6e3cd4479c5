"""RunTable's default columns, one name per field, plurals and the live refresh, against a real
server; and the workspace tree opening a project into its runs, sweeps and reports."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

import lablens
from lablens.widgets import Explorer, RunTable, WorkspaceTree
from servers import QUIET


@pytest.fixture
def project(make_project, make_run):
    project = make_project()
    for i in range(4):
        make_run(
            project,
            name=f"a-rather-long-run-name-that-goes-on-{i}",
            config={
                "lr": 0.1 * (i + 1),
                "batch_size": 64,
                "data": {"name": "digits"},
                **({"dropout": 0.5} if i == 0 else {}),
            },
            summary={"val/acc": 0.5 + 0.1 * i, "loss": 1.0 / (i + 1), "_step": 9},
        )
    return project


def sent_rows(table: RunTable, message: dict) -> tuple[dict, pa.Table | None]:
    """Send the view's message to the kernel side; the answer and its rows."""
    sent = []
    table.send = lambda content, buffers=None: sent.append((content, buffers))
    table._on_msg(table, {"query": table._query, **message}, [])
    assert sent, table.error
    content, buffers = sent[0]
    rows = pa.ipc.open_stream(pa.py_buffer(buffers[0])).read_all() if buffers else None
    return content, rows


def test_default_columns_put_metrics_first_and_fold_constant_config(api, project):
    table = RunTable(api, path=project.path)
    # Name in full, state, the summary metrics (not ``_step``), then the config keys that
    # differ between runs (``dropout``: one run has it, the others do not).
    # val/acc before loss: held-out metrics come first.
    assert table.columns[:4] == ["name", "state", "summary.val/acc", "summary.loss"]
    assert table.columns[:2] == ["name", "state"]
    assert {c for c in table.columns if c.startswith("summary.")} == {
        "summary.val/acc",
        "summary.loss",
    }
    assert {c for c in table.columns if c.startswith("config.")} == {"config.lr", "config.dropout"}
    # The constant ones, with their values, for the "same for all" chip.
    assert table._same == {
        "values": {"config.batch_size": "64", "config.data.name": "digits"},
        "runs": 4,
    }
    # The rows pushed with the query hold exactly the columns chosen, full names and all.
    first = table._first
    assert first.column_names == ["id", *table.columns]
    assert sorted(first.column("name").to_pylist()) == [
        f"a-rather-long-run-name-that-goes-on-{i}" for i in range(4)
    ]
    # code still gives what the table shows.
    scope = {"api": api}
    exec(table.code, scope)
    pd.testing.assert_frame_equal(scope["df"], table.to_pandas())
    assert list(scope["df"].columns) == ["id", *table.columns]


def test_setting_columns_to_empty_chooses_again_with_one_read(api, project):
    table = RunTable(api, path=project.path, columns=["name"])
    assert table.columns == ["name"] and table._same == {}
    calls: list[str] = []
    table.on_api_call(calls.append)
    # Within one sweep-like subset, lr still differs and dropout becomes a constant absence.
    with table._one_query():
        table.filters = {"config.lr": {"$gt": 0.25}}
        table.columns = []
    assert len(calls) == 1 and ".to_arrow(" in calls[0]
    assert table.total == 2
    assert "config.lr" in table.columns and "config.dropout" not in table.columns
    assert table._same["values"] == {"config.batch_size": "64", "config.data.name": "digits"}


def test_summary_is_one_name_and_the_old_spelling_still_works(api, project):
    table = RunTable(api, path=project.path)
    best = api.runs(project.path, order="-summary.val/acc")[0].id
    table.order = "-summary.val/acc"  # what a header click sets
    assert table.error == ""
    assert table._first.column("id").to_pylist()[0] == best
    table.order = "-summary_metrics.val/acc"
    assert table.error == "" and table._first.column("id").to_pylist()[0] == best
    table.filters = {"summary.val/acc": {"$gte": 0.65}}
    assert table.error == "" and table.total == 2
    table.filters = {"summary_metrics.val/acc": {"$gte": 0.65}}
    assert table.error == "" and table.total == 2


def test_a_wrong_filter_value_names_the_problem(api, project):
    table = RunTable(api, path=project.path)
    table.filters = {"config.lr": {"$in": 0.1}}
    assert table.total == 0
    assert "$in" in table.error and "0 runs" not in table.error
    table.filters = {}
    assert table.error == "" and table.total == 4


def test_plurals(api, make_project, make_run):
    project = make_project()
    make_run(project, name="only", summary={"loss": 1.0})
    table = RunTable(api, path=project.path)
    assert repr(table) == f"<RunTable {project.path}: 1 run>"
    tree = WorkspaceTree(api)
    tree.expand(project.entity)
    [ws] = [n for n in tree._nodes if n["path"] == project.entity]
    [node] = [p for p in ws["children"] if p["path"] == project.path]
    assert node["meta"].endswith("· 1 run")


def test_live_refresh_reads_the_rows_again(api, project, make_run):
    table = RunTable(api, path=project.path, order="+created_at")
    calls: list[str] = []
    table.on_api_call(calls.append)
    run = make_run(project, name="late", summary={"val/acc": 0.1}, state="RUNNING")
    content, rows = sent_rows(table, {"type": "refresh", "offset": 0, "limit": 100})
    assert content["type"] == "refresh" and content["offset"] == 0
    assert rows.num_rows == 5 and table.total == 5
    assert rows.column("state").to_pylist()[-1].lower() == "running"
    assert rows.column("id").to_pylist()[-1] == run.id
    assert calls == []  # a refresh repeats the page read: not logged again
    # A refresh for a replaced query is dropped.
    sent = []
    table.send = lambda content, buffers=None: sent.append(content)
    table._on_msg(table, {"type": "refresh", "query": table._query - 1, "offset": 0}, [])
    assert sent == []


def test_project_opens_into_runs_sweeps_and_reports(api, project):
    api.create_report(project.path, "best runs")
    tree = WorkspaceTree(api)
    tree.expand(project.entity)
    changes = []
    tree.observe(changes.append, "_nodes")
    tree.expand(project.path)
    assert len(changes) == 1
    [ws] = [n for n in tree._nodes if n["path"] == project.entity]
    [node] = [p for p in ws["children"] if p["path"] == project.path]
    folders = {c["label"]: c for c in node["children"]}
    assert list(folders) == ["runs", "sweeps", "reports", "artifacts"]
    assert folders["runs"]["meta"] == "4"
    assert len(folders["runs"]["children"]) == 4
    assert [r["label"] for r in folders["reports"]["children"]] == ["best runs"]
    assert folders["sweeps"]["kind"] == "empty" and folders["sweeps"]["meta"] == "no sweeps yet"
    # code repeats the runs listing, the last read.
    assert sorted(tree.to_pandas()["name"]) == sorted(
        r["label"] for r in folders["runs"]["children"]
    )


def test_explorer_opens_a_report_and_a_sweep_from_the_tree(api, server, project, tmp_path):
    config = {
        "method": "grid",
        "parameters": {"lr": {"values": [0.01, 0.02]}, "width": {"value": 8}},
    }
    path = lablens.sweep(
        config,
        entity=project.entity,
        project=project.name,
        host=server.url,
        api_key=server.api_key,
    )

    def train():
        with lablens.init(dir=tmp_path, settings=QUIET) as run:
            run.log({"val/acc": run.config["lr"] * 10})

    assert lablens.agent(path, function=train, host=server.url, api_key=server.api_key) == 2
    sweep_id = path.rsplit("/", 1)[1]

    ex = Explorer(api, path=project.path)
    assert ex.table.total == 6
    ex.table.filters = {"config.lr": {"$gt": 0.25}}
    report = ex.save_report("high lr")
    ex.table.filters = {}
    ex.tree.expand(project.path)
    ex.tree.selected = report.path  # a report clicked in the tree
    assert ex.table.filters == {"config.lr": {"$gt": 0.25}} and ex.table.total == 2

    ex.tree.selected = f"{project.path}/sweeps/{sweep_id}"  # a sweep clicked in the tree
    sweep_runs = {r.id for r in api.sweep(path).runs}
    assert len(sweep_runs) == 2
    assert ex.table.filters == {"sweep": sweep_id} and ex.table.error == ""
    assert set(ex.table.to_pandas()["id"]) == sweep_runs
    # The columns are chosen again for the sweep: lr differs, width is the same for both.
    assert "config.lr" in ex.table.columns and "config.width" not in ex.table.columns
    # A metric no trial logged is no column of the sweep's runs.
    assert "summary.val/acc" in ex.table.columns and "summary.loss" not in ex.table.columns
    assert ex.table._same["values"]["config.width"] == "8"


def test_opening_a_project_reads_it_once(api, project, counted):
    RunTable(api, path=project.path)
    tables = [c for c in counted if c.endswith("/runs/table")]
    assert len(tables) == 1, counted
