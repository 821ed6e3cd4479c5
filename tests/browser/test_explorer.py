"""The quickstart's explorer in real JupyterLab and in Jupyter Notebook 7, driven in Debian's
chromium through Playwright: the same steps and checks in both frontends.

Screenshots of each widget go to ``test-output/browser/`` (``notebook7_*`` for Notebook 7).
"""

from __future__ import annotations

import pytest
from benchmarks import _lab
from playwright.sync_api import expect

from lablens.demo import DEMO_PROJECT

# Each frontend the widgets are tested in, and the prefix of its screenshots.
FRONTENDS = {"lab": "", "notebook": "notebook7_"}


@pytest.fixture(params=list(FRONTENDS))
def frontend(request, server, quickstart_dir):
    """``(app, url)``: JupyterLab or Notebook 7 serving a copy of the quickstart."""
    env = _lab.env_for_kernel(server.url, server.api_key)
    with _lab.jupyter(quickstart_dir, env, app=request.param) as url:
        yield request.param, url


def test_quickstart_explorer(frontend, api, shot):
    app, url = frontend
    prefix = FRONTENDS[app]
    project = f"{api.default_entity}/{DEMO_PROJECT}"
    runs = api.runs(project).to_pandas()
    with _lab.browser_page() as page:
        _lab.open_notebook(page, url, "quickstart.ipynb")
        if app == "notebook":
            assert "/notebooks/quickstart.ipynb" in page.url  # Notebook 7's page, not the lab's
        _lab.run_all(page)
        _lab.wait_idle(page)

        # The explorer rendered as a widget: no text fallback in its place.
        explorer = page.locator(".jp-OutputArea-output").filter(has=page.locator(".ll-run-table"))
        explorer.first.wait_for(state="attached")
        assert "Loading widget" not in explorer.first.inner_text()
        # The explorer selected the project from Python: the tree shows its workspace open,
        # with the demo project selected and its run count.
        tree = page.locator(".ll-tree").first
        tree.scroll_into_view_if_needed()  # cells out of sight are not rendered, nor their text
        node = tree.locator(f".ll-node[data-path='{project}']")
        node.wait_for()
        workspace = tree.locator(f".ll-node[data-path='{api.default_entity}']")
        # Waits for the text: a cell scrolled into sight is rendered a frame later.
        expect(workspace.locator(".ll-twisty")).to_have_text("▾")
        assert "ll-selected" in (node.get_attribute("class") or "")
        expect(node.locator("span").nth(1)).to_have_text(DEMO_PROJECT)
        assert node.locator(".ll-meta").inner_text().endswith(f"· {len(runs)} runs")

        # The table: one row per run.
        table = page.locator(".ll-run-table").first
        table.locator(".ll-row[data-path]").first.wait_for(state="attached")
        table.scroll_into_view_if_needed()
        table.locator(".ll-row[data-path]").first.wait_for()
        assert table.locator(".ll-row[data-path]").count() == len(runs)
        assert table.locator(".ll-total").inner_text() == f"{len(runs)} runs"
        assert sorted(
            table.locator(".ll-row[data-path]").evaluate_all(
                "rows => rows.map(r => r.dataset.path)"
            )
        ) == sorted(f"{project}/{run_id}" for run_id in runs["id"])
        shot(tree, f"{prefix}workspace_tree")
        shot(table, f"{prefix}run_table")

        # Sort by a header: the kernel's order changes and the rows follow.
        table.scroll_into_view_if_needed()
        table.locator(".ll-h[data-column='summary.val/acc']").click()
        page.wait_for_function(
            "() => document.querySelector(\".ll-h[data-column='summary.val/acc']\")"
            ".textContent.endsWith('▼')"
        )
        # One name per field: the header orders by the column's own name.
        assert _lab.run_in_kernel(page, "print(explorer.table.order)") == "-summary.val/acc"
        best = runs.sort_values("summary.val/acc", ascending=False)["id"].iloc[0]
        table.scroll_into_view_if_needed()
        table.locator(f".ll-row[data-path='{project}/{best}'][data-index='0']").wait_for()

        # Build a filter in the UI: the kernel's total changes, and the rows with it.
        lr_max = float(runs["config.optim.lr"].max())
        expected = int((runs["config.optim.lr"] < lr_max).sum())
        assert 0 < expected < len(runs)
        table.scroll_into_view_if_needed()
        table.locator(".ll-filter-toggle").click()
        table.locator(".ll-add-cond").first.click()
        cond = table.locator(".ll-cond").last
        cond.locator(".ll-field").select_option("config.optim.lr")
        cond.locator(".ll-op").select_option("$lt")
        cond.locator(".ll-value").fill(str(lr_max))
        cond.locator(".ll-value").press("Enter")
        cond.locator(".ll-value").blur()
        table.locator(".ll-total").filter(has_text=f"{expected} runs").wait_for()
        out = _lab.run_in_kernel(page, "print(explorer.table.total, explorer.table.filters)")
        assert out == f"{expected} {{'config.optim.lr': {{'$lt': {lr_max!r}}}}}"
        assert table.locator(".ll-row[data-path]").count() == expected
        shot(table, f"{prefix}run_table_filtered")

        # Select two rows: two runs drawn in every panel of the grid, a line each.
        table.scroll_into_view_if_needed()
        rows = table.locator(".ll-row[data-path]")
        rows.nth(0).click()
        rows.nth(1).click()
        table.locator(".ll-selcount").filter(has_text="2 selected").wait_for()
        grid = page.locator(".ll-panel-grid").first
        grid.scroll_into_view_if_needed()
        panels = grid.locator(".ll-panel")
        expect(panels.first).to_have_attribute("data-lines", "2")
        # ipywidgets holds back a model update while the previous one is unanswered, so the
        # kernel may see the second selection a moment after the page shows it: ask again.
        for _ in range(20):
            out = _lab.run_in_kernel(
                page,
                "print(len(explorer.table.selected), explorer.panels.to_pandas()"
                "['run_id'].nunique(), len(explorer.panels.shown))",
            )
            n_sel, n_runs, n_panels = map(int, out.split())
            if n_sel == 2 and n_runs == 2:
                break
            page.wait_for_timeout(250)
        assert (n_sel, n_runs) == (2, 2) and n_panels > 0
        grid.scroll_into_view_if_needed()
        assert panels.count() == n_panels
        assert all(n == "2" for n in panels.evaluate_all("ps => ps.map(p => p.dataset.lines)"))
        shot(grid, f"{prefix}panel_grid")

        # MetricChart, a widget of its own: the same two runs, one line each in plotly.
        _lab.run_in_kernel(
            page,
            "from lablens.widgets import MetricChart\n"
            "chart = MetricChart(runs=explorer.table.selected, keys=['val/loss'])\n"
            "display(chart)",
        )
        plot = page.locator(".js-plotly-plot").last
        plot.scroll_into_view_if_needed()
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.js-plotly-plot')).pop()"
            ".querySelectorAll('.scatterlayer .trace').length === 2"
        )
        assert plot.locator(".legend .traces").count() == 2
        shot(plot, f"{prefix}metric_chart")
        shot(page.locator(".ll-action-log").first, f"{prefix}action_log")

        explorer.first.scroll_into_view_if_needed()
        shot(page, f"{prefix}explorer_page")
        assert page.locator(".jp-OutputArea-output").filter(has_text="Loading widget").count() == 0
        stderr = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        assert page.locator(stderr).count() == 0
