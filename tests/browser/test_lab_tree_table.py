"""The explorer's workspace tree and run table on the demo project, in real JupyterLab and in
Notebook 7 (Debian's chromium through Playwright): a project opens into its runs, sweeps and
reports; a sweep and a report open in the table; the 5 best runs by ``val/acc`` are compared in
at most 4 clicks with no scrolling at 1280 px; a wrong filter value names its problem.

Screenshots of each state at 1280 and 1600 px go to ``test-output/browser/``
(``tree_table_*``, and ``notebook7_tree_table_*`` for Notebook 7).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from benchmarks import _lab
from playwright.sync_api import expect

import lablens
from lablens.errors import NotFound
from servers import QUIET

FRONTENDS = {"lab": "", "notebook": "notebook7_"}
WIDTHS = (1280, 1600)
HEIGHT = 900

NOTEBOOK = """import lablens
from lablens.widgets import Explorer

api = lablens.Api()
explorer = Explorer(api, path=api.default_entity)
explorer"""


@pytest.fixture(scope="module")
def demo_views(server, quickstart_demo, tmp_path_factory):
    """The demo project with a sweep (two trials run by ``lablens.agent``) and a report, made
    through the public API when the demo has none."""
    api = lablens.Api(host=server.url, api_key=server.api_key)
    project = f"{api.default_entity}/{quickstart_demo}"
    sweeps = list(api.sweeps(project))
    if not sweeps:
        path = lablens.sweep(
            {
                "method": "grid",
                "metric": {"name": "val/acc", "goal": "maximize"},
                "parameters": {"optim": {"parameters": {"lr": {"values": [0.002, 0.004]}}}},
            },
            project=quickstart_demo,
            host=server.url,
            api_key=server.api_key,
        )
        folder = tmp_path_factory.mktemp("sweep")

        def train() -> None:
            with lablens.init(dir=folder, settings=QUIET) as run:
                lr = run.config["optim"]["lr"]
                for epoch in range(3):
                    run.log({"val/acc": 0.5 + lr * 10 * epoch, "train/loss": 1.0 / (epoch + 1)})

        assert lablens.agent(path, function=train, host=server.url, api_key=server.api_key) == 2
        sweeps = list(api.sweeps(project))
    reports = list(api.reports(project))
    if not reports:
        api.create_report(
            project,
            "fast learners",
            runsets=[
                {"filters": {"config.optim.lr": {"$gte": 0.003}}, "order": "-summary.val/acc"}
            ],
        )
        reports = list(api.reports(project))
    return project, sweeps[0], reports[0]


@pytest.fixture(params=list(FRONTENDS))
def frontend(request, server, demo_views, tmp_path):
    """``(app, url)``: JupyterLab or Notebook 7 serving a notebook that shows the explorer."""
    _lab.write_notebook(tmp_path / "tree_table.ipynb", NOTEBOOK)
    env = _lab.env_for_kernel(server.url, server.api_key)
    with _lab.jupyter(Path(tmp_path), env, app=request.param) as url:
        yield request.param, url


def shots(page, target, name: str, prefix: str, whole_page: bool = True) -> None:
    """Screenshots at each width (the page is left at 1280 px): of what the window shows with
    ``target`` at its top, or of ``target`` alone."""
    folder = Path(__file__).resolve().parents[2] / "test-output" / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    for width in reversed(WIDTHS):
        page.set_viewport_size({"width": width, "height": HEIGHT})
        page.wait_for_timeout(300)  # the notebook lays out again
        path = str(folder / f"{prefix}tree_table_{name}_{width}.png")
        if whole_page:
            page.evaluate("(t) => t.scrollIntoView({block: 'start'})", target.element_handle())
            page.wait_for_timeout(200)
            page.screenshot(path=path)
        else:
            target.screenshot(path=path)


def kernel(page, code: str) -> str:
    return _lab.run_in_kernel(page, code)


def wait_kernel(page, code: str, expected: str, tries: int = 20) -> str:
    """Ask the kernel until it prints ``expected`` (a change from the page reaches it a
    moment after the page shows it)."""
    out = ""
    for _ in range(tries):
        out = kernel(page, code)
        if out == expected:
            return out
        page.wait_for_timeout(300)
    return out


def scroll_state(page, table) -> dict:
    """Every scroll position that could move: the page's, the notebook's, the table's."""
    return page.evaluate(
        """(table) => ({
            window: [window.scrollX, window.scrollY],
            panes: Array.from(document.querySelectorAll(
                '.jp-WindowedPanel-outer, .jp-NotebookPanel-notebook, .jp-Notebook, #main-panel'
            )).map(e => [e.scrollLeft, e.scrollTop]),
            table: [table.querySelector('.ll-viewport').scrollLeft,
                    table.querySelector('.ll-viewport').scrollTop,
                    table.querySelector('.ll-head').scrollLeft],
        })""",
        table.element_handle(),
    )


