"""The media panel in real JupyterLab (Debian's chromium through Playwright), inside the Explorer
on the quickstart's demo: select runs, see their misclassified digits side by side, move the step
slider, open a digit at full size, then the weight histograms' heat map and the confusion table.

Screenshots go to ``test-output/browser/`` (``media_panel_*``, at 1280 and 1600 px wide).
"""

from __future__ import annotations

import json
import re

import pytest
from benchmarks import _lab
from playwright.sync_api import expect

from lablens.demo import DEMO_PROJECT

CELL = (
    "import lablens\n"
    "from lablens.widgets import Explorer\n"
    "api = lablens.Api()\n"
    f"explorer = Explorer(api, path=f'{{api.default_entity}}/{DEMO_PROJECT}')\n"
    "explorer"
)
KEY = "val/misclassified"


@pytest.fixture(scope="module")
def lab(server, quickstart_demo, tmp_path_factory):
    root = tmp_path_factory.mktemp("lab-media")
    _lab.write_notebook(root / "media.ipynb", CELL)
    with _lab.jupyterlab(root, _lab.env_for_kernel(server.url, server.api_key)) as url:
        yield url


def kernel_json(page, expr: str):
    """The value of ``expr`` in the kernel, through JSON."""
    return json.loads(_lab.run_in_kernel(page, f"import json; print(json.dumps({expr}))"))


def captions_by_run(panel) -> dict[str, list[str]]:
    """The captions under the thumbnails, per run column (by run id)."""
    return panel.locator(".ll-mp-col").evaluate_all(
        "cols => Object.fromEntries(cols.map(c => [c.dataset.run.split('/').pop(),"
        " Array.from(c.querySelectorAll('figcaption'), f => f.textContent)]))"
    )


def kernel_captions(page) -> dict[str, list[str]]:
    """The captions of the images the kernel's panel shows, per run id (a run with none
    shown: an empty list, as its column)."""
    return kernel_json(
        page,
        "{c['id']: [r.caption for r in explorer.media.to_pandas().itertuples()"
        " if r.run_id == c['id']] for c in explorer.media._columns}",
    )


def wait_step(page, step: int) -> None:
    page.wait_for_function(
        "s => { const g = document.querySelector('.ll-media-panel .ll-mp-grid');"
        " return g && g.dataset.step === String(s) && g.dataset.type === 'image'; }",
        arg=step,
    )


