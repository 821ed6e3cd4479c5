"""The unmodified ``swanlab.Api(api_key=..., host=...)`` (swanlab 0.10.3, in its own venv) reads a
lablens server: what it reads equals what ``lablens.Api`` reads of the same runs.

Runs are logged through lablens's own routes; one client script then reads workspaces, projects,
runs (with filters and paging), one run, its metrics (full, sampled, the spike kept), its
summary and keys, and the user, and prints it all as one JSON document. A second script checks
the failures: a wrong key, a private project of another user, a key revoked mid-session.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from clients import client_json

from lablens.api import Api

#: The step of the spike in the long run, and its value.
SPIKE_STEP, SPIKE = 333, 50.0
LONG_STEPS = 600

READ_SCRIPT = """
import json, os, warnings
import swanlab

host, key, path = os.environ["LL_HOST"], os.environ["LL_KEY"], os.environ["LL_PROJECT"]
long_id = os.environ["LL_LONG"]
api = swanlab.Api(api_key=key, host=host)
out = {"username": api.username}
out["workspaces"] = [w.json() for w in api.workspaces()]
out["workspace"] = api.workspace().json()
out["projects"] = [p.json() for p in api.projects(path=api.username, size=100, all=True)]
out["project"] = api.project(path).json()
out["workspace_projects"] = [p.name for p in api.workspace().projects()]
out["searched"] = [p.name for p in api.projects(path=api.username, search=path.split("/")[1])]
out["projects_page2"] = [p.name for p in api.projects(path=api.username, size=10, page=2)]
out["runs"] = [r.json() for r in api.runs(path=path)]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out["runs_flat_dict"] = [r.run_id for r in api.runs(path=path, filters={
        "state": "FINISHED", "config.batch_size": "64"})]
out["flat_dict_warning"] = [str(w.message) for w in caught]
out["runs_filtered"] = [r.run_id for r in api.runs(path=path, filters=[
    {"key": "state", "type": "STABLE", "op": "EQ", "value": ["FINISHED"]},
    {"key": "batch_size", "type": "CONFIG", "op": "EQ", "value": ["64"]},
])]
out["runs_tagged"] = [r.run_id for r in api.runs(path=path, filters=[
    {"key": "labels", "type": "STABLE", "op": "IN", "value": ["spiky"]}])]
out["runs_lr_gte"] = [r.run_id for r in api.runs(path=path, filters=[
    {"key": "lr", "type": "CONFIG", "op": "GTE", "value": ["0.05"]}])]
out["runs_sorted"] = [r.run_id for r in api.project(path).runs(sorts=[
    {"key": "name", "type": "STABLE", "order": "ASC"}])]
out["runs_page2"] = [r.run_id for r in api.runs_get(path=path, page=2, size=10)]
out["runs_all_pages"] = [r.run_id for r in api.runs_get(path=path, size=10, all=True)]
bad = api.runs(path=path, filters=[{"key": "pin", "type": "STABLE", "op": "EQ", "value": ["1"]}])
out["bad_filter"] = {"runs": [r.run_id for r in bad], "errors": bad._errors}
run = api.run(path=f"{path}/{long_id}")
out["run"] = run.json()
out["metrics_full"] = run.metrics(keys=["loss", "acc"], all=True)
out["metrics_sampled"] = run.metrics(keys=["loss"], sample=50)
out["metrics_default"] = run.metrics(keys=["loss", "acc"])
out["metrics_by_acc"] = run.metrics(keys=["loss"], x_axis="acc", sample=1500)
out["summary"] = run.summary()
out["series"] = run.series().json()
out["system_series"] = run.series(metric_class="SYSTEM").json()
out["system_metrics"] = run.metrics(keys=["__swanlab__.cpu", "__swanlab__.gpu.0.util"], all=True)
out["export_csv"] = next(iter(run.series())).export_csv().json()
out["user"] = api.user().json()
out["self_hosted"] = api.self_hosted().json()
out["users"] = [u["username"] for u in api.self_hosted().get_users()]
new_user = os.environ["LL_NEW_USER"]
hosted = api.self_hosted()
out["created"] = hosted.create_user(username=new_user, password="test123456").json()
out["created_again"] = hosted.create_user(username=new_user, password="test123456").json()
out["short_password"] = hosted.create_user(username=new_user + "x", password="short").json()
out["missing_project"] = api.project(path + "-nope").wrapper().json()
out["missing_run"] = api.run(path=f"{path}/nope1234").wrapper().json()
print(json.dumps(out))
"""

FAIL_SCRIPT = """
import json, os, requests
import swanlab
from swanlab.exceptions import AuthenticationError

