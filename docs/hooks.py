"""The docs site's build hook (mkdocs ``hooks:``): what the Markdown pages cannot do alone.

- The README becomes the home page, and the notebooks in ``notebooks/`` pages of their own
  (mkdocs-jupyter renders them, unexecuted), so the links between them work on GitHub and on the
  site alike: ``../README.md`` and ``../notebooks/x.ipynb`` are rewritten for the site.
- The reference pages name the public names through ``<!-- members ... -->`` markers, expanded
  from each package's ``__all__``, so a name added to ``__all__`` appears without a docs edit.
- The gallery shows the screenshots the browser tests leave in ``test-output/browser/`` (when
  there are any: the build never needs them).
- ``docs/cli.md`` and ``docs/compat.md`` join the nav when they exist.
- ``ExampleSections``, a griffe extension (``mkdocs.yml`` loads it for mkdocstrings), reads an
  ``Example:`` heading as griffe reads ``Examples:``: both are the Google style's, and griffe
  knows only the plural, which left every example as plain text.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import re
import sys
from pathlib import Path
from typing import Any

import griffe
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
# The site documents this checkout, whatever lablens the Python running mkdocs has installed.
sys.path.insert(0, str(ROOT / "src"))
# LABLENS_DOCS_SHOTS points the gallery at another folder of screenshots (the docs test uses it).
SHOTS = Path(os.environ.get("LABLENS_DOCS_SHOTS") or ROOT / "test-output" / "browser")
NOTEBOOKS = ROOT / "notebooks"
DOCS = ROOT / "docs"

# Pages that join the nav when present, each after the page it follows.
OPTIONAL_PAGES = [
    ("cli.md", "Command line", "quickstart.md"),
    ("compat.md", "W&B and SwanLab clients", "importers.md"),
]

# Captions of the screenshots the browser tests take, by file name (without ``.png``); a
# ``notebook7_`` prefix is the same view in Jupyter Notebook 7. Unknown names are captioned by
# their file name, so a new screenshot shows up before it has a caption here.
CAPTIONS = {
    "explorer_page": "The `Explorer` in JupyterLab: tree, run table, metric panels and action log.",
    "workspace_tree": "`WorkspaceTree`: workspaces and projects, with each project's run count.",
    "run_table": "`RunTable`: one row per run, with config and summary columns.",
    "run_table_filtered": "`RunTable` with a filter built in the widget "
    "(`config.optim.lr < ...`); the total follows.",
    "metric_chart": "`MetricChart`: the selected runs' curves, one line per run and metric.",
    "panel_grid": "`PanelGrid` in the explorer: a panel per metric the selected runs logged, "
    "in sections by prefix.",
    "panels_empty": "`PanelGrid` before a selection: a hint, not an empty plot.",
    "panels_hover": "`PanelGrid`: hovering shows every run's value at one step.",
    "panels_grid_1280": "`PanelGrid` at 1280 px: train and val sections, two panels a row.",
    "panels_grid_1600": "`PanelGrid` at 1600 px: the panels widen with the output.",
    "panels_page_1280": "The explorer at 1280 px with three runs selected in the panel grid.",
    "panels_page_1600": "The explorer at 1600 px with three runs selected in the panel grid.",
    "panels_live": "`PanelGrid` while a run is running: its curves grow, marked live.",
    "action_log": "The explorer's action log: the Python source of each `Api` call it made.",
    "artifact_preview": "`ArtifactBrowser`: a predictions table previewed from an artifact.",
    "artifact_lineage": "`ArtifactBrowser`: an artifact version with the run that logged it.",
    "artifact_run_selected": "Following the lineage selects the producing run in the run table.",
    "artifact_dataset_lineage": "`ArtifactBrowser`: the data set version, with every run "
    "that used it.",
    "compare_view_1280": "`CompareView` in the explorer: three runs side by side, the keys that "
    "differ highlighted and first (1280 px).",
    "compare_only_differences_1280": '`CompareView` with "only differences" ticked.',
    "compare_parallel_coordinates_1600": "`ParallelCoordinates` of the demo sweep: an axis per "
    "parameter (log axes for the learning rate), lines coloured by `val/acc`.",
    "compare_scatter_1600": "`ScatterPlot` of the demo sweep: a dot per run, hover names it.",
    "run_page_1280": "A run's page in the browser (its `url`): summary, config, a chart per "
    "metric.",
    "project_page_1280": "A project's page: sweeps, and the runs with their summary and the "
    "config that differs.",
    "run_page_signin_1280": "Signing in to the pages: an API key, or a username and password.",
    "media_panel_empty": "`MediaPanel` before any run is selected: what to do.",
    "media_panel_images_1280": "`MediaPanel` in the Explorer: three runs' misclassified digits "
    "at their last epoch, captioned with the prediction, at 1280 px.",
    "media_panel_images_1600": "`MediaPanel` after moving the step slider to epoch 3, at 1600 px.",
    "media_panel_full_size": "`MediaPanel`: a digit opened at full size, with its caption.",
    "media_panel_histograms": "`MediaPanel`: the first layer's weights over epochs as heat maps "
    "(x: epoch, y: weight, colour: count).",
    "media_panel_table": "`MediaPanel`: each run's confusion matrix at one epoch, paged.",
}

EXAMPLE = re.compile(r"^(\s*)Example:[ \t]*$", re.MULTILINE)
MEMBERS = re.compile(r"<!--\s*members\s+([\w.]+)\s*(?::\s*([^>]*?))?\s*-->")
GALLERY = "<!-- gallery -->"


def on_config(config: Any) -> Any:
    docs = Path(config["docs_dir"])
    nav = config["nav"]
    for page, title, after in OPTIONAL_PAGES:
        if (docs / page).exists() and not _in_nav(nav, page):
            _insert_after(nav, after, {title: page})
    return config


def _in_nav(nav: Any, page: str) -> bool:
    if isinstance(nav, list):
        return any(_in_nav(item, page) for item in nav)
    if isinstance(nav, dict):
        return any(_in_nav(v, page) for v in nav.values())
    return nav == page


def _insert_after(nav: list[Any], after: str, entry: dict[str, str]) -> bool:
    for i, item in enumerate(nav):
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if value == after:
            nav.insert(i + 1, entry)
            return True
        if isinstance(value, list) and _insert_after(value, after, entry):
            return True
    nav.append(entry)  # the page it follows is gone: keep the new page in the nav anyway
    return True


# Before mkdocs-jupyter's own on_files, which turns the notebook files into notebook pages.
@event_priority(100)
def on_files(files: Files, config: Any) -> Files:
    readme = ROOT / "README.md"
    if files.get_file_from_path("index.md") is None and readme.exists():
        files.append(File.generated(config, "index.md", abs_src_path=str(readme)))
    for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
        # A plain File read from the repository root: mkdocs-jupyter's wrapper does not carry a
        # generated file's source path over.
        files.append(
            File(
                f"notebooks/{notebook.name}",
                src_dir=str(ROOT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    for png in _screenshots():
        files.append(File.generated(config, f"gallery/{png.name}", abs_src_path=str(png)))
    # The hook itself lives in docs/ beside the pages but is no part of the site.
    hook = files.get_file_from_path("hooks.py")
    if hook is not None:
        files.remove(hook)
    return files


def _screenshots() -> list[Path]:
    return sorted(SHOTS.glob("*.png")) if SHOTS.is_dir() else []


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if page.file.src_uri == "index.md" and page.file.abs_src_path == str(ROOT / "README.md"):
        # The README's links are relative to the repository root.
        markdown = re.sub(r"\]\(docs/", "](", markdown)
    else:
        markdown = markdown.replace("](../README.md)", "](index.md)")
        markdown = markdown.replace("](../notebooks/", "](notebooks/")
    if GALLERY in markdown:
        markdown = markdown.replace(GALLERY, _gallery())
    return MEMBERS.sub(lambda m: _members(m.group(1), m.group(2)), markdown)


def _members(module_name: str, names: str | None) -> str:
    """``::: module.Name`` for the names a marker lists, in its order.

    A marker lists names of the module's ``__all__``; ``...`` stands for the rest of it, the names
    no marker in the docs lists (so a name added to ``__all__`` is documented somewhere);
    ``-Name`` leaves a name out of that rest, and ``-other.module`` every name that module
    defines. No words at all is ``...``. A listed name that is not in ``__all__`` stops the
    build: the page would document a name users cannot import from there.
    """
    module = importlib.import_module(module_name)
    public = list(module.__all__)
    words = (names or "...").split()
    listed = [w for w in words if not w.startswith("-") and w != "..."]
    left_out = {w[1:] for w in words if w.startswith("-") and "." not in w}
    for other in (w[1:] for w in words if w.startswith("-") and "." in w):
        left_out |= {n for n in public if hasattr(importlib.import_module(other), n)}
    unknown = [n for n in listed + sorted(left_out) if n not in public]
    if unknown:
        raise ValueError(f"{module_name}.__all__ has no {', '.join(unknown)}")
    chosen: list[str] = []
    for word in words:
        if word == "...":
            placed = _listed_names().get(module_name, set())
            chosen += [n for n in public if n not in placed and n not in left_out]
        elif not word.startswith("-"):
            chosen.append(word)
    return "\n\n".join(_member(module_name, name) for name in chosen) + "\n"


def _member(module_name: str, name: str) -> str:
    """mkdocstrings' ``::: module.name``; or, for a name griffe cannot follow (one the module
    makes in its ``__getattr__``), a heading of that name over the docs of what it is at run time
    (a function or class), else over what the module's docstring says of it."""
    if name in _static_members(module_name):
        return f"::: {module_name}.{name}"
    path = f"{module_name}.{name}"
    heading = f"## `{path}` {{ #{path} }}\n\n"
    module = importlib.import_module(module_name)
    value = getattr(module, name, None)
    if inspect.isfunction(value) or inspect.isclass(value):
        where = value.__module__
        if where.startswith("lablens.") and value.__qualname__ in _static_members(where):
            options = "    options:\n      show_root_heading: false\n      heading_level: 3"
            return f"{heading}::: {where}.{value.__qualname__}\n{options}"
    said = [p for p in (module.__doc__ or "").split("\n\n") if f"``{path}``" in p]
    text = " ".join(said[0].split()) if said else "Looked up each time it is used."
    return heading + text.replace("``", "`")


