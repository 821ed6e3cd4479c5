"""A server a team can trust: what one careless or hostile request, a full disk, a newer or
half-migrated data dir and a torn write-ahead log do to a real server (issue 18, items 9-13)."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from servers import RunningServer, server_argv, start_server, stop_server

SMALL_BODY = 4096


def _h(srv: RunningServer, ctype: str | None = "application/json") -> dict[str, str]:
    out = {"Authorization": f"Bearer {srv.api_key}"}
    if ctype:
        out["Content-Type"] = ctype
    return out


def _project(srv: RunningServer, name: str) -> str:
    r = requests.post(
        f"{srv.url}/api/v1/workspaces/{srv.username}/projects",
        json={"name": name},
        headers=_h(srv),
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return f"{srv.username}/{name}"


def _run(srv: RunningServer, project: str, **fields) -> str:
    r = requests.post(
        f"{srv.url}/api/v1/projects/{project}/runs", json=fields, headers=_h(srv), timeout=30
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _runs(srv: RunningServer, project: str) -> list[dict]:
    r = requests.post(
        f"{srv.url}/api/v1/projects/{project}/runs/query", json={}, headers=_h(srv), timeout=30
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _log_of(srv: RunningServer) -> str:
    port = srv.url.rsplit(":", 1)[1]
    return (srv.data_dir.parent / f"server-{port}.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server whose body limit is 4 KiB."""
    root = tmp_path_factory.mktemp("small")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABLENS_MAX_BODY_BYTES", str(SMALL_BODY))
        srv = start_server(root / "data", root / "home")
    yield srv
    stop_server(srv)


# -- item 10: the body limit -------------------------------------------------------------------


def _assert_too_large(r: requests.Response) -> None:
    assert r.status_code == 413, r.text
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == "limit_exceeded"
    assert body["errors"] == [{"field": "body", "message": body["detail"], "limit": SMALL_BODY}]
    assert str(SMALL_BODY) in body["detail"]


def test_a_body_past_the_limit_is_413_by_content_length_and_nothing_is_stored(small, unique):
    project = _project(small, unique)
    config = {"blob": "x" * (SMALL_BODY + 10)}
    r = requests.post(
        f"{small.url}/api/v1/projects/{project}/runs",
        json={"config": config},
        headers=_h(small),
        timeout=30,
    )
    _assert_too_large(r)
    assert _runs(small, project) == []
    # Just under the limit is taken.
    _run(small, project, config={"blob": "x" * (SMALL_BODY - 200)})
    assert len(_runs(small, project)) == 1


def _chunks(total: int, size: int = 1000) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"y" * min(size, total - sent)
        sent += size


@pytest.mark.parametrize(
    ("ctype", "route"),
    [
        ("application/json", "runs"),  # read whole by the guard
        ("application/octet-stream", "files/big.bin"),  # streamed through to the route
        ("application/vnd.apache.arrow.stream", "points"),
    ],
)
def test_a_chunked_body_past_the_limit_is_413_and_nothing_is_stored(small, unique, ctype, route):
    project = _project(small, unique)
    run_id = _run(small, project)
    path = route if route == "runs" else f"runs/{run_id}/{route}"
    method = "PUT" if route.startswith("files") else "POST"
    # A generator body is sent chunked: there is no Content-Length to refuse up front.
    r = requests.request(
        method,
        f"{small.url}/api/v1/projects/{project}/{path}",
        data=_chunks(SMALL_BODY * 3),
        headers=_h(small, ctype),
        timeout=30,
    )
    _assert_too_large(r)
    assert [x["id"] for x in _runs(small, project)] == [run_id]
    files = requests.get(
        f"{small.url}/api/v1/projects/{project}/runs/{run_id}/files", headers=_h(small), timeout=30
    ).json()
    assert files["items"] == []


# -- item 9: lone surrogates, deep JSON, client disconnects ------------------------------------

HIGH = "\\ud800"  # as the JSON escape a client sends: Python's json module writes these


