"""The real ``wandb`` client, unmodified, logs runs into a lablens server (online mode).

One wandb script logs config, 300 steps with a spike, summary, images and console output;
``lablens.Api`` then reads back exactly what was logged. Other scripts end runs badly, sign in
with a wrong key, or log where the user is no member. The retried file_stream post is sent
by hand, as wandb's core sends it.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from clients import client_json, run_client

from lablens.api import Api
from lablens.contract.flatten import flatten
from lablens.errors import NotFound

SPIKE_STEP = 137
STEPS = 300
IMAGE_EVERY = 100

LOGGING_SCRIPT = """
import json, sys
import numpy as np
import wandb

run = wandb.init(
    entity=sys.argv[1],
    project=sys.argv[2],
    name="logged by wandb",
    config={"lr": 0.001, "model": {"layers": 4, "act": "relu", "dims": [64, 32]}, "seed": 7},
    tags=["compat", "wandb"],
    group="grp",
    job_type="train",
    notes="from the real client",
)
for i in range(300):
    row = {"train/loss": 42.5 if i == 137 else 1.0 / (1 + i), "acc": {"top1": i / 300}}
    if i % 100 == 0:
        pixels = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3) + i
        row["sample"] = wandb.Image(pixels, caption=f"step {i}")
    # Half without a step (wandb counts), half with one.
    if i < 150:
        wandb.log(row)
    else:
        run.log(row, step=i)
    if i in (10, 250):
        print(f"console line at step {i}")
run.summary["best"] = 0.25
run.config.update({"epochs": 3})
run.finish()
summary = json.loads(open(run.dir + "/wandb-summary.json").read())
print(json.dumps({"id": run.id, "files": run.dir, "summary": summary}))
"""

# One run per process: wandb 0.31 sometimes hangs in a fourth wandb.init of one process.
ENDING_SCRIPT = """
import json, sys
import wandb

mode = sys.argv[3]
if mode == "resume":
    run = wandb.init(entity=sys.argv[1], project=sys.argv[2], id=sys.argv[4], resume="allow")
else:
    run = wandb.init(entity=sys.argv[1], project=sys.argv[2], config={"a": 1})
print(json.dumps({"id": run.id, "config": dict(run.config)}))
sys.stdout.flush()
first = 3 if mode == "resume" else 0
for i in range(first, first + 3):
    run.log({"y": float(i)})
if mode == "raise":
    raise RuntimeError("the training broke")
run.finish(exit_code=2 if mode == "exit2" else 0)
"""

REFUSED_SCRIPT = """
import json, sys
import wandb

try:
    run = wandb.init(entity=sys.argv[1] or None, project=sys.argv[2])
except Exception as exc:
    print(json.dumps({"refused": str(exc)}))
else:
    run.log({"x": 1.0})
    run.finish()
    print(json.dumps({"id": run.id, "entity": run.entity}))
"""


def wandb_env(server_url: str, key: str, home: Path) -> dict[str, str]:
    """The environment of a wandb script: our server and key, nothing else reachable."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "WANDB_BASE_URL": server_url,
        "WANDB_API_KEY": key,
        "WANDB_SILENT": "true",
        "WANDB_ERROR_REPORTING": "false",
        "WANDB_DISABLE_GIT": "true",
        "WANDB_CONFIG_DIR": str(home / "config"),
        "WANDB_CACHE_DIR": str(home / "cache"),
        "WANDB_DATA_DIR": str(home / "data"),
        "HOME": str(home),
    }


def run_script(script: str, args: list[str], env: dict[str, str], cwd: Path) -> Any:
    """Run a wandb script with arguments; its last line of output, as JSON."""
    argv = "import sys; sys.argv = [''] + " + json.dumps(args) + "\n"
    return client_json("wandb", argv + script, env=env, cwd=cwd, timeout=240)


def expected_loss(step: int) -> float:
    return 42.5 if step == SPIKE_STEP else 1.0 / (1 + step)