def test_media_panel_in_the_explorer(lab, api, shot):
    project = f"{api.default_entity}/{DEMO_PROJECT}"
    with _lab.browser_page(width=1280) as page:
        _lab.open_notebook(page, lab, "media.ipynb")
        _lab.run_all(page)
        _lab.wait_idle(page)
        panel = page.locator(".ll-media-panel").first
        panel.wait_for(state="attached")
        panel.scroll_into_view_if_needed()
        # Nothing selected yet: the panel says what to do.
        empty = panel.locator(".ll-mp-empty-no-runs")
        empty.wait_for()
        assert "select runs" in empty.inner_text()
        shot(panel, "media_panel_empty")

        # Select three rows of the run table: three columns, one per run, in its colour.
        table = page.locator(".ll-run-table").first
        table.scroll_into_view_if_needed()
        rows = table.locator(".ll-row[data-path]")
        rows.first.wait_for()
        chosen = [rows.nth(i).get_attribute("data-path") for i in range(3)]
        for i in range(3):
            rows.nth(i).click()
        table.locator(".ll-selcount").filter(has_text="3 selected").wait_for()
        panel.scroll_into_view_if_needed()
        page.wait_for_function(
            "n => document.querySelectorAll('.ll-media-panel .ll-mp-col').length === n", arg=3
        )
        assert sorted(
            panel.locator(".ll-mp-col").evaluate_all("cs => cs.map(c => c.dataset.run)")
        ) == sorted(chosen)
        names = {r.path: r.name for r in api.runs(project)}
        heads = panel.locator(".ll-mp-col .ll-mp-name").all_inner_texts()
        assert sorted(heads) == sorted(names[p] for p in chosen)
        swatches = panel.locator(".ll-mp-swatch").evaluate_all(
            "ss => ss.map(s => getComputedStyle(s).backgroundColor)"
        )
        assert len(set(swatches)) == 3

        # The last epoch (5) is shown first; the key picker offers the demo's three keys.
        wait_step(page, 5)
        assert panel.locator(".ll-mp-key").input_value() == KEY
        options = panel.locator(".ll-mp-key option").evaluate_all("os => os.map(o => o.value)")
        assert options == [KEY, "val/confusion", "weights/layer1"]
        assert panel.locator(".ll-mp-step").inner_text() == "step 5 · 5 of 5"
        # Thumbnails: the 32x32 digits, loaded, captioned as the kernel read them.
        thumbs = panel.locator(".ll-mp-thumb img")
        thumbs.first.wait_for()
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.ll-media-panel .ll-mp-thumb img'))"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        sizes = thumbs.evaluate_all("is => is.map(i => [i.naturalWidth, i.naturalHeight])")
        assert sizes and all(s == [32, 32] for s in sizes)
        shown = captions_by_run(panel)
        assert shown == kernel_captions(page)
        assert all(re.fullmatch(r"pred \d / true \d", c) for cs in shown.values() for c in cs)
        assert all(len(cs) <= 8 for cs in shown.values())
        panel.scroll_into_view_if_needed()
        page.mouse.move(0, 0)  # no hover outline in the picture
        shot(panel, "media_panel_images_1280")

        # Back two steps with the buttons and the slider: the label, the images and the
        # kernel's step move together.
        panel.locator(".ll-mp-prev").click()
        wait_step(page, 4)
        # A click in the middle of the slider's track: the middle of five stops, epoch 3.
        box = panel.locator(".ll-mp-slider").bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        wait_step(page, 3)
        assert panel.locator(".ll-mp-step").inner_text() == "step 3 · 3 of 5"
        assert kernel_json(page, "explorer.media.step") == 3
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.ll-media-panel .ll-mp-thumb img'))"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        at_3 = captions_by_run(panel)
        assert at_3 == kernel_captions(page)
        first = {r.path: r for r in api.runs(project)}[chosen[0]]
        assert at_3[first.id] == [i.caption for i in first.media(KEY, steps=3)]
        assert "if item.step == 3]" in _lab.run_in_kernel(page, "print(explorer.media.code)")

        # A click opens the digit at full size, with its caption.
        thumb = panel.locator(".ll-mp-thumb img").first
        caption = panel.locator(".ll-mp-thumb figcaption").first.inner_text()
        thumb.click()
        viewer = panel.locator(".ll-mp-viewer")
        viewer.wait_for()
        page.wait_for_function(
            "() => document.querySelector('.ll-media-panel .ll-mp-viewer').dataset.full === 'true'"
        )
        big = viewer.locator("img")
        page.wait_for_function(
            "() => document.querySelector('.ll-media-panel .ll-mp-viewer img').naturalWidth > 0"
        )
        assert big.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [32, 32]
        expect(viewer.locator(".ll-mp-viewer-caption")).to_have_text(caption)
        assert viewer.locator(".ll-mp-viewer-size").inner_text().startswith("32 × 32 px")
        shot(panel, "media_panel_full_size")
        page.keyboard.press("Escape")
        viewer.wait_for(state="hidden")

        # The weight histograms over every epoch, as heat maps; no step slider for them.
        panel.locator(".ll-mp-key").select_option("weights/layer1")
        page.wait_for_function(
            "() => document.querySelector('.ll-media-panel .ll-mp-grid').dataset.type"
            " === 'histogram'"
        )
        canvases = panel.locator(".ll-mp-col canvas")
        assert canvases.count() == 3
        assert canvases.evaluate_all("cs => cs.map(c => c.dataset.steps)") == ["5"] * 3
        assert all(int(n) >= 5 for n in canvases.evaluate_all("cs => cs.map(c => c.dataset.rects)"))
        assert not panel.locator(".ll-mp-slider").is_visible()
        shot(panel, "media_panel_histograms")

        # The confusion matrix, paged like the run table (10 rows: one page).
        panel.locator(".ll-mp-key").select_option("val/confusion")
        page.wait_for_function(
            "() => document.querySelector('.ll-media-panel .ll-mp-grid').dataset.type === 'table'"
        )
        tables = panel.locator(".ll-mp-table")
        assert tables.count() == 3
        head = tables.first.locator("tr").first.locator("th").all_inner_texts()
        assert head == ["true", *(f"p{d}" for d in range(10))]
        assert tables.first.locator("tr").count() == 11
        assert tables.first.locator(".ll-mp-rows").inner_text() == "rows 1–10 of 10"
        shot(panel, "media_panel_table")

        # Wider: the images again at 1600 px.
        page.set_viewport_size({"width": 1600, "height": 1000})
        panel.locator(".ll-mp-key").select_option(KEY)
        wait_step(page, 3)
        panel.scroll_into_view_if_needed()
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.ll-media-panel .ll-mp-thumb img'))"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        page.mouse.move(0, 0)
        shot(panel, "media_panel_images_1600")
        stderr = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        assert page.locator(stderr).count() == 0
