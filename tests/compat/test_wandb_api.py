"""Unmodified ``wandb.Api`` (the real package, in its own venv) reads a lablens server exactly.

Runs are logged with the lablens SDK; one ``wandb.Api`` script reads everything this module
checks and prints it as one JSON document; each test compares a part of it with what
``lablens.Api`` reads from the same server: the viewer, projects, runs over many pages with W&B's
filters and orders, each run's fields, full and sampled history (the spike survives), files and
their bytes, and the errors of a missing run and of another user's private project.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from clients import COMPAT_DIR, client_json

from servers import log_points

pytestmark = pytest.mark.skipif(
    not (COMPAT_DIR / "wandb" / "bin" / "python").exists(),
    reason="the wandb venv is missing: `make compat` makes it",
)

N_RUNS = 60
SPIKE_STEP = 150
PER_PAGE = 7

#: W&B filters (and orders) and the same query in lablens's own spelling.
QUERIES: dict[str, dict[str, Any]] = {
    "all": {"filters": {}, "order": None},
    "lr_gt": {"filters": {"config.lr": {"$gt": 0.031}}, "order": None},
    "lr_value_gt": {
        "filters": {"config.lr.value": {"$gt": 0.031}},
        "ours": {"config.lr": {"$gt": 0.031}},
        "order": None,
    },
    "and": {
        "filters": {"$and": [{"tags": {"$in": ["even"]}}, {"summary_metrics.acc": {"$gte": 0.5}}]},
        "order": None,
    },
    "tags_in": {"filters": {"tags": {"$in": ["m1", "m2"]}}, "order": "-created_at"},
    "finished": {"filters": {"state": "finished"}, "order": None},
    "crashed": {"filters": {"state": {"$in": ["crashed"]}}, "order": None},
    "acc_lt_desc": {
        "filters": {"summary_metrics.acc": {"$lt": 0.3}},
        "order": "-summary_metrics.acc",
    },
    "by_acc_desc": {"filters": {}, "order": "-summary_metrics.acc"},
    "by_lr_value": {"filters": {}, "order": "+config.lr.value", "ours_order": "+config.lr"},
    "nested_value": {
        "filters": {"config.opt.value.name": "sgd", "config.batch.value": {"$in": [32, 48]}},
        "ours": {"config.opt.name": "sgd", "config.batch": {"$in": [32, 48]}},
        "order": None,
    },
    "names": {
        # W&B's name is the run id; display_name/displayName the run's name.
        "filters": {
            "$or": [{"display_name": "run-03"}, {"displayName": {"$regex": "^run-1[0-2]$"}}]
        },
        "order": "+display_name",
        "ours_order": "+name",
    },
}


def _spike_loss(step: int) -> float:
    return 50.0 if step == SPIKE_STEP else 1.0 / (1 + step)


@pytest.fixture(scope="module")
def logged(server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A project of 60 runs and one 300-step run with a spike and files, logged with the
    lablens SDK; another user's private project; a user who is not a member of it."""
    import lablens
    from lablens.api import Api

    root = tmp_path_factory.mktemp("wandb-api")
    api = Api(host=server.url, api_key=server.api_key)
    suffix = os.urandom(4).hex()
    project = f"wapi-{suffix}"
    ws = server.username
    common = {"host": server.url, "api_key": server.api_key, "dir": str(root)}
    settings = {"console": False, "system_interval": 3600.0}
    ids = []
    for i in range(N_RUNS):
        run = lablens.init(
            project=project,
            entity=ws,
            name=f"run-{i:02d}",
            config={
                "lr": round(0.001 * (i + 1), 6),
                "batch": 16 * (1 + i % 4),
                "opt": {"name": ["adam", "sgd"][i % 2], "beta": 0.9},
            },
            tags=["even" if i % 2 == 0 else "odd", f"m{i % 3}"],
            group=f"g{i % 5}",
            job_type="train",
            notes=f"run number {i}",
            settings=settings,
            **common,
        )
        run.log({"acc": ((i * 37) % N_RUNS) / N_RUNS, "loss": 1.0 / (i + 1)})
        run.summary["best"] = i
        run.finish(exit_code=1 if i % 20 == 7 else 0)
        ids.append(run.id)

    # An artifact of two versions, logged by one run and used by another.
    art_src = root / "art"
    (art_src / "sub").mkdir(parents=True)
    art_files = {"a.txt": b"hello artifact\n", "sub/b.bin": os.urandom(3000)}
    for name, content in art_files.items():
        (art_src / name).write_bytes(content)
    producer = lablens.init(
        project=project, entity=ws, name="producer", settings=settings, **common
    )
    first = lablens.Artifact("ds", type="dataset", description="first", metadata={"rows": 1})
    first.add_file(str(art_src / "a.txt"))
    producer.log_artifact(first)
    second = lablens.Artifact("ds", type="dataset", description="a dataset", metadata={"rows": 3})
    second.add_dir(str(art_src))
    producer.log_artifact(second, aliases=["best"])
    producer.finish()
    consumer = lablens.init(
        project=project, entity=ws, name="consumer", settings=settings, **common
    )
    consumer.use_artifact("ds:best")
    consumer.finish()

    spiky = lablens.init(
        project=project,
        entity=ws,
        name="spiky",
        config={"lr": 0.5, "batch": 999, "opt": {"name": "adam", "beta": 0.5}},
        tags=["spike"],
        notes="a spike at step 150",
        settings=settings,
        **common,
    )
    for step in range(300):
        spiky.log({"loss": _spike_loss(step), "acc": step / 300, "eval": {"f1": step % 7}})
    spiky.finish()

    text = "hello from lablens\n" * 20
    blob = os.urandom(5000)
    files = {"notes.txt": text.encode(), "sub/weights.bin": blob}
    src = root / "files"
    for name, content in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(content)
    run_api = api.run(f"{ws}/{project}/{spiky.id}")
    for name in files:
        run_api.upload_file(str(src / name), root=str(src))

    # System metrics, as the SDK's sampler sends them.
    log_points(
        api,
        f"{ws}/{project}/{spiky.id}",
        {"system.cpu": [10.0, 55.5, 20.25, 99.0], "system.memory": [1.0, 2.0, 3.0, 4.0]},
        stream="system",
    )

    # Console lines, as the SDK sends what a script prints.
    console = [
        {"ts": 1.8e9 + i / 8, "stream": "stderr" if i % 4 == 3 else "stdout", "line": f"epoch {i}"}
        for i in range(10)
    ]
    api.client.post_json(
        f"/api/v1/projects/{ws}/{project}/runs/{spiky.id}/console", {"lines": console}
    )

    # More projects than one page of projects holds (per_page=2 below).
    extra_projects = [api.create_project(f"{project}-extra{i}").name for i in range(3)]

    # Another user's private project, and a user outside it.
    bob = api.create_user(username=f"bob{suffix}")
    alice = api.create_user(username=f"alice{suffix}")
    bob_api = Api(host=server.url, api_key=bob.api_key)
    private = bob_api.create_project(f"secret-{suffix}")
    bob_run = lablens.init(
        project=private.name,
        entity=bob.username,
        name="hidden",
        host=server.url,
        api_key=bob.api_key,
        dir=str(root),
        settings=settings,
    )
    bob_run.log({"x": 1.0})
    bob_run.finish()

    yield {
        "api": api,
        "ws": ws,
        "project": project,
        "ids": ids,
        "spiky": spiky.id,
        "files": files,
        "console": console,
        "art_files": art_files,
        "extra_projects": extra_projects,
        "producer": producer.id,
        "consumer": consumer.id,
        "bob": bob.username,
        "private": private.name,
        "bob_run": bob_run.id,
        "alice": alice.username,
        "alice_key": alice.api_key,
        "root": root,
    }
    # The server is the session's: leave its project list as it was.
    for name in [project, *extra_projects]:
        api.project(name, entity=ws).delete()
    bob_api.project(private.name, entity=bob.username).delete()


