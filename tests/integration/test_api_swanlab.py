"""The SwanLab OpenAPI examples (seed 000), run against a real server with only the import
changed: ``import lablens as swanlab`` instead of ``import swanlab``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import lablens as swanlab
from lablens.errors import PermissionDenied, Unauthorized


@pytest.fixture
def seed_env(server, monkeypatch):
    """``swanlab.Api()`` with no arguments finds this server and its stored key, as after
    ``swanlab login``."""
    monkeypatch.setenv("LABLENS_HOST", server.url)
    return server


@pytest.fixture
def mnist(make_project, make_run):
    """A project with three runs: two FINISHED (batch sizes 64 and 32), one RUNNING."""
    project = make_project(description="digits", labels=["cv"])
    steps = np.arange(50)
    runs = [
        make_run(
            project,
            name="bs64",
            config={"batch_size": 64, "lr": 0.01, "data": {"run_id": "d1"}},
            points={"loss": 1.0 / (steps + 1), "acc": steps / 50.0},
            requirements="numpy==2.0\n",
            metadata={"python": "3.11"},
        ),
        make_run(
            project,
            name="bs32",
            config={"batch_size": 32, "lr": 0.02, "data": {"run_id": "d2"}},
            points={"loss": 2.0 / (steps + 1)},
        ),
        make_run(project, name="running", config={"batch_size": 64}, state=None),
    ]
    return project, runs


def test_list_all_workspaces(seed_env, capsys):
    api = swanlab.Api()

    workspaces = api.workspaces()

    for workspace in workspaces:
        print(workspace.username)
        print(workspace.name)
        print(workspace.profile)
    assert seed_env.username in [w.username for w in workspaces]
    assert seed_env.username in capsys.readouterr().out


def test_specify_one_workspace(seed_env):
    api = swanlab.Api()

    workspace = api.workspace(username=seed_env.username)

    print(workspace.username)
    print(workspace.name)
    print(workspace.profile)
    assert workspace.username == seed_env.username
    assert workspace.workspace_type == "PERSON"
    assert workspace.role == "OWNER"
    assert isinstance(workspace.profile, dict)
    assert workspace.json()["username"] == seed_env.username
    assert api.workspace().username == seed_env.username  # defaults to the signed-in user


def test_get_projects_within_a_workspace(seed_env, mnist):
    project_made, _ = mnist
    api = swanlab.Api()

    workspace = api.workspace(username=seed_env.username)
    projects = workspace.projects()

    names = []
    for project in projects:
        print(project.name)
        print(project.url)
        names.append(project.name)
    assert project_made.name in names


def test_list_all_projects(seed_env, mnist):
    project_made, _ = mnist
    api = swanlab.Api()

    projects = api.projects(path=seed_env.username)

    for project in projects:
        print(project.name)
        print(project.created_at)
        print(project.url)
        print(project.visibility)
    found = [p for p in projects if p.name == project_made.name]
    assert len(found) == 1
    assert found[0].url == f"{seed_env.url}/{seed_env.username}/{project_made.name}"


def test_projects_search_and_sort(api, make_project, unique):
    a = make_project(f"{unique}-alpha")
    b = make_project(f"{unique}-beta")
    found = [p.name for p in api.projects(api.viewer.username, search=f"{unique}-al")]
    assert found == [a.name]
    newest_first = [p.name for p in api.projects(search=unique, sort="created_at")]
    assert set(newest_first) == {a.name, b.name}


def test_specify_one_project(seed_env, mnist):
    project_made, _ = mnist
    api = swanlab.Api()

    project = api.project(path=f"{seed_env.username}/{project_made.name}")

    print(project.name)
    print(project.created_at)
    print(project.url)
    print(project.visibility)
    assert project.path == f"{seed_env.username}/{project_made.name}"
    assert project.description == "digits"
    assert project.labels == ["cv"]
    assert project.visibility == "PRIVATE"
    assert project.count["runs"] == 3
    assert project.created_at.endswith("Z")
    assert project.json()["name"] == project_made.name


def test_get_runs_within_a_project(seed_env, mnist):
    project_made, runs_made = mnist
    api = swanlab.Api()

    project = api.project(path=project_made.path)
    runs = project.runs()

    for run in runs:
        print(run.name)
        print(run.url)
    assert [r.id for r in runs] == [r.id for r in runs_made]


def test_list_all_runs_in_a_project(seed_env, mnist):
    project_made, runs_made = mnist
    api = swanlab.Api()

    runs = api.runs(path=project_made.path)

    for run in runs:
        print(run.name)
        print(run.id)
        print(run.created_at)
        print(run.url)
    assert len(runs) == 3
    assert runs[0].url == f"{seed_env.url}/{project_made.path}/runs/{runs_made[0].id}"


def test_specify_one_run(seed_env, mnist):
    _, runs_made = mnist
    api = swanlab.Api()

    run = api.run(path=runs_made[0].path)

    print(run.name)
    print(run.id)
    print(run.created_at)
    print(run.url)
    assert run.name == "bs64"
    assert run.id == runs_made[0].id
    assert run.path == runs_made[0].path
    assert run.state == "FINISHED"
    assert run.finished_at is not None
    assert run.user == {"is_self": True, "username": seed_env.username}
    assert run.show is True
    assert run.json()["id"] == run.id


def test_run_config_and_environment(seed_env, mnist):
    _, runs_made = mnist
    api = swanlab.Api()

    run = api.run(path=runs_made[0].path)

    print(run.profile.config)
    print(run.profile.metadata)
    print(run.profile.requirements)
    assert run.profile.config == {"batch_size": 64, "lr": 0.01, "data": {"run_id": "d1"}}
    assert run.profile["config"] == run.profile.config  # also a dict
    assert run.profile.metadata["python"] == "3.11"
    assert run.profile.requirements == "numpy==2.0\n"
    assert set(run.profile) == {"config", "metadata", "requirements", "conda"}


def test_runs_filters_flat_form(seed_env, mnist):
    project_made, runs_made = mnist
    api = swanlab.Api()

    runs = api.runs(
        path=project_made.path,
        filters={
            "state": "FINISHED",
            "config.batch_size": "64",
        },
    )

    assert [r.name for r in runs] == ["bs64"]


def test_runs_filter_on_nested_config(api, mnist):
    project_made, _ = mnist
    runs = api.runs(project_made.path, filters={"config.data.run_id": "d2"})
    assert [r.name for r in runs] == ["bs32"]


def test_runs_filter_on_state_only(api, mnist):
    project_made, _ = mnist
    assert [r.name for r in api.runs(project_made.path, filters={"state": "RUNNING"})] == [
        "running"
    ]


def test_get_data_for_one_metric(seed_env, mnist):
    _, runs_made = mnist
    api = swanlab.Api()

    run = api.run(path=runs_made[0].path)
    metrics = run.metrics(keys=["loss"])

    print(metrics)
    assert isinstance(metrics, pd.DataFrame)
    assert metrics.index.name == "step"
    assert list(metrics.columns) == ["loss", "loss_timestamp"]
    assert metrics.index.tolist() == list(range(50))
    np.testing.assert_allclose(metrics["loss"].to_numpy(), 1.0 / (np.arange(50) + 1))
    # log_points stamps step s at 1.7e9 + s seconds; SwanLab's timestamps are milliseconds.
    assert metrics["loss_timestamp"].tolist() == [int((1.7e9 + s) * 1000) for s in range(50)]


def test_get_data_for_multiple_metrics(seed_env, mnist):
    _, runs_made = mnist
    api = swanlab.Api()

    run = api.run(path=runs_made[0].path)
    metrics = run.metrics(keys=["loss", "acc"])

    print(metrics)
    assert list(metrics.columns) == ["loss", "loss_timestamp", "acc", "acc_timestamp"]
    assert metrics.loc[10, "acc"] == pytest.approx(10 / 50)
    assert metrics.loc[10, "loss"] == pytest.approx(1 / 11)


def test_metrics_specify_x_axis(seed_env, mnist):
    _, runs_made = mnist
    api = swanlab.Api()

    run = api.run(path=runs_made[0].path)
    metrics = run.metrics(keys=["loss"], x_axis="acc")

    print(metrics)
    # As SwanLab's client: index ``step``, the x metric first as a column of its own.
    assert metrics.index.name == "step"
    assert list(metrics.columns) == ["acc", "loss", "loss_timestamp"]
    assert metrics.index.tolist() == list(range(50))
    np.testing.assert_allclose(metrics["acc"].to_numpy(), np.arange(50) / 50)
    np.testing.assert_allclose(metrics["loss"].to_numpy(), 1.0 / (np.arange(50) + 1))
    assert metrics["loss_timestamp"].tolist() == [int((1.7e9 + s) * 1000) for s in range(50)]


def test_metrics_x_axis_drops_the_steps_without_it(seed_env, make_run):
    made = make_run(
        points={"loss": ([0, 1, 2, 3], [4.0, 3.0, 2.0, 1.0]), "acc": ([1, 3], [0.5, 0.9])}
    )
    run = swanlab.Api().run(path=made.path)

    metrics = run.metrics(keys=["loss", "acc"], x_axis="acc")

    assert metrics.index.tolist() == [1, 3]
    # acc is not repeated; its timestamp stays in the keys' order.
    assert list(metrics.columns) == ["acc", "loss", "loss_timestamp", "acc_timestamp"]
    assert metrics["acc"].tolist() == [0.5, 0.9]
    assert metrics["loss"].tolist() == [3.0, 1.0]


def test_metrics_specify_sample_count(seed_env, make_run):
    values = np.sin(np.arange(1000) / 30.0)
    values[437] = 5.0  # a spike that sampling must keep
    run_made = make_run(points={"loss": values})
    api = swanlab.Api()

    run = api.run(path=run_made.path)
    metrics = run.metrics(keys=["loss"], sample=100)

    print(metrics)
    assert 0 < len(metrics) <= 100
    assert metrics["loss"].max() == 5.0
    assert metrics.index[0] == 0 and metrics.index[-1] == 999  # first and last survive


def test_metrics_without_keys_is_empty(api, mnist):
    _, runs_made = mnist
    frame = api.run(runs_made[0].path).metrics()
    assert frame.empty and frame.index.name == "step"


def test_metrics_missing_values_and_nan(api, make_run):
    run = make_run(points={"a": ([0, 1, 2], [1.0, math.nan, 3.0]), "b": ([1, 3], [10.0, 30.0])})
    frame = run.metrics(keys=["a", "b"])
    assert frame.index.tolist() == [0, 1, 2, 3]
    assert math.isnan(frame.loc[1, "a"])  # a logged NaN comes back as NaN
    assert math.isnan(frame.loc[3, "a"])  # not logged at step 3
    assert frame["b_timestamp"].isna().tolist() == [True, False, True, False]


def test_list_all_users(seed_env):
    api = swanlab.Api()

    users = api.users()

    for user in users:
        print(user.username)
        print(user.is_self)
        print(user.teams)
    assert seed_env.username in [u.username for u in users]
    assert [u.is_self for u in users if u.username == seed_env.username] == [True]


def test_create_user(seed_env, unique):
    api = swanlab.Api()

    user = api.user()

    created = user.create(username=f"{unique}user", password="test123456")
    assert created.username == f"{unique}user"
    assert created.is_self is False
    assert api.user(f"{unique}user").username == f"{unique}user"
    assert f"{unique}user" in [w.username for w in [api.workspace(f"{unique}user")]]


def test_print_generate_delete_api_key(seed_env):
    api = swanlab.Api()

    user = api.user()

    print(user.api_keys)
    new_api_key = user.generate_api_key()
    assert swanlab.Api(api_key=new_api_key).viewer.username == seed_env.username
    user.delete_api_key(api_key=new_api_key)
    with pytest.raises(Unauthorized):
        swanlab.Api(api_key=new_api_key).viewer  # noqa: B018


def test_api_keys_of_others_only_for_admins(api, server, unique):
    other = api.user().create(username=f"{unique}other")
    assert other.api_keys and len(other.api_keys) == 1  # an admin sees the first key's id
    as_other = swanlab.Api(host=server.url, api_key=other.api_key)
    with pytest.raises(PermissionDenied):
        as_other.user(api.viewer.username).api_keys  # noqa: B018
    assert api.user().is_self is True
    assert api.user(f"{unique}other").is_self is False