host = os.environ["LL_HOST"]
out = {}
try:
    swanlab.Api(api_key="ll_" + "0" * 48, host=host)
    out["wrong_key"] = None
except AuthenticationError as e:
    out["wrong_key"] = ["AuthenticationError", str(e)]
key = os.environ["LL_KEY"]
api = swanlab.Api(api_key=key, host=host)
out["username"] = api.username
out["own_project"] = api.project(os.environ["LL_OWN"]).wrapper().json()
out["private_project"] = api.project(os.environ["LL_PRIVATE"]).wrapper().json()
out["private_run"] = api.run(os.environ["LL_PRIVATE_RUN"]).wrapper().json()
out["private_listing"] = [p.name for p in api.projects(path=os.environ["LL_PRIVATE"].split("/")[0])]
revoked = requests.delete(f"{host}/api/v1/viewer/api_keys/{key}",
                          headers={"Authorization": f"Bearer {key}"}, timeout=30)
out["revoke_status"] = revoked.status_code
out["after_revoke"] = api.project(os.environ["LL_OWN"]).wrapper().json()
try:
    swanlab.Api(api_key=key, host=host)
    out["relogin"] = None
except AuthenticationError as e:
    out["relogin"] = ["AuthenticationError", str(e)]
print(json.dumps(out))
"""


def _client(script: str, tmp_path, **env: str):
    return client_json("swanlab", script, env={"HOME": str(tmp_path), **env}, timeout=300)


def _long_points() -> pa.Table:
    """loss and acc over LONG_STEPS steps, a spike in loss, times with milliseconds."""
    steps = np.arange(LONG_STEPS, dtype=np.int64)
    loss = 1.0 / (1.0 + steps / 50.0)
    loss[SPIKE_STEP] = SPIKE
    acc = np.round(steps / LONG_STEPS, 4)
    stamps = 1.7e9 + steps * 0.25 + 0.0005
    return pa.table(
        {
            "key": pa.array(["loss"] * LONG_STEPS + ["acc"] * LONG_STEPS, pa.string()),
            "step": np.concatenate([steps, steps]),
            "timestamp": np.concatenate([stamps, stamps]),
            "value": np.concatenate([loss, acc]),
        }
    )


def _rows(frame, key: str) -> list[tuple[int, float, int]]:
    """``(step, value, ms)`` of each step ``key`` was logged at, from ``Run.metrics()``."""
    present = frame[key].notna()
    return [
        (int(s), float(v), int(t))
        for s, v, t in zip(
            frame.index[present],
            frame[key][present],
            frame[f"{key}_timestamp"][present],
            strict=True,
        )
    ]


def _entry(metrics: dict, key: str) -> dict:
    return next(m for m in metrics["list"] if m["key"] == key)


@pytest.fixture
def project_of_runs(api, make_project, make_run):
    """A project of twelve runs: config, summary, tags, states, one long run with a spike."""
    project = make_project(description="swanlab reads this", labels=["vision", "cnn"])
    runs = {}
    runs["long"] = make_run(
        project,
        name="long",
        config={"lr": 0.1, "batch_size": 64, "opt": {"name": "adam", "betas": [0.9, 0.99]}},
        tags=["spiky", "long"],
        group="g1",
        job_type="train",
        notes="the long one",
        points=_long_points(),
        system={"system.cpu": [10.0, 12.5, 11.0], "system.gpu.0.util": [0.0, 99.5, 50.0]},
        summary={"best_acc": 0.99},
    )
    runs["crashed"] = make_run(
        project,
        name="crashed",
        config={"lr": 0.01, "batch_size": 64},
        tags=["short"],
        points={"loss": [3.0, 2.0]},
        state="CRASHED",
    )
    runs["running"] = make_run(
        project, name="running", config={"lr": 0.2, "batch_size": 64}, state=None
    )
    runs["small"] = make_run(
        project, name="small", config={"lr": 0.05, "batch_size": 32}, points={"loss": [1.0]}
    )
    for i in range(8):
        runs[f"extra{i}"] = make_run(
            project, name=f"extra{i}", config={"lr": 0.001 * i, "batch_size": 64 if i % 2 else 16}
        )
    return project, runs


def test_swanlab_api_reads_what_lablens_reads(
    api, server, make_project, project_of_runs, unique, tmp_path
):
    project, runs = project_of_runs
    make_project(visibility="PRIVATE")  # the admin's own private projects are listed too
    for _ in range(10):  # enough projects for a second page of ten
        make_project()
    path = project.path
    long = api.run(runs["long"].path)
    got = _client(
        READ_SCRIPT,
        tmp_path,
        LL_HOST=server.url,
        LL_KEY=server.api_key,
        LL_PROJECT=path,
        LL_LONG=long.id,
        LL_NEW_USER=f"sw-{unique}",
    )
    me = api.viewer
    assert got["username"] == me.username == server.username

    # -- workspaces and projects --
    ours = {w.username: w for w in api.workspaces()}
    assert [w["username"] for w in got["workspaces"]] == list(ours)
    for w in [*got["workspaces"], got["workspace"]]:
        mine = ours[w["username"]]
        assert (w["name"], w["role"], w["workspace_type"]) == (
            mine.name,
            mine.role,
            mine.workspace_type,
        )
        assert w["profile"] == {
            k: (mine.profile or {}).get(k) or ""
            for k in ("bio", "url", "institution", "school", "email", "location")
        }
    assert got["workspace"]["username"] == me.username

    our_projects = {p.name: p for p in api.projects(me.username)}
    assert sorted(p["name"] for p in got["projects"]) == sorted(our_projects)
    for p in [got["project"], *got["projects"]]:
        mine = our_projects[p["name"]]
        assert p["path"] == mine.path
        assert p["description"] == (mine.description or "")
        assert [label["name"] for label in p["labels"]] == mine.labels
        assert p["visibility"] == mine.visibility
        assert p["created_at"] == mine.created_at
        assert p["updated_at"] == mine.updated_at
        assert p["count"]["experiments"] == mine.count["runs"]
    assert got["project"]["name"] == project.name
    assert sorted(got["workspace_projects"]) == sorted(our_projects)
    assert got["searched"] == [project.name]
    assert len(got["projects"]) >= 12
    assert got["projects_page2"] == [p["name"] for p in got["projects"]][10:20]
    assert got["project"]["count"]["experiments"] == 12
    assert got["project"]["labels"] == [{"name": "vision"}, {"name": "cnn"}]

    # -- runs: every attribute, the filters, the order, the pages --
    newest_first = list(api.runs(path, order="-created_at"))
    assert [r["run_id"] for r in got["runs"]] == [r.id for r in newest_first]
    for r, mine in zip(got["runs"], newest_first, strict=True):
        assert r["name"] == mine.name
        assert r["description"] == mine.description
        assert r["state"] == mine.state
        assert r["group"] == (mine.group or "")
        assert r["job_type"] == (mine.job_type or "")
        assert [label["name"] for label in r["labels"]] == mine.labels
        assert r["created_at"] == mine.created_at
        assert r["finished_at"] == mine.finished_at
        assert r["show"] == mine.show
        assert r["user"]["username"] == mine.user["username"]
        assert r["profile"]["config"] == mine.config
        assert r["profile"]["metadata"] == mine.metadata
        assert r["project_id"] == path
    states = {r["name"]: r["state"] for r in got["runs"]}
    assert (states["long"], states["crashed"], states["running"]) == (
        "FINISHED",
        "CRASHED",
        "RUNNING",
    )

    # The seed's flat dict is not what swanlab 0.10.3 takes: it warns and reads every run.
    assert got["runs_flat_dict"] == [r.id for r in newest_first]
    assert any("filters must be a list" in w for w in got["flat_dict_warning"])
    flat = {"state": "FINISHED", "config.batch_size": 64}
    expected = [r.id for r in api.runs(path, filters=flat, order="-created_at")]
    assert got["runs_filtered"] == expected
    assert runs["long"].id in expected and runs["crashed"].id not in expected
    assert got["runs_tagged"] == [runs["long"].id]
    lr_high = {"config.lr": {"$gte": 0.05}}
    assert got["runs_lr_gte"] == [
        r.id for r in api.runs(path, filters=lr_high, order="-created_at")
    ]
    assert got["runs_sorted"] == [r.id for r in api.runs(path, order="+name")]
    assert got["runs_page2"] == [r.id for r in newest_first[10:]]
    assert got["runs_all_pages"] == [r.id for r in newest_first]
    assert got["bad_filter"]["runs"] == []
    assert "filters[0].key" in got["bad_filter"]["errors"][0]
    assert "'pin'" in got["bad_filter"]["errors"][0]

    # -- one run --
    run = got["run"]
    assert run["run_id"] == long.id
    assert run["name"] == "long"
    assert run["description"] == "the long one"
    assert run["group"] == "g1" and run["job_type"] == "train"
    assert run["profile"]["config"] == long.config
    assert run["profile"]["config"]["opt"] == {"name": "adam", "betas": [0.9, 0.99]}
    assert run["url"] == f"{server.url}/@{path}/runs/{long.id}/chart"

    # -- metrics: every point (the export path), sampled, and against another metric --
    full = long.metrics(keys=["loss", "acc"])
    for key in ("loss", "acc"):
        points = _entry(got["metrics_full"], key)["metrics"]
        assert [(p["step"], p["value"], p["timestamp"]) for p in points] == _rows(full, key)
        assert len(points) == LONG_STEPS
        assert [
            (p["index"], p["data"], p["timestamp"])
            for p in _entry(got["metrics_default"], key)["metrics"]
        ] == _rows(full, key)
    sampled = long.metrics(keys=["loss"], sample=50)
    points = _entry(got["metrics_sampled"], "loss")["metrics"]
    assert [(p["index"], p["data"], p["timestamp"]) for p in points] == _rows(sampled, "loss")
    assert len(points) < LONG_STEPS
    assert (SPIKE_STEP, SPIKE) in [(p["index"], p["data"]) for p in points]
    loss = _entry(got["metrics_sampled"], "loss")
    assert loss["max"]["data"] == SPIKE and loss["max"]["index"] == SPIKE_STEP
    assert loss["latest"]["data"] == full["loss"].iloc[-1]
    assert loss["latest"]["index"] == LONG_STEPS - 1
    assert loss["min"]["data"] == full["loss"].min()
    by_acc = long.metrics(keys=["loss"], x_axis="acc")
    points = _entry(got["metrics_by_acc"], "loss")["metrics"]
    assert [p["index"] for p in points] == list(by_acc["acc"])
    assert [p["data"] for p in points] == list(by_acc["loss"])

    # -- summary, keys, export link --
    summary = got["summary"]
    assert summary["loss"]["value"] == long.summary["loss"]
    assert summary["loss"]["step"] == LONG_STEPS - 1
    assert summary["loss"]["max"] == SPIKE
    assert summary["acc"]["min"] == full["acc"].min()
    assert math.isclose(summary["acc"]["avg"], full["acc"].mean())
    assert got["series"]["keys"] == sorted(long.history_keys)
    # System metrics, under SwanLab's names (``system.cpu`` is ``__swanlab__.cpu``).
    assert got["system_series"]["keys"] == ["__swanlab__.cpu", "__swanlab__.gpu.0.util"]
    system = long.history(samples=None, stream="system")
    for ours, theirs in (
        ("system.cpu", "__swanlab__.cpu"),
        ("system.gpu.0.util", "__swanlab__.gpu.0.util"),
    ):
        points = _entry(got["system_metrics"], theirs)["metrics"]
        assert [(p["step"], p["value"]) for p in points] == list(
            zip(system["_step"], system[ours], strict=True)
        )
    assert got["export_csv"]["ok"] and got["export_csv"]["data"]["url"].startswith(server.url)

    # -- user --
    assert got["user"]["username"] == me.username
    assert got["user"]["name"] == (me.name or "")
    assert got["user"]["email"] == (me.email or "")
    assert got["self_hosted"]["root"] is True
    assert sorted(got["users"]) == sorted(
        u.username for u in api.users() if u.username != f"sw-{unique}"
    )
    assert got["created"]["ok"] and api.user(username=f"sw-{unique}").username == f"sw-{unique}"
    assert not got["created_again"]["ok"] and "is taken" in got["created_again"]["errmsg"]
    assert "users[0].password" in got["short_password"]["errmsg"]

    # -- what is not there --
    assert not got["missing_project"]["ok"]
    assert "project not found" in got["missing_project"]["errmsg"]
    assert not got["missing_run"]["ok"]
    assert "run not found" in got["missing_run"]["errmsg"]


def test_swanlab_login_errors_private_projects_and_revoked_keys(api, server, unique, tmp_path):
    bob = api.create_user(username=f"bob-{unique}")
    carol = api.create_user(username=f"carol-{unique}")
    bob_api = Api(host=server.url, api_key=bob.api_key)
    private = bob_api.create_project(f"{unique}-secret", visibility="PRIVATE")
    secret_run = bob_api.create_run(project=private.name, entity=bob.username, name="secret")
    carol_api = Api(host=server.url, api_key=carol.api_key)
    own = carol_api.create_project(f"{unique}-mine")
    # A second key of carol's, revoked by the script itself halfway through.
    key = carol_api.user().generate_api_key("swanlab")
    try:
        got = _client(
            FAIL_SCRIPT,
            tmp_path,
            LL_HOST=server.url,
            LL_KEY=key,
            LL_OWN=own.path,
            LL_PRIVATE=private.path,
            LL_PRIVATE_RUN=secret_run.path,
        )
    finally:
        bob_api.project(private.path).delete()
        own.delete()

    assert got["wrong_key"][0] == "AuthenticationError"
    assert "check if the provided API key is correct" in got["wrong_key"][1]
    assert got["username"] == carol.username
    assert got["own_project"]["ok"] and got["own_project"]["data"]["name"] == own.name
    for what in ("private_project", "private_run"):
        assert not got[what]["ok"]
        assert "project not found" in got[what]["errmsg"]
    assert private.name not in got["private_listing"]
    assert got["revoke_status"] == 204
    assert not got["after_revoke"]["ok"]
    assert "wrong or was revoked" in got["after_revoke"]["errmsg"]
    assert got["relogin"][0] == "AuthenticationError"


INIT_SCRIPT = """
import json, math, os
import swanlab