# The one wandb.Api script: it reads everything the tests check and prints one JSON document.
SCRIPT = r"""
import base64, json, os, sys, tempfile
params = json.loads(os.environ["WAPI_PARAMS"])
import wandb

def error_of(call):
    try:
        call()
    except Exception as exc:  # the client's own error, whatever its class
        return {"type": type(exc).__name__, "message": str(exc)}
    return None

api = wandb.Api()  # WANDB_BASE_URL and WANDB_API_KEY
ws, project = params["ws"], params["project"]
path = f"{ws}/{project}"
out = {"viewer": api.viewer.username, "default_entity": api.default_entity}
out["projects"] = [p.name for p in api.projects(ws, per_page=2)]
p = api.project(project, ws)
out["project"] = {"name": p.name, "entity": p.entity, "created_at": p.created_at}

# W&B's name is the run id.
by_id = api.runs(path, filters={"$or": [{"name": i} for i in params["some_ids"]]}, per_page=2)
out["by_id"] = sorted(r.id for r in by_id)

out["queries"] = {}
for name, q in params["queries"].items():
    runs = api.runs(path, filters=q["filters"], order=q["order"] or "+created_at", per_page=7)
    out["queries"][name] = {"len": len(runs), "ids": [r.id for r in runs]}

# Listed lazily, a run reads its config and summary when asked.
lazy = api.runs(path, filters={"display_name": "run-05"})
out["lazy"] = [{"config": r.config, "summary": r.summary_metrics} for r in lazy]

# Every run's fields, read in full (config, summary) over pages of 7.
out["runs"] = {}
for r in api.runs(path, per_page=7, lazy=False):
    out["runs"][r.id] = {
        "name": r.name, "state": r.state, "config": r.config,
        "summary": r.summary_metrics, "tags": r.tags, "group": r.group,
        "job_type": r.job_type, "notes": r.notes, "created_at": r.created_at,
        "user": r.user.username, "entity": r.entity, "project": r.project,
    }

run = api.run(f"{path}/{params['spiky']}")
out["spiky"] = {
    "id": run.id, "name": run.name, "state": run.state, "config": run.config,
    "summary": dict(run.summary), "last_step": run.lastHistoryStep,
    "history_keys": sorted(run.history_keys["keys"]),
}
out["scan"] = list(run.scan_history())
out["scan_keys"] = list(run.scan_history(keys=["loss", "acc"]))
out["scan_range"] = list(run.scan_history(page_size=64, min_step=10, max_step=200))
out["sampled"] = run.history(samples=40, keys=["loss"], pandas=False)
out["sampled_all"] = run.history(samples=40, pandas=False)
out["system"] = run.history(stream="system", pandas=False)
frame = run.history(keys=["loss", "acc"], pandas=True)
# Without pandas in its venv the client warns and answers the rows as a list.
out["frame_is_pandas"] = hasattr(frame, "to_dict")
out["frame"] = frame.to_dict("records") if out["frame_is_pandas"] else frame

out["files"] = {}
target = tempfile.mkdtemp()
for f in run.files(per_page=1):
    f.download(root=target, replace=True)
    with open(os.path.join(target, f.name), "rb") as fh:
        content = fh.read()
    encoded = base64.b64encode(content).decode()
    out["files"][f.name] = {"size": f.size, "md5": f.md5, "bytes": encoded}
out["file_pattern"] = [f.name for f in run.files(pattern="%.txt")]

out["console"] = [
    {"number": line.number, "time": line.timestamp.timestamp(), "level": line.level,
     "content": line.content}
    for line in run.console_logs(per_page=4)
]
out["console_tail"] = [line.content for line in run.console_logs(last=3)]

art = api.artifact(f"{path}/ds:best")
target = tempfile.mkdtemp()
art_dir = art.download(root=target)
downloaded = {}
for where, _, names in os.walk(art_dir):
    for name in names:
        full = os.path.join(where, name)
        with open(full, "rb") as fh:
            rel = os.path.relpath(full, art_dir).replace(os.sep, "/")
            downloaded[rel] = base64.b64encode(fh.read()).decode()
first = api.artifact(f"{path}/ds:v0")
out["artifact"] = {
    "name": art.name, "type": art.type, "version": art.version, "aliases": art.aliases,
    "metadata": art.metadata, "description": art.description, "size": art.size,
    "file_count": art.file_count, "created_at": art.created_at,
    "entries": sorted(art.manifest.entries), "downloaded": downloaded,
    "latest": api.artifact(f"{path}/ds:latest").version,
    "first": [first.version, first.description, sorted(first.manifest.entries)],
    "logged": [a.name for a in api.run(f"{path}/{params['producer']}").logged_artifacts()],
    "used": [a.name for a in api.run(f"{path}/{params['consumer']}").used_artifacts()],
    "missing": error_of(lambda: api.artifact(f"{path}/ds:v9")),
    "files": [[f.name, f.size, f.md5] for f in art.files()],
    "file_b": [f.name for f in art.files(names=["sub/b.bin"])],
    "logged_by": art.logged_by().id,
    "used_by": [r.id for r in art.used_by()],
}

out["missing_run"] = error_of(lambda: api.run(f"{path}/nosuchrun"))
out["bad_filter"] = error_of(lambda: len(api.runs(path, filters={"config.lr": {"$bogus": 1}})))

other = wandb.Api(api_key=params["alice_key"], overrides={"base_url": os.environ["WANDB_BASE_URL"]})
secret = f"{params['bob']}/{params['private']}"
out["alice"] = {
    "viewer": other.viewer.username,
    "projects": [p.name for p in other.projects(params["bob"])],
    "runs": error_of(lambda: len(other.runs(secret))),
    "run": error_of(lambda: other.run(f"{secret}/{params['bob_run']}")),
    "artifact": error_of(lambda: other.artifact(f"{path}/ds:best")),
}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def read(server, logged) -> dict[str, Any]:
    """What the wandb.Api script read."""
    home = logged["root"] / "wandb-home"
    home.mkdir()
    params = {
        k: logged[k] for k in ("ws", "project", "spiky", "bob", "private", "bob_run", "alice_key")
    }
    params["queries"] = QUERIES
    params["some_ids"] = logged["ids"][3:8]
    params["producer"] = logged["producer"]
    params["consumer"] = logged["consumer"]
    env = {
        "WAPI_PARAMS": json.dumps(params),
        "WANDB_BASE_URL": server.url,
        "WANDB_API_KEY": server.api_key,
        "WANDB_SILENT": "true",
        "WANDB_ERROR_REPORTING": "false",
        "WANDB_DISABLE_GIT": "true",
        "WANDB_DIR": str(home),
        "WANDB_CACHE_DIR": str(home / "cache"),
        "WANDB_CONFIG_DIR": str(home / "config"),
        "WANDB_DATA_DIR": str(home / "data"),
        "HOME": str(home),
    }
    return client_json("wandb", SCRIPT, env=env, cwd=home, timeout=240)


def _ours(logged, **kwargs):
    return logged["api"].runs(f"{logged['ws']}/{logged['project']}", **kwargs)


def test_viewer_and_projects(read, logged, server):
    api = logged["api"]
    assert read["viewer"] == server.username
    assert read["default_entity"] == server.username
    ours = [p.name for p in api.projects(logged["ws"])]
    assert sorted(read["projects"]) == sorted(ours)
    assert logged["project"] in read["projects"]
    assert set(logged["extra_projects"]) <= set(read["projects"])
    assert len(set(read["projects"])) == len(read["projects"])
    assert read["project"]["name"] == logged["project"]
    assert read["project"]["entity"] == logged["ws"]
    created = api.project(logged["project"], entity=logged["ws"]).created_at
    assert read["project"]["created_at"] == created[:19]


@pytest.mark.parametrize("name", list(QUERIES))
def test_runs_filters_orders_and_pages(read, logged, name):
    q = QUERIES[name]
    ours = list(
        _ours(logged, filters=q.get("ours", q["filters"]), order=q.get("ours_order", q["order"]))
    )
    got = read["queries"][name]
    assert got["ids"] == [r.id for r in ours]
    assert got["len"] == len(ours)
    everyone = [*logged["ids"], logged["spiky"], logged["producer"], logged["consumer"]]
    if not q["filters"]:
        # Every run once, over more pages than one (per_page=7).
        assert got["len"] == len(everyone) > 8 * PER_PAGE
        assert sorted(got["ids"]) == sorted(everyone)
    else:
        assert 0 < got["len"] < len(everyone)


def test_wandb_run_name_is_our_id(read, logged):
    assert read["by_id"] == sorted(logged["ids"][3:8])


def test_wandb_spellings_translate():
    from lablens.server.wandb.mongo import translate_filters, translate_order

    assert translate_filters(
        {
            "$and": [
                {"config.lr.value": {"$gt": 1}},
                {"config.opt.value.name": "sgd"},
                {"$or": [{"name": "abc"}, {"displayName": "x"}, {"display_name": "y"}]},
                {"state": {"$in": ["finished", "failed", "killed"]}},
                {"summary_metrics.acc": {"$ne": None}},
            ]
        }
    ) == {
        "$and": [
            {"config.lr": {"$gt": 1}},
            {"config.opt.name": "sgd"},
            {"$or": [{"id": "abc"}, {"name": "x"}, {"name": "y"}]},
            {"state": {"$in": ["finished", "ABORTED", "ABORTED"]}},
            {"summary_metrics.acc": {"$ne": None}},
        ]
    }
    assert translate_filters({"config.value": 3}) == {"config.value": 3}
    assert translate_order("-config.lr.value") == "-config.lr"
    assert translate_order("+displayName") == "+name"
    assert translate_order("summary_metrics.acc") == "summary_metrics.acc"
    assert translate_order(None) is None


def test_wandb_spellings_select_as_ours(read):
    q = read["queries"]
    assert q["lr_value_gt"] == q["lr_gt"]
    assert len(q["names"]["ids"]) == 4
    acc = q["by_acc_desc"]["ids"]
    assert q["acc_lt_desc"]["ids"] == [i for i in acc if i in set(q["acc_lt_desc"]["ids"])]


def _wandb_state(run) -> str:
    state = str(run.state).upper()
    return {"RUNNING": "running", "FINISHED": "finished", "CRASHED": "crashed"}.get(state, state)


def test_run_fields(read, logged):
    ours = {r.id: r for r in _ours(logged)}
    assert set(read["runs"]) == set(ours)
    for run_id, got in read["runs"].items():
        run = ours[run_id]
        assert got["name"] == run.name
        assert got["state"] == _wandb_state(run)
        assert got["config"] == run.config
        assert got["summary"] == dict(run.summary)
        assert got["tags"] == run.tags
        assert got["group"] == run.group
        assert got["job_type"] == run.job_type
        assert got["notes"] == run.notes
        assert got["created_at"] == run.created_at[:19]
        assert got["user"] == logged["ws"]
        assert (got["entity"], got["project"]) == (logged["ws"], logged["project"])
    states = [got["state"] for got in read["runs"].values()]
    assert states.count("crashed") == 3
    assert read["lazy"] == [
        {
            "config": read["runs"][logged["ids"][5]]["config"],
            "summary": read["runs"][logged["ids"][5]]["summary"],
        }
    ]
    first = read["runs"][logged["ids"][5]]
    assert first["config"] == {"lr": 0.006, "batch": 32, "opt": {"name": "sgd", "beta": 0.9}}
    assert first["summary"]["best"] == 5


def test_one_run(read, logged):
    run = logged["api"].run(f"{logged['ws']}/{logged['project']}/{logged['spiky']}")
    got = read["spiky"]
    assert got["id"] == run.id
    assert got["name"] == "spiky"
    assert got["state"] == "finished"
    assert got["config"] == run.config
    assert got["summary"] == dict(run.summary)
    assert got["summary"]["loss"] == _spike_loss(299)
    assert got["last_step"] == 299
    assert got["history_keys"] == sorted(run.history_keys)


def test_scan_history_is_every_row(read, logged):
    run = logged["api"].run(f"{logged['ws']}/{logged['project']}/{logged['spiky']}")
    ours = list(run.scan_history())
    assert len(ours) == 300
    assert read["scan"] == ours
    assert [row["loss"] for row in read["scan"]] == [_spike_loss(s) for s in range(300)]
    assert [row["eval.f1"] for row in read["scan"]] == [s % 7 for s in range(300)]

    keyed = [
        {k: row[k] for k in ("_step", "loss", "acc")}
        for row in run.scan_history(keys=["loss", "acc"])
    ]
    assert read["scan_keys"] == keyed

    ranged = list(run.scan_history(page_size=64, min_step=10, max_step=200))
    assert [row["_step"] for row in ranged] == list(range(10, 200))
    assert read["scan_range"] == ranged


def test_sampled_history_keeps_the_spike(read, logged):
    run = logged["api"].run(f"{logged['ws']}/{logged['project']}/{logged['spiky']}")
    ours = run.history(samples=40, keys=["loss"], pandas=False)
    got = read["sampled"]
    assert [(r["_step"], r["loss"]) for r in got] == [(r["_step"], r["loss"]) for r in ours]
    assert all(set(r) == {"_step", "loss"} for r in got)
    assert len(got) < 300
    assert {"_step": SPIKE_STEP, "loss": 50.0} in got
    assert got[0]["_step"] == 0 and got[-1]["_step"] == 299

    every = run.history(samples=40, pandas=False)
    assert read["sampled_all"] == every
    assert any(r["_step"] == SPIKE_STEP and r.get("loss") == 50.0 for r in read["sampled_all"])


def test_system_metrics_history(read, logged):
    run = logged["api"].run(f"{logged['ws']}/{logged['project']}/{logged['spiky']}")
    ours = run.history(stream="system", pandas=False)
    assert read["system"] == ours
    assert [r["system.cpu"] for r in read["system"]] == [10.0, 55.5, 20.25, 99.0]


def test_history_as_pandas(read, logged):
    run = logged["api"].run(f"{logged['ws']}/{logged['project']}/{logged['spiky']}")
    ours = run.history(keys=["loss", "acc"], pandas=True)
    assert all(sorted(row) == ["_step", "acc", "loss"] for row in read["frame"])
    assert read["frame"] == ours[["_step", "loss", "acc"]].to_dict("records")
    assert len(read["frame"]) == 300


def test_files_and_download(read, logged):
    files = logged["files"]
    got = read["files"]
    assert sorted(got) == sorted(files)
    run = logged["api"].run(f"{logged['ws']}/{logged['project']}/{logged['spiky']}")
    ours = {f.name: f for f in run.files()}
    for name, content in files.items():
        assert base64.b64decode(got[name]["bytes"]) == content
        assert got[name]["size"] == len(content) == ours[name].size
        assert got[name]["md5"] == base64.b64encode(hashlib.md5(content).digest()).decode()
    assert read["file_pattern"] == ["notes.txt"]


def test_console_logs(read, logged):
    console = logged["console"]
    got = read["console"]
    assert [line["number"] for line in got] == list(range(len(console)))
    assert [line["content"] for line in got] == [line["line"] for line in console]
    assert [line["level"] for line in got] == [
        "error" if line["stream"] == "stderr" else "" for line in console
    ]
    for line, sent in zip(got, console, strict=True):
        assert abs(line["time"] - sent["ts"]) < 1e-5
    assert read["console_tail"] == [line["line"] for line in console[-3:]]


def test_artifacts(read, logged):
    got = read["artifact"]
    ours = logged["api"].artifact(f"{logged['ws']}/{logged['project']}/ds:best")
    assert got["name"] == "ds:best"
    assert (got["type"], got["version"]) == ("dataset", "v1") == (ours.type, ours.version)
    assert sorted(got["aliases"]) == ["best", "latest"] == sorted(ours.aliases)
    assert got["metadata"] == {"rows": 3} == ours.metadata
    assert got["description"] == "a dataset"
    assert got["size"] == ours.size == sum(len(c) for c in logged["art_files"].values())
    assert got["file_count"] == 2
    assert got["created_at"] == ours.created_at[:19]
    assert got["entries"] == sorted(logged["art_files"])
    assert {k: base64.b64decode(v) for k, v in got["downloaded"].items()} == logged["art_files"]
    assert got["latest"] == "v1"
    assert got["first"] == ["v0", "first", ["a.txt"]]
    assert got["logged"] == ["ds:v0", "ds:v1"]
    assert got["used"] == ["ds:v1"]
    assert got["files"] == [
        [name, len(content), base64.b64encode(hashlib.md5(content).digest()).decode()]
        for name, content in sorted(logged["art_files"].items())
    ]
    assert got["file_b"] == ["sub/b.bin"]
    assert got["logged_by"] == logged["producer"]
    assert got["used_by"] == [logged["consumer"]]
    assert got["missing"] is not None and "not found" in got["missing"]["message"]


def test_errors_are_the_clients_own(read):
    missing = read["missing_run"]
    assert missing is not None
    assert "Could not find run" in missing["message"]
    assert "500" not in missing["message"]
    bad = read["bad_filter"]
    assert bad is not None
    assert "$bogus" in bad["message"]
    assert "500" not in bad["message"]


def test_private_project_of_another_user(read, logged):
    alice = read["alice"]
    assert alice["viewer"] == logged["alice"]
    assert logged["private"] not in alice["projects"]
    assert alice["runs"] is not None
    assert "Could not find project" in alice["runs"]["message"]
    assert alice["run"] is not None
    assert "Could not find run" in alice["run"]["message"]
    # The admin's project is private too: its artifacts are not alice's to read.
    assert alice["artifact"] is not None
    assert "not found" in alice["artifact"]["message"]