@pytest.fixture(scope="module")
def logged(server, tmp_path_factory) -> dict[str, Any]:
    """One wandb script run: its run id, local files dir and summary, and where it logged."""
    project = "wandb-" + uuid.uuid4().hex[:8]
    cwd = tmp_path_factory.mktemp("wandb-logging")
    env = wandb_env(server.url, server.api_key, cwd / "home")
    out = run_script(LOGGING_SCRIPT, [server.username, project], env, cwd)
    api = Api(api_key=server.api_key, host=server.url)
    run = api.run(f"{server.username}/{project}/{out['id']}")
    return {**out, "project": project, "run": run, "api": api}


def test_run_fields_and_config(logged, server) -> None:
    run = logged["run"]
    assert run.id == logged["id"]
    assert run.entity == server.username
    assert run.project == logged["project"]
    assert run.name == "logged by wandb"
    assert run.state == "FINISHED"
    assert run.tags == ["compat", "wandb"]
    assert run.group == "grp"
    assert run.job_type == "train"
    assert run.notes == "from the real client"
    assert run.config == {
        "lr": 0.001,
        "model": {"layers": 4, "act": "relu", "dims": [64, 32]},
        "seed": 7,
        "epochs": 3,
    }
    # What wandb's metadata file said is the run's metadata.
    local = json.loads(Path(logged["files"], "wandb-metadata.json").read_text())
    assert run.metadata == local
    assert run.metadata["python"].startswith("CPython")


def test_summary_equals_what_wandb_kept(logged) -> None:
    local = {k: v for k, v in logged["summary"].items() if not k.startswith("_")}
    assert local["best"] == 0.25
    assert dict(logged["run"].summary) == flatten(local)


def test_every_history_value(logged) -> None:
    rows = list(logged["run"].scan_history())
    assert [r["_step"] for r in rows] == list(range(STEPS))
    for row in rows:
        step = row["_step"]
        values = {k: v for k, v in row.items() if not k.startswith("_")}
        # An image logged at the step is a media item, shown in the row as its reference.
        sample = values.pop("sample", None)
        if step % IMAGE_EVERY == 0:
            assert (sample["_type"], sample["caption"]) == ("image-file", f"step {step}")
        else:
            assert sample is None
        assert values == {"train/loss": expected_loss(step), "acc.top1": step / 300}, step
    # The spike is kept as logged, and time runs forward.
    assert rows[SPIKE_STEP]["train/loss"] == 42.5
    times = [r["_timestamp"] for r in rows]
    assert times == sorted(times)


def test_images_are_run_files_with_wandbs_bytes(logged) -> None:
    run = logged["run"]
    media_file = run.file("wandb-media.jsonl")
    lines = [json.loads(x) for x in _read(media_file).decode().splitlines() if x]
    assert [(m["step"], m["key"]) for m in lines] == [
        (s, "sample") for s in range(0, STEPS, IMAGE_EVERY)
    ]
    names = {f.name for f in run.files()}
    for media in lines:
        value = media["value"]
        assert value["_type"] == "image-file"
        assert value["caption"] == f"step {media['step']}"
        assert value["path"] in names
        local = Path(logged["files"], value["path"]).read_bytes()
        assert _read(run.file(value["path"])) == local
    assert {"wandb-metadata.json", "requirements.txt", "config.yaml"} <= names


def test_console_lines(logged, server) -> None:
    run = logged["run"]
    route = f"/api/v1/projects/{run.entity}/{run.project}/runs/{run.id}/console"
    items = logged["api"].client.request("GET", route).json()["items"]
    lines = [(x["stream"], x["line"]) for x in items]
    assert lines == [
        ("stdout", "console line at step 10"),
        ("stdout", "console line at step 250"),
    ]


