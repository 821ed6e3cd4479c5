"""The import rules of docs/architecture.md, checked by import-linter on the real source.

The contracts live in pyproject.toml (``[tool.importlinter]``). The first test holds the code to
them; the others copy the package, add one forbidden import, and check that the same contracts
catch it, so the rules cannot silently stop checking anything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
LINT = Path(sys.executable).with_name("lint-imports")


def lint(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT), "--no-cache"],  # reads pyproject.toml in cwd
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_source_keeps_every_import_rule():
    result = lint(SRC)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package to break."""
    dest = tmp_path_factory.mktemp("src")
    shutil.copytree(SRC / "lablens", dest / "lablens", ignore=shutil.ignore_patterns("static"))
    return dest


# (the module that gets the import, the import, the contract that must catch it)
FORBIDDEN = [
    ("sdk/runs.py", "import lablens.api.api", "Client layers"),
    ("api/paging.py", "import lablens.widgets", "Client layers"),
    ("api/history.py", "import lablens.importers", "Client layers"),
    ("transport.py", "import lablens.sdk", "Client layers"),
    ("contract/routes.py", "import lablens.transport", "Client layers"),
    ("store/limits.py", "import lablens.server.app", "Server layers"),
    ("store/names.py", "import lablens.api", "do not import client code"),
    ("api/files.py", "import lablens.store.filters", "only over HTTP"),
    ("widgets/_base.py", "import lablens.transport", "Widgets know only the Api"),
    ("store/blobs/s3.py", "import lablens.store.embedded.store", "Blob stores keep bytes only"),
    ("store/postgres/_regex.py", "import lablens.store.embedded.store", "PostgreSQL engine"),
]


@pytest.mark.parametrize(("module", "line", "contract"), FORBIDDEN)
def test_a_forbidden_import_breaks_its_contract(copy, module, line, contract):
    target = copy / "lablens" / module
    original = target.read_text()
    target.write_text(original + f"\n{line}  # added by the test\n")
    try:
        result = lint(copy)
    finally:
        target.write_text(original)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken
    assert module.replace("/", ".").removesuffix(".py") in broken


def test_the_architecture_page_names_every_module():
    """docs/architecture.md maps every module, so a new one is placed (and named) on purpose."""
    page = (ROOT / "docs" / "architecture.md").read_text()
    package = SRC / "lablens"
    modules = [
        p.relative_to(package).as_posix()
        for p in package.rglob("*.py")
        if "static" not in p.parts and p.name != "__init__.py"
    ]
    assert len(modules) > 100
    missing = sorted(m for m in modules if f"`{m}`" not in page)
    assert not missing, f"docs/architecture.md does not name: {missing}"