def in_sight(page, table, locator) -> bool:
    """Whether an element is wholly inside the window and the table's visible area."""
    return page.evaluate(
        """([el, table]) => {
            const r = el.getBoundingClientRect();
            const v = table.querySelector('.ll-viewport').getBoundingClientRect();
            return r.left >= Math.max(0, v.left) - 1 && r.right <= Math.min(innerWidth, v.right) + 1
                && r.top >= 0 && r.bottom <= innerHeight && r.width > 0;
        }""",
        [locator.element_handle(), table.element_handle()],
    )


def wait_summary(api, path: str, value: float) -> None:
    """Wait until the server holds ``value`` as the run's summary ``val/acc`` (a new run is
    made with its first points: init() does not wait for it)."""
    for _ in range(100):
        try:
            if api.run(path).summary.get("val/acc") == value:
                return
        except NotFound:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the summary of {path} never became {value}")


def test_tree_and_table_on_the_demo(frontend, server, api, demo_views, tmp_path):
    app, url = frontend
    prefix = FRONTENDS[app]
    project, sweep, report = demo_views
    with _lab.browser_page(width=WIDTHS[0], height=HEIGHT) as page:
        _lab.open_notebook(page, url, "tree_table.ipynb")
        _lab.run_all(page)
        _lab.wait_idle(page)
        tree = page.locator(".ll-tree").first
        tree.wait_for()
        tree.scroll_into_view_if_needed()
        explorer = page.locator(".jp-OutputArea-output").filter(has=page.locator(".ll-run-table"))
        # The explorer's sections are titled.
        titles = explorer.first.locator(".ll-section-title").all_inner_texts()
        assert titles == [
            "Workspace",
            "Runs",
            "Charts",
            "Media",
            "Custom charts",
            "Compare",
            "Artifacts",
        ]
        # No project shown yet: the table says what to do.
        table = page.locator(".ll-run-table").first
        expect(table.locator(".ll-empty")).to_have_text(
            "No project shown: pick one in the workspace tree."
        )

        # Open the project: its runs, sweeps and reports are listed under it.
        node = tree.locator(f".ll-node[data-path='{project}']")
        node.click()
        runs_folder = tree.locator(f".ll-node[data-path='{project}:runs']")
        runs_folder.wait_for()
        total = len(api.runs(project))
        assert runs_folder.locator(".ll-meta").inner_text() == str(total)
        sweep_node = tree.locator(f".ll-node[data-path='{project}/sweeps/{sweep.id}']")
        report_node = tree.locator(f".ll-node[data-path='{report.path}']")
        sweep_node.wait_for()
        report_node.wait_for()
        n_sweep = len(sweep.runs)
        assert (
            sweep_node.locator(".ll-meta")
            .inner_text()
            .endswith(f"· {n_sweep} run{'s' if n_sweep != 1 else ''}")
        )
        assert tree.locator(f".ll-node[data-path^='{project}/'].ll-kind-run").count() == total
        table.locator(".ll-total").filter(has_text=f"{total} runs").wait_for()
        shots(page, explorer.first, "project_open", prefix)

        # A sweep: the table shows its runs, and the parameters it varies.
        sweep_node.click()
        sweep_ids = sorted(r.id for r in sweep.runs)
        label = f"{len(sweep_ids)} run{'s' if len(sweep_ids) != 1 else ''}"
        table.locator(".ll-total").filter(has_text=label).wait_for()
        shown = table.locator(".ll-row[data-path]").evaluate_all(
            "rows => rows.map(r => r.dataset.path.split('/').pop())"
        )
        assert sorted(shown) == sweep_ids
        assert wait_kernel(page, "print(explorer.table.filters)", str({"sweep": sweep.id})) == str(
            {"sweep": sweep.id}
        )
        assert table.locator(".ll-h[data-column='config.optim.lr']").count() == 1
        shots(page, explorer.first, "sweep", prefix)

        # A report: opened as it was saved.
        report_node.click()
        expected = api.runs(project, filters=report.spec["runsets"][0]["filters"])
        n = len(expected)
        table.locator(".ll-total").filter(has_text=f"{n} run{'s' if n != 1 else ''}").wait_for()
        out = wait_kernel(
            page, "print(explorer.table.filters)", str(report.spec["runsets"][0]["filters"])
        )
        assert out == str(report.spec["runsets"][0]["filters"])
        shots(page, explorer.first, "report", prefix)

        # Back to the whole project.
        node.click()
        table.locator(".ll-total").filter(has_text=f"{total} runs").wait_for()

        # The 5 best runs by val/acc: at most 4 clicks, no scrolling, at 1280 px.
        page.set_viewport_size({"width": 1280, "height": HEIGHT})
        page.wait_for_timeout(300)
        table.scroll_into_view_if_needed()
        page.evaluate("(t) => t.scrollIntoView({block: 'start'})", table.element_handle())
        header = table.locator(".ll-h[data-column='summary.val/acc']")
        assert in_sight(page, table, header), "the val/acc header is out of sight at 1280 px"
        before = scroll_state(page, table)
        clicks = 0
        header.click()
        clicks += 1
        expect(header).to_contain_text("▼")
        best = [r.id for r in api.runs(project, order="-summary.val/acc")[:5]]
        first = table.locator(f".ll-row[data-index='0'][data-path='{project}/{best[0]}']")
        first.wait_for()
        fifth = table.locator(".ll-row[data-index='4']")
        assert in_sight(page, table, first) and in_sight(page, table, fifth)
        first.click()
        clicks += 1
        fifth.click(modifiers=["Shift"])
        clicks += 1
        table.locator(".ll-selcount").filter(has_text="5 selected").wait_for()
        assert clicks <= 4
        assert scroll_state(page, table) == before
        want = str(sorted(f"{project}/{rid}" for rid in best))
        assert wait_kernel(page, "print(sorted(explorer.table.selected))", want) == want
        selected_rows = table.locator(".ll-row.ll-selected").evaluate_all(
            "rows => rows.map(r => r.dataset.path)"
        )
        assert sorted(selected_rows) == sorted(f"{project}/{rid}" for rid in best)
        shots(page, explorer.first, "best5", prefix)

        # A wrong filter value: the server's words, under the filter, not "0 runs".
        page.set_viewport_size({"width": 1280, "height": HEIGHT})
        table.locator(".ll-filter-toggle").click()
        table.locator(".ll-add-cond").first.click()
        cond = table.locator(".ll-cond").last
        cond.locator(".ll-field").select_option("created_at")
        cond.locator(".ll-op").select_option("$gt")
        cond.locator(".ll-value").fill("yesterday")
        cond.locator(".ll-value").press("Enter")
        cond.locator(".ll-value").blur()
        message = table.locator(".ll-filter-error")
        expect(message).to_contain_text("The filter was not applied: expected an ISO 8601 time")
        expect(message).to_contain_text("filters.created_at.$gt")
        assert table.locator(".ll-total").inner_text() == ""
        assert "0 runs" not in table.inner_text()
        expect(cond).to_have_class(re.compile(r"\bll-invalid\b"))
        shots(page, table, "filter_error", prefix, whole_page=False)

        # A filter that matches nothing says so, naming it.
        cond.locator(".ll-field").select_option("summary.val/acc")
        cond.locator(".ll-op").select_option("$gt")
        cond.locator(".ll-value").fill("2")
        cond.locator(".ll-value").press("Enter")
        cond.locator(".ll-value").blur()
        expect(table.locator(".ll-empty")).to_contain_text(
            'No run matches the filter {"summary.val/acc":{"$gt":2}}'
        )
        expect(message).to_be_hidden()
        shots(page, table, "no_match", prefix, whole_page=False)
        table.locator(".ll-clear-filter").click()
        table.locator(".ll-total").filter(has_text=f"{total} runs").wait_for()

        # Resize a column by its header's edge, move one by dragging its header.
        loss = table.locator(".ll-h[data-column='summary.val/loss']")
        box = loss.locator(".ll-resize").bounding_box()
        width = loss.bounding_box()["width"]
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + 60, box["y"] + box["height"] / 2, steps=5)
        page.mouse.up()
        out = wait_kernel(
            page,
            "print(explorer.table.column_widths.get('summary.val/loss', 0) > 0)",
            "True",
        )
        assert out == "True"
        got = int(kernel(page, "print(explorer.table.column_widths['summary.val/loss'])"))
        assert abs(got - (width + 58)) <= 6, (got, width)
        assert abs(loss.bounding_box()["width"] - got) <= 1
        table.scroll_into_view_if_needed()
        table.locator(".ll-h[data-column='state']").drag_to(
            table.locator(".ll-h[data-column='name']"), target_position={"x": 5, "y": 10}
        )
        out = wait_kernel(page, "print(explorer.table.columns[:2])", "['state', 'name']")
        assert out == "['state', 'name']"
        heads = table.locator(".ll-h[data-column]").evaluate_all(
            "hs => hs.map(h => h.dataset.column)"
        )
        assert heads[:2] == ["state", "name"]

        # Live: a running run's row follows it without running the cell again.
        run = lablens.init(
            project=project.split("/")[1],
            name="live-run",
            host=server.url,
            api_key=server.api_key,
            settings=QUIET,
            dir=tmp_path,
        )
        try:
            run.log({"val/acc": 0.011})
            wait_summary(api, run.path, 0.011)
            header.click()  # a new query: ascending by val/acc, the new run in sight
            row = table.locator(f".ll-row[data-path='{run.path}']")
            row.wait_for()
            expect(row.locator(".ll-badge")).to_have_text("running")
            live = table.locator(".ll-live")
            expect(live).to_be_visible()
            cell = row.locator(".ll-cell[data-column='summary.val/acc']")
            expect(cell).to_have_text("0.011")
            run.log({"val/acc": 0.022})
            wait_summary(api, run.path, 0.022)
            expect(cell).to_have_text("0.022", timeout=15_000)  # refreshed, ~3 s apart
            shots(page, table, "live", prefix, whole_page=False)
            # Paused: no refresh.
            live.locator(".ll-live-pause").click()
            assert wait_kernel(page, "print(explorer.table.live)", "False") == "False"
            run.log({"val/acc": 0.033})
            wait_summary(api, run.path, 0.033)
            page.wait_for_timeout(4_000)
            assert cell.inner_text() == "0.022"
            live.locator(".ll-live-pause").click()
            expect(cell).to_have_text("0.033", timeout=15_000)
        finally:
            run.finish()
        # Finished: the row says so, and the live mark goes.
        expect(row.locator(".ll-badge")).to_have_text("finished", timeout=15_000)
        expect(table.locator(".ll-live")).to_be_hidden()

        stderr = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        assert page.locator(stderr).count() == 0
