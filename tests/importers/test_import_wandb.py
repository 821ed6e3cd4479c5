"""W&B: runs logged by wandb in offline mode inside the test, imported, read back exactly."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from lablens.importers import wandb as wandb_importer

wandb = pytest.importorskip("wandb")
datastore = pytest.importorskip("wandb.sdk.internal.datastore")
from wandb.proto import wandb_internal_pb2  # noqa: E402

LOSS = [2.5, 1 / 3, math.nan, math.inf, 1e-300, 0.1 + 0.2]


@pytest.fixture(scope="module")
def wandb_logs(tmp_path_factory):
    """Two offline runs, logged once for the module (each wandb.init starts wandb's service):
    a finished one with every kind of field, and a crashed one."""
    import uuid

    base = tmp_path_factory.mktemp("wandb")
    project = "w" + uuid.uuid4().hex[:10]
    settings = wandb.Settings(x_disable_stats=True, console="off")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WANDB_DIR", str(base))
        mp.chdir(base)
        run = wandb.init(
            project=project,
            mode="offline",
            dir=str(base),
            name="mlp",
            config={"lr": 0.01, "model": {"hidden": [64, 32]}, "optim": "adam"},
            tags=["baseline", "cpu"],
            notes="first try",
            group="sweep-1",
            job_type="train",
            settings=settings,
        )
        for i, v in enumerate(LOSS):
            run.log({"loss": v, "acc": {"top1": i / 10, "top5": True}, "phase": "train"})
        run.log({"val/loss": 0.5}, step=10)
        run.log({"img": wandb.Image(np.zeros((4, 4, 3), dtype=np.uint8))}, step=11)
        run.config.update({"epochs": 3})
        run.summary["best_loss"] = 0.25
        run.summary["note"] = "ok"
        run.finish()
        crashed = wandb.init(
            project=project, mode="offline", dir=str(base), name="bad", settings=settings
        )
        crashed.log({"loss": 9.0})
        crashed.finish(exit_code=3)
        # wandb's service writes the logs in another process: stopping it flushes them.
        wandb.teardown()
    return base / "wandb", project, run.id, crashed.id


@pytest.fixture
def wandb_dir(wandb_logs, tmp_path):
    """A copy of the module's runs that a test may damage."""
    root, project, run_id, crashed_id = wandb_logs
    shutil.copytree(root, tmp_path / "wandb", symlinks=True)
    return tmp_path / "wandb", project, run_id, crashed_id


def history_rows(run_dir):
    """Each history row of a run as wandb recorded it: (step, _timestamp, row)."""
    (log,) = run_dir.glob("run-*.wandb")
    store = datastore.DataStore()
    store.open_for_scan(str(log))
    rows = []
    while (data := store.scan_data()) is not None:
        record = wandb_internal_pb2.Record()
        record.ParseFromString(data)
        if record.WhichOneof("record_type") == "history":
            row = {
                ".".join(i.nested_key) or i.key: json.loads(i.value_json)
                for i in record.history.item
            }
            rows.append((row["_step"], row["_timestamp"], row))
    store.close()
    return rows


def same(a, b):
    return (isinstance(a, float) and math.isnan(a) and math.isnan(b)) or a == b


def test_wandb_offline_round_trip_is_exact(api, make_project, wandb_dir):
    root, unique, run_id, crashed_id = wandb_dir
    make_project(unique)  # the runs' own W&B project; the fixture deletes them afterwards

    report = wandb_importer.import_(root, api=api, progress=False)

    assert report.problems == []
    assert sorted(report.runs) == sorted(
        f"{api.default_entity}/{unique}/{i}" for i in (run_id, crashed_id)
    )
    run = api.run(f"{unique}/{run_id}")
    assert run.name == "mlp" and run.notes == "first try"
    assert run.tags == ["baseline", "cpu"] and run.group == "sweep-1" and run.job_type == "train"
    assert run.config == {"lr": 0.01, "model": {"hidden": [64, 32]}, "optim": "adam", "epochs": 3}
    assert run.state == "finished"
    assert run.metadata["source"]["type"] == "wandb"
    assert run.metadata["source"]["id"] == run_id

    # every history row: each number at the row's _step and _timestamp, exactly
    (run_dir,) = root.glob(f"offline-run-*-{run_id}")
    rows = history_rows(run_dir)
    assert len(rows) == len(LOSS) + 2
    expect: dict[str, list] = {}
    for step, ts, row in rows:
        for key in ("loss", "acc.top1", "acc.top5", "val/loss"):
            if key in row:
                value = float(row[key])
                expect.setdefault(key, []).append((step, ts, value))
    assert set(run.history_keys) == set(expect)  # strings and media are not metrics
    for key, points in expect.items():
        got = run.history(samples=None, keys=[key])
        assert got["_step"].tolist() == [p[0] for p in points]
        assert got["_timestamp"].tolist() == [p[1] for p in points]
        assert all(same(g, p[2]) for g, p in zip(got[key].tolist(), points, strict=True))
    assert [p[2] for p in expect["loss"]][:2] == LOSS[:2]
    assert report.points == sum(len(p) for p in expect.values()) + 1

    assert run.summary["best_loss"] == 0.25 and run.summary["note"] == "ok"
    assert run.summary["val/loss"] == 0.5
    names = {f.name for f in run.files()}
    assert "requirements.txt" in names
    assert any(n.startswith("media/images/") and n.endswith(".png") for n in names)

    crashed = api.run(f"{unique}/{crashed_id}")
    assert crashed.state == "crashed"
    assert crashed.json()["exit_code"] == 3
    assert crashed.history(samples=None)["loss"].tolist() == [9.0]


def test_wandb_reimport_adds_nothing(api, make_project, wandb_dir):
    root, _, run_id, _ = wandb_dir
    unique = make_project().name
    first = wandb_importer.import_(root, project=unique, api=api, progress=False)
    keys = api.run(f"{unique}/{run_id}").history_keys

    again = wandb_importer.import_(root, project=unique, api=api, progress=False)

    assert first.points > 0 and again.points == 0 and again.files == 0
    assert api.run(f"{unique}/{run_id}").history_keys == keys


def test_truncated_wandb_log_is_reported_and_the_rest_imported(api, make_project, wandb_dir):
    root, _, run_id, crashed_id = wandb_dir
    unique = make_project().name
    (log,) = root.glob(f"offline-run-*-{run_id}/run-*.wandb")
    data = log.read_bytes()
    log.write_bytes(data[: len(data) // 2])  # a run cut off half way

    report = wandb_importer.import_(root, project=unique, api=api, progress=False)

    assert [p.path for p in report.problems] == [str(log.resolve())]
    assert len(report.runs) == 2  # the damaged run's readable part, and the other run whole
    cut = api.run(f"{unique}/{run_id}")
    assert cut.config["lr"] == 0.01
    assert api.run(f"{unique}/{crashed_id}").history(samples=None)["loss"].tolist() == [9.0]
