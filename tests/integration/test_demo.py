"""The demo data that ``make demo`` builds, read back through plain HTTP."""

from __future__ import annotations

import io
import uuid

import numpy as np
import pytest

from lablens.api import Api
from lablens.demo import DATASET, MODEL, PREDICTIONS, build_demo, demo_configs, run_name
from lablens.demo.grid import demo_sweep, in_sweep
from lablens.transport import Transport


@pytest.fixture(scope="module")
def demo(server) -> tuple[Transport, str, str, list[str]]:
    """Three demo runs of four epochs in a project of their own: (http, entity, project, ids)."""
    project = "demo-" + uuid.uuid4().hex[:8]
    ids = build_demo(server.url, server.api_key, runs=3, epochs=4, project=project, progress=False)
    http = Transport(server.url, server.api_key)
    entity = http.get_json("/api/v1/viewer")["default_entity"]
    return http, entity, project, ids


def test_build_demo_stores_each_run_finished(demo):
    http, entity, project, ids = demo
    assert len(ids) == 3
    page = http.post_json(f"/api/v1/projects/{entity}/{project}/runs/query", {"limit": 50})
    assert page["total"] == 3
    assert sorted(run["id"] for run in page["items"]) == sorted(ids)
    assert {run["state"] for run in page["items"]} == {"FINISHED"}


def test_build_demo_logs_four_epochs_of_metrics(demo):
    http, entity, project, ids = demo
    table = http.post_arrow(
        f"/api/v1/projects/{entity}/{project}/history", {"runs": ids, "samples": None}
    )
    rows = table.to_pylist()
    for run_id in ids:
        mine = [r for r in rows if r["run_id"] == run_id]
        for key in ("train/loss", "train/acc", "val/loss", "val/acc"):
            steps = sorted(r["step"] for r in mine if r["key"] == key)
            assert steps == [1, 2, 3, 4], (run_id, key)
        accs = {r["step"]: r["value"] for r in mine if r["key"] == "val/acc"}
        assert all(0.0 <= v <= 1.0 for v in accs.values())
        run = http.get_json(f"/api/v1/projects/{entity}/{project}/runs/{run_id}")
        assert run["summary"]["val/acc"] == accs[4]  # the summary holds the last value


def test_build_demo_records_the_grid_as_config(demo):
    http, entity, project, ids = demo
    expected = demo_configs(3, epochs=4)
    for run_id, config in zip(ids, expected, strict=True):
        run = http.get_json(f"/api/v1/projects/{entity}/{project}/runs/{run_id}")
        assert run["name"] == run_name(config)
        assert run["config"] == config
        assert run["config"]["model"]["hidden"] == config["model"]["hidden"]
        assert run["job_type"] == "train"
        assert run["group"] == "h" + "x".join(map(str, config["model"]["hidden"]))
        assert "demo" in run["tags"]
        assert 1 <= run["summary"]["best/epoch"] <= 4
        assert run["summary"]["best/val_acc"] >= run["summary"]["val/acc"]


def test_build_demo_logs_weights_and_predictions_as_artifacts(demo, server):
    http, entity, project, ids = demo
    api = Api(host=server.url, api_key=server.api_key)
    models = list(api.artifacts("model", f"{entity}/{project}/{MODEL}"))
    assert [m.version for m in models] == ["v2", "v1", "v0"]
    for run_id, config in zip(ids, demo_configs(3, epochs=4), strict=True):
        run = api.run(f"{entity}/{project}/{run_id}")
        logged = {a.type: a for a in run.logged_artifacts()}
        assert sorted(logged) == ["model", "predictions"]
        assert [a.name for a in run.used_artifacts()] == [f"{DATASET}:v0"]
        model = logged["model"]
        assert model.metadata["run"] == run.name and model.logged_by().id == run_id
        weights = np.load(io.BytesIO(model.get_entry("weights.npz").read()))
        hidden = config["model"]["hidden"]
        assert weights["coef_0"].shape == (64, hidden[0])
        assert weights[f"coef_{len(hidden)}"].shape == (hidden[-1], 10)
        predictions = logged["predictions"].get("predictions")
        assert len(predictions) == 450
        assert predictions["correct"].mean() == pytest.approx(model.metadata["val_acc"])
        assert logged["predictions"].metadata["accuracy"] == model.metadata["val_acc"]
    best = api.artifact(f"{entity}/{project}/{MODEL}:best")
    assert best.metadata["val_acc"] == max(m.metadata["val_acc"] for m in models)
    dataset = api.artifact(f"{entity}/{project}/{DATASET}:latest", type="dataset")
    assert dataset.version == "v0" and dataset.logged_by() is None
    assert sorted(r.id for r in dataset.used_by()) == sorted(ids)
    table = dataset.get("digits")
    assert len(table) == 1797 and (table["split"] == "val").sum() == 450
    assert api.artifact(f"{entity}/{project}/{PREDICTIONS}:latest").type == "predictions"


