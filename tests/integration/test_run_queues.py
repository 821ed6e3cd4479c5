"""Run queues and jobs against a real server: queues made and upserted with W&B's attributes,
jobs (artifacts of type ``job``) called with config overrides, and real ``lablens agent``
processes draining a queue: every item run exactly once, by two agents at once, through one
server or two servers on one PostgreSQL; failures, priorities and SIGTERM recorded on the item.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lablens.api import Api, Job, QueuedRun, RunQueue
from lablens.errors import BadRequest, Conflict, NotFound, UsageError
from servers import start_server, stop_server

#: Job processes: quiet, no system metrics, no console capture (small, fast jobs).
JOB_ENV = {"LABLENS_SILENT": "true", "LABLENS_SYSTEM_INTERVAL": "0", "LABLENS_CONSOLE": "off"}

#: A job that joins its queued run, writes one line per run into OUT/<i>.txt (appending, so a
#: second run of an item would show as a second line), logs, and exits with config["exit"].
TRAIN = textwrap.dedent(
    """
    import json, os, sys
    import lablens

    out = sys.argv[1]
    run = lablens.init(project="not-this-one", config={"lr": 0.001, "i": -1, "exit": 0})
    line = {"run": run.id, "project": run.project, "queued": os.environ["LABLENS_QUEUED_RUN"],
            "lr": run.config["lr"], "i": run.config["i"]}
    with open(os.path.join(out, f"{run.config['i']}.txt"), "a") as f:
        f.write(json.dumps(line) + "\\n")
    run.log({"i": run.config["i"]})
    run.finish()
    sys.exit(run.config["exit"])
    """
)


def _agent(url: str, key: str, entity: str, queue: str, name: str, *extra: str) -> subprocess.Popen:
    """``lablens agent`` as a real subprocess, polling fast."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lablens",
            "agent",
            "--queue",
            queue,
            "--entity",
            entity,
            "--host",
            url,
            "--api-key",
            key,
            "--name",
            name,
            "--poll-interval",
            "0.2",
            "--heartbeat",
            "0.5",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen, expected: int = 0) -> str:
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == expected, err
    return err


def _train_job(api: Api, project: str, tmp_path: Path, name: str = "train") -> tuple[Job, Path]:
    script, out = tmp_path / "train.py", tmp_path / "out"
    script.write_text(TRAIN)
    out.mkdir(exist_ok=True)
    job = api.create_job(
        name,
        [sys.executable, str(script), str(out)],
        project=project,
        config={"lr": 0.001, "i": -1, "exit": 0},
        cwd=str(tmp_path),
        env=JOB_ENV,
    )
    return job, out


def _wait_for(predicate, what: str, limit: float = 120.0):
    deadline = time.monotonic() + limit
    while True:
        found = predicate()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


# -- queues ---------------------------------------------------------------------------------


def test_a_queue_is_made_read_and_upserted_with_wandb_attributes(api, unique):
    entity = api.default_entity
    queue = api.create_run_queue(
        f"q-{unique}",
        "local-process",
        prioritization_mode="V0",
        config={"env": {"A": "{{a}}"}},
        template_variables={"a": {"schema": {"type": "string", "default": "x"}}},
    )
    assert isinstance(queue, RunQueue)
    assert (queue.name, queue.entity, queue.type) == (f"q-{unique}", entity, "local-process")
    assert queue.prioritization_mode == "V0"
    assert queue.access == "PROJECT"
    assert queue.default_resource_config == {"env": {"A": "{{a}}"}}
    assert queue.template_variables == {"a": {"schema": {"type": "string", "default": "x"}}}
    assert queue.id and queue.items == []
    assert repr(queue) == f"<RunQueue {entity}/q-{unique}>"

    again = api.run_queue(entity, f"q-{unique}")
    assert (again.id, again.default_resource_config) == (queue.id, queue.default_resource_config)
    with pytest.raises(Conflict):
        api.create_run_queue(f"q-{unique}", "local-process")

    # Upsert: the same queue takes new settings; an unknown name is made.
    changed = api.upsert_run_queue(
        f"q-{unique}", {"gpus": 1}, "local-process", external_links={"docs": "http://x.test"}
    )
    assert changed.id == queue.id
    assert changed.default_resource_config == {"gpus": 1}
    assert changed.prioritization_mode is None
    assert changed.external_links == {"docs": "http://x.test"}
    made = api.upsert_run_queue(f"u-{unique}", {}, "local-process")
    assert made.id != queue.id and made.type == "local-process"

    made.delete()
    with pytest.raises(NotFound):
        api.run_queue(entity, f"u-{unique}")


