"""The artifact browser in real JupyterLab (Debian's chromium through Playwright): open a demo
artifact, preview its table, follow its lineage to the run that logged it.

Screenshots go to ``test-output/browser/``.
"""

from __future__ import annotations

import pytest
from benchmarks import _lab

from lablens.demo import build_demo

PROJECT = "artifact-browser-demo"  # its own project: the quickstart test counts its demo's runs

CELL = (
    "import lablens\n"
    "from lablens.widgets import Explorer\n"
    "api = lablens.Api()\n"
    f"explorer = Explorer(api, path=f'{{api.default_entity}}/{PROJECT}')\n"
    "explorer"
)


@pytest.fixture(scope="module")
def lab(server, tmp_path_factory):
    build_demo(server.url, server.api_key, runs=3, epochs=3, project=PROJECT, progress=False)
    root = tmp_path_factory.mktemp("lab-artifacts")
    _lab.write_notebook(root / "artifacts.ipynb", CELL)
    with _lab.jupyterlab(root, _lab.env_for_kernel(server.url, server.api_key)) as url:
        yield url


def test_browse_preview_and_follow_lineage(lab, api, shot):
    project = f"{api.default_entity}/{PROJECT}"
    with _lab.browser_page() as page:
        _lab.open_notebook(page, lab, "artifacts.ipynb")
        _lab.run_all(page)
        _lab.wait_idle(page)
        browser = page.locator(".ll-artifacts").first
        node = browser.locator(f".ll-node[data-path='{project}/predictions']")
        node.wait_for(state="attached")
        node.scroll_into_view_if_needed()
        node.click()
        browser.locator(f".ll-node[data-path='{project}/predictions/val-predictions']").click()
        version = browser.locator(".ll-node.ll-kind-version").first
        version.wait_for()
        vpath = version.get_attribute("data-path")
        assert vpath and vpath.startswith(f"{project}/val-predictions:v")
        version.click()  # opens its files and shows its details and lineage
        producer = browser.locator(".ll-detail .ll-logged-by .ll-run-link")
        producer.wait_for()

        # Preview the predictions table: its first rows, as a small table.
        browser.locator(f".ll-node[data-path='{vpath}/predictions.parquet']").click()
        table = browser.locator(".ll-preview-table table")
        table.wait_for()
        assert table.locator("tbody tr").count() == 20
        assert "predicted" in table.locator("thead").inner_text()
        shot(browser, "artifact_preview")

        # Back to the version: follow the lineage to the run that logged it.
        browser.locator(f".ll-node[data-path='{vpath}']").click()
        producer.wait_for()
        run_path = producer.get_attribute("data-run")
        assert run_path and run_path.startswith(f"{project}/")
        shot(browser, "artifact_lineage")
        producer.click()
        for _ in range(20):
            out = _lab.run_in_kernel(
                page, "print(explorer.artifacts.selected_run, explorer.table.selected)"
            )
            if out == f"{run_path} {[run_path]}":
                break
            page.wait_for_timeout(250)
        assert out == f"{run_path} {[run_path]}"
        row = page.locator(f".ll-run-table .ll-row.ll-selected[data-path='{run_path}']")
        row.wait_for(state="attached")
        shot(page.locator(".ll-run-table").first, "artifact_run_selected")

        # The data set every run used: its lineage lists them as users.
        browser.locator(f".ll-node[data-path='{project}/dataset']").click()
        browser.locator(f".ll-node[data-path='{project}/dataset/digits']").click()
        browser.locator(f".ll-node[data-path='{project}/digits:v0']").click()
        users = browser.locator(".ll-detail .ll-used-by .ll-run-link")
        users.first.wait_for()
        assert users.count() == len(api.artifact(f"{project}/digits:v0").used_by()) > 0
        shot(browser, "artifact_dataset_lineage")
