"""The docs site (``mkdocs.yml``): the strict build passes, its reference has every public name,
its gallery shows the screenshots it is given, the notebooks and the README are pages, and
``docs/http.md`` lists the server's routes."""

from __future__ import annotations

import html
import importlib.util
import os
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

import lablens
import lablens.api
import lablens.errors
import lablens.widgets

ROOT = Path(__file__).parents[2]


def _png(rgb: tuple[int, int, int]) -> bytes:
    """A one-pixel PNG of that colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes([0, *rgb]))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


SHOTS = {
    "run_table": (255, 0, 0),
    "zz_new_view": (0, 255, 0),
    "notebook7_metric_chart": (0, 0, 255),
}


def _hooks() -> Any:
    """``docs/hooks.py``, the build hook, as a module."""
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    return hooks


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots for the gallery: one it has a caption for, one it has not, one of Notebook 7."""
    folder = tmp_path_factory.mktemp("shots")
    for name, rgb in SHOTS.items():
        (folder / f"{name}.png").write_bytes(_png(rgb))
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, shots: Path) -> Path:
    """The site, built once with ``mkdocs build --strict`` as ``make docs`` does."""
    out = tmp_path_factory.mktemp("site")
    env = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "LABLENS_DOCS_SHOTS": str(shots),
        # The reference is of this checkout's source, whichever lablens is installed.
        "PYTHONPATH": os.pathsep.join(
            p for p in [str(ROOT / "src"), os.environ.get("PYTHONPATH")] if p
        ),
    }
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    problems = [line for line in done.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert done.returncode == 0, "\n".join(problems) or done.stderr[-3000:]
    assert problems == []
    return out


def _anchors(site: Path) -> set[str]:
    ids: set[str] = set()
    for page in (site / "reference").rglob("index.html"):
        ids |= set(re.findall(r'<h[2-6] id="([^"]+)"', page.read_text()))
    return ids


def test_reference_has_every_public_name(site: Path):
    anchors = _anchors(site)
    # `lablens.X` is documented where X lives: on the `lablens` page, or with the Api's
    # resources (lablens.Api is lablens.api.Api), or with the exceptions.
    missing = [
        n
        for n in lablens.__all__
        if not {f"lablens.{n}", f"lablens.api.{n}", f"lablens.errors.{n}"} & anchors
    ]
    missing += [
        f"lablens.api.{n}" for n in lablens.api.__all__ if f"lablens.api.{n}" not in anchors
    ]
    missing += [
        f"lablens.widgets.{n}"
        for n in lablens.widgets.__all__
        if f"lablens.widgets.{n}" not in anchors
    ]
    errors = [
        n
        for n, v in vars(lablens.errors).items()
        if isinstance(v, type) and issubclass(v, Exception) and not n.startswith("_")
    ]
    missing += [f"lablens.errors.{n}" for n in errors if f"lablens.errors.{n}" not in anchors]
    assert not missing, f"not in the site's reference: {missing}"
    # The W&B aliases are documented as such, not only present.
    assert {"lablens.errors.CommError", "lablens.errors.Error"} <= anchors
    # What lablens.init() returns, and the current run the SDK module looks up on access.
    assert {"lablens.sdk.Run", "lablens.sdk.Run.log", "lablens.sdk.run"} <= anchors


def test_reference_documents_members_and_examples(site: Path):
    api_page = (site / "reference" / "api" / "index.html").read_text()
    # Api is put together from parts in private modules; their methods are on its page.
    for method in ("runs", "run", "projects", "artifact", "create_report", "sweep", "user"):
        assert f'id="lablens.api.Api.{method}"' in api_page, method
    # An `Example:` section renders as code, not as Markdown text.
    runs_page = (site / "reference" / "runs" / "index.html").read_text()
    run = runs_page.split('id="lablens.api.Run"', 1)[1]
    assert (
        '<span class="n">run</span><span class="o">.</span><span class="n">history</span>'
        in (run.split('id="lablens.api.Run.', 1)[0])
    )


def test_gallery_shows_the_screenshots_with_captions(site: Path, shots: Path):
    page = (site / "gallery" / "index.html").read_text()
    figures = re.findall(r"<figure>(.*?)</figure>", page, flags=re.S)
    assert len(figures) == 3
    srcs = [re.search(r'<img [^>]*src="([^"]+)"', f).group(1) for f in figures]
    # Relative to the page (gallery/index.html): the copies sit beside it.
    names = ["run_table.png", "zz_new_view.png", "notebook7_metric_chart.png"]
    assert [(site / "gallery" / src).resolve() for src in srcs] == [
        (site / "gallery" / n).resolve() for n in names
    ]
    for name in names:
        assert (site / "gallery" / name).read_bytes() == (shots / name).read_bytes()
    captions = [
        html.unescape(re.sub(r"<[^>]+>", "", f.split("<figcaption>", 1)[1])) for f in figures
    ]
    assert captions[0].startswith("RunTable: one row per run")
    assert "<code>RunTable</code>" in figures[0]
    assert captions[1].strip() == "Zz new view."
    assert captions[2].startswith("MetricChart:")
    assert page.index("In Jupyter Notebook 7") < page.index("notebook7_metric_chart.png")


def test_gallery_without_screenshots_says_how_to_make_them(tmp_path: Path, monkeypatch):
    hooks = _hooks()
    monkeypatch.setattr(hooks, "SHOTS", tmp_path / "none")
    text = hooks._gallery()
    assert "pytest tests/browser" in text and "make docs" in text and "<figure" not in text


def test_notebooks_and_readme_are_pages(site: Path):
    for name in sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb")):
        page = (site / "notebooks" / name / "index.html").read_text()
        assert "lablens" in page and 'class="jp-Notebook"' in page, name
    home = (site / "index.html").read_text()
    assert "make demo" in home
    # The README's links to docs/*.md point at the site's pages.
    assert 'href="quickstart/"' in home and 'href="docs/' not in home
    quickstart = (site / "quickstart" / "index.html").read_text()
    assert 'href="../notebooks/quickstart/"' in quickstart


def test_optional_pages_join_the_nav_when_present(tmp_path: Path):
    hooks = _hooks()
    nav = [
        {"Home": "index.md"},
        {"Quickstart": "quickstart.md"},
        {"Guides": [{"I": "importers.md"}]},
    ]
    assert hooks.on_config({"docs_dir": str(tmp_path), "nav": nav})["nav"] == nav
    (tmp_path / "cli.md").write_text("# Command line\n")
    (tmp_path / "compat.md").write_text("# Compat\n")
    hooks.on_config({"docs_dir": str(tmp_path), "nav": nav})
    assert nav[2] == {"Command line": "cli.md"}
    assert nav[3]["Guides"] == [{"I": "importers.md"}, {"W&B and SwanLab clients": "compat.md"}]


def test_http_page_lists_every_route(tmp_path: Path):
    """docs/http.md's route table is the server's own (``/openapi.json``), no more, no less."""
    from lablens.server.app import create_app
    from lablens.store import open_store

    store = open_store(tmp_path)
    try:
        spec = create_app(store).openapi()
    finally:
        store.close()
    served = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, operations in spec["paths"].items()
        for method in operations
        if path == "/health" or path.startswith("/api/v1/")
    }
    page = (ROOT / "docs" / "http.md").read_text()
    rows = re.findall(r"^\| ([A-Z, ]+) \| `([^`]+)` \|", page, flags=re.M)
    listed = {
        (method.strip(), re.sub(r"\{[^}]+\}", "{}", path))
        for methods, path in rows
        for method in methods.split(",")
    }
    assert len(served) > 60
    assert sorted(served - listed) == [], "routes docs/http.md does not list"
    assert sorted(listed - served) == [], "routes docs/http.md lists that the server lacks"


def test_names_made_on_lookup_get_a_heading_and_their_docs():
    """A name a module makes in its ``__getattr__`` (griffe cannot follow it) still gets its
    anchor: over the docs of the function or class it is, else over what the module says of it."""
    hooks = _hooks()
    run = hooks._member("lablens.sdk", "run")
    assert run.startswith("## `lablens.sdk.run` { #lablens.sdk.run }")
    assert "the current run" in run and ":::" not in run
    artifact = hooks._member("lablens.sdk", "Artifact")
    assert artifact.startswith("## `lablens.sdk.Artifact` { #lablens.sdk.Artifact }")
    assert "::: lablens.sdk.artifacts.Artifact\n" in artifact
    assert hooks._member("lablens", "init") == "::: lablens.init"
