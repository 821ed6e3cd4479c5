"""A team server: several ``lablens server`` processes on one PostgreSQL database and one S3
bucket (a real PostgreSQL from ``tests/pg.py``, a real SeaweedFS from ``tests/s3.py``).

What one server is told, every other one answers byte for byte; a server killed with SIGKILL
while a training process logs through it loses nothing it had acknowledged; a server started
later sees everything; several servers starting together on an empty database make one admin.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import lablens
from lablens.api import Api
from lablens.sdk import init
from lablens.sdk.wal import read_log
from lablens.transport import ARROW, Transport
from servers import QUIET, RunningServer, spawn_server, start_server, stop_server, sync

#: The admin's key, chosen for every database of this module (``LABLENS_ADMIN_API_KEY``).
ADMIN_KEY = "ll_" + secrets.token_hex(24)
POINTS = 20_000
#: Values whose bits a lossy path would change: the smallest subnormal, the largest double,
#: negative zero, and fractions with no short decimal form.
SPECIAL = [5e-324, -5e-324, 1.7976931348623157e308, -0.0, 0.1, 1 / 3, 2.0**-1074 * 3, math.pi]


@pytest.fixture
def team(pg_database, s3_endpoint, s3_bucket, tmp_path):
    """``start(name)``: a server on this test's database and bucket; all stopped after."""
    started: list[RunningServer] = []

    def start(name: str) -> RunningServer:
        srv = start_server(tmp_path / name / "data", tmp_path / name / "home", *_args(name))
        started.append(srv)
        return srv

    def _args(name: str) -> tuple[list[str], dict[str, str]]:
        args = ["--store", pg_database, "--blobs", f"s3://{s3_bucket}/team"]
        return args, {**s3_endpoint.env(), "LABLENS_ADMIN_API_KEY": ADMIN_KEY}

    start.args = _args  # type: ignore[attr-defined]
    yield start
    for srv in started:
        if srv.proc.poll() is None:
            stop_server(srv)


def _values(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=POINTS) * rng.choice([1e-300, 1e-5, 1.0, 1e5, 1e300], POINTS)
    values[: len(SPECIAL)] = SPECIAL
    return values


def _bits(values) -> np.ndarray:
    return np.asarray(values, np.float64).view(np.uint64)


def _history(srv: RunningServer, path: str) -> tuple[bytes, pa.Table]:
    """Every stored point of a run, as the server's raw Arrow answer and as a table (in
    the order of the answer: by key, then step)."""
    import pyarrow.ipc as ipc

    entity, project, run_id = path.split("/")
    answer = Transport(srv.url, srv.api_key).request(
        "POST",
        f"/api/v1/projects/{entity}/{project}/history",
        json_body={"runs": [run_id], "stream": "default"},
        headers={"Accept": ARROW},
    )
    table = ipc.open_stream(answer.content).read_all()
    return answer.content, table


def _stateless(srv: RunningServer) -> None:
    """Nothing of a team server's lives on its local disk: its data dir stays empty."""
    assert not srv.data_dir.exists() or not any(srv.data_dir.iterdir()), sorted(
        str(p) for p in srv.data_dir.rglob("*")
    )


