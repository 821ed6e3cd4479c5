"""The explorer's panel grid in real JupyterLab and Notebook 7 (Debian's chromium, Playwright):
the empty state, picking a metric, hovering all runs at one x, and a running run's curve growing
without running the cell again. Screenshots at 1280 and 1600 px go to ``test-output/browser/``
(``panels_*``; ``notebook7_panels_*`` for Notebook 7)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import nbformat
import pytest
from benchmarks import _lab
from nbformat.v4 import new_code_cell, new_notebook
from playwright.sync_api import expect

from lablens.demo import DEMO_PROJECT

FRONTENDS = {"lab": "", "notebook": "notebook7_"}
LIVE_POINTS = 240  # one every 0.5 s: two minutes at most, ended after the test
LIVE_NAME = "live-panels-run"

# A training script: logs a point every 0.5 s, so the run stays RUNNING while the test looks.
LIVE_SCRIPT = textwrap.dedent(
    """
    import sys, time, lablens
    host, key, project, name, n, where = sys.argv[1:7]
    run = lablens.init(host=host, api_key=key, project=project, name=name, dir=where,
                       settings={"system_interval": 0, "console": False})
    for i in range(int(n)):
        run.log({"train/loss": 1.0 / (i + 1), "val/acc": i / int(n)}, step=i)
        time.sleep(0.5)
    run.finish()
    """
)


@pytest.fixture
def live_run(server, api, quickstart_demo, tmp_path):
    """A run of the demo project that is RUNNING: its process logs a point every 0.5 s."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            LIVE_SCRIPT,
            server.url,
            server.api_key,
            quickstart_demo,
            LIVE_NAME,
            str(LIVE_POINTS),
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    project = f"{api.default_entity}/{quickstart_demo}"
    deadline = time.monotonic() + 60
    run = None
    while time.monotonic() < deadline:
        found = [r for r in api.runs(project) if r.name == LIVE_NAME]
        if found and found[0].history_keys.get("train/loss", {}).get("count", 0) >= 3:
            run = found[0]
            break
        time.sleep(0.5)
    assert run is not None, "the live run logged nothing"
    try:
        yield run
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        run.delete()


@pytest.fixture(params=list(FRONTENDS))
def frontend(request, server, api, quickstart_demo, tmp_path_factory):
    """``(app, url)``: JupyterLab or Notebook 7 serving a notebook that shows the explorer."""
    root = tmp_path_factory.mktemp("panels")
    project = f"{api.default_entity}/{quickstart_demo}"
    code = (
        "import lablens\nfrom lablens.widgets import Explorer\n\n"
        f"explorer = Explorer(lablens.Api(), path={project!r})\nexplorer"
    )
    nbformat.write(new_notebook(cells=[new_code_cell(code)]), root / "panels.ipynb")
    env = _lab.env_for_kernel(server.url, server.api_key)
    with _lab.jupyter(root, env, app=request.param) as url:
        yield request.param, url


def _kernel(page, code: str, want, tries: int = 20) -> str:
    """``code``'s output once ``want(output)`` holds (a widget's change reaches the kernel a
    moment after the page shows it)."""
    out = ""
    for _ in range(tries):
        out = _lab.run_in_kernel(page, code)
        if want(out):
            return out
        page.wait_for_timeout(250)
    return out


