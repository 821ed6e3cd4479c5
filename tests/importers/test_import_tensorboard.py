"""TensorBoard: event files written by tensorboardX in the test, imported, read back exactly."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from lablens import cli
from lablens.importers import tensorboard

tensorboardX = pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

LOSS = [2.5, 1 / 3, 0.1, math.nan, 1e-40, 3.4e38, -math.inf, 0.07]
ACC = [0.1 * i for i in range(1, 6)]


def write_logs(root: Path) -> None:
    """Two runs, one with hparams (which tensorboardX writes into a sub-directory) and text."""
    with tensorboardX.SummaryWriter(str(root / "mlp")) as w:
        for i, v in enumerate(LOSS):
            w.add_scalar("train/loss", v, global_step=i * 10)
        for i, v in enumerate(ACC):
            w.add_scalar("val/acc", v, global_step=i * 20 + 5)
        w.add_text("notes", "first **note**", global_step=0)
        w.add_text("notes", "second", global_step=70)
        w.add_hparams(
            {"lr": 0.01, "batch_size": 64, "optim": "adam", "nesterov": True},
            {"hparam/best_acc": 0.5},
            name="hp",
        )
    with tensorboardX.SummaryWriter(str(root / "cnn" / "seed1")) as w:
        for step in range(300):
            w.add_scalar("loss", 1.0 / (step + 1), global_step=step)


def expected(run_dir: Path) -> dict[str, list]:
    """Every scalar as TensorBoard's own EventAccumulator reads it: (step, wall_time, value)."""
    acc = event_accumulator.EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {
        tag: [(e.step, e.wall_time, e.value) for e in acc.Scalars(tag)]
        for tag in acc.Tags()["scalars"]
    }


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def check_run(run, run_dir: Path) -> int:
    want = expected(run_dir)
    assert set(run.history_keys) == set(want)
    n = 0
    for key, points in want.items():
        got = run.history(samples=None, keys=[key])
        assert got["_step"].tolist() == [p[0] for p in points]
        assert got["_timestamp"].tolist() == [p[1] for p in points]
        values = got[key].tolist()
        assert all(same(g, p[2]) for g, p in zip(values, points, strict=True)), key
        n += len(points)
    return n


def runs_by_name(api, project: str) -> dict:
    return {r.name: r for r in api.runs(project, per_page=100)}


def test_tensorboard_round_trip_is_exact(api, make_project, tmp_path):
    project = make_project()
    root = tmp_path / "logs"
    write_logs(root)

    report = api.sync_tensorboard(root, project=project.name)

    assert report.problems == []
    runs = runs_by_name(api, project.name)
    assert set(runs) == {"mlp", "mlp/hp", "cnn/seed1"}
    assert len(report.runs) == 3
    total = sum(check_run(runs[name], root / name) for name in runs)
    assert report.points == total == len(LOSS) + len(ACC) + 1 + 300

    mlp = api.run(runs["mlp"].path)
    # float32, as stored: 1/3 comes back as float32(1/3), 1e-40 as the float32 denormal
    loss = mlp.history(samples=None, keys=["train/loss"])["train/loss"].tolist()
    want = [float(np.float32(v)) for v in LOSS]
    assert all(same(g, w) for g, w in zip(loss, want, strict=True))
    assert mlp.state == "finished"
    assert mlp.metadata["source"]["type"] == "tensorboard"
    assert mlp.metadata["source"]["path"] == str((root / "mlp").resolve())
    assert mlp.file("text/notes/text_summary/0.txt") is not None
    text = mlp.file("text/notes/text_summary/70.txt").download(tmp_path / "dl")
    assert text.read_text() == "second"

    hp = api.run(runs["mlp/hp"].path)
    assert hp.config == {"lr": 0.01, "batch_size": 64, "optim": "adam", "nesterov": True}
    assert isinstance(hp.config["batch_size"], int)

    # The run's span is its events' span.
    walls = [p[1] for pts in expected(root / "cnn" / "seed1").values() for p in pts]
    cnn = api.run(runs["cnn/seed1"].path)
    assert cnn.created_at <= _iso(min(walls))
    assert cnn.finished_at == _iso(max(walls))


def _iso(seconds: float) -> str:
    import datetime as dt

    t = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def test_reimport_adds_nothing_and_new_events_come_in(api, make_project, tmp_path):
    project = make_project()
    root = tmp_path / "logs"
    write_logs(root)
    first = tensorboard.import_(root, project=project.name, api=api, progress=False)
    counts = {r.name: r.history_keys for r in api.runs(project.name)}

    again = tensorboard.import_(root, project=project.name, api=api, progress=False)

    assert again.points == 0 and again.files == 0
    assert sorted(again.runs) == sorted(first.runs)
    assert {r.name: r.history_keys for r in api.runs(project.name)} == counts

    # A writer started again in the same directory adds a file; only its points are new.
    # (a suffix: tensorboardX names files by the second, and this may be the same second)
    with tensorboardX.SummaryWriter(str(root / "cnn" / "seed1"), filename_suffix=".2") as w:
        for step in range(300, 310):
            w.add_scalar("loss", 1.0 / (step + 1), global_step=step)
    more = tensorboard.import_(root, project=project.name, api=api, progress=False)
    assert more.points == 10
    cnn = runs_by_name(api, project.name)["cnn/seed1"]
    assert check_run(cnn, root / "cnn" / "seed1") == 310


