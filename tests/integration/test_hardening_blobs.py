"""Blobs a team can trust: naming a sha256 proves nothing, sizes are checked, uploads are bounded.

Content is stored once per server whoever uploads it, so the right to *use* a blob is kept
apart from the bytes: a commit may name a sha256 only if its committer (or a member of the
target workspace) uploaded those bytes, or if the committer can already read them in an
artifact or run file. ``blobs/missing`` answers with the same rule, so it tells nobody what
others stored. Two users on a real server: Alice keeps a private file, Bob tries to get it.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from servers import start_server, stop_server


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class User:
    """A signed-in user: name (= personal workspace) and a session carrying their key."""

    name: str
    url: str
    http: requests.Session

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.http.request(method, self.url + path, timeout=60, **kwargs)

    def project(self, name: str) -> str:
        return f"/api/v1/projects/{self.name}/{name}"

    def missing(self, project: str, digests: list[str]) -> list[str]:
        r = self.call("POST", f"{project}/blobs/missing", json={"digests": digests})
        assert r.status_code == 200, r.text
        return r.json()["missing"]

    def put(self, project: str, data: bytes, digest: str | None = None) -> requests.Response:
        return self.call("PUT", f"{project}/blobs/{digest or sha(data)}", data=data)

    def commit(self, project: str, name: str, files: list[dict]) -> requests.Response:
        return self.call(
            "POST", f"{project}/artifacts", json={"name": name, "type": "dataset", "files": files}
        )


def _user(server, admin: requests.Session, prefix: str) -> User:
    name = prefix + uuid.uuid4().hex[:6]
    r = admin.post(server.url + "/api/v1/users", json={"username": name}, timeout=60)
    assert r.status_code == 201, r.text
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {r.json()['api_key']}"
    return User(name, server.url, http)


@pytest.fixture(scope="module")
def admin(server) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {server.api_key}"
    return http


@pytest.fixture(scope="module")
def alice(server, admin) -> User:
    return _user(server, admin, "alice")


@pytest.fixture(scope="module")
def bob(server, admin) -> User:
    return _user(server, admin, "bob")


@pytest.fixture
def secret(alice, unique) -> tuple[bytes, str]:
    """Alice's private file, committed in her private project: ``(bytes, sha256)``."""
    data = f"alice's private notes {uuid.uuid4()}".encode()
    project = alice.project(f"{unique}-private")
    assert alice.put(project, data).status_code == 201
    r = alice.commit(
        project, "notes", [{"path": "notes.txt", "digest": sha(data), "size": len(data)}]
    )
    assert r.status_code == 201, r.text
    return data, sha(data)


def _blob_files(server, digest: str) -> list[Path]:
    """Every file for ``digest`` in the blob dir (the blob, or a leftover of an upload)."""
    return [p for p in (server.data_dir / "blobs" / digest[:2]).glob("*") if digest[2:] in p.name]


def _field(r: requests.Response) -> str:
    return r.json()["errors"][0]["field"]


# -- item 3: naming a digest proves nothing ---------------------------------------------------


def test_naming_another_users_digest_does_not_give_its_bytes(bob, secret, unique):
    data, digest = secret
    project = bob.project(f"{unique}-bob")
    r = bob.commit(project, "stolen", [{"path": "x.txt", "digest": digest, "size": len(data)}])
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "bad_request" and _field(r) == "files[0].digest"
    assert bob.call("GET", f"{project}/artifact_collections/stolen").status_code == 404


def test_missing_tells_each_caller_only_what_they_could_use(alice, bob, secret, unique):
    _, digest = secret
    nobody = sha(uuid.uuid4().bytes)
    assert bob.missing(bob.project(unique), [digest, nobody]) == [digest, nobody]
    # The same question about a digest that exists and one that never did: the same answer.
    assert alice.missing(alice.project(unique), [digest, nobody]) == [nobody]


def test_after_uploading_the_bytes_itself_the_commit_works_and_they_are_stored_once(
    server, bob, secret, unique
):
    data, digest = secret
    project = bob.project(f"{unique}-bob")
    r = bob.put(project, data)
    # New to Bob, whatever others stored: the answer is no oracle either.
    assert r.status_code == 201 and r.json() == {
        "digest": digest,
        "size": len(data),
        "stored": True,
    }
    assert bob.missing(project, [digest]) == []
    r = bob.put(project, data)
    assert r.status_code == 200 and r.json()["stored"] is False
    r = bob.commit(project, "mine", [{"path": "x.txt", "digest": digest, "size": len(data)}])
    assert r.status_code == 201, r.text
    got = bob.call("GET", f"{project}/artifacts/{r.json()['id']}/files/x.txt")
    assert got.status_code == 200 and got.content == data
    assert [p.name for p in _blob_files(server, digest)] == [digest[2:]]


