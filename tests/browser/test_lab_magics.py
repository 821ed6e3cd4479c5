"""``%load_ext lablens`` then ``%lablens`` in real JupyterLab (Debian's chromium through
Playwright): the Explorer opens on the project with the newest run.

Screenshots at 1280 and 1600 px go to ``test-output/browser/magics_explorer_*.png``.
"""

from __future__ import annotations

import pytest
from benchmarks import _lab
from playwright.sync_api import expect

from lablens.demo import build_demo

PROJECT = "magics-demo"  # its own project, trained last: the one %lablens opens


@pytest.fixture(scope="module")
def lab(server, tmp_path_factory):
    build_demo(server.url, server.api_key, runs=3, epochs=3, project=PROJECT, progress=False)
    root = tmp_path_factory.mktemp("lab-magics")
    cells = ["%load_ext lablens", "%lablens"]
    _lab.write_notebook(root / "magics.ipynb", *cells)
    with _lab.jupyterlab(root, _lab.env_for_kernel(server.url, server.api_key)) as url:
        yield url


def test_load_ext_then_lablens_shows_the_explorer(lab, api, shot):
    project = f"{api.default_entity}/{PROJECT}"
    runs = api.runs(project).to_pandas()
    with _lab.browser_page(width=1280) as page:
        _lab.open_notebook(page, lab, "magics.ipynb")
        _lab.run_all(page)
        _lab.wait_idle(page)
        # No "not an IPython extension", no error: the magic's cell shows the Explorer.
        stderr = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        assert page.locator(stderr).count() == 0
        assert page.locator(".jp-OutputArea-output").filter(has_text="Error").count() == 0
        explorer = page.locator(".jp-OutputArea-output").filter(has=page.locator(".ll-run-table"))
        explorer.first.wait_for(state="attached")
        assert "Loading widget" not in explorer.first.inner_text()

        tree = page.locator(".ll-tree").first
        tree.scroll_into_view_if_needed()
        node = tree.locator(f".ll-node[data-path='{project}']")
        node.wait_for()
        assert "ll-selected" in (node.get_attribute("class") or "")
        table = page.locator(".ll-run-table").first
        table.scroll_into_view_if_needed()
        table.locator(".ll-row[data-path]").first.wait_for()
        expect(table.locator(".ll-total")).to_have_text(f"{len(runs)} runs")
        assert sorted(
            table.locator(".ll-row[data-path]").evaluate_all(
                "rows => rows.map(r => r.dataset.path)"
            )
        ) == sorted(f"{project}/{run_id}" for run_id in runs["id"])
        out = _lab.run_in_kernel(page, "print(type(_).__name__, _.path, _.table.total)")
        assert out == f"Explorer {project} {len(runs)}"

        for width in (1280, 1600):
            page.set_viewport_size({"width": width, "height": 1000})
            page.wait_for_timeout(300)  # the layout settles
            explorer.first.scroll_into_view_if_needed()
            shot(explorer.first, f"magics_explorer_{width}")