def test_a_bad_queue_type_or_name_is_a_400_naming_it(api, unique):
    with pytest.raises(BadRequest) as bad:
        api.create_run_queue(f"q-{unique}", "docker")
    assert bad.value.field == "type" and "'docker'" in str(bad.value)
    # W&B's other resource types are refused by name: lablens runs local processes only.
    with pytest.raises(BadRequest) as unbuilt:
        api.create_run_queue(f"q-{unique}", "kubernetes")
    assert unbuilt.value.field == "type"
    assert "'kubernetes' is not built" in str(unbuilt.value)
    with pytest.raises(BadRequest) as name:
        api.create_run_queue("has space", "local-process")
    assert name.value.field == "name" and "'has space'" in str(name.value)
    with pytest.raises(BadRequest) as mode:
        api.upsert_run_queue(f"q-{unique}", {}, "local-process", prioritization_mode="V9")
    assert mode.value.field == "prioritization_mode"


# -- jobs -----------------------------------------------------------------------------------


def test_a_job_is_defined_listed_and_called_with_config_overrides(api, unique, tmp_path):
    entity = api.default_entity
    queue = api.create_run_queue(f"q-{unique}", "local-process")
    job = api.create_job(
        "train",
        ["python", "train.py"],
        project=unique,
        config={"lr": 0.01, "model": {"depth": 2, "act": "relu"}},
        description="the trainer",
    )
    assert job.name == f"{entity}/{unique}/train:v0"
    assert (job.entity, job.project, job.entrypoint) == (entity, unique, ["python", "train.py"])
    assert job.artifact.type == "job"

    read = api.job(f"{entity}/{unique}/train:latest", path=str(tmp_path / "job"))
    assert read.config == {"lr": 0.01, "model": {"depth": 2, "act": "relu"}}
    assert json.loads((tmp_path / "job" / "lablens-job.json").read_text())["entrypoint"] == [
        "python",
        "train.py",
    ]
    with pytest.raises(UsageError):
        api.job(None)

    item = read.call({"lr": 0.1, "model": {"depth": 4}}, queue=queue.name, priority=1)
    assert isinstance(item, QueuedRun)
    assert item.state == "pending" and item.run_id is None
    assert item.config == {"lr": 0.1, "model": {"depth": 4, "act": "relu"}}
    assert (item.project, item.priority, item.job) == (unique, 1, f"{entity}/{unique}/train:v0")
    same = api.queued_run(entity, unique, queue.name, item.id)
    assert (same.id, same.state, same.config) == (item.id, "pending", item.config)

    # A new entrypoint is a new version of the job, and the call queues that version.
    read.set_entrypoint(["python", "train.py", "--fast"])
    second = read.call({}, queue=queue.name)
    assert second.job == f"{entity}/{unique}/train:v1"
    jobs = api.list_jobs(entity, unique)
    assert [(j["name"], j["versions"]) for j in jobs] == [("train", 2)]
    api.create_project(f"{unique}-nojobs")
    assert api.list_jobs(entity, f"{unique}-nojobs") == []
    with pytest.raises(NotFound):
        api.list_jobs(entity, f"{unique}-none")

    with pytest.raises(UsageError) as resource:
        read.call({}, queue=queue.name, resource="kubernetes")
    assert "'kubernetes' is not built" in str(resource.value)
    with pytest.raises(BadRequest) as priority:
        read.call({}, queue=queue.name, priority=9)
    assert priority.value.field == "priority"

    second.delete()
    assert [i.id for i in api.run_queue(entity, queue.name).items] == [item.id]


# -- agents ---------------------------------------------------------------------------------