def test_wrong_bytes_under_an_existing_digest_are_refused_and_give_no_right(
    server, bob, secret, unique
):
    data, digest = secret
    project = bob.project(f"{unique}-bob")
    r = bob.put(project, b"not the secret", digest=digest)
    assert r.status_code == 400 and _field(r) == "digest"
    assert bob.missing(project, [digest]) == [digest]
    r = bob.commit(project, "stolen", [{"path": "x", "digest": digest, "size": len(data)}])
    assert r.status_code == 400 and _field(r) == "files[0].digest"
    assert [p.name for p in _blob_files(server, digest)] == [digest[2:]]
    assert (server.data_dir / "blobs" / digest[:2] / digest[2:]).read_bytes() == data


def test_a_reference_naming_a_digest_does_not_launder_it(bob, secret, unique):
    data, digest = secret
    project = bob.project(f"{unique}-bob")
    ref = {"path": "r", "ref": "s3://bucket/key", "digest": digest, "size": len(data)}
    r = bob.commit(project, "refs", [ref])
    assert r.status_code == 201, r.text  # a reference's bytes are never served
    got = bob.call("GET", f"{project}/artifacts/{r.json()['id']}/files/r")
    assert got.status_code == 400 and data not in got.content
    assert bob.missing(project, [digest]) == [digest]
    r = bob.commit(project, "stolen", [{"path": "x", "digest": digest, "size": len(data)}])
    assert r.status_code == 400 and _field(r) == "files[0].digest"


def test_a_digest_the_committer_can_read_needs_no_upload(admin, server, alice, bob, unique):
    """A file of a PUBLIC project, artifact or run file, is Bob's to name; a private one not."""
    public = alice.project(f"{unique}-public")
    private = alice.project(f"{unique}-hidden")
    r = admin.post(
        server.url + f"/api/v1/workspaces/{alice.name}/projects",
        json={"name": f"{unique}-public", "visibility": "PUBLIC"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    shared = f"public weights {uuid.uuid4()}".encode()
    assert alice.put(public, shared).status_code == 201
    entry = {"path": "w", "digest": sha(shared), "size": len(shared)}
    assert alice.commit(public, "weights", [entry]).status_code == 201
    run_files = {}
    for where in (public, private):
        run = alice.call("POST", f"{where}/runs", json={}).json()
        content = f"run file of {where} {uuid.uuid4()}".encode()
        r = alice.call("PUT", f"{where}/runs/{run['id']}/files/log.txt", data=content)
        assert r.status_code == 201, r.text
        run_files[where] = content
    mine = bob.project(f"{unique}-bob")
    readable = [sha(shared), sha(run_files[public])]
    hidden = sha(run_files[private])
    assert bob.missing(mine, [*readable, hidden]) == [hidden]
    files = [
        {"path": f"f{i}", "digest": d, "size": len(c)}
        for i, (d, c) in enumerate(zip(readable, [shared, run_files[public]], strict=True))
    ]
    assert bob.commit(mine, "reused", files).status_code == 201
    r = bob.commit(
        mine, "hidden", [{"path": "f", "digest": hidden, "size": len(run_files[private])}]
    )
    assert r.status_code == 400 and _field(r) == "files[0].digest"


def test_a_team_member_may_commit_what_another_member_uploaded_into_the_team(
    admin, server, alice, bob, unique
):
    team = "team" + uuid.uuid4().hex[:6]
    assert alice.call("POST", "/api/v1/teams", json={"name": team}).status_code == 201
    r = alice.call("POST", f"/api/v1/teams/{team}/members", json={"username_or_email": bob.name})
    assert r.status_code in (200, 201), r.text
    data = f"team data {uuid.uuid4()}".encode()
    project = f"/api/v1/projects/{team}/{unique}"
    assert alice.put(project, data).status_code == 201
    assert bob.missing(project, [sha(data)]) == []
    # Alice's upload into the team is no right in Bob's own workspace...
    assert bob.missing(bob.project(unique), [sha(data)]) == [sha(data)]
    r = bob.commit(project, "shared", [{"path": "d", "digest": sha(data), "size": len(data)}])
    assert r.status_code == 201, r.text
    # ... until the bytes are in a version Bob may read.
    assert bob.missing(bob.project(unique), [sha(data)]) == []


# -- item 10: the declared size is checked, the served size is the real one --------------------

FOURTEEN = b"fourteen bytes"
DIGEST = sha(FOURTEEN)


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        pytest.param({"digest": DIGEST, "size": 10**12}, "size", id="size-10^12"),
        pytest.param({"digest": DIGEST, "size": 13}, "size", id="size-one-short"),
        pytest.param({"digest": DIGEST, "size": 0}, "size", id="size-0"),
        pytest.param({"digest": DIGEST, "size": -14}, "size", id="size-negative"),
        pytest.param({"digest": DIGEST, "size": 2**63}, "size", id="size-2^63"),
        pytest.param({"digest": DIGEST, "size": 14.0}, "size", id="size-float"),
        pytest.param({"digest": DIGEST, "size": "14"}, "size", id="size-string"),
        pytest.param({"digest": DIGEST, "size": True}, "size", id="size-bool"),
        pytest.param({"digest": DIGEST}, "size", id="size-absent"),
        pytest.param({"digest": DIGEST.upper(), "size": 14}, "digest", id="digest-upper"),
        pytest.param({"digest": DIGEST[:-1], "size": 14}, "digest", id="digest-short"),
        pytest.param({"digest": "../" + DIGEST[3:], "size": 14}, "digest", id="digest-dotdot"),
        pytest.param({"digest": 14, "size": 14}, "digest", id="digest-number"),
        pytest.param({"ref": "s3://b/k", "size": 2**63}, "size", id="ref-size-2^63"),
    ],
)
def test_hostile_manifest_entries_are_refused_naming_the_field(alice, unique, entry, field):
    project = alice.project(unique)
    assert alice.put(project, FOURTEEN).status_code in (200, 201)
    files = [{"path": "ok", "digest": DIGEST, "size": 14}, {"path": "f", **entry}]
    r = alice.commit(project, "sized", files)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "bad_request"
    assert _field(r) == f"files[1].{field}"
    assert alice.call("GET", f"{project}/artifact_collections/sized").status_code == 404


