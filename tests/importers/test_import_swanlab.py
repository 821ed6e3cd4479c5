"""SwanLab: runs logged by swanlab in offline and local mode in the test, imported, read back."""

from __future__ import annotations

import math
import shutil

import pytest

from lablens.importers import swanlab as swanlab_importer

swanlab = pytest.importorskip("swanlab")
from swanlab.proto.swanlab.record.v1 import record_pb2  # noqa: E402
from swanlab.sdk.internal.core_python.store import DataStoreReader  # noqa: E402

LOSS = [2.5, 1 / 3, math.nan, math.inf, 1e-300, 0.1 + 0.2]


@pytest.fixture(scope="module")
def swanlog_template(tmp_path_factory):
    """Logged once for the module: an offline run with every kind of field, and a crashed run
    logged in local mode."""
    import uuid

    base = tmp_path_factory.mktemp("swanlab")
    project = "s" + uuid.uuid4().hex[:10]
    logdir = base / "swanlog"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(base)
        swanlab.init(
            project=project,
            name="mlp",
            mode="offline",
            log_dir=str(logdir),
            description="first try",
            tags=["baseline", "cpu"],
            group="sweep-1",
            job_type="train",
            config={"lr": 0.01, "model": {"hidden": [64, 32]}, "optim": "adam"},
        )
        for i, v in enumerate(LOSS):
            swanlab.log({"loss": v, "acc/top1": i / 10})
        swanlab.log({"val/loss": 0.5}, step=10)
        swanlab.finish()
        swanlab.init(project=project, name="bad", mode="local", log_dir=str(logdir))
        swanlab.log({"loss": 9.0})
        swanlab.finish(state="crashed", error="boom")
    runs = sorted(logdir.glob("run-*"), key=lambda p: p.stat().st_mtime)
    return logdir, project, [r.name.rsplit("-", 1)[1] for r in runs]


@pytest.fixture
def swanlog(swanlog_template, tmp_path):
    """A copy of the module's runs that a test may damage."""
    logdir, project, ids = swanlog_template
    shutil.copytree(logdir, tmp_path / "swanlog", symlinks=True)
    return tmp_path / "swanlog", project, ids


def scalars(run_dir):
    """Each scalar as swanlab recorded it: key -> [(step, timestamp, value)]."""
    (log,) = run_dir.glob("run-*.swanlab")
    reader = DataStoreReader()
    reader.open(str(log))
    found: dict[str, list] = {}
    while (data := reader.scan()) is not None:
        record = record_pb2.Record.FromString(data)
        if record.WhichOneof("record_type") == "scalar":
            s = record.scalar
            ts = s.timestamp.seconds + s.timestamp.nanos / 1e9
            found.setdefault(s.key, []).append((s.step, ts, s.value.number))
    reader.close()
    return found


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_swanlab_round_trip_is_exact(api, make_project, swanlog):
    logdir, unique, (run_id, crashed_id) = swanlog
    make_project(unique)  # the runs' own SwanLab project; the fixture deletes them afterwards

    report = swanlab_importer.import_(logdir, api=api, progress=False)

    assert report.problems == []
    assert sorted(report.runs) == sorted(
        f"{api.default_entity}/{unique}/{i}" for i in (run_id, crashed_id)
    )
    run = api.run(f"{unique}/{run_id}")
    assert run.name == "mlp" and run.notes == "first try"
    assert run.tags == ["baseline", "cpu"] and run.group == "sweep-1" and run.job_type == "train"
    assert run.config == {"lr": 0.01, "model": {"hidden": [64, 32]}, "optim": "adam"}
    assert run.state == "finished"
    assert run.metadata["source"]["type"] == "swanlab"
    assert "runtime" in run.metadata["swanlab"]

    (run_dir,) = logdir.glob(f"run-*-{run_id}")
    want = scalars(run_dir)
    assert set(run.history_keys) == set(want) == {"loss", "acc/top1", "val/loss"}
    for key, points in want.items():
        got = run.history(samples=None, keys=[key])
        assert got["_step"].tolist() == [p[0] for p in points]
        assert got["_timestamp"].tolist() == [p[1] for p in points]
        assert all(same(g, p[2]) for g, p in zip(got[key].tolist(), points, strict=True))
    assert [p[2] for p in want["loss"]][:2] == LOSS[:2]
    assert report.points == sum(len(p) for p in want.values()) + 1

    names = {f.name for f in run.files()}
    assert {"config.yaml", "requirements.txt", "swanlab-metadata.json"} <= names

    crashed = api.run(f"{unique}/{crashed_id}")
    assert crashed.state == "crashed"
    assert crashed.history(samples=None)["loss"].tolist() == [9.0]


def test_swanlab_reimport_adds_nothing(api, make_project, swanlog):
    logdir, _, (run_id, _) = swanlog
    unique = make_project().name
    first = swanlab_importer.import_(logdir, project=unique, api=api, progress=False)
    keys = api.run(f"{unique}/{run_id}").history_keys

    again = swanlab_importer.import_(logdir, project=unique, api=api, progress=False)

    assert first.points > 0 and again.points == 0 and again.files == 0
    assert api.run(f"{unique}/{run_id}").history_keys == keys


def test_truncated_swanlab_log_is_reported_and_the_rest_imported(api, make_project, swanlog):
    logdir, _, (run_id, crashed_id) = swanlog
    unique = make_project().name
    (log,) = logdir.glob(f"run-*-{run_id}/run-*.swanlab")
    (run_dir,) = logdir.glob(f"run-*-{run_id}")
    intact = scalars(run_dir)
    data = log.read_bytes()
    log.write_bytes(data[: len(data) - 40])  # the writer died in the middle of a record

    report = swanlab_importer.import_(logdir, project=unique, api=api, progress=False)

    assert [p.path for p in report.problems] == [str(log.resolve())]
    cut = api.run(f"{unique}/{run_id}")
    assert cut.state == "crashed"  # no finish record: the process died
    loss = cut.history(samples=None, keys=["loss"])["loss"].tolist()
    assert all(same(g, p[2]) for g, p in zip(loss, intact["loss"], strict=False))
    assert api.run(f"{unique}/{crashed_id}").history(samples=None)["loss"].tolist() == [9.0]
