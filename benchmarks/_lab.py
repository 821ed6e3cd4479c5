"""JupyterLab or Notebook 7 on loopback driven by Debian's chromium (Playwright), for browser
tests and benches.

Both frontends render a notebook with the same DOM (``.jp-Notebook``, ``.jp-Cell``) and menus, so
one set of helpers drives either; only the server command and the notebook's URL differ.
Playwright never downloads a browser here: it launches ``/usr/bin/chromium``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lablens._settings import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


# The server module each frontend runs as, and where it opens a notebook.
APPS = {
    "lab": ("jupyterlab", "/lab/tree/{name}?token={token}&reset"),
    "notebook": ("notebook", "/notebooks/{name}?token={token}"),
}


@contextlib.contextmanager
def jupyter(root_dir: Path, env: dict[str, str], *, app: str = "lab") -> Iterator[str]:
    """Start JupyterLab (``app="lab"``) or Notebook 7 (``app="notebook"``) on 127.0.0.1 with a
    token; yield what `open_notebook` needs: ``"url|token"``, then ``"|notebook"`` for Notebook 7.
    """
    module = APPS[app][0]
    port, token = free_port(), secrets.token_hex(16)
    log = open(root_dir / f"{module}.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            module,
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root_dir}",
            "--allow-root",  # CI machines run as root
            # Notebook 7 serves JupyterLab's extension too, so these reach its news and update
            # handlers in both frontends: nothing leaves the machine.
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{module} did not start; see {log.name}") from None
                time.sleep(0.3)
        yield f"{url}|{token}" if app == "lab" else f"{url}|{token}|{app}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def jupyterlab(root_dir: Path, env: dict[str, str]) -> contextlib.AbstractContextManager[str]:
    """Start JupyterLab on 127.0.0.1 with a token (see `jupyter`)."""
    return jupyter(root_dir, env, app="lab")


@contextlib.contextmanager
def browser_page(width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A Playwright page in Debian's headless chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def open_notebook(page: Any, lab: str, name: str) -> None:
    """Open a notebook in the frontend `jupyter` started and wait for its kernel to be idle."""
    url, token, *app = lab.split("|")
    page.goto(url + APPS[app[0] if app else "lab"][1].format(name=name, token=token))
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible")
    # A notebook without a kernelspec asks which kernel to start: the default one.
    select = page.locator(".jp-Dialog").get_by_role("button", name="Select")
    with contextlib.suppress(Exception):
        select.wait_for(timeout=5_000)
        select.click()
    # The indicator reads "idle" before any kernel too (Notebook 7 shows it in its toolbar), so
    # the kernel's name must be there as well.
    page.wait_for_function(
        "() => document.querySelector(\".jp-Notebook-ExecutionIndicator[data-status='idle']\")"
        " && !Array.from(document.querySelectorAll('.jp-KernelName, .jp-Toolbar-kernelName'))"
        ".some(e => e.textContent.trim() === 'No Kernel')",
        timeout=90_000,
    )
    with contextlib.suppress(Exception):  # the "Jupyter news?" toast covers the widgets
        page.locator(".jp-toast-button", has_text="No").click(timeout=2_000)


def run_all(page: Any) -> None:
    """Run > Run All Cells, as a person would."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def wait_idle(page: Any, timeout: float = 120_000) -> None:
    """Wait until no cell is queued or running (``[*]``)."""
    page.wait_for_function(
        "() => !Array.from(document.querySelectorAll('.jp-InputPrompt'))"
        ".some(e => e.textContent.includes('*'))",
        timeout=timeout,
    )


def run_in_kernel(page: Any, code: str) -> str:
    """Append a cell with ``code``, run it, and return its output text (what the kernel says)."""
    cells = page.locator(".jp-Notebook .jp-Cell")
    last = cells.last
    if last.evaluate("c => c.classList.contains('jp-CodeCell')"):
        # In its code editor: a click at the cell's middle lands in its output, where a widget
        # may take it (a media panel's step slider moved to the middle).
        last.locator(".jp-InputArea-editor").first.click()
    else:
        last.click()  # a markdown cell: rendered, its middle is its text
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # a new cell below, in command mode
    page.keyboard.press("Enter")
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    wait_idle(page)
    # Shift+Enter on the last cell adds an empty one below; the cell run is the one before it.
    code_cells = page.locator(".jp-Notebook .jp-CodeCell")
    ran = code_cells.nth(code_cells.count() - 2)
    out = ran.locator(".jp-OutputArea-output").first
    out.wait_for(state="attached")
    return out.inner_text().strip()


def env_for_kernel(host: str, api_key: str) -> dict[str, str]:
    """The environment JupyterLab (and so the kernel) runs with: the server and this checkout."""
    src = str(Path(__file__).resolve().parents[1] / "src")
    path = os.environ.get("PYTHONPATH", "")
    return {
        **os.environ,
        "LABLENS_HOST": host,
        "LABLENS_API_KEY": api_key,
        "PYTHONPATH": f"{src}{os.pathsep}{path}" if path else src,
    }


def write_notebook(path: Path, *sources: str) -> Path:
    """A notebook at ``path`` with one code cell per source, not yet run, for a Python 3 kernel."""
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": f"cell{i}",
            "metadata": {},
            "outputs": [],
            "source": source,
        }
        for i, source in enumerate(sources)
    ]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": kernel},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook))
    return path