def test_references_whose_sizes_add_past_a_byte_count_are_refused(alice, unique):
    project = alice.project(unique)
    refs = [{"path": f"r{i}", "ref": f"s3://b/{i}", "size": 2**62} for i in range(2)]
    r = alice.commit(project, "huge", refs)
    assert r.status_code == 400 and _field(r) == "files"


def test_a_served_file_has_the_length_of_its_bytes(alice, unique):
    project = alice.project(unique)
    alice.put(project, FOURTEEN)
    r = alice.commit(project, "exact", [{"path": "f.bin", "digest": DIGEST, "size": 14}])
    assert r.status_code == 201, r.text
    got = alice.call("GET", f"{project}/artifacts/{r.json()['id']}/files/f.bin", stream=True)
    assert got.headers["Content-Length"] == "14"
    assert got.raw.read() == FOURTEEN


def test_a_size_stored_before_the_check_is_not_served(tmp_path):
    """Data dirs written before sizes were checked may hold a false one: the real length wins."""
    from lablens.store.embedded.store import EmbeddedStore

    srv = start_server(tmp_path / "data", tmp_path / "home")
    try:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {srv.api_key}"
        owner = User(srv.username, srv.url, http)
        project = owner.project("legacy")
        owner.put(project, FOURTEEN)
        art = owner.commit(project, "old", [{"path": "f", "digest": DIGEST, "size": 14}]).json()
    finally:
        stop_server(srv)
    store = EmbeddedStore(tmp_path / "data")
    with store.db.write() as con:
        con.execute("UPDATE artifact_files SET size = 1000000000000 WHERE digest = ?", [DIGEST])
    store.close()
    srv = start_server(tmp_path / "data", tmp_path / "home")
    try:
        got = http.get(srv.url + f"{project}/artifacts/{art['id']}/files/f", timeout=60)
        assert got.status_code == 200
        assert got.headers["Content-Length"] == "14" and got.content == FOURTEEN
    finally:
        stop_server(srv)


# -- blob uploads: the digest is checked, the body bounded ------------------------------------