def test_what_one_server_wrote_another_reads_byte_exact(team, unique, tmp_path):
    a, b = team("a"), team("b")
    assert a.api_key == b.api_key == ADMIN_KEY and a.username == b.username

    # Through A: 3 runs x 20k points, config and summary, a file of each run, an artifact.
    made: dict[str, dict] = {}
    for i, (opt, lr) in enumerate([("adam", 0.1), ("sgd", 0.01), ("adam", 0.001)]):
        run = init(
            project=unique,
            host=a.url,
            api_key=a.api_key,
            config={"opt": opt, "lr": lr, "layers": [64, 32 * (i + 1)]},
            tags=["team", opt],
            settings=QUIET,
            dir=tmp_path / "runs",
        )
        values = _values(i)
        for step, value in enumerate(values.tolist()):
            run.log({"loss": value}, step=step)
        run.summary["best"] = float(i)
        blob = os.urandom(300_000) + bytes([i])
        (tmp_path / f"weights-{i}.bin").write_bytes(blob)
        if i == 0:
            artifact = lablens.Artifact("weights", "model", metadata={"lr": lr})
            artifact.add_file(str(tmp_path / f"weights-{i}.bin"), name="w.bin")
            logged = run.log_artifact(artifact)
        run.finish()
        Api(host=a.url, api_key=a.api_key).run(run.path).upload_file(
            tmp_path / f"weights-{i}.bin", root=tmp_path
        )
        made[run.path] = {"values": values, "blob": blob, "opt": opt, "lr": lr}
    logged.wait()

    for n, reader in enumerate((b, team("c"))):  # B; C started after everything was written
        api = Api(host=reader.url, api_key=reader.api_key)
        runs = api.runs(f"{a.username}/{unique}", order="+created_at")
        assert [r.path for r in runs] == list(made)
        assert [r.config["opt"] for r in runs] == ["adam", "sgd", "adam"]
        assert [r.summary["best"] for r in runs] == [0.0, 1.0, 2.0]
        assert [r.state for r in runs] == ["FINISHED"] * 3
        adam = api.runs(f"{a.username}/{unique}", filters={"config.opt": "adam"})
        assert sorted(r.path for r in adam) == sorted(
            p for p, m in made.items() if m["opt"] == "adam"
        )
        small = api.runs(
            f"{a.username}/{unique}",
            filters={"$and": [{"config.lr": {"$lt": 0.05}}, {"tags": "team"}]},
        )
        assert sorted(r.path for r in small) == sorted(p for p, m in made.items() if m["lr"] < 0.05)
        for path, want in made.items():
            raw, table = _history(reader, path)
            assert raw == _history(a, path)[0]  # the same bytes from every server
            assert table.column("key").to_pylist() == ["loss"] * POINTS
            assert table.column("step").to_pylist() == list(range(POINTS))
            assert np.array_equal(_bits(table.column("value")), _bits(want["values"]))
            name = f"weights-{list(made).index(path)}.bin"
            got = api.run(path).file(name).download(tmp_path / f"read{n}" / path)
            assert Path(got).read_bytes() == want["blob"]
        stored = api.artifact(logged.qualified_name)
        assert stored.digest == logged.digest and stored.metadata == {"lr": 0.1}
        root = Path(stored.download(tmp_path / f"artifact{n}"))
        assert (root / "w.bin").read_bytes() == made[next(iter(made))]["blob"]
        _stateless(reader)
    _stateless(a)


# A training script: logs one key at every step, slowly enough to be mid-write for a while, and
# keeps in a file how many points the server has acknowledged (its sender's count) and its run's
# path and log dir.
TRAINER = textwrap.dedent(
    """
    import json, math, os, sys, threading, time
    import lablens.sdk

    host, key, project, root, status = sys.argv[1:]
    run = lablens.sdk.init(
        project=project, host=host, api_key=key, dir=root,
        settings={"system_interval": 0, "console": False, "flush_interval": 0.1},
    )

    def report():
        while True:
            with open(status + ".tmp", "w") as f:
                json.dump({"path": run.path, "dir": str(run.dir),
                           "acked": run._sender.sent_points}, f)
            os.replace(status + ".tmp", status)
            time.sleep(0.005)

    threading.Thread(target=report, daemon=True).start()
    for step in range(10_000_000):
        run.log({"loss": math.sin(step) * 1e3}, step=step)
        if step % 100 == 99:
            time.sleep(0.01)  # about 10k points/s: a batch of ~1,000 every 0.1 s
    """
)


