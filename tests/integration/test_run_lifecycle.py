"""Short runs in few requests, and what the speed-ups must not break.

``init()`` does not wait for the server, ``finish()`` is one durable request, and the server
caches keys, roles and projects: run ids stay unique across processes, a refused run still
reaches the caller with the precise error naming what is wrong, and a revoked key, a removed
member, a private project or a deleted project or run is refused at once, on every server of a
database (``tests/pg.py``'s PostgreSQL for two servers).
"""

from __future__ import annotations

import string
import subprocess
import sys
import time
import uuid

import pytest

import lablens
from lablens import errors as E
from lablens.api import Api
from lablens.contract.records import MEDIA_TYPE, encode_records
from lablens.contract.routes import run_records_route
from lablens.transport import Transport
from servers import QUIET, sdk_init, start_server, stop_server

ID_CHARS = set(string.ascii_lowercase + string.digits)


def _user(server, who: str) -> tuple[str, Api]:
    """A new user (name, an ``Api`` signed in with their key)."""
    admin = Api(host=server.url, api_key=server.api_key)
    name = f"{who}-{uuid.uuid4().hex[:6]}"
    made = admin.user().create(username=name, password=f"pw-{name}-x1", email=f"{name}@lab.test")
    return name, Api(host=server.url, api_key=made.api_key)


def _counting(run) -> list[str]:
    """Record the route of every request the run's sender makes."""
    transport = run._sender._transport
    calls: list[str] = []
    request = transport.request

    def counted(method, path, **kwargs):
        calls.append(f"{method} {path}")
        return request(method, path, **kwargs)

    transport.request = counted
    return calls


# -- run ids --------------------------------------------------------------------------------------


