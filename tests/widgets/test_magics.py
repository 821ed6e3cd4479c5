"""``%load_ext lablens`` and the ``%lablens`` magic in a real IPython shell, against a real
server: the widgets each form makes, their paths, filters and what they read."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from lablens.magics import LablensMagics, RunPanels
from lablens.widgets import Explorer, MetricChart, RunTable


@pytest.fixture
def shell(server, monkeypatch):
    """An IPython shell whose ``lablens.Api()`` is the test server's, with the extension
    loaded."""
    monkeypatch.setenv("LABLENS_HOST", server.url)
    monkeypatch.setenv("LABLENS_API_KEY", server.api_key)
    # A shell started from another virtualenv's activated shell warns about it (an error under
    # the suite's warning filter): the shell's environment is this interpreter's.
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "lablens")
    # A fresh Magics object per test: it caches its Api, and the environment just changed.
    ip.register_magics(LablensMagics)
    yield ip
    ip.user_ns.pop("out", None)


@pytest.fixture
def project(make_project, make_run):
    """Five runs, three FINISHED and two CRASHED, each with loss and acc curves."""
    project = make_project()
    runs = [
        make_run(
            project,
            name=f"run-{i}",
            config={"lr": 0.1 * (i + 1)},
            points={"loss": [1.0, 0.5 / (i + 1), 0.2 / (i + 1)], "acc": [0.1, 0.5, 0.8]},
            state="FINISHED" if i < 3 else "CRASHED",
        )
        for i in range(5)
    ]
    return project, runs


def cell(shell, source: str):
    """Run ``out = <source>`` as a notebook cell would, and return ``out``."""
    result = shell.run_cell(f"out = {source}")
    assert result.success, result.error_in_exec or result.error_before_exec
    return shell.user_ns["out"]


def test_load_ext_registers_the_line_magic(shell, capsys):
    del shell.magics_manager.magics["line"]["lablens"]
    capsys.readouterr()
    # What %load_ext does in a fresh kernel: import the package, call its hook.
    shell.run_line_magic("reload_ext", "lablens")
    assert "not an IPython extension" not in capsys.readouterr().out
    assert "lablens" in shell.magics_manager.magics["line"]
    shell.run_line_magic("lablens", "help")
    assert "%lablens runs [PATH]" in capsys.readouterr().out


def test_runs_shows_a_run_table_with_the_filter(shell, project):
    proj, runs = project
    table = cell(shell, f'%lablens runs {proj.name} --filter {{"state": "FINISHED"}}')
    assert isinstance(table, RunTable)
    assert table.path == proj.path
    assert table.filters == {"state": "FINISHED"}
    assert table.total == 3
    assert sorted(table.to_pandas()["name"]) == ["run-0", "run-1", "run-2"]


def test_runs_takes_a_quoted_filter_an_order_and_a_variable(shell, project):
    proj, runs = project
    lr = '{"config.lr": {"$gte": 0.25}}'
    table = cell(shell, f"%lablens runs {proj.path} --filter '{lr}' --order=-config.lr")
    assert table.order == "-config.lr"
    assert list(table.to_pandas()["name"]) == ["run-4", "run-3", "run-2"]
    shell.user_ns["crashed"] = {"state": "CRASHED"}
    table = cell(shell, f"%lablens runs {proj.path} --filter crashed")
    assert table.filters == {"state": "CRASHED"} and table.total == 2


def test_run_shows_the_run_and_a_chart_of_its_metrics(shell, project):
    proj, runs = project
    panels = cell(shell, f"%lablens run {runs[1].path}")
    assert isinstance(panels, RunPanels)
    assert isinstance(panels.chart, MetricChart)
    assert panels.run.id == runs[1].id
    assert panels.chart.runs == [runs[1].path]
    frame = panels.chart.to_pandas()
    assert sorted(set(frame["key"])) == ["acc", "loss"]
    loss = frame[frame["key"] == "loss"].sort_values("_step")["value"].tolist()
    assert loss == pytest.approx([1.0, 0.25, 0.1])
    assert runs[1].name in panels.widget.children[0].value  # the run's card above the chart
    chart = cell(shell, f"%lablens run {runs[1].path} --keys acc").chart
    assert chart.keys == ["acc"]


def test_lablens_opens_the_explorer_on_the_project_with_the_newest_run(shell, project):
    proj, runs = project
    explorer = cell(shell, "%lablens")
    assert isinstance(explorer, Explorer)
    assert explorer.path == proj.path
    assert explorer.table.path == proj.path
    assert explorer.table.total == 5


def test_lablens_path_opens_the_explorer_there(shell, project):
    proj, _ = project
    explorer = cell(shell, f"%lablens {proj.path}")
    assert explorer.path == proj.path and explorer.table.total == 5


def test_bad_input_is_a_usage_error_naming_it(shell, project):
    proj, runs = project
    magic = shell.magics_manager.magics["line"]["lablens"]
    with pytest.raises(UsageError, match="no such|not found|nope"):
        magic(f"runs {proj.entity}/nope-{proj.name}")
    with pytest.raises(UsageError, match="neither JSON"):
        magic(f"runs {proj.path} --filter {{state: FINISHED")
    with pytest.raises(UsageError, match="unknown option --limit"):
        magic(f"runs {proj.path} --limit 3")
    with pytest.raises(UsageError, match="needs a run path"):
        magic("run")
    with pytest.raises(UsageError, match="state"):  # the server names the bad filter part
        magic(f'runs {proj.path} --filter {{"state": {{"$bogus": 1}}}}')


def test_lablens_opens_the_project_of_the_run_this_kernel_logs(
    shell, server, api, make_project, make_run, unique
):
    import lablens.sdk

    run = lablens.sdk.init(
        project=f"{unique}-live",
        host=server.url,
        api_key=server.api_key,
        settings={"console": False, "system_interval": 0},
    )
    try:
        make_run(make_project())  # a newer run elsewhere: the kernel's own run still wins
        explorer = cell(shell, "%lablens")
        assert explorer.path == f"{run.entity}/{unique}-live"
        assert explorer.table.total == 1
    finally:
        run.finish()
        api.project(f"{unique}-live").delete()
    # Once it finished, the newest run decides again.
    newest = make_run(make_project())
    assert cell(shell, "%lablens").path == f"{newest.entity}/{newest.project}"