# Content no other test uploads, so "no blob of it" holds on the shared server.
WHOLE = f"the whole file {uuid.uuid4()}".encode()


@pytest.mark.parametrize(
    ("digest", "body", "status", "field"),
    [
        ("abc", b"x", 400, "digest"),
        (sha(b"x").upper(), b"x", 400, "digest"),
        (sha(b"x") + "0", b"x", 400, "digest"),
        ("z" * 64, b"x", 400, "digest"),
        ("." * 64, b"x", 400, "digest"),
        ("%2E%2E%2Fetc%2Fpasswd", b"x", 404, None),
        (sha(WHOLE), WHOLE[:9], 400, "digest"),
        (sha(WHOLE + b"!"), b"something else", 400, "digest"),
    ],
    ids=["short", "upper", "long", "not-hex", "dots", "slash", "cut", "other"],
)
def test_hostile_blob_uploads_are_refused_naming_the_digest(
    server, alice, unique, digest, body, status, field
):
    r = alice.put(alice.project(unique), body, digest=digest)
    assert r.status_code == status, r.text
    if field is not None:
        assert _field(r) == field
    if len(digest) == 64:
        assert not _blob_files(server, digest)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"digests": "abc"}, "digests", id="not-a-list"),
        pytest.param({"digests": [DIGEST, "abc"]}, "digests[1]", id="short"),
        pytest.param({"digests": [DIGEST.upper()]}, "digests[0]", id="upper"),
        pytest.param({"digests": [None]}, "digests[0]", id="null"),
        pytest.param({"digests": [DIGEST], "extra": 1}, "extra", id="unknown-key"),
    ],
)
def test_hostile_missing_questions_are_refused_naming_the_field(alice, unique, body, field):
    r = alice.call("POST", f"{alice.project(unique)}/blobs/missing", json=body)
    assert r.status_code == 400, r.text
    assert _field(r) == field


@pytest.fixture(scope="module")
def small_server(tmp_path_factory):
    """A server whose request bodies may hold at most 1,000 bytes."""
    mp = pytest.MonkeyPatch()
    mp.setenv("LABLENS_MAX_BODY_BYTES", "1000")
    root = tmp_path_factory.mktemp("small")
    srv = start_server(root / "data", root / "home")
    mp.undo()
    yield srv
    stop_server(srv)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_upload_past_the_body_limit_is_a_413_naming_it(small_server, chunked):
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {small_server.api_key}"
    owner = User(small_server.username, small_server.url, http)
    project = owner.project("limits")
    data = uuid.uuid4().bytes * 100  # 1,600 bytes
    body = iter([data[i : i + 100] for i in range(0, len(data), 100)]) if chunked else data
    r = owner.call("PUT", f"{project}/blobs/{sha(data)}", data=body)
    assert r.status_code == 413, r.text
    problem = r.json()
    assert problem["code"] == "limit_exceeded"
    assert problem["errors"][0]["field"] == "body" and problem["errors"][0]["limit"] == 1000
    assert not _blob_files(small_server, sha(data))
    assert owner.missing(project, [sha(data)]) == [sha(data)]
    fits = data[:1000]
    assert owner.put(project, fits).status_code == 201


def test_slow_uploads_hold_no_worker_thread(server, alice, unique):
    """Sixty uploads that stall mid-body (more than the server's 40 worker threads) leave the
    server answering, and once cut they leave nothing behind."""
    import socket

    host, port = server.url.removeprefix("http://").split(":")
    key = alice.http.headers["Authorization"]
    data = uuid.uuid4().bytes * 1000
    path = f"{alice.project(unique)}/blobs/{sha(data)}"
    socks = []
    try:
        for _ in range(60):
            sock = socket.create_connection((host, int(port)), timeout=30)
            sock.sendall(
                f"PUT {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {key}\r\n"
                f"Content-Length: {len(data)}\r\n\r\n".encode()
                + data[:100]
            )
            socks.append(sock)
        r = alice.call("GET", "/api/v1/viewer")
        assert r.status_code == 200 and r.json()["username"] == alice.name
        assert alice.missing(alice.project(unique), [sha(data)]) == [sha(data)]
    finally:
        for sock in socks:
            sock.close()
    # The server sees the disconnects in its own time: wait for it (bounded), then look.
    for _ in range(300):
        if not _blob_files(server, sha(data)):
            break
        time.sleep(0.1)
    assert not _blob_files(server, sha(data))