def test_two_agents_drain_a_queue_each_item_run_exactly_once(api, server, unique, tmp_path):
    entity = api.default_entity
    queue = api.create_run_queue(f"q-{unique}", "local-process")
    job, out = _train_job(api, unique, tmp_path)
    items = {i: job.call({"i": i, "lr": 0.1}, queue=queue.name) for i in range(10)}

    agents = [
        _agent(server.url, server.api_key, entity, queue.name, name, "--once")
        for name in ("a1", "a2")
    ]
    for proc in agents:
        _finish(proc)

    done = {item.id: item for item in api.run_queue(entity, queue.name).items}
    assert len(done) == 10
    assert {item.state for item in done.values()} == {"finished"}
    assert {item.exit_code for item in done.values()} == {0}
    assert {item.agent for item in done.values()} <= {"a1", "a2"}
    assert len({item.run_id for item in done.values()}) == 10
    for i, queued in items.items():
        item = done[queued.id]
        lines = (out / f"{i}.txt").read_text().splitlines()
        assert len(lines) == 1, lines  # the job ran once for this item
        wrote = json.loads(lines[0])
        # init() inside the job joined the item's run, in the item's project, and the queued
        # config won over the job's own defaults.
        assert wrote == {
            "run": item.run_id,
            "project": unique,
            "queued": f"{entity}/{queue.name}/{item.id}",
            "lr": 0.1,
            "i": i,
        }
        assert item.claimed_at <= item.started_at <= item.finished_at
    runs = list(api.runs(f"{entity}/{unique}"))
    assert sorted(r.id for r in runs) == sorted(item.run_id for item in done.values())
    assert {r.state.lower() for r in runs} == {"finished"}
    assert sorted(r.config["i"] for r in runs) == list(range(10))
    run = items[3].wait_until_finished(timeout=10)
    assert run.id == done[items[3].id].run_id and run.config["lr"] == 0.1


def test_a_failing_job_is_recorded_failed_with_its_exit_code(api, server, unique, tmp_path):
    entity = api.default_entity
    queue = api.create_run_queue(f"q-{unique}", "local-process")
    job, out = _train_job(api, unique, tmp_path)
    failing = job.call({"i": 0, "exit": 3}, queue=queue.name)
    bare = api.create_job(
        "bare", [sys.executable, "-c", "import sys; sys.exit(7)"], project=unique
    ).call({}, queue=queue.name)
    _finish(_agent(server.url, server.api_key, entity, queue.name, "a1", "--once"))

    failing.load()
    assert (failing.state, failing.exit_code) == ("failed", 3)
    assert len((out / "0.txt").read_text().splitlines()) == 1
    bare.load()
    assert (bare.state, bare.exit_code) == ("failed", 7)
    # A job that never called lablens.init() leaves its run to the agent, which ends it.
    assert bare.run.state.lower() == "crashed"


def test_items_are_claimed_by_priority_then_age(api, server, unique):
    entity = api.default_entity
    queue = api.create_run_queue(f"q-{unique}", "local-process", prioritization_mode="V0")
    job = api.create_job("noop", [sys.executable, "-c", "pass"], project=unique)
    queued = [job.call({"n": n}, queue=queue.name, priority=p) for n, p in enumerate([4, 0, 2, 0])]
    queued.append(job.call({"n": 4}, queue=queue.name))  # priority 2 by default
    _finish(_agent(server.url, server.api_key, entity, queue.name, "a1", "--once"))

    done = api.run_queue(entity, queue.name).items
    assert {item.state for item in done} == {"finished"}
    by_claim = sorted(done, key=lambda item: item.claimed_at)
    assert [item.config["n"] for item in by_claim] == [1, 3, 2, 4, 0]
    assert [item.priority for item in by_claim] == [0, 0, 2, 2, 4]


