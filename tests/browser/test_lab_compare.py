"""The explorer's Compare section on the demo sweep, in real JupyterLab and in Jupyter Notebook 7
(Debian's chromium through Playwright): runs picked in the table side by side with an "only
differences" toggle, and the sweep's parallel coordinates and scatter plot.

Screenshots at 1280 and 1600 px go to ``test-output/browser/`` (``compare_*``,
``notebook7_compare_*``).
"""

from __future__ import annotations

import pytest
from benchmarks import _lab

from lablens.demo import DEMO_PROJECT
from lablens.demo.grid import SWEEP_NAME

FRONTENDS = {"lab": "", "notebook": "notebook7_"}

CELL = (
    "import lablens\n"
    "from lablens.widgets import Explorer\n"
    "api = lablens.Api()\n"
    f"sweep = next(s for s in api.sweeps({DEMO_PROJECT!r}) if s.name == {SWEEP_NAME!r})\n"
    "explorer = Explorer(api, path=sweep.runs)\n"
    "explorer"
)


@pytest.fixture(params=list(FRONTENDS))
def frontend(request, server, quickstart_demo, tmp_path_factory):
    root = tmp_path_factory.mktemp("lab-compare")
    _lab.write_notebook(root / "compare.ipynb", CELL)
    env = _lab.env_for_kernel(server.url, server.api_key)
    with _lab.jupyter(root, env, app=request.param) as url:
        yield request.param, url


def kernel_value(page, code: str, want: str, tries: int = 20) -> str:
    """What ``code`` prints, asked again while the kernel has not yet seen the page's change
    (ipywidgets holds back an update while the previous one is unanswered)."""
    out = ""
    for _ in range(tries):
        out = _lab.run_in_kernel(page, code)
        if out == want:
            break
        page.wait_for_timeout(250)
    return out


def test_compare_and_parallel_coordinates_on_the_demo_sweep(frontend, api, shot):
    app, url = frontend
    prefix = FRONTENDS[app] + "compare_"
    project = f"{api.default_entity}/{DEMO_PROJECT}"
    sweep = next(s for s in api.sweeps(project) if s.name == SWEEP_NAME)
    runs = sweep.runs.to_pandas()
    assert len(runs) >= 3
    with _lab.browser_page(width=1280, height=1000) as page:
        _lab.open_notebook(page, url, "compare.ipynb")
        _lab.run_all(page)
        _lab.wait_idle(page)

        # The table shows the sweep's runs; pick three rows.
        table = page.locator(".ll-run-table").first
        table.scroll_into_view_if_needed()
        rows = table.locator(".ll-row[data-path]")
        rows.first.wait_for()
        assert rows.count() == len(runs)
        for i in range(3):
            rows.nth(i).click()
        table.locator(".ll-selcount").filter(has_text="3 selected").wait_for()

        # The compare view: a column per picked run, the rows that differ highlighted first.
        compare = page.locator(".lablens-compare").first
        compare.scroll_into_view_if_needed()
        grid = compare.locator(".ll-cmp table")
        page.wait_for_function("() => document.querySelectorAll('.ll-cmp thead th').length === 4")
        picked = kernel_value(page, "print(len(explorer.compare.runs))", "3")
        assert picked == "3"
        frame = _lab.run_in_kernel(
            page,
            "df = explorer.compare.to_pandas(); print(list(df.columns), df.attrs['differs'])",
        )
        columns = [c.inner_text().strip() for c in grid.locator("thead th").all()][1:]
        assert frame.startswith(repr(columns))
        differing = grid.locator("tr.diff")
        assert differing.count() >= 2  # the learning rate (or alpha) and val/acc at least
        first_diff = grid.locator("tbody tr").nth(1)  # after the "config" section row
        assert "diff" in (first_diff.get_attribute("class") or "")
        assert "optim.lr" in grid.inner_text() and "val/acc" in grid.inner_text()
        all_rows = grid.locator("tbody tr:not(.section)").count()
        shot(compare, f"{prefix}view_1280")
        shot(page, f"{prefix}page_1280")

        # Only the differences: the same rows as the kernel's frame, the constant ones gone.
        compare.get_by_text("only differences").click()
        assert kernel_value(page, "print(explorer.compare.only_differences)", "True") == "True"
        page.wait_for_function(
            "n => document.querySelectorAll('.ll-cmp tbody tr:not(.section)').length < n",
            arg=all_rows,
        )
        only = grid.locator("tbody tr:not(.section)").count()
        assert only == differing.count()
        assert _lab.run_in_kernel(page, "print(len(explorer.compare.to_pandas()))") == str(only)
        shot(compare, f"{prefix}only_differences_1280")

        # The sweep's parallel coordinates: an axis per swept parameter and one for val/acc.
        pc = page.locator(".lablens-parallel-coordinates").first
        pc.scroll_into_view_if_needed()
        pc.locator(".js-plotly-plot .parcoords").first.wait_for()
        axes = pc.locator(".parcoords g.y-axis")
        page.wait_for_function(
            "() => document.querySelectorAll('.lablens-parallel-coordinates"
            " .parcoords g.y-axis').length === 4"
        )
        titles = pc.locator(".parcoords .axis-title").all_text_contents()
        assert titles == [
            "config.model.hidden",
            "config.optim.alpha",
            "config.optim.lr",
            "summary.val/acc",
        ]
        assert axes.count() == 4
        assert "parallel_coordinates()" in _lab.run_in_kernel(
            page, "print(explorer.parallel_coordinates.code)"
        )
        assert _lab.run_in_kernel(
            page, "print(len(explorer.parallel_coordinates.to_pandas()))"
        ) == str(len(runs))
        shot(pc, f"{prefix}parallel_coordinates_1280")

        # The scatter plot: a dot per run.
        sp = page.locator(".lablens-scatter-plot").first
        sp.scroll_into_view_if_needed()
        sp.locator(".js-plotly-plot .scatterlayer .point").first.wait_for()
        assert sp.locator(".scatterlayer .point").count() == len(runs)
        shot(sp, f"{prefix}scatter_1280")

        # The same at 1600 px.
        page.set_viewport_size({"width": 1600, "height": 1000})
        page.wait_for_timeout(500)
        compare.scroll_into_view_if_needed()
        shot(compare, f"{prefix}view_1600")
        pc.scroll_into_view_if_needed()
        shot(pc, f"{prefix}parallel_coordinates_1600")
        shot(sp, f"{prefix}scatter_1600")
        stderr = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        assert page.locator(stderr).count() == 0
