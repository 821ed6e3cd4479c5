"""A run's page in Debian's chromium: opened through the ``url`` its repr prints, the sign-in form
first, then its summary values and a chart drawn per metric; the project page links to it; the
sweep's page draws its runs as parallel coordinates.

Screenshots at 1280 and 1600 px go to ``test-output/browser/`` (``run_page_*``,
``project_page_*``, ``sweep_page_*``).
"""

from __future__ import annotations

from benchmarks import _lab

from lablens.demo import DEMO_PROJECT
from lablens.demo.grid import SWEEP_NAME


def test_a_run_page_after_signing_in(server, api, quickstart_demo, shot):
    project = api.project(f"{api.default_entity}/{DEMO_PROJECT}")
    sweep = next(s for s in api.sweeps(project.path) if s.name == SWEEP_NAME)
    run = sweep.best_run()
    with _lab.browser_page(width=1280, height=900) as page:
        page.goto(run.url)
        # No session yet: the sign-in form, which comes back to the run after.
        page.locator("form.signin").wait_for()
        assert "Sign in to lablens" in page.locator("h1").inner_text()
        shot(page, "run_page_signin_1280")
        page.locator("input[name=api_key]").fill(server.api_key)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(run.url)
        assert page.locator("h1").inner_text().startswith(run.name)

        # The summary shows the run's values.
        summary = page.locator("#summary")
        for key in ("val/acc", "val/loss", "best/epoch"):
            row = summary.locator("tr", has=page.locator("th", has_text=key)).first
            assert row.locator("td").inner_text() == f"{run.summary[key]:.6g}", key
        config = page.locator("#config")
        assert config.locator("tr", has_text="optim.lr").locator("td").inner_text() == (
            f"{run.config['optim']['lr']:.6g}"
        )

        # A chart per metric, drawn by plotly: a line with the run's points.
        panels = page.locator(".panel .js-plotly-plot")
        assert panels.count() == len(run.history_keys)
        page.wait_for_function(
            "n => document.querySelectorAll('.panel .js-plotly-plot .scatterlayer .trace')"
            ".length === n",
            arg=panels.count(),
        )
        first = page.locator(".panel").first
        assert first.locator(".scatterlayer .trace path.js-line").count() == 1
        titles = page.locator(".panel .gtitle").all_text_contents()
        assert sorted(titles) == sorted(run.history_keys)
        shot(page, "run_page_1280")
        page.set_viewport_size({"width": 1600, "height": 900})
        page.wait_for_timeout(500)
        shot(page, "run_page_1600")

        # The project page lists the runs and links back to this one.
        page.goto(project.url)
        table = page.locator("#runs")
        table.wait_for()
        assert table.locator("tr:has(td)").count() == len(api.runs(project.path))
        assert "demo-grid" in page.locator("body").inner_text()
        shot(page, "project_page_1600")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.wait_for_timeout(300)
        shot(page, "project_page_1280")
        table.get_by_role("link", name=run.name).click()
        page.wait_for_url(run.url)

        # The sweep's page: its runs as parallel coordinates, an axis per parameter.
        page.goto(sweep.url)
        page.locator("#parallel-coordinates .parcoords").first.wait_for()
        titles = page.locator(".parcoords .axis-title").all_text_contents()
        assert titles == [*sweep.parameters, sweep.metric]
        assert page.locator("#runs tr:has(td)").count() == len(sweep.runs)
        shot(page, "sweep_page_1280")
        page.set_viewport_size({"width": 1600, "height": 900})
        page.wait_for_timeout(300)
        shot(page, "sweep_page_1600")
