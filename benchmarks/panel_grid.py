"""PanelGrid in JupyterLab: from a selection of 20 runs to 12 panels drawn with 20 lines each
(the median of 5), timed in Debian's chromium, for runs of 1,000 steps (read whole) and of
10,000 steps (sampled on the server to 1,000 points a series). Baseline: the same history read
with the Api alone.

The selection is the kernel setting ``grid.runs`` (what selecting rows in the explorer's table
does); the time runs from that assignment to the first frame in which every panel shows every
run: the runs' read, the history request, the buffers sent, and the canvas drawing.

Run: ``python -m benchmarks.panel_grid`` (needs /usr/bin/chromium).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

import nbformat
import numpy as np
import pyarrow as pa
from nbformat.v4 import new_code_cell, new_notebook

import lablens
from benchmarks import _lab
from benchmarks._common import best_of, emit, server
from lablens.transport import ARROW, Transport, table_to_ipc

PROJECT = "bench-panels"
KEYS = [
    *(f"train/{k}" for k in ("loss", "acc", "lr", "grad_norm")),
    *(f"val/{k}" for k in ("loss", "acc", "f1", "precision")),
    *(f"system/{k}" for k in ("gpu", "cpu")),
    "epoch",
    "throughput",
]
RUNS = 40  # two selections of 20, taken in turn, so no read is answered from a warm cache
SELECTED = 20
REPEAT = 5

# The wall-clock time (ms since the epoch) of the first frame in which the newest grid shows
# every panel with every run's line.
_WATCH = """([panels, lines, drawn]) => {
  window.__llDrawn = new Promise(resolve => {
    const check = () => {
      const grid = Array.from(document.querySelectorAll('.ll-panel-grid')).pop();
      const shown = grid ? Array.from(grid.querySelectorAll('.ll-panel')) : [];
      if (Number(grid && grid.dataset.drawn) > drawn && shown.length === panels
          && shown.every(p => Number(p.dataset.lines) === lines)) {
        resolve(performance.timeOrigin + performance.now());
        return;
      }
      requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  });
}"""


def _points(seed: int, n_steps: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    steps = np.arange(n_steps, dtype=np.int64)
    n = len(KEYS) * n_steps
    return pa.table(
        {
            "key": pa.array(np.repeat(KEYS, n_steps), pa.string()),
            "step": np.tile(steps, len(KEYS)),
            "timestamp": 1.7e9 + np.tile(steps, len(KEYS)) * 0.1,
            "value": np.cumsum(rng.normal(size=n)),
        }
    )


def _seed(t: Transport, entity: str, project: str, n_steps: int) -> list[str]:
    paths = []
    for i in range(RUNS):
        run_id = f"p{i:05d}"
        route = f"/api/v1/projects/{entity}/{project}/runs"
        t.post_json(route, {"id": run_id, "name": f"run-{i}", "config": {"lr": 0.1 * (i % 4)}})
        t.request(
            "POST",
            f"{route}/{run_id}/points",
            data=table_to_ipc(_points(i, n_steps)),
            headers={"Content-Type": ARROW},
        )
        t.patch_json(f"{route}/{run_id}", {"state": "FINISHED"})
        paths.append(f"{entity}/{project}/{run_id}")
    return paths


def _selection_to_drawn(page, selection: str) -> tuple[float, float]:
    """Seconds from the kernel's ``grid.runs = ...`` to the frame with every line drawn, and
    the part of it the kernel spent (its reads and the send)."""
    page.locator(".ll-panel-grid").first.scroll_into_view_if_needed()
    drawn = page.evaluate("Number(document.querySelector('.ll-panel-grid').dataset.drawn || 0)")
    page.evaluate(_WATCH, [len(KEYS), SELECTED, drawn])
    out = _lab.run_in_kernel(
        page, f"t0 = time.time(); grid.runs = {selection}; print(repr(t0), repr(time.time()))"
    )
    started, sent = map(float, out.split())
    done = page.evaluate("window.__llDrawn") / 1000
    received = (
        page.evaluate(
            "Number(Array.from(document.querySelectorAll('.ll-panel-grid')).pop().dataset.receivedAt)"
        )
        / 1000
    )
    print(
        f"#   kernel {1000 * (sent - started):.0f} ms, to the page {1000 * (received - sent):.0f}"
        f" ms, drawing {1000 * (done - received):.0f} ms",
        file=sys.stderr,
    )
    return done - started, sent - started


def main() -> None:
    with server() as srv, tempfile.TemporaryDirectory() as tmp:
        t = Transport(srv.url, srv.api_key, timeout=600)
        api = lablens.Api(host=srv.url, api_key=srv.api_key)
        cases = {}
        for n_steps in (1000, 10_000):
            project = f"{PROJECT}-{n_steps}"
            paths = _seed(t, srv.username, project, n_steps)
            ids = [p.rsplit("/", 1)[-1] for p in paths[:SELECTED]]
            samples = None if n_steps <= 1000 else 1000  # as the grid reads them
            cases[n_steps] = (
                paths,
                best_of(
                    lambda project=project, ids=ids, samples=samples: api.runs(
                        f"{srv.username}/{project}", filters={"id": {"$in": ids}}
                    ).histories(samples=samples, format="long")
                ),
            )
        root = Path(tmp)
        setup = "import time\nimport lablens\nfrom lablens.widgets import PanelGrid\n\n"
        for n_steps, (paths, _) in cases.items():
            setup += f"runs_{n_steps} = [{paths[:SELECTED]!r}, {paths[SELECTED:]!r}]\n"
        setup += "grid = PanelGrid(lablens.Api())\ngrid"
        nbformat.write(new_notebook(cells=[new_code_cell(setup)]), root / "bench.ipynb")
        env = _lab.env_for_kernel(srv.url, srv.api_key)
        results = {}
        with _lab.jupyterlab(root, env) as lab, _lab.browser_page(width=1600) as page:
            _lab.open_notebook(page, lab, "bench.ipynb")
            _lab.run_all(page)
            _lab.wait_idle(page)
            page.locator(".ll-panel-grid").first.wait_for()
            for n_steps in cases:
                # The first one warms the kernel's imports and the page's code up.
                timed = [
                    _selection_to_drawn(page, f"runs_{n_steps}[{i % 2}]") for i in range(REPEAT + 1)
                ][1:]
                results[n_steps] = timed
                total = " ".join(f"{a * 1000:.0f}" for a, _ in timed)
                kernel = " ".join(f"{b * 1000:.0f}" for _, b in timed)
                print(
                    f"# {n_steps} steps: selection to drawn {total} ms (kernel {kernel} ms)",
                    file=sys.stderr,
                )
        for n_steps, timed in results.items():
            emit(
                f"panel_grid_12x20_{n_steps // 1000}k_steps_drawn",
                statistics.median(a for a, _ in timed) * 1000,
                "ms",
                cases[n_steps][1] * 1000,
                300,
            )


if __name__ == "__main__":
    main()