def test_truncated_event_file_is_reported_and_the_rest_imported(api, make_project, tmp_path):
    project = make_project()
    root = tmp_path / "logs"
    write_logs(root)
    intact = tmp_path / "intact"
    shutil.copytree(root, intact)
    (event_file,) = (root / "cnn" / "seed1").glob("events.out.tfevents.*")
    data = event_file.read_bytes()
    event_file.write_bytes(data[: len(data) - 30])  # cut inside the last records

    report = tensorboard.import_(root, project=project.name, api=api, progress=False)

    assert [p.path for p in report.problems] == [str(event_file.resolve())]
    assert "truncated" in report.problems[0].message
    runs = runs_by_name(api, project.name)
    assert set(runs) == {"mlp", "mlp/hp", "cnn/seed1"}
    check_run(runs["mlp"], intact / "mlp")
    # Every event before the cut came in: a prefix of the intact file's points.
    cnn = runs["cnn/seed1"].history(samples=None, keys=["loss"])
    want = expected(intact / "cnn" / "seed1")["loss"]
    assert 290 <= len(cnn) < 300
    assert cnn["_step"].tolist() == [p[0] for p in want[: len(cnn)]]
    assert cnn["loss"].tolist() == [p[2] for p in want[: len(cnn)]]

    # Once the writer has completed the file, importing again brings in the rest, once.
    shutil.copy(intact / "cnn" / "seed1" / event_file.name, event_file)
    again = tensorboard.import_(root, project=project.name, api=api, progress=False)
    assert again.problems == []
    assert again.points == 300 - len(cnn)
    check_run(runs_by_name(api, project.name)["cnn/seed1"], intact / "cnn" / "seed1")


def test_cli_imports_with_progress_bars(server, api, make_project, tmp_path, capsys):
    project = make_project()
    root = tmp_path / "logs"
    write_logs(root)

    code = cli.main(
        [
            "import",
            "tensorboard",
            str(root),
            "--project",
            project.name,
            "--host",
            server.url,
            "--api-key",
            server.api_key,
        ]
    )

    assert code == 0
    out, err = capsys.readouterr()
    assert "Imported 3 tensorboard runs" in out
    assert "tensorboard runs" in err and "points" in err  # the two tqdm bars
    assert len(api.runs(project.name)) == 3


def test_run_id_names_one_run_directory(api, make_project, tmp_path):
    project = make_project()
    root = tmp_path / "logs"
    write_logs(root)

    report = api.sync_tensorboard(root / "cnn", run_id="my-cnn", project=project.name)

    assert report.runs == [f"{api.default_entity}/{project.name}/my-cnn"]
    with pytest.raises(Exception, match="run directories"):
        api.sync_tensorboard(root, run_id="one", project=project.name)


def test_an_interrupted_import_resumes_where_it_stopped(api, make_project, tmp_path, monkeypatch):
    from lablens.api.runs import Run
    from lablens.importers import _writer

    project = make_project()
    root = tmp_path / "logs"
    write_logs(root)
    monkeypatch.setattr(_writer, "CHUNK_POINTS", 100)
    real = Run.log_points
    calls = []

    def dies_on_the_third_batch(self, points, **kwargs):
        calls.append(points.num_rows)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C in the middle of an import
        return real(self, points, **kwargs)

    monkeypatch.setattr(Run, "log_points", dies_on_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        tensorboard.import_(root / "cnn", project=project.name, api=api, progress=False)
    monkeypatch.setattr(Run, "log_points", real)
    (cnn,) = api.runs(project.name)
    assert cnn.history_keys["loss"]["count"] == 200 and cnn.state == "running"

    resumed = tensorboard.import_(root / "cnn", project=project.name, api=api, progress=False)

    assert resumed.points == 100
    cnn = api.run(cnn.path)
    assert cnn.state == "finished"
    assert check_run(cnn, root / "cnn" / "seed1") == 300


def test_a_run_of_the_same_id_from_elsewhere_is_not_written_into(api, make_project, tmp_path):
    project = make_project()
    root = tmp_path / "logs"
    write_logs(root)
    api.create_run("taken", project.name, config={"mine": True})

    report = api.sync_tensorboard(root / "cnn", run_id="taken", project=project.name)

    assert report.runs == [] and "not imported from" in report.problems[0].message
    taken = api.run(f"{project.name}/taken")
    assert taken.config == {"mine": True} and taken.history_keys == {}


def test_cli_says_what_it_could_not_read(server, make_project, tmp_path, capsys):
    project = make_project()
    root = tmp_path / "logs"
    write_logs(root)
    (event_file,) = (root / "cnn" / "seed1").glob("events.out.tfevents.*")
    event_file.write_bytes(event_file.read_bytes()[:-30])
    args = [
        "import",
        "tensorboard",
        "--project",
        project.name,
        "--host",
        server.url,
        "--api-key",
        server.api_key,
    ]

    assert cli.main([*args[:2], str(root), *args[2:]]) == 0
    out, err = capsys.readouterr()
    assert str(event_file.resolve()) in err and "truncated" in err
    assert "1 source files could not be read in full" in err

    assert cli.main([*args[:2], str(tmp_path / "missing"), *args[2:], "--quiet"]) == 2
    assert "is not a directory" in capsys.readouterr().err