def test_panel_grid_in_the_explorer(frontend, api, live_run, shot):
    app, url = frontend
    prefix = FRONTENDS[app]
    project = f"{api.default_entity}/{DEMO_PROJECT}"
    # The machine running the tests may be busy: each round trip to the kernel may take a while.
    expect.set_options(timeout=20_000)
    with _lab.browser_page(width=1280, height=1000) as page:
        _lab.open_notebook(page, url, "panels.ipynb")
        _lab.run_all(page)
        _lab.wait_idle(page)
        grid = page.locator(".ll-panel-grid").first
        grid.wait_for(state="attached")
        grid.scroll_into_view_if_needed()
        # Before a selection: a hint, not an empty plot.
        expect(grid.locator(".ll-hint")).to_have_text("Select runs in the table to plot them.")
        assert grid.locator(".ll-panel").count() == 0
        shot(grid, f"{prefix}panels_empty")

        # Select three finished runs: every metric of theirs gets a panel, in sections.
        table = page.locator(".ll-run-table").first
        table.scroll_into_view_if_needed()
        rows = table.locator(".ll-row[data-path]")
        rows.first.wait_for()
        finished = [
            p
            for p in rows.evaluate_all("rs => rs.map(r => r.dataset.path)")
            if live_run.id not in p
        ][:3]
        for path in finished:
            table.locator(f".ll-row[data-path='{path}']").click()
        table.locator(".ll-selcount").filter(has_text="3 selected").wait_for()
        grid.scroll_into_view_if_needed()
        panel = grid.locator(".ll-panel[data-key='val/acc']")
        expect(panel).to_have_attribute("data-lines", "3")
        titles = grid.locator(".ll-section-head").evaluate_all(
            "hs => hs.map(h => h.dataset.title || h.parentElement.dataset.section)"
        )
        assert titles == ["train", "val"]
        assert grid.locator(".ll-panel").count() == 4

        # Remove val/acc, then pick it again in the metric picker.
        panel.locator(".ll-panel-remove").click()
        expect(panel).to_have_count(0)
        # The kernel has read the panels left (the page redraws once more then).
        expect(grid.locator(".ll-panels-status")).to_have_text("3 runs · 3 panels")
        expect(grid.locator(".ll-panel[data-lines='3']")).to_have_count(3)
        search = grid.locator(".ll-picker-search")
        search.click()
        search.fill("val/a")
        items = grid.locator(".ll-picker-item")
        expect(items).to_have_text(["val/acc"])
        items.first.dispatch_event("mousedown")
        expect(panel.locator(".ll-panel-title")).to_have_text("val/acc")
        expect(panel).to_have_attribute("data-lines", "3")  # one line per selected run
        out = _kernel(
            page,
            "df = explorer.panels.to_pandas(); v = df[df.key == 'val/acc']\n"
            "print(explorer.panels.panels[-1], v.run_id.nunique(), len(v))",
            lambda o: o.startswith("val/acc 3"),
        )
        name, n_runs, n_points = out.split()
        assert (name, n_runs) == ("val/acc", "3")
        assert panel.get_attribute("data-points") == n_points
        # Axis titles (drawn on the canvas): the x axis and the metric.
        assert panel.get_attribute("data-x-title") == "step"
        assert panel.get_attribute("data-y-title") == "val/acc"

        # Hover: one x, every run's value there, in the tooltip.
        over = panel.locator(".u-over")
        panel.scroll_into_view_if_needed()
        box = over.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] / 2)
        tooltip = panel.locator(".ll-tooltip")
        expect(tooltip).to_be_visible()
        expect(tooltip.locator(".ll-tt-row")).to_have_count(3)
        step = int(tooltip.locator(".ll-tt-x").inner_text().split()[-1])
        shown = sorted(tooltip.locator(".ll-tt-value").all_inner_texts())
        # The crosshair is drawn in every panel (one x across the grid).
        expect(grid.locator(".u-cursor-x")).to_have_count(4)
        shot(panel, f"{prefix}panels_hover")  # before the kernel's cell scrolls the page
        out = _lab.run_in_kernel(
            page,
            "df = explorer.panels.to_pandas()\n"
            f"print(' '.join(sorted(f'{{v:.5g}}' for v in df[(df.key == 'val/acc') & "
            f"(df._step == {step})].value)))",
        )
        assert shown == sorted(out.split())
        page.mouse.move(0, 0)
        grid.scroll_into_view_if_needed()
        shot(page, f"{prefix}panels_page_1280")
        shot(grid, f"{prefix}panels_grid_1280")
        page.set_viewport_size({"width": 1600, "height": 1000})
        page.wait_for_timeout(500)  # the panels follow the new width
        grid.scroll_into_view_if_needed()
        shot(grid, f"{prefix}panels_grid_1600")
        shot(page, f"{prefix}panels_page_1600")

        # A running run: its curves grow without running the cell again.
        table.scroll_into_view_if_needed()
        table.locator(f".ll-row[data-path='{project}/{live_run.id}']").click()
        table.locator(".ll-selcount").filter(has_text="4 selected").wait_for()
        grid.scroll_into_view_if_needed()
        live = grid.locator(".ll-live")
        expect(live).to_have_text("● live")
        loss = grid.locator(".ll-panel[data-key='train/loss']")
        expect(loss).to_have_attribute("data-lines", "4")
        before = int(loss.get_attribute("data-points"))
        page.wait_for_function(
            "([sel, n]) => Number(document.querySelector(sel).dataset.points) >= n + 4",
            arg=[".ll-panel-grid .ll-panel[data-key='train/loss']", before],
            timeout=30_000,
        )
        shot(grid, f"{prefix}panels_live")
        # Paused: no more points.
        grid.locator(".ll-pause").click()
        expect(live).to_have_text("● live (paused)")
        page.wait_for_timeout(2_500)  # a poll in flight when pausing may still land
        paused = int(loss.get_attribute("data-points"))
        page.wait_for_timeout(3_000)
        assert int(loss.get_attribute("data-points")) == paused
        stderr = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        assert page.locator(stderr).count() == 0
