"""The widgets in real JupyterLab, driven in Debian's chromium through Playwright.

Screenshots of each widget go to ``test-output/browser/``.
"""

from __future__ import annotations

import pytest
from benchmarks import _lab

from lablens.demo import DEMO_PROJECT


@pytest.fixture
def lab(server, quickstart_dir):
    with _lab.jupyterlab(quickstart_dir, _lab.env_for_kernel(server.url, server.api_key)) as url:
        yield url


def test_quickstart_explorer_in_jupyterlab(lab, api, shot):
    project = f"{api.default_entity}/{DEMO_PROJECT}"
    runs = api.runs(project).to_pandas()
    with _lab.browser_page() as page:
        _lab.open_notebook(page, lab, "quickstart.ipynb")
        _lab.run_all(page)
        _lab.wait_idle(page)
        table = page.locator(".ll-run-table").first
        table.locator(".ll-row[data-path]").first.wait_for(state="attached")
        table.scroll_into_view_if_needed()
        table.locator(".ll-row[data-path]").first.wait_for()
        assert table.locator(".ll-row[data-path]").count() == len(runs)
        assert table.locator(".ll-total").inner_text() == f"{len(runs)} runs"
        tree = page.locator(".ll-tree").first
        shot(tree, "workspace_tree")
        shot(table, "run_table")

        # Sort by a header: the kernel's order changes and the rows follow.
        table.scroll_into_view_if_needed()
        table.locator(".ll-h[data-column='summary.val/acc']").click()
        page.wait_for_function(
            "() => document.querySelector(\".ll-h[data-column='summary.val/acc']\")"
            ".textContent.endsWith('▼')"
        )
        assert _lab.run_in_kernel(page, "print(explorer.table.order)") == (
            "-summary_metrics.val/acc"
        )
        best = runs.sort_values("summary.val/acc", ascending=False)["id"].iloc[0]
        table.scroll_into_view_if_needed()
        table.locator(f".ll-row[data-path='{project}/{best}'][data-index='0']").wait_for()

        # Build a filter in the UI: the kernel's total changes.
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
        shot(table, "run_table_filtered")

        # Select two rows: two runs drawn in the chart, each with its lines.
        table.scroll_into_view_if_needed()
        rows = table.locator(".ll-row[data-path]")
        rows.nth(0).click()
        rows.nth(1).click()
        table.locator(".ll-selcount").filter(has_text="2 selected").wait_for()
        # ipywidgets holds back a model update while the previous one is unanswered, so the
        # kernel may see the second selection a moment after the page shows it: ask again.
        for _ in range(20):
            out = _lab.run_in_kernel(
                page,
                "print(len(explorer.table.selected), explorer.chart.to_pandas()"
                "['run_id'].nunique(), len(explorer.chart.keys), len(explorer.chart.figure.data))",
            )
            n_sel, n_runs, n_keys, n_traces = map(int, out.split())
            if n_sel == 2 and n_runs == 2:
                break
            page.wait_for_timeout(250)
        assert (n_sel, n_runs) == (2, 2) and n_traces == 2 * n_keys
        plot = page.locator(".js-plotly-plot").first
        plot.scroll_into_view_if_needed()
        page.wait_for_function(
            "() => document.querySelector('.js-plotly-plot')"  # the explorer's chart comes first
            f".querySelectorAll('.scatterlayer .trace').length === {n_traces}"
        )
        shot(plot, "metric_chart")
        shot(page.locator(".ll-action-log").first, "action_log")
        shot(page, "explorer_page")
