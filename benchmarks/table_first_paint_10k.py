"""RunTable in JupyterLab over 10,000 runs: display to first visible rows, then scroll, sort and
filter (the median of 5 of each), timed in Debian's chromium. Baseline: the same first page
read with the Api alone.

Run: ``python -m benchmarks.table_first_paint_10k`` (needs /usr/bin/chromium).
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np
from nbformat.v4 import new_code_cell, new_notebook

import lablens
from benchmarks import _lab
from benchmarks._common import best_of, emit, server
from lablens.store import open_store

PROJECT = "bench-table"
N = 10_000
REPEAT = 5
_SCROLL_ROWS = (5000, 7000, 3000, 9000, 1000)


def _runs() -> list[dict]:
    rng = np.random.default_rng(0)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return [
        {
            "id": f"r{i:06d}",
            "name": f"run-{i}",
            "config": {"lr": float(rng.random()), "layers": int(i % 5), "opt": f"opt{i % 3}"},
            "summary": {"loss": float(rng.random()), "acc": float(rng.random())},
            "created_at": t0 + dt.timedelta(seconds=i),
        }
        for i in range(N)
    ]


# Timed inside the page: the action runs in the browser, then the condition is checked on every
# animation frame; Playwright's own round trips are not counted.
_IN_PAGE = """async ([action, condition]) => {
  const t0 = performance.now();
  new Function(action)();
  while (!new Function("return (" + condition + ")")()) {
    await new Promise(r => requestAnimationFrame(r));
  }
  return performance.now() - t0;
}"""

# The wall-clock time (ms since the epoch) of the first frame in which a new table shows a data
# row. The kernel notes the wall-clock time its cell starts: same machine, same clock.
_WATCH_PAINT = """() => {
  const before = document.querySelectorAll('.ll-run-table').length;
  window.__llPaint = new Promise(resolve => {
    const check = () => {
      const tables = document.querySelectorAll('.ll-run-table');
      if (tables.length > before
          && tables[tables.length - 1].querySelector('.ll-row[data-path]')) {
        resolve(performance.timeOrigin + performance.now());
        return;
      }
      requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  });
}"""


def _ms(samples: list[float]) -> str:
    return " ".join(f"{x * 1000:.0f}" for x in samples)


def _timed(page, action: str, condition: str) -> float:
    """Seconds from a JS action to a JS condition being true, both run in the page."""
    return page.evaluate(_IN_PAGE, [action, condition]) / 1000


def main() -> None:
    runs = _runs()

    def seed(data: Path, username: str) -> None:
        store = open_store(data)
        from lablens.server.main import ensure_admin

        ensure_admin(store, data, allow_create=True)
        store.insert_runs(username, PROJECT, runs, username=username)
        store.close()

    with server(seed=seed) as srv, tempfile.TemporaryDirectory() as tmp:
        path = f"{srv.username}/{PROJECT}"
        api = lablens.Api(host=srv.url, api_key=srv.api_key)
        cols = ["name", "state", "config.lr", "config.layers", "summary.loss", "summary.acc"]
        baseline = best_of(lambda: api.runs(path).to_arrow(cols, limit=100))
        root = Path(tmp)
        nb = new_notebook(
            cells=[
                new_code_cell(
                    "import lablens\nfrom lablens.widgets import RunTable\n\n"
                    f"table = RunTable(lablens.Api(), path={path!r}, columns={cols!r})\ntable.total"
                )
            ]
        )
        nbformat.write(nb, root / "bench.ipynb")
        env = _lab.env_for_kernel(srv.url, srv.api_key)
        with _lab.jupyterlab(root, env) as lab, _lab.browser_page() as page:
            _lab.open_notebook(page, lab, "bench.ipynb")
            _lab.run_all(page)
            _lab.wait_idle(page)
            t0 = time.perf_counter()
            _lab.run_in_kernel(page, "table")
            page.wait_for_function(
                "document.querySelectorAll('.ll-row[data-path]').length > 0", polling="raf"
            )
            first = time.perf_counter() - t0  # typing the cell and the kernel included
            # A new table, from the start of the cell that makes and displays it (its queries,
            # the widget's view, the first page) to the first frame with rows.
            page.evaluate(_WATCH_PAINT)
            started = float(
                _lab.run_in_kernel(
                    page,
                    "import time; t0 = time.time(); fresh = RunTable(lablens.Api(), "
                    f"path={path!r}, columns={cols!r}); print(repr(t0)); display(fresh)",
                )
            )
            paint = page.evaluate("window.__llPaint") / 1000 - started
            last = "Array.from(document.querySelectorAll('.ll-run-table')).pop()"
            page.locator(".ll-run-table").last.scroll_into_view_if_needed()
            # Each action is timed REPEAT times; the median is reported (the machine is noisy).
            # "painted" is set by the view when rows of the current query arrive.
            fresh_rows = (
                f"Number({last}.dataset.painted) > window.__llT0 && {last}"
                ".querySelector('.ll-row[data-index=\"{row}\"][data-path]') !== null"
            )
            scroll = [
                _timed(
                    page,
                    f"window.__llT0 = performance.now(); {last}.querySelector('.ll-viewport')"
                    f".scrollTop = {row} * 26;",
                    fresh_rows.replace("{row}", str(row)),
                )
                for row in _SCROLL_ROWS
            ]
            sort = [
                _timed(
                    page,
                    f"window.__llT0 = performance.now(); {last}.querySelector("
                    "\".ll-h[data-column='summary.loss']\").click();",
                    fresh_rows.replace("{row}", "0"),
                )
                for _ in range(REPEAT)
            ]
            table = page.locator(".ll-run-table").last
            table.locator(".ll-filter-toggle").click()
            table.locator(".ll-add-cond").first.click()
            cond = table.locator(".ll-cond").last
            cond.locator(".ll-field").select_option("config.layers")
            value = f"{last}.querySelector('.ll-cond:last-of-type .ll-value')"
            # The fifth cell of a row is config.layers (after the check box, name, state, lr).
            layers = (
                f'{last}.querySelector(\'.ll-row[data-index="0"][data-path]'
                " .ll-cell:nth-child(5)')"
            )
            filt = [
                _timed(
                    page,
                    f"window.__llT0 = performance.now(); {value}.value = '{n}';"
                    f" {value}.dispatchEvent(new Event('change'));",
                    f"{fresh_rows.replace('{row}', '0')} && {layers}.textContent === '{n}'"
                    f" && {last}.querySelector('.ll-total').textContent === '2,000 runs'",
                )
                for n in (1, 2, 3, 4, 0)
            ]
        print(f"# scroll {_ms(scroll)}, sort {_ms(sort)}, filter {_ms(filt)} ms", file=sys.stderr)
        scroll, sort, filt = (statistics.median(x) for x in (scroll, sort, filt))
        emit("table_first_paint_10k", paint * 1000, "ms", baseline * 1000, 500)
        emit("table_first_paint_10k_first_display", first * 1000, "ms", baseline * 1000, 500)
        emit("table_scroll_10k", scroll * 1000, "ms", baseline * 1000, 100)
        emit("table_sort_10k", sort * 1000, "ms", baseline * 1000, 100)
        emit("table_filter_10k", filt * 1000, "ms", baseline * 1000, 100)


if __name__ == "__main__":
    main()