def test_run_ids_are_unique_across_processes():
    code = (
        "from lablens.sdk.lifecycle import new_run_id\n"
        "print('\\n'.join(new_run_id() for _ in range(20000)))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    ids = [line for p in procs for line in p.communicate(timeout=120)[0].split()]
    assert all(p.returncode == 0 for p in procs)
    assert len(ids) == 80_000 and len(set(ids)) == 80_000
    assert all(len(i) == 8 and set(i) <= ID_CHARS for i in ids)


def test_run_ids_differ_in_forked_processes():
    # A process forked after an import must not repeat its parent's (or sibling's) ids.
    code = (
        "import os\n"
        "from lablens.sdk.lifecycle import new_run_id\n"
        "new_run_id()\n"
        "kids = []\n"
        "for _ in range(4):\n"
        "    r, w = os.pipe()\n"
        "    if os.fork() == 0:\n"
        "        os.write(w, ' '.join(new_run_id() for _ in range(500)).encode()); os._exit(0)\n"
        "    os.close(w); kids.append(r)\n"
        "out = []\n"
        "for r in kids:\n"
        "    out.append(os.read(r, 1 << 20).decode())\n"
        "    os.wait()\n"
        "print(' '.join(out))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    ids = done.stdout.split()
    assert done.returncode == 0, done.stderr
    assert len(ids) == 2000 and len(set(ids)) == 2000


# -- init() and finish() --------------------------------------------------------------------------


def test_a_short_run_is_created_logged_and_finished_in_one_request(server, unique, tmp_path):
    # flush_interval far away: the only records request is finish()'s.
    run = lablens.sdk.init(
        project=unique,
        config={"fold": 3},
        host=server.url,
        api_key=server.api_key,
        settings={**QUIET, "flush_interval": 600},
        dir=tmp_path,
    )
    calls = _counting(run)
    for step in range(10):
        run.log({"loss": 1.0 / (step + 1)})
    run.summary["best"] = 7.5
    run.finish(exit_code=3)
    assert calls == [f"POST {run_records_route(run.entity, run.project, run.id)}"]
    # Durable: when finish() returns, the server holds all of it.
    stored = Api(host=server.url, api_key=server.api_key).run(run.path)
    assert stored.state == "crashed" and stored.config == {"fold": 3}
    assert stored.summary["best"] == 7.5 and stored.summary["loss"] == 0.1
    assert stored._attrs.get("exit_code", 3) == 3
    assert [r["loss"] for r in stored.scan_history(keys=["loss"])] == [
        1.0 / (s + 1) for s in range(10)
    ]


def _short_run(server, project: str, tmp_path, fold: int):
    run = sdk_init(server, tmp_path, project=project, config={"fold": fold})
    run.log({"loss": fold / 10})
    run.finish()
    return run


def _opened(transport) -> int:
    """How many connections a session's pools have opened."""
    pools = transport.session.get_adapter(transport.base_url).poolmanager.pools
    # keys(): urllib3's pool container refuses iteration (not thread-safe)
    return sum(pools[key].num_connections for key in pools.keys())  # noqa: SIM118


def test_short_runs_in_a_row_reuse_one_connection(server, unique, tmp_path):
    runs = [_short_run(server, unique, tmp_path, fold) for fold in range(4)]
    senders = {id(run._sender._transport) for run in runs}
    assert len(senders) == 1  # each run's sender took the session the one before handed back
    assert _opened(runs[-1]._sender._transport) == 1
    api = Api(host=server.url, api_key=server.api_key)
    for fold, run in enumerate(runs):
        stored = api.run(run.path)
        assert stored.state == "finished" and stored.summary["loss"] == fold / 10


def test_a_session_idle_too_long_is_closed_not_reused(server, unique, tmp_path, monkeypatch):
    from lablens.sdk import connections

    monkeypatch.setattr(connections, "MAX_IDLE", 0.0)
    first = _short_run(server, unique, tmp_path, 0)
    time.sleep(0.01)
    second = _short_run(server, unique, tmp_path, 1)
    assert second._sender._transport is not first._sender._transport
    assert _opened(first._sender._transport) == 0  # closed: its pools are gone
    assert Api(host=server.url, api_key=server.api_key).run(second.path).summary["loss"] == 0.1


def test_a_run_is_created_in_the_background_without_logging(server, unique, tmp_path):
    run = lablens.sdk.init(
        project=unique, host=server.url, api_key=server.api_key, settings=QUIET, dir=tmp_path
    )
    api = Api(host=server.url, api_key=server.api_key)
    deadline = time.monotonic() + 60
    while True:  # sent flush_interval after init(), whatever the run logs
        try:
            assert api.run(run.path).state == "running"
            break
        except E.NotFound:  # its project too is made with it
            assert time.monotonic() < deadline, "the run was never created"
            time.sleep(0.05)
    run.finish()
    assert api.run(run.path).state == "finished"


def test_a_missing_workspace_is_raised_by_finish_naming_it(server, unique, tmp_path):
    run = lablens.sdk.init(
        project=unique,
        entity=f"nobody-{unique}",
        host=server.url,
        api_key=server.api_key,
        settings={**QUIET, "flush_interval": 600},
        dir=tmp_path,
    )
    run.log({"loss": 1.0})
    with pytest.raises(E.WorkspaceNotFound) as info:
        run.finish()
    assert f"nobody-{unique}" in str(info.value)
    assert run.state == "finished"  # its threads stopped: a second finish() does nothing
    run.finish()


def test_a_forbidden_workspace_is_raised_by_log_and_by_finish(server, unique, tmp_path):
    owner, owner_api = _user(server, "owner")
    _, outsider_api = _user(server, "outsider")
    team = f"team-{unique}"[:30]
    owner_api.create_team(team)
    run = lablens.sdk.init(
        project=unique,
        entity=team,
        host=server.url,
        api_key=outsider_api.api_key,
        settings={**QUIET, "flush_interval": 0.05},
        dir=tmp_path,
    )
    deadline = time.monotonic() + 60
    with pytest.raises(E.PermissionDenied) as info:
        while time.monotonic() < deadline:  # until the server's answer to the creation came
            run.log({"loss": 1.0})
            time.sleep(0.02)
    assert team in str(info.value)
    with pytest.raises(E.PermissionDenied):
        run.finish()
    with pytest.raises(E.ProjectNotFound):
        owner_api.project(f"{team}/{unique}")  # nothing of it was made


def test_a_taken_id_is_a_conflict_raised_by_finish(server, unique, tmp_path):
    first = lablens.sdk.init(
        project=unique, id="taken01", host=server.url, api_key=server.api_key, settings=QUIET,
        dir=tmp_path,
    )  # fmt: skip
    first.finish()
    again = lablens.sdk.init(
        project=unique, id="taken01", host=server.url, api_key=server.api_key,
        settings={**QUIET, "flush_interval": 600}, dir=tmp_path,
    )  # fmt: skip
    again.log({"loss": 2.0})
    with pytest.raises(E.Conflict) as info:
        again.finish()
    assert "taken01" in str(info.value)
    stored = Api(host=server.url, api_key=server.api_key).run(first.path)
    assert stored.state == "finished" and "loss" not in stored.summary


def test_an_artifact_logged_right_after_init_finds_its_run(server, unique, tmp_path):
    run = lablens.sdk.init(
        project=unique, host=server.url, api_key=server.api_key,
        settings={**QUIET, "flush_interval": 600}, dir=tmp_path,
    )  # fmt: skip
    (tmp_path / "w.bin").write_bytes(b"weights")
    artifact = lablens.Artifact("weights", "model")
    artifact.add_file(tmp_path / "w.bin", name="w.bin")
    run.log_artifact(artifact)  # the run is made first, though init() did not wait for it
    run.log({"loss": 1.0})
    run.finish()
    stored = Api(host=server.url, api_key=server.api_key).run(run.path)
    logged = list(stored.logged_artifacts())
    assert stored.state == "finished" and len(logged) == 1
    assert logged[0].name.split(":")[0] == "weights"


def test_a_resumed_run_continues_its_steps(server, unique, tmp_path):
    run = lablens.sdk.init(
        project=unique, id="resume1", host=server.url, api_key=server.api_key, settings=QUIET,
        dir=tmp_path,
    )  # fmt: skip
    run.log({"loss": 1.0})
    run.finish()
    again = lablens.sdk.init(
        project=unique, id="resume1", resume="must", host=server.url, api_key=server.api_key,
        settings=QUIET, dir=tmp_path,
    )  # fmt: skip
    assert again.step == 1
    again.log({"loss": 0.5})
    again.finish()
    stored = Api(host=server.url, api_key=server.api_key).run(run.path)
    assert [r["loss"] for r in stored.scan_history(keys=["loss"])] == [1.0, 0.5]


def test_a_bad_records_request_is_a_400_naming_the_record(server, unique, tmp_path):
    api = Api(host=server.url, api_key=server.api_key)
    api.create_project(unique)
    path = run_records_route(api.viewer.username, unique, "abc12345")
    http = Transport(server.url, server.api_key)
    body = encode_records({"create": {}, "records": [{"t": "explode"}]}, [])
    with pytest.raises(E.BadRequest) as info:
        http.request("POST", path, data=body, headers={"Content-Type": MEDIA_TYPE})
    assert info.value.field == "records[0].t"
    body = encode_records({"records": [{"t": "points", "size": 99}]}, [b"short"])
    with pytest.raises(E.BadRequest) as info:
        http.request("POST", path, data=body, headers={"Content-Type": MEDIA_TYPE})
    assert info.value.field == "records[0].size"
    with pytest.raises(E.RunNotFound):
        api.run(f"{api.viewer.username}/{unique}/abc12345")  # nothing was made


# -- the server's caches ------------------------------------------------------------------------


def test_a_revoked_key_is_refused_at_once(server, make_project):
    project = make_project()
    name, api = _user(server, "revoked")
    admin = Api(host=server.url, api_key=server.api_key)
    project.visibility = "PUBLIC"
    project.update()
    key = api.user().generate_api_key("second")
    second = Api(host=server.url, api_key=key)
    for _ in range(3):  # cached by now
        assert second.project(project.path).name == project.name
    api.user().delete_api_key(key)
    with pytest.raises(E.Unauthorized):
        second.project(project.path)
    assert api.project(project.path).name == project.name  # the other key still works
    assert admin.user(name).username == name


def test_membership_and_visibility_changes_are_seen_at_once(server, unique):
    owner, owner_api = _user(server, "owner")
    member, member_api = _user(server, "member")
    team = owner_api.create_team(f"t-{unique}"[:30])
    team.invite(member)
    project = owner_api.create_project(unique, entity=team.name)
    assert member_api.project(project.path).name == unique  # cached: a member reads it
    next(m for m in owner_api.team(team.name).members if m.username == member).delete()
    with pytest.raises(E.ProjectNotFound):
        member_api.project(project.path)  # private, and no longer theirs
    project.visibility = "PUBLIC"
    project.update()
    assert member_api.project(project.path).name == unique
    project.visibility = "PRIVATE"
    project.update()
    with pytest.raises(E.ProjectNotFound):
        member_api.project(project.path)


def test_a_deleted_project_or_run_is_not_served_from_a_cache(server, make_project, tmp_path):
    project = make_project()
    api = Api(host=server.url, api_key=server.api_key)
    run = lablens.sdk.init(
        project=project.name, host=server.url, api_key=server.api_key, settings=QUIET,
        dir=tmp_path,
    )  # fmt: skip
    run.log({"loss": 1.0})
    run.finish()
    assert api.run(run.path).state == "finished"
    api.run(run.path).delete()
    with pytest.raises(E.RunNotFound):
        api.run(run.path)
    assert api.project(project.path).name == project.name
    api.project(project.path).delete()
    with pytest.raises(E.ProjectNotFound):
        api.project(project.path)


# -- two servers on one PostgreSQL --------------------------------------------------------------


@pytest.fixture
def two_servers(pg_database, tmp_path):
    key = "ll_" + uuid.uuid4().hex * 2
    env = {"LABLENS_ADMIN_API_KEY": key}
    args = ["--store", pg_database, "--blobs", f"file://{tmp_path / 'blobs'}"]
    started = []
    try:
        for name in ("a", "b"):
            started.append(
                start_server(tmp_path / name / "data", tmp_path / name / "home", args, env)
            )
        yield started
    finally:
        for srv in started:
            stop_server(srv)


def test_a_change_through_one_server_is_seen_by_another_at_once(two_servers, unique):
    a, b = two_servers
    admin_a = Api(host=a.url, api_key=a.api_key)
    made = admin_a.user().create(
        username=f"u-{unique}"[:30], password="pw-secret-1", email=f"u-{unique}@lab.test"
    )
    owner_a = Api(host=a.url, api_key=made.api_key)
    project = owner_a.create_project(unique)
    key = owner_a.user().generate_api_key("laptop")
    via_b = Api(host=b.url, api_key=key)
    for _ in range(3):  # cached by server b
        assert via_b.project(project.path).name == unique
    owner_a.user().delete_api_key(key)  # through server a
    with pytest.raises(E.Unauthorized):
        via_b.project(project.path)
    # A project deleted through a is gone for b's cached readers too.
    reader_b = Api(host=b.url, api_key=made.api_key)
    assert reader_b.project(project.path).name == unique
    owner_a.project(project.path).delete()
    with pytest.raises(E.ProjectNotFound):
        reader_b.project(project.path)


def test_runs_through_two_servers_finish_in_one_request_each(two_servers, unique, tmp_path):
    a, b = two_servers
    paths = []
    for srv in (a, b, a):
        run = lablens.sdk.init(
            project=unique, host=srv.url, api_key=srv.api_key,
            settings={**QUIET, "flush_interval": 600}, dir=tmp_path,
        )  # fmt: skip
        calls = _counting(run)
        run.log({"acc": 0.5})
        run.finish()
        assert len(calls) == 1
        paths.append(run.path)
    api_b = Api(host=b.url, api_key=b.api_key)
    assert [api_b.run(p).state for p in paths] == ["finished"] * 3
    assert [api_b.run(p).summary["acc"] for p in paths] == [0.5] * 3
