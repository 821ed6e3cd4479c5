"""MLflow: runs written with MlflowClient to a sqlite store in the test, imported, read back."""

from __future__ import annotations

import math
import shutil

import pytest

from lablens.importers import mlflow as mlflow_importer

mlflow = pytest.importorskip("mlflow")

T0 = 1_700_000_000_123  # ms


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory):
    """An empty MLflow sqlite store, made once: creating its tables takes MLflow seconds."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("mlflow") / "empty.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def store(tmp_path, monkeypatch, unique, empty_store):
    """An MLflow sqlite store with two experiments: a parent run with a child, a failed run, a
    deleted run; metrics with odd steps and timestamps, params of every kind, artifacts."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    monkeypatch.chdir(tmp_path)  # MLflow's default experiment puts ./mlruns in the cwd
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    art = (tmp_path / "artifacts").as_uri()
    exp = client.create_experiment(f"{unique}-vision", artifact_location=art)
    exp2 = client.create_experiment(f"team/{unique}-nlp", artifact_location=art)

    parent = client.create_run(
        exp,
        run_name="resnet",
        start_time=T0,
        tags={"team": "cv", "flag": "", "mlflow.note.content": "baseline"},
    )
    pid = parent.info.run_id
    metrics = [Metric("loss", 1 / (i + 1), T0 + 1000 * i, i * 5) for i in range(50)]
    metrics += [
        Metric("acc", v, T0 + 7 * i, 100 - i)
        for i, v in enumerate([0.5, math.nan, math.inf, -0.0, 1e-300])
    ]
    metrics += [Metric("loss", 0.001, T0 + 999_999, 49 * 5)]  # same step again, later
    client.log_batch(
        pid,
        metrics=metrics,
        params=[
            Param("lr", "0.01"),
            Param("epochs", "20"),
            Param("optim", "adam"),
            Param("nesterov", "True"),
            Param("decay", "1e-4"),
            Param("layers", "[64, 32]"),
            Param("seed", "007"),
            Param("empty", "None"),
        ],
        tags=[RunTag("stage", "dev")],
    )
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "notes.txt").write_text("hello")
    client.log_artifact(pid, str(tmp_path / "notes.txt"))
    client.log_artifacts(pid, str(tmp_path / "model"), "model")
    client.set_terminated(pid, "FINISHED", end_time=T0 + 3_600_000)

    child = client.create_run(
        exp, run_name="child", start_time=T0 + 10, tags={"mlflow.parentRunId": pid}
    )
    client.log_metric(child.info.run_id, "loss", 0.25, timestamp=T0 + 11, step=0)
    client.set_terminated(child.info.run_id, "FAILED", end_time=T0 + 20)

    gone = client.create_run(exp, run_name="gone")
    client.delete_run(gone.info.run_id)

    other = client.create_run(exp2, run_name="bert", start_time=T0)
    client.log_metric(other.info.run_id, "ppl", 12.5, timestamp=T0, step=0)
    return uri, client, {"vision": exp, "nlp": exp2}, pid, child.info.run_id, other.info.run_id


