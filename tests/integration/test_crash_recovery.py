"""Nothing logged is lost: a killed training process, a cut network, a refused batch, a bad step.

Against real servers whose heartbeat timeout is 3 s (``LABLENS_HEARTBEAT_TIMEOUT``), so a silent
run is marked CRASHED within seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import lablens.sdk
from lablens import errors as E
from lablens.sdk.wal import read_log
from lablens.transport import Transport
from servers import start_server, stop_server, sync

QUIET = {"system_interval": 0, "console": False}
TIMEOUT = 3  # seconds: the servers' LABLENS_HEARTBEAT_TIMEOUT


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """A server of our own that marks a run CRASHED after 3 s without a heartbeat."""
    old = os.environ.get("LABLENS_HEARTBEAT_TIMEOUT")
    os.environ["LABLENS_HEARTBEAT_TIMEOUT"] = str(TIMEOUT)
    try:
        root = tmp_path_factory.mktemp("crash")
        server = start_server(root / "data", root / "home")
    finally:
        if old is None:
            os.environ.pop("LABLENS_HEARTBEAT_TIMEOUT")
        else:
            os.environ["LABLENS_HEARTBEAT_TIMEOUT"] = old
    yield server
    stop_server(server)


@pytest.fixture
def http(srv) -> Transport:
    return Transport(srv.url, srv.api_key)


def stored(http: Transport, path: str) -> dict:
    entity, project, run_id = path.split("/")
    return http.get_json(f"/api/v1/projects/{entity}/{project}/runs/{run_id}")


def _exists(http: Transport, path: str) -> bool:
    try:
        return bool(stored(http, path))
    except E.NotFound:
        return False


def rows(http: Transport, path: str) -> list[tuple[str, int, float]]:
    """Every stored point ``(key, step, value)``, duplicates included, sorted."""
    entity, project, run_id = path.split("/")
    table = http.post_arrow(
        f"/api/v1/projects/{entity}/{project}/history", {"runs": [run_id], "stream": "default"}
    )
    cols = (table.column(n).to_pylist() for n in ("key", "step", "value"))
    return sorted(zip(*cols, strict=True))


def wait_for(predicate, what: str, limit: float = 60.0):
    """Poll ``predicate`` until it is true; fail naming ``what`` after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting for {what} after {limit:g}s")
        time.sleep(0.1)


# A training script: logs steps 0..999 and waits until the server has them; then its network
# hangs (every request blocks, as behind a stalled proxy) while it logs steps 1000..1999 and sets a
# summary value; once those are in the run's log it says so, and waits to be killed.
TRAINER = textwrap.dedent(
    """
    import json, os, sys, time
    import lablens.sdk

    host, key, project, root, marker = sys.argv[1:]
    run = lablens.sdk.init(
        project=project, host=host, api_key=key, dir=root, config={"lr": 0.1},
        settings={"system_interval": 0, "console": False, "flush_interval": 0.05,
                  "batch_points": 300},
    )

    def wait(predicate):
        while not predicate():
            time.sleep(0.01)

    for step in range(1000):
        run.log({"loss": step / 2, "acc": step / 1000})
    wait(lambda: run._sender.sent_points == 2000)

    def hang(*args, **kwargs):
        time.sleep(3600)

    run._sender._transport.request = hang
    for step in range(1000, 2000):
        run.log({"loss": step / 2, "acc": step / 1000})
    run.summary["best"] = 42.0
    wait(lambda: run._wal.points == 4000)
    time.sleep(0.2)  # the summary update is written on the log writer's next round
    with open(marker + ".tmp", "w") as f:
        json.dump({"path": run.path, "dir": str(run.dir)}, f)
    os.replace(marker + ".tmp", marker)
    time.sleep(3600)
    """
)


def test_a_killed_process_becomes_crashed_and_sync_stores_every_point_once(
    srv, http, unique, tmp_path
):
    script, marker = tmp_path / "train.py", tmp_path / "logged.json"
    script.write_text(TRAINER)
    args = [srv.url, srv.api_key, unique, str(tmp_path / "runs"), str(marker)]
    with open(tmp_path / "train.err", "wb") as err:
        proc = subprocess.Popen([sys.executable, str(script), *args], stderr=err)
    try:
        wait_for(lambda: marker.exists() or proc.poll() is not None, "the trainer", 120)
        assert proc.poll() is None, (tmp_path / "train.err").read_text()
        info = json.loads(marker.read_text())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    path, run_dir = info["path"], Path(info["dir"])
    expected = sorted(
        [("loss", s, s / 2) for s in range(2000)] + [("acc", s, s / 1000) for s in range(2000)]
    )

    # The server had the first 1,000 steps; nothing will ever finish the run but the timeout.
    assert rows(http, path) == sorted(p for p in expected if p[1] < 1000)
    run = wait_for(
        lambda: (r := stored(http, path))["state"] == "CRASHED" and r, "state CRASHED", 30
    )
    assert run["finished_at"] is not None and "best" not in run["summary"]

    # Its log holds every point it had logged, and no end.
    log = read_log(run_dir)
    assert log.points == 4000 and log.finish is None and log.torn_bytes == 0

    done = sync(str(run_dir), "--api-key", srv.api_key)
    assert done.returncode == 0, done.stderr
    assert "2,000 new" in done.stdout and "the log has no end" in done.stdout
    assert rows(http, path) == expected  # every point once
    run = stored(http, path)
    assert run["state"] == "CRASHED" and run["summary"]["best"] == 42.0
    assert run["config"] == {"lr": 0.1}

    again = sync(str(run_dir.parent), "--api-key", srv.api_key)  # the folder of run dirs
    assert again.returncode == 0, again.stderr
    assert "0 points sent in 0 batches (0 new)" in again.stdout
    assert rows(http, path) == expected
    assert stored(http, path)["state"] == "CRASHED"


