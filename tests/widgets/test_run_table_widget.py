"""RunTable against a real server: the query traits drive ``total``, rows and ``code``."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from lablens.widgets import RunTable


@pytest.fixture
def project(make_project, make_run):
    project = make_project()
    for i in range(12):
        make_run(
            project,
            name=f"run-{i:02d}",
            config={"lr": 10.0 ** -(i % 4), "batch_size": 32 * (1 + i % 2)},
            summary={"loss": 1.0 / (i + 1)},
            state="FINISHED" if i % 3 else "CRASHED",
        )
    return project


def pages(table: RunTable, offset: int = 0, limit: int | None = None) -> pa.Table:
    """Ask for a page (or a range of pages) as the browser does, and read the Arrow buffer
    sent back."""
    sent = []
    table.send = lambda content, buffers=None: sent.append((content, buffers))
    msg = {"type": "page", "query": table._query, "offset": offset}
    if limit is not None:
        msg["limit"] = limit
    table._on_msg(table, msg, [])
    assert sent, table.error
    content, buffers = sent[0]
    assert content["offset"] == offset
    return pa.ipc.open_stream(pa.py_buffer(buffers[0])).read_all()


def run_code(api, code: str) -> pd.DataFrame:
    scope = {"api": api}
    exec(code, scope)
    return scope["df"]


def test_filters_and_order_change_total_and_rows(api, project):
    table = RunTable(api, path=project.path)
    assert table.total == 12
    assert "config.lr" in table.columns and "summary.loss" in table.columns
    table.filters = {"state": "FINISHED", "config.lr": {"$gte": 0.01}}
    assert table.total == 6
    table.order = "-summary_metrics.loss"
    rows = pages(table)
    losses = rows.column("summary.loss").to_pylist()
    assert losses == sorted(losses, reverse=True) and len(losses) == 6
    assert rows.column("name").to_pylist()[0] == "run-01"
    table.filters = {}
    assert table.total == 12
    assert table.error == ""


def test_code_reproduces_to_pandas(api, project):
    table = RunTable(
        api,
        path=project.path,
        filters={"config.batch_size": 64},
        order="+config.lr",
        columns=["name", "config.lr", "summary.loss"],
    )
    assert table.total == 6
    df = table.to_pandas()
    assert list(df.columns) == ["id", "name", "config.lr", "summary.loss"]
    pd.testing.assert_frame_equal(run_code(api, table.code), df)
    assert table.code.startswith(f"import lablens\n\napi = lablens.Api(host={api.host!r})\n")
    assert "\ndf = api.runs(" in table.code


def test_pages_follow_the_scroll(api, project):
    table = RunTable(api, path=project.path, columns=["name"])
    table._page_size = 5
    table.order = "+name"  # a new query with the smaller pages
    first, third = pages(table, 0), pages(table, 10)
    assert first.column("name").to_pylist() == [f"run-{i:02d}" for i in range(5)]
    assert third.column("name").to_pylist() == ["run-10", "run-11"]


def test_pages_in_sight_come_in_one_call_and_new_queries_push_two(api, project):
    table = RunTable(api, path=project.path, columns=["name"])
    calls: list[str] = []
    table.on_api_call(calls.append)
    sent = []
    table.send = lambda content, buffers=None: sent.append((content, buffers))
    table._page_size = 4
    table.order = "+name"
    # A new query pushes the page in sight and the next one, from one Api call.
    assert len(calls) == 1 and "offset=0, limit=8" in calls[0]
    ((content, buffers),) = sent
    pushed = pa.ipc.open_stream(pa.py_buffer(buffers[0])).read_all()
    assert content == {"type": "page", "query": table._query, "offset": 0, "total": 12}
    assert pushed.column("name").to_pylist() == [f"run-{i:02d}" for i in range(8)]
    # A view shown later asks for them again: served without another call.
    assert pages(table, 4, 4).column("name").to_pylist() == [f"run-{i:02d}" for i in (4, 5, 6, 7)]
    assert len(calls) == 1
    # Three pages the view lacks: one call.
    rows = pages(table, 4, 12)
    assert rows.column("name").to_pylist() == [f"run-{i:02d}" for i in range(4, 12)]
    assert len(calls) == 2 and "offset=4, limit=12" in calls[1]


def test_a_bad_filter_shows_in_the_widget(api, project):
    table = RunTable(api, path=project.path)
    table.filters = {"colour": "red"}
    assert "colour" in table.error and table.total == 0
    table.filters = {"state": "CRASHED"}
    assert table.error == "" and table.total == 4


def test_unknown_keyword_is_a_type_error(api, project):
    with pytest.raises(TypeError, match="filter"):
        RunTable(api, path=project.path, filter={"state": "FINISHED"})


def test_repr_and_api_call_log(api, project):
    calls: list[str] = []
    table = RunTable(api, path=project.path)
    table.on_api_call(calls.append)
    table.selected = [f"{project.path}/x"]
    table.order = "-config.lr"
    assert any(".to_arrow(" in c for c in calls)
    assert repr(table) == f"<RunTable {project.path}: 12 runs, 1 selected>"


def test_a_short_result_is_served_from_the_first_read(api, project):
    table = RunTable(api, path=project.path, columns=["name"], filters={"state": "CRASHED"})
    calls: list[str] = []
    table.on_api_call(calls.append)
    # The view asks for a whole page; the 4 matching runs all came with the query.
    rows = pages(table, 0, 100)
    assert rows.column("name").to_pylist() == ["run-00", "run-03", "run-06", "run-09"]
    assert calls == []


def test_fields_carry_the_run_fields(api, project):
    table = RunTable(api, path=project.path)
    fields = table._fields
    assert set(fields) == {"run", "config", "summary"}
    assert fields == api.project(project.path).fields()
    assert {"name", "state", "created_at", "tags"} <= set(fields["run"])
    assert fields["config"] == {"lr": "number", "batch_size": "integer"}
