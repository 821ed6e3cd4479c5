"""ArtifactBrowser against a real server, with artifacts logged through the SDK."""

from __future__ import annotations

import base64

import pandas as pd
import pytest

import lablens
from lablens.sdk import init
from lablens.widgets import ArtifactBrowser

QUIET = {"system_interval": 0, "console": False}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def run_code(api, code: str) -> pd.DataFrame:
    scope = {"api": api}
    exec(code, scope)
    return scope["df"]


def same(api, browser: ArtifactBrowser) -> pd.DataFrame:
    df = browser.to_pandas()
    pd.testing.assert_frame_equal(run_code(api, browser.code), df)
    return df


@pytest.fixture
def logged(server, unique, tmp_path, api):
    """A project with a dataset (used by two runs) and a model logged by one of them."""
    files = tmp_path / "files"
    files.mkdir()
    (files / "notes.txt").write_text("\n".join(f"line {i}" for i in range(100)))
    (files / "table.csv").write_text("a,b\n" + "\n".join(f"{i},{i * i}" for i in range(50)))
    (files / "pixel.png").write_bytes(PNG)

    def start(name):
        return init(
            host=server.url,
            api_key=server.api_key,
            project=unique,
            name=name,
            settings=QUIET,
            dir=tmp_path / "runs",
        )

    producer = start("producer")
    data = lablens.Artifact("data", "dataset", metadata={"rows": 50})
    data.add_file(str(files / "table.csv"))
    data.add_file(str(files / "notes.txt"))
    data.add_file(str(files / "pixel.png"))
    data.add(pd.DataFrame({"x": [1, 2, 3]}), "small")
    producer.log_artifact(data, aliases=["gold"], tags=["raw"])
    producer.finish()
    consumer = start("consumer")
    consumer.use_artifact("data:latest")
    model = lablens.Artifact("net", "model", metadata={"acc": 0.9})
    model.add_file(str(files / "notes.txt"))
    consumer.log_artifact(model)
    consumer.finish()
    return {
        "project": f"{api.default_entity}/{unique}",
        "producer": producer.path,
        "consumer": consumer.path,
    }


def test_listings_are_lazy_and_code_reproduces(api, logged):
    project = logged["project"]
    b = ArtifactBrowser(api, path=project)
    types = same(api, b)
    assert sorted(types["type"]) == ["dataset", "model"]
    assert all("children" not in n for n in b._nodes)
    b.expand(f"{project}/dataset")
    collections = same(api, b)
    assert list(collections["name"]) == ["data"]
    b.expand(f"{project}/dataset/data")
    versions = same(api, b)
    assert list(versions["version"]) == ["v0"]
    assert "gold" in versions["aliases"][0] and versions["tags"][0] == "raw"
    assert versions["size"][0] > 0 and '"rows": 50' in versions["metadata"][0]
    b.expand(f"{project}/data:v0")
    files = same(api, b)
    assert sorted(files["path"]) == ["notes.txt", "pixel.png", "small.parquet", "table.csv"]
    assert b.error == ""
    b.expand("nope/nothing")
    assert "nope/nothing" in b.error


def test_previews_text_image_csv_and_parquet(api, logged):
    project = logged["project"]
    b = ArtifactBrowser(api, path=project)
    for path in (f"{project}/dataset", f"{project}/dataset/data", f"{project}/data:v0"):
        b.expand(path)
    calls = []
    b.on_api_call(calls.append)
    b.selected = f"{project}/data:v0/table.csv"
    p = b._preview
    assert p["kind"] == "table" and p["rows"] == 20
    assert "<td>19</td>" in p["html"] and "<td>361</td>" in p["html"]
    assert "<td>20</td>" not in p["html"]
    pd.testing.assert_frame_equal(
        b.preview_frame(b.selected), pd.DataFrame({"a": range(20), "b": [i * i for i in range(20)]})
    )
    assert calls and ".get('table.csv')" in calls[-1]
    assert b.preview(f"{project}/data:v0/small.parquet")["kind"] == "table"
    text = b.preview(f"{project}/data:v0/notes.txt")
    assert text["kind"] == "text" and text["text"].startswith("line 0\nline 1")
    assert "60 more lines" in text["text"]
    image = b.preview(f"{project}/data:v0/pixel.png")
    assert image["kind"] == "image" and image["url"].startswith("data:image/png;base64,")
    assert base64.b64decode(image["url"].split(",", 1)[1]) == PNG
    assert b.error == ""


