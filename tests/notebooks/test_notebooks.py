"""Every notebook in ``notebooks/`` runs top to bottom against a real server holding demo data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lablens.demo import DEMO_PROJECT, build_demo, execute_notebook

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def demo_env(server) -> dict[str, str]:
    """The kernel's environment: the test server, its key, and demo data in ``digits-mlp``."""
    build_demo(server.url, server.api_key, runs=4, epochs=5, project=DEMO_PROJECT, progress=False)
    env = {**os.environ, "LABLENS_HOST": server.url, "LABLENS_API_KEY": server.api_key}
    if env.get("PYTHONPATH"):
        # The kernel runs in notebooks/: a relative PYTHONPATH (PYTHONPATH=src) must keep
        # naming the sources under test, not whatever lablens is installed.
        parts = env["PYTHONPATH"].split(os.pathsep)
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in parts if p)
    return env


def test_there_are_notebooks():
    assert any(path.name == "quickstart.ipynb" for path in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_errors(path: Path, demo_env: dict[str, str]):
    nb = execute_notebook(path, demo_env, timeout=120)
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code_cells, f"{path.name} has no code"
    for i, cell in enumerate(code_cells):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"cell {i} of {path.name}: {output}"
            if output.output_type == "stream" and output.name == "stderr":
                # Warnings (deprecations above all) show up here; they should be fixed, not shown.
                pytest.fail(f"cell {i} of {path.name} wrote to stderr:\n{output.text}")
        assert cell.get("outputs"), f"cell {i} of {path.name} showed nothing:\n{cell.source}"


def test_committed_notebooks_have_no_outputs():
    import nbformat

    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name