def test_a_run_cut_off_from_the_server_is_crashed_then_running_again(srv, http, unique, tmp_path):
    run = lablens.sdk.init(
        project=unique, host=srv.url, api_key=srv.api_key, settings=QUIET, dir=tmp_path
    )
    # init() does not wait: the run is created with its first records, soon after.
    wait_for(lambda: _exists(http, run.path), "the run created", 60)
    transport = run._sender._transport
    real = transport.request

    def partitioned(*args, **kwargs):
        raise E.ConnectionFailed("the network is down")

    transport.request = partitioned  # a network partition: the process lives on
    try:
        run.log({"loss": 1.0})
        crashed = wait_for(
            lambda: (r := stored(http, run.path))["state"] == "CRASHED" and r, "CRASHED", 30
        )
        assert crashed["finished_at"] is not None
        run.log({"loss": 0.5})
    finally:
        transport.request = real  # the network is back
    running = wait_for(
        lambda: (r := stored(http, run.path))["state"] == "RUNNING" and r, "RUNNING again", 30
    )
    assert running["finished_at"] is None
    run.finish()
    assert stored(http, run.path)["state"] == "FINISHED"
    assert rows(http, run.path) == [("loss", 0, 1.0), ("loss", 1, 0.5)]


def test_a_live_run_heartbeats_within_the_servers_timeout(srv, http, unique, tmp_path):
    # Settings ask for a heartbeat every 30 s; the server says it gives up after 3 s.
    run = lablens.sdk.init(
        project=unique,
        host=srv.url,
        api_key=srv.api_key,
        settings={**QUIET, "heartbeat_interval": 30},
        dir=tmp_path,
    )
    try:
        wait_for(lambda: _exists(http, run.path), "the run created", 60)
        beats = set()
        wait_for(
            lambda: beats.add(stored(http, run.path)["heartbeat_at"]) or len(beats) >= 3,
            "three heartbeats",
            30,
        )
        assert stored(http, run.path)["state"] == "RUNNING"
    finally:
        run.finish()
    assert stored(http, run.path)["state"] == "FINISHED"


# -- steps the server cannot store are refused at the log() call --------------------------------

BAD_STEPS = [
    pytest.param(2**53, id="2**53"),
    pytest.param(2**63, id="2**63"),
    pytest.param(2**64 + 5, id="2**64+5"),
    pytest.param(-1, id="negative"),
    pytest.param(np.uint64(2**63), id="numpy uint64 past int64"),
    pytest.param(1.5, id="float"),
    pytest.param("3", id="str"),
    pytest.param(True, id="bool"),
]


@pytest.mark.parametrize("step", BAD_STEPS)
def test_a_step_outside_int64_is_refused_and_later_points_are_kept(
    srv, http, unique, tmp_path, step
):
    run = lablens.sdk.init(
        project=unique, host=srv.url, api_key=srv.api_key, settings=QUIET, dir=tmp_path
    )
    run.log({"a": 0.0})
    with pytest.raises(E.UsageError) as info:
        run.log({"a": 99.0, "b": 99.0}, step=step)
    assert info.value.field == "step"
    run.log({"a": 1.0})
    run.log({"a": 2.0}, step=2**53 - 1)  # the largest step there is
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing was dropped: finish() has nothing to say
        run.finish()
    assert rows(http, run.path) == [("a", 0, 0.0), ("a", 1, 1.0), ("a", 2**53 - 1, 2.0)]
    assert stored(http, run.path)["state"] == "FINISHED"


def test_a_batch_the_server_refuses_does_not_stop_later_batches(
    srv, http, unique, tmp_path, monkeypatch
):
    from lablens.sdk import sender

    real = sender.encode_batch

    def encode(table: pa.Table) -> bytes:
        # One batch the server cannot read: it answers 400, as for any data it refuses.
        return b"not arrow" if "poison" in table.column("key").to_pylist() else real(table)

    monkeypatch.setattr(sender, "encode_batch", encode)
    run = lablens.sdk.init(
        project=unique, host=srv.url, api_key=srv.api_key, settings=QUIET, dir=tmp_path
    )
    for step in range(5):
        run.log({"a": float(step)})
    wait_for(lambda: run._sender.sent_points == 5, "the first batch")
    run.log({"poison": 1.0, "a": 5.0})
    wait_for(lambda: run._sender.dropped_points == 2, "the refused batch")
    for step in range(6, 10):
        run.log({"a": float(step)})
    with pytest.warns(RuntimeWarning, match="refused 2 points"):
        run.finish()
    assert rows(http, run.path) == [("a", s, float(s)) for s in range(10) if s != 5]
    assert stored(http, run.path)["state"] == "FINISHED"