host, key, ws, project = (os.environ[k] for k in ("LL_HOST", "LL_KEY", "LL_WS", "LL_PROJECT"))
swanlab.login(api_key=key, host=host)
run = swanlab.init(
    workspace=ws, project=project, name="trained", description="logged by swanlab",
    tags=["swan", "init"], group="g", job_type="train",
    config={"lr": 0.1, "batch_size": 64, "opt": {"name": "adam"}},
)
run_id = run.id
for i in range(30):
    swanlab.log({"loss": 1.0 / (i + 1), "acc": i / 30}, step=i)
print("hello from training")
swanlab.finish()
swanlab.init(workspace=ws, project=project, id=run_id, resume="must")
for i in range(30, 40):
    swanlab.log({"loss": 1.0 / (i + 1)}, step=i)
swanlab.finish()
api = swanlab.Api(api_key=key, host=host)
exp = api.run(f"{ws}/{project}/{run_id}")
out = {"id": run_id, "run": exp.json(), "loss": exp.metrics(keys=["loss"], all=True),
       "logs": exp.logs()}
print(json.dumps(out))
"""


def test_swanlab_init_logs_a_lablens_run(api, server, unique, tmp_path):
    """``swanlab.init()``, ``log()``, ``finish()`` and a resume write an ordinary lablens run."""
    project = f"{unique}-init"
    got = _client(
        INIT_SCRIPT,
        tmp_path,
        LL_HOST=server.url,
        LL_KEY=server.api_key,
        LL_WS=server.username,
        LL_PROJECT=project,
        SWANLAB_SAVE_DIR=str(tmp_path / "swanlog"),
    )
    try:
        run = api.run(f"{server.username}/{project}/{got['id']}")
        assert run.name == "trained"
        assert run.notes == "logged by swanlab"
        assert run.tags == ["swan", "init"]
        assert (run.group, run.job_type) == ("g", "train")
        assert run.config == {"lr": 0.1, "batch_size": 64, "opt": {"name": "adam"}}
        assert run.state == "FINISHED" and run.finished_at
        assert run.metadata  # the client's environment probe
        frame = run.metrics(keys=["loss", "acc"])
        assert list(frame.index) == list(range(40))
        assert list(frame["loss"]) == [1.0 / (i + 1) for i in range(40)]
        assert list(frame["acc"].dropna()) == [i / 30 for i in range(30)]
        console = api.client.get_json(
            f"/api/v1/projects/{run.entity}/{run.project}/runs/{run.id}/console"
        )
        assert "hello from training" in [line["line"] for line in console["items"]]
        logs = got["logs"]["logs"]
        assert [entry["message"] for entry in logs] == [
            line["line"] for line in console["items"] if line["stream"] == "stdout"
        ]
        assert all(entry["timestamp"].endswith("Z") for entry in logs)
        # And the swanlab client reads back what it wrote.
        assert got["run"]["name"] == "trained"
        assert got["run"]["profile"]["config"] == run.config
        points = _entry(got["loss"], "loss")["metrics"]
        assert [(p["step"], p["value"], p["timestamp"]) for p in points] == _rows(frame, "loss")
    finally:
        api.project(f"{server.username}/{project}").delete()