def test_demo_grid_mixes_in_bad_settings():
    configs = demo_configs(20)
    assert len({run_name(c) for c in configs}) == 20
    assert [c["optim"]["name"] for c in configs].count("sgd") == 1
    assert all(c["optim"]["name"] == "adam" for c in configs[:3])


def test_build_demo_marks_the_diverging_run_crashed(server, unique):
    ids = build_demo(server.url, server.api_key, runs=8, epochs=60, project=unique, progress=False)
    http = Transport(server.url, server.api_key)
    entity = http.get_json("/api/v1/viewer")["default_entity"]
    page = http.post_json(f"/api/v1/projects/{entity}/{unique}/runs/query", {"limit": 50})
    states = {run["name"]: run["state"] for run in page["items"]}
    assert len(ids) == 8
    assert states.pop(run_name(demo_configs(8)[7])) == "CRASHED"
    assert set(states.values()) == {"FINISHED"}
    # Only the runs that finished logged weights and predictions; every run used the data.
    api = Api(host=server.url, api_key=server.api_key)
    assert len(api.artifacts("model", f"{entity}/{unique}/{MODEL}")) == 7
    assert len(api.artifact(f"{entity}/{unique}/{DATASET}:v0").used_by()) == 8


def test_demo_headless_leaves_its_runs_where_a_new_api_looks(tmp_path):
    """``make demo HEADLESS=1`` from a fresh LABLENS_HOME, then ``lablens.Api()`` in a new
    process lists the runs (a smaller grid than the demo's 20: the path is the same)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from lablens import _settings

    home = tmp_path / "home"
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "LABLENS_HOME": str(home)}
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    for name in ("LABLENS_HOST", "LABLENS_API_KEY"):
        env.pop(name, None)

    def child(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *argv], env=env, capture_output=True, text=True, timeout=600
        )

    demo = child("-m", "lablens", "demo", "--headless", "--runs", "3", "--epochs", "3")
    try:
        assert demo.returncode == 0, demo.stdout + demo.stderr
        info = json.loads((home / "server.json").read_text())
        assert info["data"] == str(home / "data")
        assert _settings.is_alive(info["url"])  # the local server stays for the next notebook
        last = demo.stdout.strip().splitlines()[-1]
        creds = json.loads((home / "credentials").read_text())["hosts"]
        entity = creds[info["url"]]["username"]
        assert last == (
            f"lablens demo: 3 runs in {entity}/digits-mlp on {info['url']}; in a new Python:"
            f" lablens.Api().runs('{entity}/digits-mlp')"
        )
        listed = child(
            "-c",
            "import lablens; runs = lablens.Api().runs('digits-mlp');"
            " print(sorted((r.name, r.state) for r in runs))",
        )
        assert listed.returncode == 0, listed.stderr
        expected = sorted((run_name(c), "FINISHED") for c in demo_configs(3, epochs=3))
        assert listed.stdout.strip() == str(expected)
    finally:
        child("-m", "lablens", "server", "stop")


def test_build_demo_runs_the_grid_as_a_sweep(server, unique):
    """The grid's runs are the trials of the sweep ``demo-grid``; the bad settings are not."""
    ids = build_demo(server.url, server.api_key, runs=5, epochs=2, project=unique, progress=False)
    api = Api(host=server.url, api_key=server.api_key)
    (sweep,) = list(api.sweeps(unique))
    assert (sweep.name, sweep.method, sweep.expected_run_count) == ("demo-grid", "grid", 18)
    assert sweep.config == demo_sweep()
    configs = demo_configs(5, epochs=2)
    by_id = {r.id: r for r in api.runs(unique)}
    assert sorted(by_id) == sorted(ids)
    for run_id, config in zip(ids, configs, strict=True):
        run = by_id[run_id]
        assert run.name == run_name(config) and run.config == config
        assert run.group == "h" + "x".join(map(str, config["model"]["hidden"]))
        assert run.job_type == "train" and "demo" in run.tags
        assert run.sweep_id == (sweep.id if in_sweep(config) else None)
    assert sweep.run_count == 4 and len(sweep.runs) == 4
    assert sweep.best_run().summary["val/acc"] == max(r.summary["val/acc"] for r in sweep.runs)
    # Built again with more runs, the demo goes on with the same sweep.
    more = build_demo(
        server.url,
        server.api_key,
        runs=7,
        epochs=2,
        project=unique,
        progress=False,
        skip={r.name for r in by_id.values()},
    )
    assert [api.run(f"{unique}/{i}").name for i in more] == [
        run_name(c) for c in demo_configs(7, epochs=2)[5:]
    ]
    assert [s.id for s in api.sweeps(unique)] == [sweep.id]
    assert sweep.load().run_count == 6