@functools.cache
def _static_members(module_name: str) -> frozenset[str]:
    """The names of a module that griffe can document: its own, and imports it can follow."""
    package = griffe.load("lablens", search_paths=[str(ROOT / "src")])
    try:
        module = package if module_name == "lablens" else package[module_name.split(".", 1)[1]]
    except KeyError:
        return frozenset()
    names = set()
    for name, member in module.members.items():
        try:
            if member.is_alias:
                member.final_target  # noqa: B018 - raises when griffe cannot follow the import
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue
        names.add(name)
    return frozenset(names)


def _listed_names() -> dict[str, set[str]]:
    """The names each module's markers list by name, over every page of the docs."""
    listed: dict[str, set[str]] = {}
    for page in DOCS.rglob("*.md"):
        for m in MEMBERS.finditer(page.read_text(encoding="utf-8")):
            words = (m.group(2) or "").split()
            names = {w for w in words if not w.startswith("-") and w != "..."}
            listed.setdefault(m.group(1), set()).update(names)
    return listed


def _gallery() -> str:
    shots = _screenshots()
    if not shots:
        return (
            '!!! note "No screenshots in this build"\n'
            "    The browser tests write them into `test-output/browser/`, and this page shows\n"
            "    the ones it finds there. Run them, then build the site again:\n\n"
            "    ```sh\n"
            "    .venv/bin/pytest tests/browser\n"
            "    make docs\n"
            "    ```\n\n"
            "    `make test` does both, in that order.\n"
        )
    known = [s for s in CAPTIONS if (SHOTS / f"{s}.png").exists()]
    order = known + sorted(
        s.stem for s in shots if s.stem not in CAPTIONS and not s.stem.startswith("notebook7_")
    )
    out = []
    for stem in order:
        out.append(_figure(stem, _caption(stem)))
    notebook7 = sorted(s.stem for s in shots if s.stem.startswith("notebook7_"))
    if notebook7:
        out.append("## In Jupyter Notebook 7\n\nThe same widgets in Notebook 7's interface.\n")
        for stem in notebook7:
            out.append(_figure(stem, _caption(stem.removeprefix("notebook7_"))))
    return "\n".join(out)


def _caption(stem: str) -> str:
    return CAPTIONS.get(stem) or stem.replace("_", " ").capitalize() + "."


def _figure(stem: str, caption: str) -> str:
    # Each picture links to itself at full size: the page column is narrower than a screenshot.
    src = f"gallery/{stem}.png"
    alt = caption.replace("`", "").replace("[", "").replace("]", "")
    return (
        f'<figure markdown="span">\n'
        f"  [![{alt}]({src}){{ loading=lazy }}]({src})\n"
        f'  <figcaption markdown="span">{caption}</figcaption>\n'
        f"</figure>\n"
    )


class ExampleSections(griffe.Extension):
    """Reads a docstring's ``Example:`` section as its ``Examples:`` (code, not Markdown text)."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