HOSTILE = [
    # (what is sent, route, expected status, expected field)
    ('{"config": {"a": "x' + HIGH + '"}}', "runs", 400, "config.a"),
    ('{"config": {"k' + HIGH + '": 1}}', "runs", 400, "config.k\\ud800"),
    ('{"tags": ["ok", "' + HIGH + '"]}', "runs", 400, "tags[1]"),
    ('{"name": "' + HIGH + '"}', "runs", 400, "name"),
    ('{"notes": "\\udc00 low alone"}', "runs", 400, "notes"),
    ('{"name": "' + HIGH + '"}', "project", 400, "name"),
    ('{"description": "' + HIGH + '"}', "patch", 400, "description"),
    ('{"lines": [{"line": "' + HIGH + '", "stream": "stdout"}]}', "console", 400, "lines[0].line"),
    ('{"username": "u' + HIGH + '"}', "users", 400, "username"),
    ('{"name": "t' + HIGH + '"}', "teams", 400, "name"),
    ('{"username": "x", "password": "' + HIGH + 'xxxxxxxx"}', "login", 400, "password"),
    # Not lone: an escaped pair is an emoji, and is stored.
    ('{"config": {"e": "\\ud83d\\ude00"}}', "runs", 201, None),
    # Deeper than the body's nesting limit (128 by default), and deeper than Python's stack.
    ('{"config": ' + '{"a": ' * 200 + "1" + "}" * 200 + "}", "runs", 400, "body"),
    ('{"config": ' + '{"a": ' * 900 + "1" + "}" * 900 + "}", "runs", 400, "body"),
    ('{"config": ' + "[" * 100_000 + "]" * 100_000 + "}", "runs", 400, "body"),
    # Brackets inside strings are not nesting.
    ('{"config": {"s": "' + "[" * 5000 + '"}}', "runs", 201, None),
]


@pytest.mark.parametrize(("body", "where", "status", "field"), HOSTILE)
def test_hostile_json_is_a_4xx_naming_the_field(server, unique, body, where, status, field):
    project = _project(server, unique)
    run_id = _run(server, project)
    url = {
        "runs": f"/api/v1/projects/{project}/runs",
        "project": f"/api/v1/workspaces/{server.username}/projects",
        "patch": f"/api/v1/projects/{project}",
        "console": f"/api/v1/projects/{project}/runs/{run_id}/console",
        "users": "/api/v1/users",
        "teams": "/api/v1/teams",
        "login": "/api/v1/login",
    }[where]
    method = "PATCH" if where == "patch" else "POST"
    r = requests.request(
        method, server.url + url, data=body.encode(), headers=_h(server), timeout=60
    )
    assert r.status_code == status, r.text
    if status >= 400:
        problem = r.json()
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in problem["errors"]] == [field]
        # Nothing stored: the project still holds only the run made above.
        assert [x["id"] for x in _runs(server, project)] == [run_id]
        if field == "body":
            assert problem["code"] == "limit_exceeded"
            assert problem["errors"][0]["limit"] == 128


def test_an_emoji_sent_as_an_escaped_pair_is_stored_as_sent(server, unique):
    project = _project(server, unique)
    body = '{"config": {"e": "\\ud83d\\ude00"}}'
    r = requests.post(
        f"{server.url}/api/v1/projects/{project}/runs",
        data=body.encode(),
        headers=_h(server),
        timeout=30,
    )
    assert r.status_code == 201, r.text
    assert r.json()["config"] == {"e": "\U0001f600"}


def test_a_client_that_goes_away_mid_body_is_one_quiet_log_line(small, unique):
    project = _project(small, unique)
    run_id = _run(small, project)
    host, port = small.url.removeprefix("http://").split(":")
    before = _log_of(small)
    for ctype, path in [
        ("application/octet-stream", f"runs/{run_id}/files/cut.bin"),
        ("application/json", "runs"),
    ]:
        method = "PUT" if "files" in path else "POST"
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(
                f"{method} /api/v1/projects/{project}/{path} HTTP/1.1\r\n"
                f"Host: {host}\r\nAuthorization: Bearer {small.api_key}\r\n"
                f"Content-Type: {ctype}\r\nContent-Length: 2000\r\n\r\n".encode()
                + b"z" * 100
            )
            time.sleep(0.5)
    # The server noticed and is still well.
    deadline = time.time() + 10
    while (
        time.time() < deadline and _log_of(small).count("went away") - before.count("went away") < 2
    ):
        time.sleep(0.2)
    new = _log_of(small)[len(before) :]
    assert new.count("went away") == 2, new
    assert "Traceback" not in new
    assert [x["id"] for x in _runs(small, project)] == [run_id]
    files = requests.get(
        f"{small.url}/api/v1/projects/{project}/runs/{run_id}/files", headers=_h(small), timeout=30
    ).json()
    assert files["items"] == []