def test_lineage_both_ways_and_run_selection(api, logged):
    project = logged["project"]
    b = ArtifactBrowser(api, path=project)
    b.expand(f"{project}/dataset")
    b.expand(f"{project}/dataset/data")
    b.selected = f"{project}/data:v0"
    d = b._detail
    assert d["logged_by"]["path"] == logged["producer"]
    assert [r["path"] for r in d["used_by"]] == [logged["consumer"]]
    assert "gold" in d["aliases"] and d["tags"] == ["raw"] and d["metadata"] == {"rows": 50}
    lineage = same(api, b)
    assert list(lineage["role"]) == ["logged_by", "used_by"]
    # The other way: the model was logged by the consumer, and nobody used it yet.
    df = b.lineage(f"{project}/net:v0")
    assert list(df["path"]) == [logged["consumer"]] and b._detail["used_by"] == []
    same(api, b)
    # A run clicked in the lineage view (the browser sets selected_run).
    b.selected_run = logged["producer"]
    assert b.selected_run == logged["producer"]


def test_download_and_errors(api, logged, tmp_path):
    project = logged["project"]
    b = ArtifactBrowser(api, path=project)
    calls = []
    b.on_api_call(calls.append)
    root = b.download(f"{project}/data:v0", tmp_path / "dl")
    assert (tmp_path / "dl" / "table.csv").read_text().startswith("a,b\n0,0")
    assert root == str(tmp_path / "dl")
    assert calls[-1].startswith(f"root = api.artifact('{project}/data:v0').download(")
    api.artifact(f"{project}/data:v0").verify(root)
    b.selected = f"{project}/net:v0"  # set from Python, its collection not opened
    assert b._detail["path"] == f"{project}/net:v0" and b._detail["metadata"] == {"acc": 0.9}
    b.selected = f"{project}/net:v0/notes.txt"
    assert b._preview["kind"] == "text"
    b.preview(f"{project}/data:v0/missing.txt")
    assert "missing.txt" in b.error
    with pytest.raises(TypeError, match="nope"):
        ArtifactBrowser(api, nope=1)


def test_explorer_shows_artifacts_and_lineage_selects_the_run(api, logged):
    from lablens.widgets import Explorer

    project = logged["project"]
    ex = Explorer(api, path=project)
    assert ex.artifacts in ex.children
    assert ex.artifacts.path == project
    assert sorted(ex.artifacts.to_pandas()["type"]) == ["dataset", "model"]
    assert any("api.artifact_types(" in a for a in ex.actions)
    ex.artifacts.expand(f"{project}/model")
    ex.artifacts.expand(f"{project}/model/net")
    ex.artifacts.selected = f"{project}/net:v0"
    assert any(".logged_by()" in a for a in ex.actions)
    # Clicking the producing run in the lineage view selects it in the table.
    ex.artifacts.selected_run = logged["consumer"]
    assert ex.table.selected == [logged["consumer"]]
    assert ex.panels.runs == [logged["consumer"]]


def test_long_listings_are_cut_and_code_says_so(api, logged, monkeypatch):
    from lablens.widgets import artifact_browser

    monkeypatch.setattr(artifact_browser, "_FILES_SHOWN", 2)
    project = logged["project"]
    b = ArtifactBrowser(api, path=project)
    b.selected = ""
    b._nodes = [{"path": f"{project}/data:v0", "label": "v0", "kind": "version"}]
    b.expand(f"{project}/data:v0")
    files = same(api, b)
    assert len(files) == 2
    children = b._nodes[0]["children"]
    assert children[-1]["kind"] == "more" and children[-1]["label"] == "… 2 more"


def test_preview_and_download_calls_run_again(api, logged, tmp_path):
    project = logged["project"]
    b = ArtifactBrowser(api, path=project)
    calls = []
    b.on_api_call(calls.append)
    b.preview(f"{project}/data:v0/table.csv")
    assert calls[-1] == f"df = api.artifact('{project}/data:v0').get('table.csv').head(20)"
    pd.testing.assert_frame_equal(run_code(api, calls[-1]), b.preview_frame(b._preview["path"]))
    text = b.preview(f"{project}/data:v0/notes.txt")
    scope = {"api": api}
    exec(calls[-1], scope)
    assert scope["data"].decode().splitlines()[:40] == text["text"].splitlines()[:40]
    b.download(f"{project}/data:v0", tmp_path / "dl")
    assert (
        calls[-1] == f"root = api.artifact('{project}/data:v0').download({str(tmp_path / 'dl')!r})"
    )
    exec(calls[-1].replace("dl'", "again'"), scope)
    assert (tmp_path / "again" / "table.csv").read_text() == (
        tmp_path / "dl" / "table.csv"
    ).read_text()
