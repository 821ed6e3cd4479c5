"""The run card in real JupyterLab (Debian's chromium through Playwright): ``lablens.init()`` in a
cell shows it, its sparklines grow while the cell logs, and ``finish()`` turns it into the run's
summary.

Screenshots go to ``test-output/browser/`` (``run_card_running_*``, ``run_card_finished_*``).
"""

from __future__ import annotations

import pytest
from benchmarks import _lab

from lablens.errors import NotFound
from lablens.sdk.run_card import format_value

PROJECT = "run-card"
STEPS = 40

TRAIN = (
    "import math, time\n"
    "import lablens\n"
    f"run = lablens.init(project={PROJECT!r}, name='card-demo', config={{'lr': 0.01}},\n"
    "                   settings={'system_interval': 0})\n"
    f"for i in range({STEPS}):\n"
    "    lablens.log({'loss': math.exp(-i / 10), 'acc': 1 - math.exp(-i / 8)})\n"
    "    time.sleep(0.25)\n"
)


@pytest.fixture(scope="module")
def lab(server, tmp_path_factory):
    root = tmp_path_factory.mktemp("lab-run-card")
    _lab.write_notebook(root / "train.ipynb", TRAIN)
    with _lab.jupyterlab(root, _lab.env_for_kernel(server.url, server.api_key)) as url:
        yield url


def spark_points(card, key: str) -> int:
    """How many points the sparkline of ``key`` draws now."""
    line = card.locator(f".ll-card-metric[data-key='{key}'] polyline")
    if line.count() == 0:
        return 0
    return len((line.get_attribute("points") or "").split())


def value(card, key: str) -> str:
    """The last value the card shows for ``key``."""
    return card.locator(f".ll-card-metric[data-key='{key}'] .ll-card-value").inner_text()


def wait_points(page, n: int) -> None:
    """Wait until the loss sparkline draws ``n`` points (redrawn by the card's own thread)."""
    page.wait_for_function(
        "n => { const l = document.querySelector(\".ll-run-card [data-key='loss'] polyline\");"
        " return l && l.getAttribute('points').trim().split(/\\s+/).length === n; }",
        arg=n,
        timeout=10_000,
    )


def running(page) -> bool:
    return "*" in page.locator(".jp-CodeCell .jp-InputPrompt").first.inner_text()


def test_the_card_shows_and_its_sparklines_grow_while_the_cell_logs(lab, api, shot):
    with _lab.browser_page(width=1280, height=900) as page:
        _lab.open_notebook(page, lab, "train.ipynb")
        _lab.run_all(page)
        card = page.locator(".ll-run-card").first
        card.wait_for()
        # Each redraw replaces the card's element: screenshots are of the cell's outputs.
        outputs = page.locator(".jp-CodeCell").first.locator(".jp-OutputArea")
        assert card.get_attribute("data-state") == "running"
        run_id = card.get_attribute("data-run")
        path = f"{api.default_entity}/{PROJECT}/{run_id}"
        assert "card-demo" in card.locator(".ll-card-name").inner_text()
        assert card.locator(".ll-card-project").inner_text() == f"in {api.default_entity}/{PROJECT}"
        link = card.locator("a.ll-card-link")
        # init() does not wait for the run's creation: it reaches the server with the first
        # points, a flush interval later.
        for _ in range(100):
            try:
                stored = api.run(path)
                break
            except NotFound:
                page.wait_for_timeout(100)
        assert link.get_attribute("href") == stored.url  # the link the Api prints

        # Two moments while the cell still runs: more points the second time.
        card.locator(".ll-card-metric[data-key='loss'] polyline").wait_for()
        first = spark_points(card, "loss")
        page.wait_for_timeout(2500)
        second = spark_points(card, "loss")
        assert running(page)
        assert 1 <= first < second < STEPS, (first, second)
        assert spark_points(card, "acc") >= second - 2  # logged together, drawn together
        shot(outputs, "run_card_running_1280")
        page.set_viewport_size({"width": 1600, "height": 900})
        shot(outputs, "run_card_running_1600")

        # After the cell: the last second's points are drawn too, by the card's own thread.
        _lab.wait_idle(page)
        wait_points(page, STEPS)
        assert card.get_attribute("data-state") == "running"

        # A later cell's log() calls show up on the same card.
        more = "for i in range(5):\n    lablens.log({'loss': 0.01, 'acc': 0.99})\nprint(run.step)"
        assert _lab.run_in_kernel(page, more) == str(STEPS + 5)
        wait_points(page, STEPS + 5)
        assert value(card, "loss") == "0.01"

        # finish(): the card becomes the run's summary.
        assert _lab.run_in_kernel(page, "lablens.finish(); print(lablens.run)") == "None"
        page.wait_for_function(
            "() => document.querySelector('.ll-run-card').dataset.state === 'finished'",
            timeout=10_000,
        )
        assert card.locator(".ll-card-state").inner_text() == "finished"
        assert card.locator(".ll-card-time").inner_text().startswith("ran ")
        stored = api.run(path)
        assert stored.state == "finished"
        values = {key: value(card, key) for key in ("loss", "acc")}
        assert values == {"loss": format_value(0.01), "acc": format_value(0.99)}
        assert values["loss"] == format_value(stored.summary["loss"])
        shot(outputs, "run_card_finished_1600")
        page.set_viewport_size({"width": 1280, "height": 900})
        shot(outputs, "run_card_finished_1280")