def test_bad_endings_crash_and_a_resumed_run_continues(server, tmp_path) -> None:
    project = "wandb-end-" + uuid.uuid4().hex[:8]
    env = wandb_env(server.url, server.api_key, tmp_path / "home")
    api = Api(api_key=server.api_key, host=server.url)

    def script(*args: str):
        done = _run_raw(ENDING_SCRIPT, [server.username, project, *args], env, tmp_path)
        out = json.loads(done.stdout.splitlines()[0])
        return done, api.run(f"{server.username}/{project}/{out['id']}"), out

    done, run, _ = script("exit2")
    assert done.returncode == 0, done.stderr
    assert (run.state, run._attrs["exit_code"]) == ("CRASHED", 2)
    done, run, _ = script("raise")
    assert done.returncode == 1
    assert "the training broke" in done.stderr
    assert (run.state, run._attrs["exit_code"]) == ("CRASHED", 1)
    assert [r["y"] for r in run.scan_history()] == [0.0, 1.0, 2.0]
    # A resumed run gets its config back, continues its steps, and runs to its end again.
    done, run, out = script("resume", run.id)
    assert done.returncode == 0, done.stderr
    assert out["config"] == {"a": 1}
    assert [(r["_step"], r["y"]) for r in run.scan_history()] == [(i, float(i)) for i in range(6)]
    assert (run.state, run._attrs["exit_code"], run.config) == ("FINISHED", 0, {"a": 1})


def test_a_retried_file_stream_post_stores_once(server, api) -> None:
    project = "wandb-retry-" + uuid.uuid4().hex[:8]
    auth = ("api", server.api_key)
    upsert = """mutation UpsertBucket($name: String, $project: String, $entity: String) {
        upsertBucket(input: {name: $name, modelName: $project, entityName: $entity}) {
            bucket { id name } inserted } }"""
    answer = requests.post(
        f"{server.url}/graphql",
        json={"query": upsert, "variables": {"name": "retried1", "project": project}},
        auth=auth,
        timeout=30,
    ).json()
    assert answer["data"]["upsertBucket"]["inserted"] is True
    url = f"{server.url}/files/{server.username}/{project}/retried1/file_stream"
    rows = [
        {"_step": s, "_timestamp": 1.7e9 + s, "_runtime": s, "loss": 1.0 / (s + 1)}
        for s in range(3)
    ]
    media = {"_type": "image-file", "path": "media/images/x.png", "size": 1}
    post = {
        "files": {
            "wandb-history.jsonl": {
                "offset": 0,
                "content": [json.dumps(r) for r in rows]
                + [json.dumps({"_step": 3, "_timestamp": 1.7e9, "img": media})],
            },
            "wandb-events.jsonl": {
                "offset": 0,
                "content": [json.dumps({"system.cpu": 5.5, "_timestamp": 1.7e9, "_wandb": True})],
            },
            "output.log": {"offset": 0, "content": ["2026-01-02T03:04:05.000001 hello"]},
        }
    }
    for _ in range(2):
        done = requests.post(url, json=post, auth=auth, timeout=30)
        assert done.status_code == 200, done.text
    run = api.run(f"{server.username}/{project}/retried1")
    history = list(run.scan_history())
    assert [(r["_step"], r["loss"]) for r in history] == [(s, 1.0 / (s + 1)) for s in range(3)]
    assert [r["system.cpu"] for r in run.history(stream="system", pandas=False)] == [5.5]
    media_lines = _read(run.file("wandb-media.jsonl")).decode().splitlines()
    assert [json.loads(x) for x in media_lines] == [
        {"step": 3, "key": "img", "value": media, "timestamp": 1.7e9}
    ]
    route = f"/api/v1/projects/{server.username}/{project}/runs/retried1/console"
    items = api.client.request("GET", route).json()["items"]
    assert [(x["ts"], x["line"]) for x in items] == [(1767323045.000001, "hello")]
    # The last post ends the run.
    done = requests.post(url, json={"complete": True, "exitcode": 0}, auth=auth, timeout=30)
    assert done.status_code == 200
    assert api.run(f"{server.username}/{project}/retried1").state == "FINISHED"


def test_a_wrong_key_fails_init_and_stores_nothing(server, tmp_path) -> None:
    project = "wandb-badkey-" + uuid.uuid4().hex[:8]
    env = wandb_env(server.url, "ll_" + "0" * 48, tmp_path / "home")
    out = run_script(REFUSED_SCRIPT, [server.username, project], env, tmp_path)
    assert "API key is wrong" in out["refused"]
    api = Api(api_key=server.api_key, host=server.url)
    with pytest.raises(NotFound):
        api.project(f"{server.username}/{project}")


