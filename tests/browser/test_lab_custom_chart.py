"""A custom chart preset drawn in real JupyterLab (Debian's chromium through Playwright):
``CustomChartView``'s Vega-Lite output is drawn by JupyterLab's built-in Vega renderer, offline,
with a line per run, and the kernel's ``view.code`` gives the rows drawn.

Screenshots at 1280 and 1600 px go to ``test-output/browser/`` (``custom_chart_*``).
"""

from __future__ import annotations

import uuid

from benchmarks import _lab

SPEC = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "mark": "line",
    "width": 500,
    "height": 260,
    "title": "loss by step",
    "encoding": {
        "x": {"field": "_step", "type": "quantitative"},
        "y": {"field": "loss", "type": "quantitative"},
        "color": {"field": "name", "type": "nominal"},
    },
}


def test_a_custom_chart_is_drawn_in_jupyterlab(server, api, make_project, make_run, shot, tmp_path):
    project = make_project()
    for i in range(3):
        make_run(project, name=f"run-{i}", points={"loss": [1.0 / (s + 1 + i) for s in range(20)]})
    chart = api.create_custom_chart(
        None, "c" + uuid.uuid4().hex[:8], spec=SPEC, query={"keys": ["loss"]}
    )
    cell = (
        "import lablens\n"
        "from lablens.widgets import CustomChartView\n"
        "api = lablens.Api()\n"
        f"view = CustomChartView(api, {chart.id!r}, {project.path!r})\n"
        "view"
    )
    _lab.write_notebook(tmp_path / "chart.ipynb", cell)
    env = _lab.env_for_kernel(server.url, server.api_key)
    with _lab.jupyter(tmp_path, env) as url, _lab.browser_page(width=1280, height=900) as page:
        _lab.open_notebook(page, url, "chart.ipynb")
        _lab.run_all(page)
        _lab.wait_idle(page)
        drawn = page.locator(".jp-RenderedVegaCommon5, .vega-embed").first
        drawn.wait_for()
        # Vega draws a canvas (or SVG) with a legend entry per run.
        drawn.locator("canvas, svg").first.wait_for()
        rows = _lab.run_in_kernel(page, "print(len(view.to_pandas()))")
        assert rows == "60"
        code = _lab.run_in_kernel(page, "print(view.code)")
        assert code == f"frame = api.custom_chart({chart.id!r}).data({project.path!r})"
        assert "Vega-Lite" not in drawn.inner_text()  # drawn, not shown as text
        shot(drawn, "custom_chart_1280")
        shot(page, "custom_chart_page_1280")
        page.set_viewport_size({"width": 1600, "height": 900})
        page.wait_for_timeout(500)
        shot(page, "custom_chart_page_1600")
        # The Explorer's custom chart section: the entity's presets in a picker, the one picked
        # drawn on the runs its table shows.
        text = _lab.run_in_kernel(
            page,
            "from lablens.widgets import Explorer\n"
            f"ex = Explorer(api, path={project.path!r})\n"
            f"ex.custom_charts.chart = {chart.id!r}\n"
            "ex.custom_charts",
        )
        assert "20 rows" in text or "60 rows" in text
        cells = page.locator(".jp-Notebook .jp-CodeCell")
        section = cells.nth(cells.count() - 2).locator(".jp-OutputArea-output").first
        section.locator(
            ".jp-RenderedVegaCommon5 canvas, .jp-RenderedVegaCommon5 svg"
        ).first.wait_for()
        picked = section.locator("select").first.evaluate("s => s.options[s.selectedIndex].text")
        assert picked == chart.name
        shot(section, "custom_chart_explorer_1600")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.wait_for_timeout(500)
        shot(section, "custom_chart_explorer_1280")
    chart.delete()