# -- item 9: a full disk is a 507, with nothing stored half ------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 40 MiB tmpfs mounted for the test, to be a data dir (its server's log stays outside);
    skipped where mounting is not permitted."""
    import subprocess

    mnt = tmp_path / "disk" / "data"
    mnt.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(mnt: Path, leave: int) -> Path:
    import os

    st = os.statvfs(mnt)
    filler = mnt / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))
    return filler


def test_a_full_disk_is_507_and_nothing_is_stored_half(tiny_disk, tmp_path):
    import os

    srv = start_server(tiny_disk, tmp_path / "home")
    try:
        project = _project(srv, "full")
        run_id = _run(srv, project, config={"before": 1})
        files_url = f"{srv.url}/api/v1/projects/{project}/runs/{run_id}/files"
        filler = _fill(tiny_disk, leave=200_000)
        statuses = []
        stored = []
        for i in range(10):
            r = requests.put(
                f"{files_url}/f{i}.bin",
                data=os.urandom(50_000),
                headers=_h(srv, "application/octet-stream"),
                timeout=30,
            )
            statuses.append(r.status_code)
            if r.status_code == 201:
                stored.append(f"f{i}.bin")
            else:
                break
        assert statuses[-1] == 507, statuses
        problem = r.json()
        assert problem["code"] == "insufficient_storage"
        assert r.headers["content-type"].startswith("application/problem+json")
        for _ in range(3):
            r = requests.post(
                f"{srv.url}/api/v1/projects/{project}/runs",
                json={"config": {"big": "y" * 200_000}},
                headers=_h(srv),
                timeout=30,
            )
            assert r.status_code == 507, r.text
        # Room again: the server goes on, and holds exactly what it acknowledged.
        filler.unlink()
        _run(srv, project, config={"after": 1})
        listed = requests.get(files_url, headers=_h(srv), timeout=30).json()["items"]
        assert sorted(f["name"] for f in listed) == stored
        assert sorted(json.dumps(x["config"]) for x in _runs(srv, project)) == [
            '{"after": 1}',
            '{"before": 1}',
        ]
        assert not list((tiny_disk / "blobs").rglob("*.part"))
        log = _log_of(srv)
        assert "Traceback" not in log
        assert "disk full" in log
    finally:
        stop_server(srv)


# -- item 11: a newer data dir is refused; migrations are all-or-nothing -----------------------


def _digest(path: Path) -> dict[str, str]:
    import hashlib

    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else ""
        for p in sorted(path.rglob("*"))
    }


def test_a_data_dir_with_a_newer_schema_is_refused_with_nothing_written(tmp_path):
    import subprocess

    import duckdb

    from lablens.store.embedded.schema import MIGRATIONS
    from lablens.store.embedded.store import EmbeddedStore

    data = tmp_path / "data"
    EmbeddedStore(data).close()
    con = duckdb.connect(str(data / "lablens.duckdb"))
    con.execute("INSERT INTO schema_version VALUES (?)", [len(MIGRATIONS) + 5])
    con.close()
    before = _digest(data)
    done = subprocess.run(
        server_argv("0", str(data)),
        env={**__import__("os").environ, "LABLENS_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode != 0
    assert f"schema version {len(MIGRATIONS) + 5}, newer than the {len(MIGRATIONS)}" in done.stderr
    assert "Traceback" not in done.stderr
    assert _digest(data) == before  # not a byte written, no admin made, no WAL left


def _tables(path: Path) -> tuple[int, list[str], list[str]]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        version = con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        columns = [r[0] for r in con.execute("DESCRIBE api_keys").fetchall()]
        return version, sorted(tables), columns
    finally:
        con.close()


def test_a_failing_migration_leaves_the_data_dir_as_it_was(tmp_path):
    import duckdb

    from lablens.store.embedded._db import Database
    from lablens.store.embedded.schema import MIGRATIONS
    from lablens.store.errors import StoreError

    path = tmp_path / "lablens.duckdb"
    Database(path, MIGRATIONS[:3]).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO users (username, is_admin) VALUES ('kept', true)")
    con.close()
    before = _tables(path)
    # Two pending: the real migration 4 (which alone would succeed), then one that fails halfway.
    broken = [*MIGRATIONS[:4], "CREATE TABLE half (x INTEGER); SELECT * FROM no_such_table;"]
    with pytest.raises(StoreError, match="to schema version 5 failed, so it stays at version 3"):
        Database(path, broken)
    after = _tables(path)
    assert after == before
    assert after[0] == 3 and "half" not in after[1] and "expires_at" not in after[2]
    # And the real list still upgrades it, keeping what it held.
    db = Database(path)
    assert db.version == len(MIGRATIONS)
    assert db.one("SELECT username FROM users") == {"username": "kept"}
    db.close()


# -- item 13: a torn write-ahead log tail is said at start --------------------------------------


def _kill(srv: RunningServer) -> None:
    srv.proc.kill()
    srv.proc.wait(timeout=20)


@pytest.mark.parametrize("cut", [0, 1, 7])
def test_a_torn_wal_tail_is_logged_at_start(tmp_path, cut):
    data, home = tmp_path / "data", tmp_path / "home"
    srv = start_server(data, home)
    project = _project(srv, "wal")
    made = [_run(srv, project, config={"i": i}) for i in range(4)]
    _kill(srv)  # kill -9: no checkpoint, the commits are in the WAL only
    wal = data / "lablens.duckdb.wal"
    size = wal.stat().st_size
    assert size > 0
    with open(wal, "r+b") as f:
        f.truncate(size - cut)
    srv = start_server(data, home)
    try:
        log = _log_of(srv)
        kept = sorted(x["id"] for x in _runs(srv, project))
        if cut == 0:
            # kill -9 alone loses nothing acknowledged, and there is nothing to say.
            assert kept == sorted(made)
            assert "lablens.duckdb.wal" not in log
        else:
            # DuckDB drops the last commit, whose tail is torn; the server says so, once.
            assert kept == sorted(made[:-1])
            lines = [line for line in log.splitlines() if "lablens.duckdb.wal" in line]
            assert len(lines) == 1, log
            assert "WARNING" in lines[0]
            assert str(wal) in lines[0]
            assert f"(of {size - cut})" in lines[0]
            torn = int(re.search(r"ends in (\d+) bytes", lines[0]).group(1))
            assert cut < torn < size - cut
    finally:
        stop_server(srv)


# -- item 12: names ------------------------------------------------------------------------------

LONG = "n" * 129

NAMES = [
    # (route, name sent, expected status, expected field)
    ("users", "a\x00b", 400, "username"),
    ("users", "tab\there", 400, "username"),
    ("users", "with space", 400, "username"),
    ("users", "a/b", 400, "username"),
    ("users", ".hidden", 400, "username"),
    ("users", "-dash", 400, "username"),
    ("users", "ünï", 400, "username"),
    ("users", "", 400, "username"),
    ("users", LONG, 400, "username"),
    ("users", "ok.name-1_", 201, None),
    ("teams", "t\x00", 400, "name"),
    ("teams", "line\nbreak", 400, "name"),
    ("teams", "a b", 400, "name"),
    ("teams", LONG, 400, "name"),
    ("teams", "Team_1.x-y", 201, None),
    ("projects", "p\x00", 400, "name"),
    ("projects", "p\x1f", 400, "name"),
    ("projects", "p\x7f", 400, "name"),
    ("projects", "p\x85", 400, "name"),
    ("projects", "a/b", 400, "name"),
    ("projects", "a\\b", 400, "name"),
    ("projects", "a:b", 400, "name"),
    ("projects", "a#b", 400, "name"),
    ("projects", "a?b", 400, "name"),
    ("projects", "a%b", 400, "name"),
    ("projects", " lead", 400, "name"),
    ("projects", "trail ", 400, "name"),
    ("projects", ".", 400, "name"),
    ("projects", "..", 400, "name"),
    ("projects", "", 400, "name"),
    ("projects", LONG, 400, "name"),
    ("projects", "Mixed Case ünïcode+1.2", 201, None),
]


@pytest.mark.parametrize(("route", "name", "status", "field"), NAMES)
def test_names_outside_the_rule_are_refused(server, unique, route, name, status, field):
    suffix = unique[-6:]
    name = name + suffix if status == 201 else name
    url, body = {
        "users": ("/api/v1/users", {"username": name}),
        "teams": ("/api/v1/teams", {"name": name}),
        "projects": (f"/api/v1/workspaces/{server.username}/projects", {"name": name}),
    }[route]
    r = requests.post(server.url + url, json=body, headers=_h(server), timeout=30)
    assert r.status_code == status, r.text
    if status == 400:
        problem = r.json()
        assert [e["field"] for e in problem["errors"]] == [field]
        if name == LONG:
            assert problem["code"] == "limit_exceeded"
            assert problem["errors"][0]["limit"] == 128


def test_a_project_named_in_a_run_path_keeps_the_rule(server, unique):
    r = requests.post(
        f"{server.url}/api/v1/projects/{server.username}/{unique}%00x/runs",
        json={},
        headers=_h(server),
        timeout=30,
    )
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["name"]


@pytest.mark.parametrize(
    ("first", "second"),
    [("users", "teams"), ("teams", "users"), ("users", "users"), ("teams", "teams")],
)
def test_user_and_team_names_are_unique_whatever_the_case(server, unique, first, second):
    def make(route: str, name: str) -> requests.Response:
        body = {"username": name} if route == "users" else {"name": name}
        return requests.post(
            f"{server.url}/api/v1/{route}", json=body, headers=_h(server), timeout=30
        )

    assert make(first, f"alice-{unique}").status_code == 201
    r = make(second, f"Alice-{unique.upper()}")
    assert r.status_code == 409, r.text
    assert f"alice-{unique}" in r.json()["detail"]


def test_names_made_before_the_rule_keep_working(tmp_path):
    import duckdb

    data, home = tmp_path / "data", tmp_path / "home"
    srv = start_server(data, home)
    stop_server(srv)
    con = duckdb.connect(str(data / "lablens.duckdb"))
    wid = con.execute("SELECT id FROM workspaces WHERE username = ?", [srv.username]).fetchone()[0]
    con.execute(
        "INSERT INTO projects (workspace_id, name) VALUES (?, 'old:name'), (?, 'Old:Name')",
        [wid, wid],
    )
    con.close()
    srv = start_server(data, home)
    try:
        for name in ("old:name", "Old:Name"):
            r = requests.get(
                f"{srv.url}/api/v1/projects/{srv.username}/{name}", headers=_h(srv), timeout=30
            )
            assert r.status_code == 200, r.text
            assert r.json()["name"] == name
            # Logging into it still works: it exists, so its name is not checked again.
            _run(srv, f"{srv.username}/{name}", config={"ok": 1})
            assert len(_runs(srv, f"{srv.username}/{name}")) == 1
    finally:
        stop_server(srv)


def test_an_arrow_string_that_is_not_utf8_is_400_not_500(server, unique):
    import pyarrow as pa

    from lablens.transport import ARROW, table_to_ipc

    project = _project(server, unique)
    run_id = _run(server, project)
    # "l" + a surrogate written as UTF-8 bytes (which UTF-8 forbids) + "oss"
    keys = pa.Array.from_buffers(
        pa.string(), 1, [None, pa.py_buffer(b"\0\0\0\0\7\0\0\0"), pa.py_buffer(b"l\xed\xa0\x80oss")]
    )
    table = pa.table(
        {"key": keys, "step": pa.array([0], pa.int64()), "timestamp": [1.0], "value": [1.0]}
    )
    run_url = f"{server.url}/api/v1/projects/{project}/runs/{run_id}"
    before = requests.get(run_url, headers=_h(server), timeout=30).json()
    r = requests.post(
        f"{run_url}/points",
        data=table_to_ipc(table),
        headers={**_h(server, ARROW), "X-Lablens-Batch-Id": unique},
        timeout=30,
    )
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["body.key"]
    after = requests.get(run_url, headers=_h(server), timeout=30).json()
    assert after["summary"] == before["summary"]  # no point stored: a summary holds each last one
