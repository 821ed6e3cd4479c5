"""The logging SDK against a real server, read back through plain HTTP."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import time
import uuid

import numpy as np
import pyarrow as pa
import pytest

import lablens.sdk
from lablens import errors as E
from lablens._settings import free_port
from lablens.sdk import init
from lablens.sdk.batches import SCHEMA
from lablens.transport import ARROW, Transport, table_to_ipc
from servers import spawn_server, stop_process

QUIET = {"system_interval": 0, "console": False}


@pytest.fixture
def http(server) -> Transport:
    return Transport(server.url, server.api_key)


def history(http: Transport, run, stream: str = "default") -> pa.Table:
    body = {"runs": [run.id], "stream": stream}
    return http.post_arrow(f"/api/v1/projects/{run.entity}/{run.project}/history", body)


def points(http: Transport, run, stream: str = "default") -> list[tuple[str, int, float]]:
    table = history(http, run, stream)
    rows = zip(*(table.column(n).to_pylist() for n in ("key", "step", "value")), strict=True)
    return sorted(rows, key=lambda r: (r[0], r[1], repr(r[2])))


def stored_run(http: Transport, run) -> dict:
    return http.get_json(f"/api/v1/projects/{run.entity}/{run.project}/runs/{run.id}")


def created(http: Transport, run) -> dict:
    """The run as stored, once the server has it: init() does not wait for its creation, which
    the sender sends with the run's first records (a quarter second after init() at most)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return stored_run(http, run)
        except E.NotFound:
            assert time.monotonic() < deadline, f"run {run.path} was never created"
            time.sleep(0.05)


def same(a: list[tuple], b: list[tuple]) -> bool:
    """Equal, with NaN equal to NaN."""

    def norm(rows):
        return [
            tuple("nan" if isinstance(v, float) and math.isnan(v) else v for v in r) for r in rows
        ]

    return norm(a) == norm(b)


def test_logged_points_are_the_stored_points(start, http):
    run = start(config={"lr": 0.01})
    expected = []
    for step in range(50):
        data = {"loss": 1 / (step + 1), "train": {"acc": step / 50}}
        if step % 10 == 0:
            data["val"] = {"loss": step * 2.0}  # sparse: every tenth step only
        run.log(data)
        expected += [("loss", step, 1 / (step + 1)), ("train.acc", step, step / 50)]
        if step % 10 == 0:
            expected.append(("val.loss", step, step * 2.0))
    run.log({"odd": math.nan, "up": math.inf, "down": -math.inf, "flag": True}, step=100)
    run.log({"np": np.float32(0.25), "big": 2**62}, step=100)
    run.log({"later": 1}, step=200)
    expected += [
        ("odd", 100, math.nan),
        ("up", 100, math.inf),
        ("down", 100, -math.inf),
        ("flag", 100, 1.0),
        ("np", 100, 0.25),
        ("big", 100, float(2**62)),
        ("later", 200, 1.0),
    ]
    run.finish()
    assert same(points(http, run), sorted(expected, key=lambda r: (r[0], r[1], repr(r[2]))))
    data = stored_run(http, run)
    assert data["state"] == "FINISHED" and data["exit_code"] == 0
    assert data["last_history_step"] == 200
    assert data["summary"]["loss"] == pytest.approx(1 / 50)
    assert data["config"] == {"lr": 0.01}


def test_timestamps_are_when_log_was_called(start, http):
    run = start()
    before = time.time()
    run.log({"a": 1})
    after = time.time()
    run.finish()
    (ts,) = history(http, run).column("timestamp").to_pylist()
    assert before <= ts <= after


def test_many_points_go_in_several_batches(start, http):
    run = start(settings={**QUIET, "batch_points": 1000, "flush_interval": 0.05})
    for step in range(3000):
        run.log({f"k{i}": step + i / 10 for i in range(10)})
    run.finish()
    table = history(http, run)
    assert table.num_rows == 30_000
    stored = zip(table.column("key").to_pylist(), table.column("step").to_pylist(), strict=True)
    assert sorted(stored) == sorted((f"k{i}", s) for s in range(3000) for i in range(10))


def test_a_bad_value_raises_naming_its_key_and_the_run_keeps_what_came_before(start, http):
    run = start()
    run.log({"loss": 1.0})
    with pytest.raises(TypeError, match=r"run.log: value of 'train\.img' is a NoneType"):
        run.log({"loss": 2.0, "train": {"img": None}})
    run.log({"loss": 3.0})
    run.finish()
    assert points(http, run) == [("loss", 0, 1.0), ("loss", 1, 3.0)]