def test_mlflow_round_trip_is_exact(api, make_project, unique, store, tmp_path):
    uri, client, exps, pid, child_id, other_id = store
    for name in (f"{unique}-vision", f"team-{unique}-nlp"):
        make_project(name)  # so the fixture deletes the runs afterwards

    report = mlflow_importer.import_(uri, api=api, progress=False)

    assert report.problems == []
    vision = f"{unique}-vision"
    assert sorted(report.runs) == sorted(
        [
            f"{api.default_entity}/{vision}/{pid}",
            f"{api.default_entity}/{vision}/{child_id}",
            f"{api.default_entity}/team-{unique}-nlp/{other_id}",
        ]
    )
    run = api.run(f"{vision}/{pid}")
    assert run.name == "resnet"
    assert run.notes == "baseline"
    assert run.tags == ["flag", "stage=dev", "team=cv"]
    assert run.config == {
        "lr": 0.01,
        "epochs": 20,
        "optim": "adam",
        "nesterov": True,
        "decay": 1e-4,
        "layers": "[64, 32]",
        "seed": "007",
        "empty": None,
    }
    assert run.state == "finished"
    assert run.created_at == "2023-11-14T22:13:20.123Z"
    assert run.finished_at == "2023-11-14T23:13:20.123Z"
    assert run.metadata["source"] == {
        "type": "mlflow",
        "id": pid,
        "path": run.metadata["source"]["path"],
        "importer": run.metadata["source"]["importer"],
    }
    assert run.metadata["mlflow"]["params"]["lr"] == "0.01"

    points = 0
    for key in ("loss", "acc"):
        want = sorted(client.get_metric_history(pid, key), key=lambda m: (m.step, m.timestamp))
        # Two loss points share step 245: compare the long form instead of pivoted rows.
        long = sorted(_long(run, key), key=lambda p: (p[0], p[1]))
        assert [(s, round(t * 1000), t) for s, t, _ in long] == [
            (m.step, m.timestamp, m.timestamp / 1000) for m in want
        ]
        values = [v for _, _, v in long]
        assert all(
            a == b or (math.isnan(a) and math.isnan(b))
            for a, b in zip(values, [m.value for m in want], strict=True)
        )
        points += len(want)
    assert points == 56

    assert {f.name: f.size for f in run.files()} == {"notes.txt": 5, "model/weights.bin": 2560}
    assert run.file("notes.txt").download(tmp_path / "dl").read_text() == "hello"
    weights = run.file("model/weights.bin").download(tmp_path / "dl")
    assert weights.read_bytes() == bytes(range(256)) * 10

    child = api.run(f"{vision}/{child_id}")
    assert child.state == "crashed"
    assert child.group == pid
    bert = api.run(f"team-{unique}-nlp/{other_id}")
    assert bert.history(samples=None)["ppl"].tolist() == [12.5]


def _long(run, key):
    """Every point of one metric, long form, through the Api's bulk history."""
    from lablens.api.history import fetch_history

    t = fetch_history(run._api, run.entity, run.project, [run.id], keys=[key])
    return list(
        zip(t["step"].to_pylist(), t["timestamp"].to_pylist(), t["value"].to_pylist(), strict=True)
    )


def test_mlflow_reimport_adds_nothing_and_new_points_come_in(api, make_project, unique, store):
    uri, client, exps, pid, child_id, other_id = store
    for name in (f"{unique}-vision", f"team-{unique}-nlp"):
        make_project(name)
    first = mlflow_importer.import_(uri, api=api, progress=False)
    assert first.points == 58 and first.files == 2

    again = mlflow_importer.import_(uri, api=api, progress=False)
    assert again.points == 0 and again.files == 0
    assert api.run(f"{unique}-vision/{pid}").history_keys["loss"]["count"] == 51

    client.log_metric(other_id, "ppl", 11.0, timestamp=T0 + 5, step=1)
    more = mlflow_importer.import_(uri, api=api, progress=False)
    assert more.points == 1
    bert = api.run(f"team-{unique}-nlp/{other_id}")
    assert bert.history(samples=None)["ppl"].tolist() == [12.5, 11.0]

    # project= puts every run in that one project
    one = make_project()
    into_one = mlflow_importer.import_(uri, project=one.name, api=api, progress=False)
    assert len(into_one.runs) == 3 and all(f"/{one.name}/" in p for p in into_one.runs)
    assert into_one.points == 59


def test_params_are_parsed_back():
    parse = mlflow_importer.parse_param
    assert parse("0.01") == 0.01 and parse("-3") == -3 and parse("1e-3") == 1e-3
    assert parse("True") is True and parse("false") is False and parse("None") is None
    assert math.isnan(parse("nan")) and parse("-inf") == -math.inf
    assert parse("007") == "007" and parse("1_000") == "1_000" and parse("adam") == "adam"


def test_an_mlruns_file_store_directory_comes_in(api, make_project, tmp_path, monkeypatch):
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 writes one only so
    client = MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri())
    exp = client.create_experiment("legacy")
    run = client.create_run(exp, run_name="old", start_time=T0)
    client.log_metric(run.info.run_id, "loss", 0.5, timestamp=T0 + 1, step=3)
    client.log_param(run.info.run_id, "lr", "0.1")
    client.set_terminated(run.info.run_id, end_time=T0 + 2)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")
    project = make_project()

    report = mlflow_importer.import_(
        tmp_path / "mlruns", project=project.name, api=api, progress=False
    )

    assert report.problems == [] and report.points == 1
    got = api.run(f"{project.name}/{run.info.run_id}")
    assert got.config == {"lr": 0.1} and got.name == "old"
    loss = got.history(samples=None)
    assert loss["_step"].tolist() == [3] and loss["_timestamp"].tolist() == [(T0 + 1) / 1000]
