"""The W&B public API examples (seeds 003, 004), run against a real server with only the import
changed: ``from lablens import Api`` instead of ``wandb.Api``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lablens import Api
from lablens.api import Project, Run
from lablens.errors import (
    BadRequest,
    CommError,
    ReportNotFound,
    RunNotFound,
    SweepNotFound,
    UsageError,
)


@pytest.fixture
def experiments(make_project, make_run):
    """Runs named foo-1, bar-1, baz-1 with config.experiment_name and summary losses."""
    project = make_project()
    runs = {}
    for name, exp, loss in (("foo-1", "foo", 0.3), ("bar-1", "bar", 0.1), ("baz-1", "baz", 0.2)):
        runs[name] = make_run(
            project,
            name=name,
            config={"experiment_name": exp},
            points={"Loss": np.linspace(1.0, loss, 20)},
        )
    return project, runs


def test_api_with_overrides_resolves_short_paths(server, experiments):
    project, runs = experiments
    run_id = runs["foo-1"].id
    api = Api(
        overrides={"base_url": server.url, "entity": server.username, "project": project.name}
    )
    assert api.run(run_id).name == "foo-1"
    assert api.run(f"{project.name}/{run_id}").name == "foo-1"
    assert [r.name for r in api.runs()] == ["foo-1", "bar-1", "baz-1"]
    assert api.default_entity == server.username


def test_api_takes_overrides_positionally_as_wandb_does(server):
    api = Api({"base_url": server.url, "entity": "someone"})
    assert api.host == server.url
    assert api.settings["entity"] == "someone"


def test_repr_names_host_and_user(api, server):
    assert repr(api) == f"<Api {server.url} as {server.username}>"


def test_runs_filter_config_value(api, experiments):
    project, _ = experiments
    runs = api.runs(path=project.path, filters={"config.experiment_name": "foo"})
    assert [r.name for r in runs] == ["foo-1"]


def test_runs_filter_or(api, experiments):
    project, _ = experiments
    runs = api.runs(
        path=project.path,
        filters={
            "$or": [
                {"config.experiment_name": "foo"},
                {"config.experiment_name": "bar"},
            ]
        },
    )
    assert sorted(r.name for r in runs) == ["bar-1", "foo-1"]


def test_runs_filter_config_regex(api, experiments):
    project, _ = experiments
    runs = api.runs(
        path=project.path,
        filters={"config.experiment_name": {"$regex": "b.*"}},
    )
    assert sorted(r.name for r in runs) == ["bar-1", "baz-1"]


def test_runs_filter_display_name_regex(api, experiments):
    project, _ = experiments
    runs = api.runs(path=project.path, filters={"display_name": {"$regex": "^foo.*"}})
    assert [r.name for r in runs] == ["foo-1"]


def test_runs_sorted_by_ascending_loss(api, experiments):
    project, _ = experiments
    runs = api.runs(path=project.path, order="+summary_metrics.Loss")
    assert [r.name for r in runs] == ["bar-1", "baz-1", "foo-1"]
    runs = api.runs(path=project.path, order="-summary_metrics.Loss")
    assert [r.name for r in runs] == ["foo-1", "baz-1", "bar-1"]


def test_bad_filter_names_the_bad_part(api, experiments):
    project, _ = experiments
    with pytest.raises(BadRequest) as err:
        list(api.runs(project.path, filters={"$and": [{"state": "FINISHED"}, {"x": {"$gtx": 1}}]}))
    assert err.value.field and "$and[1]" in err.value.field
    assert isinstance(err.value, CommError)  # what W&B code catches


def test_run_attributes(api, make_run):
    run = make_run(
        name="lr-0.01",
        notes="first try",
        tags=["baseline"],
        group="sweep-a",
        job_type="train",
        config={"lr": 0.01, "data": {"bs": 64}},
        points={"loss": [1.0, 0.5, 0.25]},
        system={"system.cpu": [10.0, 12.5]},
        summary={"best": math.nan, "top": math.inf},
    )
    run = api.run(run.path)
    assert run.state == "finished" and run.state == "FINISHED"  # both spellings
    assert repr(run) == f'<Run {run.path} "{run.name}" finished>'
    assert run.path.count("/") == 2 and run.path_parts == run.path.split("/")
    assert (run.entity, run.project) == tuple(run.path_parts[:2])
    assert run.tags == run.labels == ["baseline"]
    assert run.notes == run.description == "first try"
    assert run.display_name == "lr-0.01"
    assert (run.group, run.job_type) == ("sweep-a", "train")
    assert run.config == {"lr": 0.01, "data": {"bs": 64}}
    assert run.summary["loss"] == 0.25
    assert math.isnan(run.summary["best"]) and run.summary["top"] == math.inf
    assert run.summary_metrics["loss"] == 0.25
    assert run.system_metrics["system.cpu"] == 12.5
    assert run.history_keys["loss"] == {"count": 3, "last_step": 2}
    assert run.lastHistoryStep == 2
    assert run.heartbeat_at is not None
    assert run.url.endswith(f"/{run.path.replace(run.id, 'runs/' + run.id)}")
    assert run.exit_code is None or isinstance(run.exit_code, int)  # unknown keys still reachable
    assert "<table>" in run._repr_html_()


def test_run_update_persists(api, make_run):
    run = make_run(name="old", config={"lr": 0.1}, tags=["a"])
    run.name = "new"
    run.description = "described"
    run.tags.append("b")
    run.config["lr"] = 0.2
    run.group = "g"
    run.update()
    again = api.run(run.path)
    assert (again.name, again.notes, again.tags, again.group) == (
        "new",
        "described",
        ["a", "b"],
        "g",
    )
    assert again.config == {"lr": 0.2}


def test_summary_update_persists_and_merges(api, make_run):
    run = make_run(points={"loss": [3.0, 2.0]})
    summary = run.summary
    summary.update({"best_acc": 0.97, "bad": math.nan})
    assert api.run(run.path).summary["best_acc"] == 0.97
    assert math.isnan(api.run(run.path).summary["bad"])
    run.summary["note"] = "x"
    del run.summary["bad"]
    run.update()
    again = api.run(run.path).summary
    assert again["note"] == "x" and "bad" not in again and again["loss"] == 2.0
    assert summary is run.summary and summary["note"] == "x"


def test_load_and_flush(api, make_run):
    run = make_run(name="before")
    api.client.patch_json(
        f"/api/v1/projects/{run.entity}/{run.project}/runs/{run.id}", {"name": "after"}
    )
    assert run.name == "before"
    assert run.load(force=True).name == "after"
    api.flush()
    assert api.viewer.username


def test_delete_run(api, make_run):
    run = make_run()
    run.delete()
    with pytest.raises(RunNotFound):
        api.run(run.path)


def test_history_sampled_default(api, make_run):
    run = make_run(points={"loss": np.linspace(1, 0, 2000), "acc": np.linspace(0, 1, 2000)})
    frame = run.history()
    assert isinstance(frame, pd.DataFrame)
    assert {"_step", "_timestamp", "_runtime", "loss", "acc"} <= set(frame.columns)
    assert 0 < len(frame) <= 2 * 500
    assert frame["_step"].iloc[-1] == 1999


def test_history_every_point_and_runtime(api, make_run):
    run = make_run(points={"loss": np.arange(10.0)})
    frame = run.history(samples=None, keys=["loss"])
    assert list(frame.columns) == ["_step", "loss", "_timestamp", "_runtime"]
    assert frame["loss"].tolist() == list(np.arange(10.0))
    assert frame["_timestamp"].tolist() == [1.7e9 + s for s in range(10)]
    created = pd.Timestamp(run.created_at).timestamp()
    np.testing.assert_allclose(frame["_runtime"], frame["_timestamp"] - created)


def test_history_as_dicts(api, make_run):
    run = make_run(points={"a": ([0, 1], [1.0, 2.0]), "b": ([1], [5.0])})
    rows = run.history(pandas=False)
    assert [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows] == [
        {"a": 1.0},
        {"a": 2.0, "b": 5.0},
    ]
    assert [r["_step"] for r in rows] == [0, 1]


def test_history_x_axis_metric(api, make_run):
    run = make_run(points={"loss": ([0, 1, 2], [3.0, 2.0, 1.0]), "epoch": ([0, 2], [0.0, 1.0])})
    frame = run.history(keys=["loss"], x_axis="epoch")
    # The x axis is a column, although keys did not name it (W&B's history does the same).
    assert set(frame.columns) == {"_step", "loss", "epoch", "_timestamp", "_runtime"}
    assert frame["epoch"].tolist() == [0.0, 1.0]
    assert frame["loss"].tolist() == [3.0, 1.0]
    assert frame["_step"].tolist() == [0, 2]
    rows = run.history(keys=["loss"], x_axis="epoch", pandas=False)
    assert [(r["_step"], r["epoch"], r["loss"]) for r in rows] == [(0, 0.0, 3.0), (2, 1.0, 1.0)]


def test_history_system_stream(api, make_run):
    run = make_run(system={"system.cpu": [10.0, 20.0]}, points={"loss": [1.0]})
    frame = run.history(stream="system")
    assert frame["system.cpu"].tolist() == [10.0, 20.0]
    assert "loss" not in frame.columns


def test_history_bad_stream(api, make_run):
    with pytest.raises(UsageError):
        make_run().history(stream="gpu")


def test_scan_history_export_all_loss_values(api, make_run):
    made = make_run(points={"Loss": np.linspace(1, 0, 2500), "acc": ([5, 7], [0.1, 0.2])})
    run = api.run(made.path)
    history = run.scan_history(keys=["Loss"])
    losses = [row["Loss"] for row in history]
    np.testing.assert_allclose(losses, np.linspace(1, 0, 2500))


def test_scan_history_keys_need_all(api, make_run):
    run = make_run(points={"a": ([0, 1, 2, 3], [0.0, 1.0, 2.0, 3.0]), "b": ([1, 3], [10.0, 30.0])})
    rows = list(run.scan_history(keys=["a", "b"], page_size=1))
    assert [(r["_step"], r["a"], r["b"]) for r in rows] == [(1, 1.0, 10.0), (3, 3.0, 30.0)]
    every = list(run.scan_history())
    assert [r["_step"] for r in every] == [0, 1, 2, 3]
    assert "b" not in every[0] and every[1]["b"] == 10.0


def test_scan_history_sparse_steps_and_bounds(api, make_run):
    # Steps start at 0: the server refuses a negative one.
    steps = np.array([0, 3, 5, 10_000, 10_001, 2_000_000])
    run = make_run(points={"x": (steps, steps.astype(float))})
    assert [r["_step"] for r in run.scan_history(page_size=2)] == steps.tolist()
    # W&B's max_step is exclusive.
    assert [r["_step"] for r in run.scan_history(min_step=3, max_step=10_001)] == [3, 5, 10_000]
    assert list(make_run().scan_history()) == []
    assert list(run.scan_history(keys=["missing"])) == []


def test_from_path(api, make_run, server):
    made = make_run()
    project = api.from_path(made.project)
    team_project = api.from_path(f"{made.entity}/{made.project}")
    run = api.from_path(f"{made.entity}/{made.project}/runs/{made.id}")
    assert isinstance(project, Project) and project.name == made.project
    assert isinstance(team_project, Project) and team_project.path == project.path
    assert isinstance(run, Run) and run.id == made.id
    assert api.from_path(run.url).id == made.id
    with pytest.raises(SweepNotFound):
        api.from_path(f"{made.entity}/{made.project}/sweeps/abc")
    with pytest.raises(ReportNotFound):
        api.from_path(f"{made.entity}/{made.project}/reports/My-Report-Vm11dsdf")


def test_run_paths_and_urls(api, make_run):
    made = make_run()
    for path in (made.path, f"{made.entity}/{made.project}/runs/{made.id}", made.url):
        assert api.run(path).id == made.id
    assert api.run(f"{made.project}/{made.id}").id == made.id  # the viewer's entity
    with pytest.raises(UsageError, match="a/b/c/d/e"):
        api.run("a/b/c/d/e")
    with pytest.raises(UsageError, match="project"):
        api.run(made.id)  # no default project


def test_projects_and_project_wandb_style(api, make_project, server):
    created = api.create_project(f"{make_project().name}-w", server.username)
    assert created.entity == server.username
    assert api.project(created.name, entity=server.username).path == created.path
    assert api.project(created.name).path == created.path
    assert api.project(name=created.name).path == created.path
    assert created.name in [p.name for p in api.projects(entity=server.username)]
    assert created.name in [p.name for p in api.projects(server.username)]
    with pytest.raises(UsageError):
        api.projects("alice", entity="bob")
    with pytest.raises(UsageError):
        api.project(f"{server.username}/{created.name}", entity="someone-else")


def test_create_project_conflict(api, make_project):
    from lablens.errors import Conflict

    project = make_project()
    with pytest.raises(Conflict):
        api.create_project(project.name)


def test_files_upload_list_download(api, make_run, tmp_path):
    run = make_run()
    (tmp_path / "out" / "ckpt").mkdir(parents=True)
    (tmp_path / "out" / "ckpt" / "model.pt").write_bytes(b"\x00\x01weights")
    (tmp_path / "out" / "config.yaml").write_text("lr: 0.01\n")
    uploaded = run.upload_file(tmp_path / "out" / "ckpt" / "model.pt", root=tmp_path / "out")
    assert uploaded.name == "ckpt/model.pt" and uploaded.size == 9
    run.upload_file(tmp_path / "out" / "config.yaml", root=tmp_path / "out")
    assert sorted(f.name for f in run.files()) == ["ckpt/model.pt", "config.yaml"]
    assert [f.name for f in run.files(names=["config.yaml"])] == ["config.yaml"]
    f = run.file("ckpt/model.pt")
    assert f.md5 and f.mimetype and f.updated_at and f.url
    target = f.download(root=tmp_path / "dl")
    assert target.read_bytes() == b"\x00\x01weights"
    with pytest.raises(ValueError, match="exists"):
        f.download(root=tmp_path / "dl")
    assert f.download(root=tmp_path / "dl", replace=True) == target
    with pytest.raises(UsageError):
        run.upload_file(tmp_path / "out" / "config.yaml", root=tmp_path / "out" / "ckpt")
    from lablens.errors import FileNotFound

    with pytest.raises(FileNotFound):
        run.file("nope.txt")


def test_user_and_viewer(api, server):
    me = api.viewer
    assert me.username == server.username and me.is_self and me.is_admin
    assert api.user().username == me.username
    assert api.default_entity == server.username


def test_api_reads_what_the_sdk_logged(api, server, make_project, tmp_path):
    import lablens.sdk

    project = make_project()
    run = lablens.sdk.init(
        project=project.name,
        name="sdk-run",
        config={"lr": 0.01, "data": {"bs": 64}},
        tags=["sdk"],
        host=server.url,
        api_key=server.api_key,
        dir=tmp_path,
    )
    for step in range(30):
        run.log({"loss": 1.0 / (step + 1), "acc": step / 30})
    run.finish()
    read = api.run(f"{project.path}/{run.id}")
    assert read.state == "FINISHED" and read.name == "sdk-run" and read.tags == ["sdk"]
    assert read.config == {"lr": 0.01, "data": {"bs": 64}}
    assert read.summary["loss"] == pytest.approx(1 / 30)
    frame = read.history(samples=None, keys=["loss", "acc"])
    np.testing.assert_allclose(frame["loss"], 1.0 / (np.arange(30) + 1))
    assert frame["_step"].tolist() == list(range(30))
    assert [row["acc"] for row in read.scan_history(keys=["acc"])] == pytest.approx(
        [s / 30 for s in range(30)]
    )


def test_file_names_with_spaces_and_folders(api, make_run, tmp_path):
    run = make_run()
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "my plot.png").write_bytes(b"png")
    run.upload_file(tmp_path / "media" / "my plot.png", root=tmp_path)
    f = run.file("media/my plot.png")
    assert f.url.endswith("/files/media/my%20plot.png")
    assert api.client.request("GET", f.url[len(api.host) :]).content == b"png"
    assert f.download(root=tmp_path / "dl").read_bytes() == b"png"


def test_runs_without_sweeps(api, make_run):
    run = make_run()
    assert [r.id for r in api.runs(f"{run.entity}/{run.project}", include_sweeps=False)] == [run.id]