def test_entity_defaults_to_the_viewers_and_project_to_uncategorized(server, http, tmp_path):
    with init(host=server.url, api_key=server.api_key, settings=QUIET, dir=tmp_path) as run:
        assert lablens.sdk.run is run
        assert run.entity == http.get_json("/api/v1/viewer")["default_entity"]
        assert run.project == "uncategorized"
        assert run.path == f"{run.entity}/uncategorized/{run.id}"
        assert len(run.id) == 8 and run.id.isalnum() and run.id == run.id.lower()
        assert repr(run) == f"<Run {run.path} running>"
    assert lablens.sdk.run is None
    assert repr(run) == f"<Run {run.path} finished>"


def test_init_sends_name_tags_notes_group_job_type_and_metadata(start, http):
    run = start(name="lr-0.01", tags=["baseline"], notes="first try", group="g", job_type="train")
    run.finish()
    data = stored_run(http, run)
    assert (data["name"], data["tags"], data["notes"], data["group"], data["job_type"]) == (
        "lr-0.01",
        ["baseline"],
        "first try",
        "g",
        "train",
    )
    assert data["metadata"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert data["metadata"]["executable"] == sys.executable
    assert "pyarrow==" in data["requirements"]


def test_config_and_summary_changes_are_saved(start, http):
    run = start(config={"lr": 0.1, "data": {"bs": 32}})
    run.config.update({"epochs": 3})
    run.config.lr = 0.01
    run.log({"loss": 0.5})
    run.summary["best"] = {"acc": 0.9}
    run.summary.update({"note": "ok", "gap": math.nan})
    run.finish()
    data = stored_run(http, run)
    assert data["config"] == {"lr": 0.01, "data": {"bs": 32}, "epochs": 3}
    assert data["summary"]["best.acc"] == 0.9 and data["summary"]["note"] == "ok"
    assert data["summary"]["gap"] == "NaN" and data["summary"]["loss"] == 0.5


def test_name_notes_and_tags_set_on_the_run_are_saved(start, http):
    run = start(name="first", tags=["a"])
    run.name = "second"
    run.notes = "changed my mind"
    run.tags = [*run.tags, "b"]
    run.finish()
    data = stored_run(http, run)
    assert (data["name"], data["notes"], data["tags"]) == ("second", "changed my mind", ["a", "b"])


def test_module_level_finish_finishes_the_current_run(start, http):
    run = start()
    lablens.sdk.finish()
    assert stored_run(http, run)["state"] == "FINISHED"
    lablens.sdk.finish()  # no current run: nothing to do


def test_finish_with_an_exit_code_marks_the_run_crashed(start, http):
    run = start()
    run.finish(exit_code=3)
    data = stored_run(http, run)
    assert (data["state"], data["exit_code"]) == ("CRASHED", 3)


def test_an_exception_in_the_with_block_marks_the_run_crashed(start, http):
    with pytest.raises(ZeroDivisionError), start() as run:
        run.log({"loss": 1.0})
        1 / 0  # noqa: B018
    data = stored_run(http, run)
    assert (data["state"], data["exit_code"]) == ("CRASHED", 1)
    assert points(http, run) == [("loss", 0, 1.0)]


def test_keyboard_interrupt_in_the_with_block_marks_the_run_aborted(start, http):
    with pytest.raises(KeyboardInterrupt), start() as run:
        raise KeyboardInterrupt
    assert stored_run(http, run)["state"] == "ABORTED"


def run_child(server, tmp_path, body: str) -> tuple[str, subprocess.CompletedProcess]:
    """Run a script that starts a run (as ``run``) and prints its id first."""
    script = tmp_path / f"child_{uuid.uuid4().hex[:6]}.py"
    script.write_text(
        "import lablens.sdk\n"
        f"run = lablens.sdk.init(project='children', dir={str(tmp_path)!r})\n"
        "print(run.id, flush=True)\n" + textwrap.dedent(body)
    )
    env = {
        **os.environ,
        "LABLENS_HOST": server.url,
        "LABLENS_API_KEY": server.api_key,
        "LABLENS_SYSTEM_INTERVAL": "0",
        "LABLENS_CONSOLE": "off",
    }
    proc = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    return proc.stdout.split()[0], proc


def child_run(http, server, run_id) -> dict:
    entity = http.get_json("/api/v1/viewer")["default_entity"]
    return http.get_json(f"/api/v1/projects/{entity}/children/runs/{run_id}")


def test_an_uncaught_keyboard_interrupt_marks_the_run_aborted(server, http, tmp_path):
    run_id, proc = run_child(server, tmp_path, "run.log({'a': 1})\nraise KeyboardInterrupt\n")
    assert proc.returncode != 0 and "KeyboardInterrupt" in proc.stderr
    data = child_run(http, server, run_id)
    assert data["state"] == "ABORTED" and data["last_history_step"] == 0


def test_an_uncaught_exception_marks_the_run_crashed(server, http, tmp_path):
    run_id, proc = run_child(server, tmp_path, "run.log({'a': 1})\nraise RuntimeError('boom')\n")
    assert proc.returncode == 1 and "boom" in proc.stderr
    assert child_run(http, server, run_id)["state"] == "CRASHED"


def test_a_script_that_ends_without_finish_marks_the_run_finished(server, http, tmp_path):
    body = "for i in range(1000):\n    run.log({'a': i})\n"
    run_id, proc = run_child(server, tmp_path, body)
    assert proc.returncode == 0, proc.stderr
    data = child_run(http, server, run_id)
    assert data["state"] == "FINISHED" and data["last_history_step"] == 999


def test_resume_continues_the_steps(start, http):
    first = start()
    for step in range(5):
        first.log({"loss": float(step)})
    first.finish()
    again = start(id=first.id, resume="allow", config={"extra": 1})
    assert again.step == 5
    again.log({"loss": 5.0})
    again.finish()
    assert [s for _, s, _ in points(http, again)] == [0, 1, 2, 3, 4, 5]
    assert stored_run(http, again)["config"]["extra"] == 1


def test_resume_must_needs_an_existing_run_and_never_refuses_one(start):
    with pytest.raises(E.NotFound):
        start(id="nosuch00", resume="must")
    run = start()
    run.finish()
    taken = start(id=run.id)  # init() does not wait for the server: the refusal comes later
    with pytest.raises(E.Conflict):
        taken.finish()


def test_a_retried_batch_is_not_stored_twice(start, http):
    run = start()
    run.finish()
    table = pa.table(
        {
            "key": ["a", "a", "b"],
            "step": [0, 1, 0],
            "timestamp": [1.0, 2.0, 3.0],
            "value": [0.5, math.nan, math.inf],
        },
        schema=SCHEMA,
    )
    batch_id = uuid.uuid4().hex
    path = f"/api/v1/projects/{run.entity}/{run.project}/runs/{run.id}/points"
    headers = {"Content-Type": ARROW, "X-Lablens-Batch-Id": batch_id}
    for _ in range(2):
        http.request("POST", path, data=table_to_ipc(table), headers=headers)
    assert history(http, run).num_rows == 3


def test_points_the_server_refuses_are_dropped_with_a_warning(start, http):
    run = start()
    created(http, run)
    http.delete(f"/api/v1/projects/{run.entity}/{run.project}/runs/{run.id}")
    run.log({"a": 1.0})
    with pytest.warns(RuntimeWarning, match="refused"):
        run.finish(timeout=10)


def test_system_metrics_arrive_in_the_system_stream(start, http):
    run = start(settings={"system_interval": 0.1, "console": False})
    run.log({"a": 1})
    time.sleep(0.5)
    run.finish()
    keys = set(history(http, run, "system").column("key").to_pylist())
    assert {"system.cpu", "system.memory", "system.disk", "system.proc.memory.rssMB"} <= keys
    assert points(http, run) == [("a", 0, 1.0)]


def test_the_console_is_copied_to_output_log_and_the_server(start, http, capsys):
    run = start(settings={"system_interval": 0, "console": True})
    print("hello from the run")
    print("to stderr", file=sys.stderr)
    run.finish()
    assert "hello from the run" in capsys.readouterr().out  # still printed
    assert "hello from the run\n" in (run.dir / "output.log").read_text()
    path = f"/api/v1/projects/{run.entity}/{run.project}/runs/{run.id}/console"
    lines = {(item["stream"], item["line"]) for item in http.get_json(path)["items"]}
    assert {("stdout", "hello from the run"), ("stderr", "to stderr")} <= lines


def test_the_heartbeat_is_sent(start, http):
    run = start(settings={**QUIET, "heartbeat_interval": 0.2})
    first = created(http, run)["heartbeat_at"]
    time.sleep(1.0)
    assert stored_run(http, run)["heartbeat_at"] != first


def test_points_logged_while_the_server_is_away_arrive_once_it_is_back(tmp_path, caplog):
    port, data, home = free_port(), tmp_path / "data", tmp_path / "home"
    url = f"http://127.0.0.1:{port}"
    proc = spawn_server(port, data, home)
    try:
        key = json.loads((home / "credentials").read_text())["hosts"][url]["api_key"]
        run = init(project="outage", host=url, api_key=key, settings=QUIET, dir=tmp_path)
        run.log({"a": 0.0})
        stop_process(proc)
        for step in range(1, 100):
            run.log({"a": float(step), "b": math.nan})
        time.sleep(1.0)  # the sender meets the closed port and backs off
        proc = spawn_server(port, data, home)
        run.finish(timeout=60)
        http = Transport(url, key)
        table = history(http, run)
        keys, steps = table.column("key").to_pylist(), table.column("step").to_pylist()
        expected = [("a", s) for s in range(100)] + [("b", s) for s in range(1, 100)]
        assert sorted(zip(keys, steps, strict=True)) == sorted(expected)
        assert stored_run(http, run)["state"] == "FINISHED"
        assert "retrying in the background" in caplog.text
    finally:
        stop_process(proc)