def test_only_members_log_into_a_workspace(server, tmp_path) -> None:
    admin = Api(api_key=server.api_key, host=server.url)
    name = "wb" + uuid.uuid4().hex[:8]
    user = admin.create_user(f"{name}@lab.test")
    key = user.generate_api_key("wandb")
    project = "wandb-outsider-" + uuid.uuid4().hex[:8]
    env = wandb_env(server.url, key, tmp_path / "home")
    out = run_script(REFUSED_SCRIPT, [server.username, project], env, tmp_path)
    assert server.username in out["refused"] and user.username in out["refused"]
    with pytest.raises(NotFound):
        admin.project(f"{server.username}/{project}")
    # With no entity, the run goes to the user's own workspace.
    out = run_script(REFUSED_SCRIPT, ["", project], env, tmp_path)
    assert out["entity"] == user.username
    run = admin.run(f"{user.username}/{project}/{out['id']}")
    assert run.state == "FINISHED"
    assert [r["x"] for r in run.scan_history()] == [1.0]


def _read(file) -> bytes:
    """A lablens run file's bytes."""
    with tempfile.TemporaryDirectory() as root:
        return file.download(root).read_bytes()


def _run_raw(script: str, args: list[str], env: dict[str, str], cwd: Path):
    argv = "import sys; sys.argv = [''] + " + json.dumps(args) + "\n"
    return run_client("wandb", argv + script, env=env, cwd=cwd, timeout=240)


def test_bad_posts_are_refused_naming_the_problem(server, api) -> None:
    project = "wandb-bad-" + uuid.uuid4().hex[:8]
    auth = ("api", server.api_key)
    query = """mutation CreateRunFiles($entity: String!, $project: String!, $run: String!) {
        createRunFiles(input: {entityName: $entity, projectName: $project, runName: $run,
            files: ["a.txt"]}) { runID files { name uploadUrl } } }"""
    upsert = """mutation { upsertBucket(input: {name: "bad1", modelName: "%s"}) {
        bucket { name } } }"""
    requests.post(
        f"{server.url}/graphql", json={"query": upsert % project}, auth=auth, timeout=30
    ).raise_for_status()
    url = f"{server.url}/files/{server.username}/{project}/bad1/file_stream"
    post = {"files": {"wandb-history.jsonl": {"offset": 0, "content": ["not json"]}}}
    done = requests.post(url, json=post, auth=auth, timeout=30)
    assert done.status_code == 400
    assert "files.wandb-history.jsonl.content[0] is not JSON" in done.json()["detail"]
    # A user who is not a member streams nothing into the run.
    outsider = api.create_user(f"wo{uuid.uuid4().hex[:8]}@lab.test")
    key = outsider.generate_api_key("wandb")
    post = {"files": {"wandb-history.jsonl": {"offset": 0, "content": ['{"_step": 0, "x": 1}']}}}
    done = requests.post(url, json=post, auth=("api", key), timeout=30)
    assert done.status_code == 403
    assert outsider.username in done.json()["detail"]
    assert list(api.run(f"{server.username}/{project}/bad1").scan_history()) == []
    # An upload URL works for its file only, and not once its signature is changed.
    variables = {"entity": server.username, "project": project, "run": "bad1"}
    answer = requests.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        auth=auth,
        timeout=30,
    ).json()
    upload = answer["data"]["createRunFiles"]["files"][0]["uploadUrl"]
    assert requests.put(upload.replace("a.txt", "b.txt"), data=b"x", timeout=30).status_code == 403
    assert requests.put(upload[:-2] + "xx", data=b"x", timeout=30).status_code == 403
    assert requests.put(upload, data=b"kept", timeout=30).status_code == 200
    run = api.run(f"{server.username}/{project}/bad1")
    assert [f.name for f in run.files()] == ["a.txt"]
    assert _read(run.file("a.txt")) == b"kept"
    # The client's own telemetry is taken and dropped.
    otel = requests.post(f"{server.url}/sdk/otel/v1/metrics", data=b"\x00", timeout=30)
    assert otel.status_code == 200 and otel.content == b""
