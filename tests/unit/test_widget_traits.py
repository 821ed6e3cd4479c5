"""Each widget's TypeScript ``Model`` names the same synced traits as its Python class."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lablens.widgets import (
    ActionLog,
    ArtifactBrowser,
    MediaPanel,
    PanelGrid,
    RunTable,
    WorkspaceTree,
)

JS = Path(__file__).resolve().parents[2] / "js" / "src"
# Traits that ipywidgets/anywidget add to every widget; not ours to mirror.
FRAMEWORK = {
    "comm",
    "keys",
    "log",
    "layout",
    "tabbable",
    "tooltip",
    "_dom_classes",
    "_esm",
    "_css",
    "_anywidget_id",
}


def ts_model_keys(module: str) -> set[str]:
    text = (JS / f"{module}.ts").read_text()
    body = re.search(r"export interface Model \{(.*?)\n\}", text, re.S)
    assert body, f"{module}.ts has no `export interface Model`"
    return set(re.findall(r"^\s+(\w+)\??:", body.group(1), re.M))


@pytest.mark.parametrize(
    "cls",
    [RunTable, WorkspaceTree, ActionLog, ArtifactBrowser, MediaPanel, PanelGrid],
    ids=lambda c: c.__name__,
)
def test_ts_model_matches_python_traits(cls):
    synced = {
        name
        for name, trait in cls.class_traits(sync=True).items()
        if name not in FRAMEWORK and not name.startswith(("_model_", "_view_"))
    }
    assert ts_model_keys(cls._bundle) == synced