def test_sigterm_fails_the_running_item_cleanly(api, server, unique):
    entity = api.default_entity
    queue = api.create_run_queue(f"q-{unique}", "local-process")
    job = api.create_job(
        "sleeper", [sys.executable, "-c", "import time; time.sleep(600)"], project=unique
    )
    item = job.call({}, queue=queue.name)
    waiting = job.call({}, queue=queue.name)
    proc = _agent(server.url, server.api_key, entity, queue.name, "a1")
    _wait_for(lambda: item.load().state == "running", "the item to run")

    proc.send_signal(signal.SIGTERM)
    err = _finish(proc, expected=128 + signal.SIGTERM)
    assert "SIGTERM" in err
    item.load()
    assert item.state == "failed" and "SIGTERM" in item.error
    assert item.exit_code == -signal.SIGTERM
    assert item.run.state.lower() == "crashed"
    # The agent stopped: the next item was never claimed.
    assert waiting.load().state == "pending"


def test_an_agent_of_a_missing_queue_says_so(server, unique):
    proc = _agent(server.url, server.api_key, server.username, f"none-{unique}", "a1", "--once")
    err = _finish(proc, expected=1)
    assert f"none-{unique}" in err


def test_two_servers_on_one_postgresql_hand_each_item_out_once(pg_database, tmp_path, unique):
    """Two agents, each through its own server, on one PostgreSQL database: the claim's
    conditional UPDATE (FOR UPDATE SKIP LOCKED) hands every item to one of them."""
    import secrets

    key = "ll_" + secrets.token_hex(24)
    args = ["--store", pg_database, "--blobs", f"file://{tmp_path / 'blobs'}"]
    env = {"LABLENS_ADMIN_API_KEY": key}
    servers = [
        start_server(tmp_path / name / "data", tmp_path / name / "home", args, env)
        for name in ("s1", "s2")
    ]
    try:
        api = Api(host=servers[0].url, api_key=key)
        entity = api.default_entity
        queue = api.create_run_queue(f"q-{unique}", "local-process")
        job, out = _train_job(api, unique, tmp_path)
        items = {i: job.call({"i": i}, queue=queue.name) for i in range(10)}
        agents = [
            _agent(srv.url, key, entity, queue.name, f"a{n}", "--once")
            for n, srv in enumerate(servers)
        ]
        for proc in agents:
            _finish(proc)
        done = {
            item.id: item
            for item in Api(host=servers[1].url, api_key=key).run_queue(entity, queue.name).items
        }
        assert {item.state for item in done.values()} == {"finished"}
        assert len({item.run_id for item in done.values()}) == 10
        for i, queued in items.items():
            lines = (out / f"{i}.txt").read_text().splitlines()
            assert len(lines) == 1, lines
            assert json.loads(lines[0])["run"] == done[queued.id].run_id
    finally:
        for srv in servers:
            stop_server(srv)


def test_an_item_whose_agent_went_silent_is_failed_not_run_again(tmp_path, unique):
    """A server whose heartbeat timeout is 2 s: an item claimed by an agent that never beats
    again is failed at the next claim (its job may have run in part), never handed out again."""
    srv = start_server(tmp_path / "data", tmp_path / "home", [], {"LABLENS_HEARTBEAT_TIMEOUT": "2"})
    try:
        api = Api(host=srv.url, api_key=srv.api_key)
        entity = api.default_entity
        queue = api.create_run_queue(f"q-{unique}", "local-process")
        job = api.create_job("noop", [sys.executable, "-c", "pass"], project=unique)
        first, second = (job.call({"n": n}, queue=queue.name) for n in range(2))
        claim = f"/api/v1/workspaces/{entity}/run-queues/{queue.name}/claim"
        assert api.client.post_json(claim, {"agent": "ghost"})["item"]["id"] == first.id
        time.sleep(3)  # past the heartbeat timeout, without a beat
        assert api.client.post_json(claim, {"agent": "b"})["item"]["id"] == second.id
        first.load()
        assert first.state == "failed" and first.error == "its agent ghost went silent"
        with pytest.raises(Conflict):
            api.client.post_json(
                f"/api/v1/workspaces/{entity}/run-queues/{queue.name}/items/{first.id}/end",
                {"agent": "ghost", "state": "finished", "exit_code": 0},
            )
        assert api.client.post_json(claim, {"agent": "b"})["item"] is None
    finally:
        stop_server(srv)