def _status(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _wait(predicate, what: str, limit: float = 120.0):
    deadline = time.monotonic() + limit
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting for {what} after {limit:g}s")
        time.sleep(0.01)
    return value


def test_a_server_killed_mid_write_loses_nothing_it_acknowledged(team, unique, tmp_path):
    a, b = team("a"), team("b")
    script, status = tmp_path / "train.py", tmp_path / "status.json"
    script.write_text(TRAINER)
    argv = [sys.executable, str(script), a.url, a.api_key, unique, str(tmp_path / "runs")]
    with open(tmp_path / "train.err", "wb") as err:
        trainer = subprocess.Popen([*argv, str(status)], stderr=err, stdin=subprocess.DEVNULL)
    try:
        _wait(lambda: _status(status).get("acked", 0) >= 20_000 or trainer.poll(), "20k acked")
        assert trainer.poll() is None, (tmp_path / "train.err").read_text()
        a.proc.send_signal(signal.SIGKILL)  # mid-write: the trainer logs on, batches in flight
        a.proc.wait(timeout=30)
        time.sleep(1.0)  # an answer A sent just before dying reaches the sender's count
        info = _status(status)
        assert trainer.poll() is None, (tmp_path / "train.err").read_text()
    finally:
        trainer.send_signal(signal.SIGKILL)
        trainer.wait(timeout=30)
    acked, path = info["acked"], info["path"]

    # B holds every point A acknowledged (steps 0..acked-1, sent in order), each once, exact;
    # and nothing the trainer did not log.
    _, table = _history(b, path)
    steps = table.column("step").to_numpy()
    assert len(steps) >= acked > 0
    assert np.array_equal(steps, np.arange(len(steps)))  # no gap, no duplicate
    want = np.array([math.sin(s) * 1e3 for s in range(len(steps))])
    assert np.array_equal(_bits(table.column("value")), _bits(want))

    # The trainer's log has the rest; a server started later takes it, and nothing twice.
    c = team("c")
    log = read_log(Path(info["dir"]))
    assert log.points > acked
    done = sync(info["dir"], "--host", c.url, "--api-key", c.api_key)
    assert done.returncode == 0, done.stderr
    for reader in (b, c):
        _, table = _history(reader, path)
        assert table.column("step").to_pylist() == list(range(log.points))
        want = np.array([math.sin(s) * 1e3 for s in range(log.points)])
        assert np.array_equal(_bits(table.column("value")), _bits(want))


def test_servers_starting_together_on_an_empty_database_make_one_admin(team, pg_database, tmp_path):
    import psycopg

    from lablens._settings import free_port

    args, env = team.args("x")
    procs: dict[int, subprocess.Popen] = {}
    errors: list[BaseException] = []

    def spawn(i: int) -> None:
        port = free_port()
        try:
            procs[port] = spawn_server(
                port, tmp_path / f"s{i}" / "data", tmp_path / f"s{i}" / "home", args, env
            )
        except BaseException as exc:  # said below, after every server is stopped
            errors.append(exc)

    threads = [threading.Thread(target=spawn, args=(i,)) for i in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
        assert not errors, errors
        assert len(procs) == 4
        users = {}
        for port in procs:
            viewer = Transport(f"http://127.0.0.1:{port}", ADMIN_KEY).get_json("/api/v1/viewer")
            users[port] = (viewer["username"], viewer["is_admin"])
        assert len(set(users.values())) == 1 and next(iter(users.values()))[1] is True
        with psycopg.connect(pg_database, connect_timeout=30) as conn:
            assert conn.execute("SELECT count(*) FROM users").fetchone() == (1,)
            assert conn.execute("SELECT count(*) FROM api_keys").fetchone() == (1,)
            versions = [r[0] for r in conn.execute("SELECT version FROM schema_version")]
        assert sorted(versions) == sorted(set(versions))  # each migration applied once
    finally:
        from lablens._settings import stop_process

        for proc in procs.values():
            stop_process(proc)
