"""What the browser tests share: the JupyterLab / Notebook 7 driver (``benchmarks/_lab.py``, the
one the benchmark uses), the skip without Debian's chromium, screenshots, and the quickstart's
demo data, trained once per session."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # benchmarks/_lab.py

from benchmarks import _lab  # noqa: E402

from lablens.demo import DEMO_PROJECT, build_demo  # noqa: E402

SHOTS = ROOT / "test-output" / "browser"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if Path(_lab.CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason="needs Debian's chromium (make test installs it)")
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(skip)


@pytest.fixture
def shot() -> Callable[..., None]:
    """``shot(target, name)``: a screenshot of a widget (a locator, scrolled into sight) or of
    the page into ``test-output/browser/<name>.png``."""

    def take(target: Any, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        if hasattr(target, "scroll_into_view_if_needed"):
            target.scroll_into_view_if_needed()
        target.screenshot(path=str(SHOTS / f"{name}.png"))

    return take


@pytest.fixture(scope="session")
def quickstart_demo(server: Any) -> str:
    """The demo project the quickstart notebook opens (6 runs of 5 epochs), trained once."""
    build_demo(server.url, server.api_key, runs=6, epochs=5, project=DEMO_PROJECT, progress=False)
    return DEMO_PROJECT


@pytest.fixture
def quickstart_dir(quickstart_demo: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of its own holding a copy of ``notebooks/quickstart.ipynb``."""
    root = tmp_path_factory.mktemp("quickstart")
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", root / "quickstart.ipynb")
    return root
