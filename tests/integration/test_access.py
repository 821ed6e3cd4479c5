"""Access control, route by route: generated from ``/openapi.json``.

Every route the server describes must have a rule below, or ``test_every_route_has_an_access_rule``
fails: a new route cannot ship without someone deciding who may call it. Each rule is then
checked for five callers: a server admin, the OWNER and a MEMBER of a team, an outsider (signed
in, in no team) and a caller without a key.

The team's project is PRIVATE: its runs, files, sweeps and reports answer 404 to the outsider, as
if they did not exist. A second pass runs the same routes on a PUBLIC project, which the outsider
may read but not write.
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pytest
import requests

from lablens.contract.media import pack
from lablens.contract.records import MEDIA_TYPE as RECORDS
from lablens.contract.records import encode_records
from lablens.transport import ARROW, Transport, table_to_ipc

ROLES = ("admin", "owner", "member", "outsider", "anon")
OK = "2xx"
DENIED = (403, 404)

# What each rule lets each caller do: OK, or the status(es) it must answer.
RULES: dict[str, dict[str, Any]] = {
    # no key needed
    "public": dict.fromkeys(ROLES, OK),
    # any signed-in user (their own things: viewer, keys, workspaces)
    "signed_in": {**dict.fromkeys(ROLES, OK), "anon": 401},
    # server admins only
    "admin": {"admin": OK, "owner": 403, "member": 403, "outsider": 403, "anon": 401},
    # a user themself (the MEMBER here) and admins
    "self": {"admin": OK, "owner": 403, "member": OK, "outsider": 403, "anon": 401},
    # read a project: members; outsiders only PUBLIC projects, else 404
    "read": {"admin": OK, "owner": OK, "member": OK, "outsider": 404, "anon": 401},
    # write into a project: members only
    "write": {"admin": OK, "owner": OK, "member": OK, "outsider": DENIED, "anon": 401},
    # owners only (delete a project): members 403, outsiders 404 for a private project
    "owner": {"admin": OK, "owner": OK, "member": 403, "outsider": DENIED, "anon": 401},
    # see a team: its members; outsiders 404
    "team": {"admin": OK, "owner": OK, "member": OK, "outsider": 404, "anon": 401},
    # manage a team's members: its owners
    "team_owner": {"admin": OK, "owner": OK, "member": 403, "outsider": 404, "anon": 401},
    # read an organization registry of the team: its members; outsiders 404
    "registry": {"admin": OK, "owner": OK, "member": OK, "outsider": 404, "anon": 401},
    # change a registry of the team: its admins (the team's owners); outsiders 404
    "registry_admin": {"admin": OK, "owner": OK, "member": 403, "outsider": 404, "anon": 401},
}


@dataclass
class World:
    """Who is who, and the objects every route is called on."""

    url: str
    keys: dict[str, str | None]
    users: dict[str, str]
    passwords: dict[str, str]
    team: str
    private: str
    public: str
    run: dict[str, str]
    sweep: dict[str, str]
    claim_sweep: dict[str, str]
    report: dict[str, str]
    artifact: dict[str, str]
    counter: Any = field(default_factory=itertools.count)

    def http(self, role: str) -> Transport:
        return Transport(self.url, self.keys[role])

    def fresh(self, prefix: str = "x") -> str:
        return f"{prefix}{uuid.uuid4().hex[:8]}"


BLOBS = (b"weights v0", b"weights v1")
DIGESTS = tuple(hashlib.sha256(b).hexdigest() for b in BLOBS)


# A media item whose content is BLOBS[0], as the SDK posts one once its blob is uploaded.
MEDIA_ITEM = {
    "key": "notes",
    "step": 0,
    "timestamp": 1.7e9,
    "type": "text",
    "format": "txt",
    "sha256": DIGESTS[0],
    "size": len(BLOBS[0]),
}


def _commit_artifact(
    http: Transport, path: str, name: str, blob: int = 0, run_id: str | None = None
) -> dict[str, Any]:
    return http.post_json(
        f"/api/v1/projects/{path}/artifacts",
        {
            "name": name,
            "type": "model",
            "run_id": run_id,
            "files": [{"path": "w.bin", "digest": DIGESTS[blob], "size": len(BLOBS[blob])}],
        },
    )


def _points_body() -> bytes:
    return table_to_ipc(
        pa.table(
            {
                "key": ["loss"],
                "step": pa.array([0], pa.int64()),
                "timestamp": [1.7e9],
                "value": [0.5],
            }
        )
    )


@pytest.fixture(scope="module")
def world(server) -> World:
    admin = Transport(server.url, server.api_key)
    tag = uuid.uuid4().hex[:6]
    users, keys, passwords = {}, {"admin": server.api_key, "anon": None}, {}
    for role in ("owner", "member", "outsider"):
        name = f"{role}-{tag}"
        passwords[role] = f"pw-{name}-secret"
        made = admin.post_json(
            "/api/v1/users",
            {"username": name, "email": f"{name}@lab.test", "password": passwords[role]},
        )
        users[role], keys[role] = name, made["api_key"]
    users["admin"] = server.username
    team = f"team-{tag}"
    as_owner = Transport(server.url, keys["owner"])
    as_owner.post_json("/api/v1/teams", {"name": team})
    as_owner.post_json(f"/api/v1/teams/{team}/members", {"username_or_email": users["member"]})
    private, public = f"{team}/secret", f"{team}/open"
    as_owner.post_json(f"/api/v1/workspaces/{team}/projects", {"name": "secret"})
    as_owner.post_json(
        f"/api/v1/workspaces/{team}/projects", {"name": "open", "visibility": "PUBLIC"}
    )
    runs, sweeps, claim, reports, artifacts = {}, {}, {}, {}, {}
    for path in (private, public):
        run = as_owner.post_json(f"/api/v1/projects/{path}/runs", {"config": {"lr": 0.1}})
        runs[path] = run["id"]
        base = f"/api/v1/projects/{path}/runs/{run['id']}"
        as_owner.request(
            "POST", base + "/points", data=_points_body(), headers={"Content-Type": ARROW}
        )
        as_owner.request("PUT", base + "/files/notes.txt", data=b"hello")
        as_owner.post_json(
            base + "/console", {"lines": [{"ts": 1.0, "stream": "stdout", "line": "hi"}]}
        )
        sweeps[path] = as_owner.post_json(
            f"/api/v1/projects/{path}/sweeps",
            {"config": {"method": "grid", "parameters": {"lr": {"values": [1, 2]}}}},
        )["id"]
        claim[path] = as_owner.post_json(
            f"/api/v1/projects/{path}/sweeps",
            {"config": {"method": "random", "parameters": {"lr": {"min": 0.0, "max": 1.0}}}},
        )["id"]
        reports[path] = as_owner.post_json(
            f"/api/v1/projects/{path}/reports", {"title": "Weekly", "spec": {}}
        )["id"]
        for digest, blob in zip(DIGESTS, BLOBS, strict=True):
            as_owner.request("PUT", f"/api/v1/projects/{path}/blobs/{digest}", data=blob)
        artifacts[path] = _commit_artifact(as_owner, path, "weights", run_id=run["id"])["id"]
        as_owner.post_json(f"{base}/used_artifacts", {"id": artifacts[path]})
        as_owner.post_json(f"{base}/media", {"items": [MEDIA_ITEM]})
    return World(
        server.url,
        keys,
        users,
        passwords,
        team,
        private,
        public,
        runs,
        sweeps,
        claim,
        reports,
        artifacts,
    )


# -- how to call each route: path parameters and a body ----------------------------------------

Call = dict[str, Any]
Prepare = Callable[[World, str, str], Call]


def _project(w: World, path: str) -> Call:
    return {"ws": path.split("/")[0], "project": path.split("/")[1]}


def _run(w: World, role: str, path: str) -> Call:
    return {**_project(w, path), "run_id": w.run[path]}


def _fresh_run(w: World, role: str, path: str) -> Call:
    made = w.http("admin").post_json(f"/api/v1/projects/{path}/runs", {})
    return {**_project(w, path), "run_id": made["id"]}


def _fresh_project(w: World, role: str, path: str) -> Call:
    name = w.fresh("p")
    w.http("admin").post_json(
        f"/api/v1/workspaces/{w.team}/projects",
        {"name": name, "visibility": "PUBLIC" if path == w.public else "PRIVATE"},
    )
    return {"ws": w.team, "project": name}


def _fresh_report(w: World, role: str, path: str) -> Call:
    # The caller's own report where they may write one, so deleting it is theirs to do.
    author = role if role in ("admin", "owner", "member") else "admin"
    made = w.http(author).post_json(f"/api/v1/projects/{path}/reports", {"title": "tmp"})
    return {**_project(w, path), "report_id": made["id"]}


def _own_key(w: World, role: str, path: str) -> Call:
    if role == "anon":
        return {"id_or_key": "nope"}
    return {"id_or_key": w.http(role).post_json("/api/v1/viewer/api_keys", {})["id"]}


def _member_key(w: World, role: str, path: str) -> Call:
    made = w.http("admin").post_json(f"/api/v1/users/{w.users['member']}/api_keys", {})
    return {"username": w.users["member"], "id_or_key": made["id"]}


def _fresh_team_member(w: World, role: str, path: str) -> Call:
    name = w.fresh("u")
    w.http("admin").post_json("/api/v1/users", {"username": name})
    w.http("admin").post_json(f"/api/v1/teams/{w.team}/members", {"username_or_email": name})
    return {"team": w.team, "username": name}


def _plain(params: Callable[[World, str, str], Call] | None = None, **body: Any) -> Prepare:
    def prepare(w: World, role: str, path: str) -> Call:
        out = dict(params(w, role, path)) if params else {}
        if body:
            out["json"] = {k: (v(w, role, path) if callable(v) else v) for k, v in body.items()}
        return out

    return prepare


def _p(w: World, role: str, path: str) -> Call:
    return _project(w, path)


def _r(w: World, role: str, path: str) -> Call:
    return _run(w, role, path)


def _sweep(w: World, role: str, path: str) -> Call:
    return {**_project(w, path), "sweep_id": w.sweep[path]}


def _claim_sweep(w: World, role: str, path: str) -> Call:
    return {**_project(w, path), "sweep_id": w.claim_sweep[path]}


def _sweep_stop(w: World, role: str, path: str) -> Call:
    # A run of the sweep: the owner claims a trial of the (unbounded) random sweep.
    claimed = w.http("owner").post_json(
        f"/api/v1/projects/{path}/sweeps/{w.claim_sweep[path]}/claim", {}
    )
    return {**_claim_sweep(w, role, path), "query": {"run": claimed["trial"]["run"]["id"]}}


def _report(w: World, role: str, path: str) -> Call:
    return {**_project(w, path), "report_id": w.report[path]}


def _artifact(w: World, role: str, path: str) -> Call:
    return {**_project(w, path), "artifact_id": w.artifact[path]}


def _old_version(w: World, role: str, path: str) -> Call:
    # A version with no alias (v1 holds latest), so members may delete it without more ado.
    name = w.fresh("a")
    v0 = _commit_artifact(w.http("admin"), path, name)
    _commit_artifact(w.http("admin"), path, name, blob=1)
    return {**_project(w, path), "artifact_id": v0["id"]}


def _fresh_collection(w: World, role: str, path: str) -> Call:
    name = w.fresh("a")
    _commit_artifact(w.http("admin"), path, name)
    return {**_project(w, path), "name": name}


def _team(w: World, role: str, path: str) -> Call:
    return {"team": w.team}


def _points(w: World, role: str, path: str) -> Call:
    return {**_run(w, role, path), "data": _points_body(), "headers": {"Content-Type": ARROW}}


def _records(w: World, role: str, path: str) -> Call:
    body = encode_records({"records": [{"t": "patch", "body": {"notes": f"by {role}"}}]}, [])
    return {**_run(w, role, path), "data": body, "headers": {"Content-Type": RECORDS}}


def _file_put(w: World, role: str, path: str) -> Call:
    return {**_run(w, role, path), "name": "notes.txt", "data": b"hello again"}


def _file_get(w: World, role: str, path: str) -> Call:
    return {**_run(w, role, path), "name": "notes.txt"}


def _login(w: World, role: str, path: str) -> Call:
    return {"json": {"username": w.users["outsider"], "password": w.passwords["outsider"]}}


def _password(w: World, role: str, path: str) -> Call:
    # Set the same password again: with the old one where there is one.
    password = w.passwords.get(role, "admin-password-1")
    w.passwords[role] = password
    return {"json": {"password": password, "old_password": password}}


def _same_password_twice(w: World, role: str, path: str) -> Call:
    return _password(w, role, path)


CHART_SPEC = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "mark": "point"}


def _chart(w: World, role: str, path: str) -> Call:
    # A team chart, public in the public pass and private in the private one.
    made = w.http("admin").post_json(
        f"/api/v1/workspaces/{w.team}/charts",
        {
            "name": w.fresh("c"),
            "spec": CHART_SPEC,
            "access": "public" if path == w.public else "private",
        },
    )
    return {"ws": w.team, "name": made["name"]}


def _queue(w: World, role: str, path: str, *, item: bool = False, claimed: bool = False) -> Call:
    """A new run queue of the team (and a pending item, or one claimed by agent ``a``)."""
    admin, team = w.http("admin"), w.team
    name = admin.post_json(
        f"/api/v1/workspaces/{team}/run-queues", {"name": w.fresh("q"), "type": "local-process"}
    )["name"]
    out: Call = {"ws": team, "name": name}
    if item or claimed:
        out["item_id"] = admin.post_json(
            f"/api/v1/workspaces/{team}/run-queues/{name}/items",
            {"project": path.split("/")[1], "job": f"{team}/j/job:v0", "job_id": "j0"},
        )["id"]
    if claimed:
        admin.post_json(f"/api/v1/workspaces/{team}/run-queues/{name}/claim", {"agent": "a"})
    return out


def _queued(w: World, role: str, path: str) -> Call:
    return _queue(w, role, path, item=True)


def _claimed(w: World, role: str, path: str) -> Call:
    return _queue(w, role, path, claimed=True)


_REGISTRIES: dict[str, str] = {}


def _new_registry(w: World) -> str:
    name = w.fresh("reg")
    w.http("admin").post_json(
        "/api/v1/registries",
        {"organization": w.team, "name": name, "visibility": "organization"},
    )
    return name


def _registry(w: World, role: str, path: str) -> Call:
    # One registry of the team for the routes that leave it as it was.
    if w.team not in _REGISTRIES:
        _REGISTRIES[w.team] = _new_registry(w)
    return {"org": w.team, "name": _REGISTRIES[w.team]}


def _fresh_registry(w: World, role: str, path: str) -> Call:
    return {"org": w.team, "name": _new_registry(w)}


def _listed_member(w: World, role: str, path: str) -> Call:
    name = w.fresh("u")
    w.http("admin").post_json("/api/v1/users", {"username": name})
    call = _registry(w, role, path)
    w.http("admin").post_json(
        f"/api/v1/registries/{call['org']}/{call['name']}/members", {"name": name}
    )
    return {**call, "kind": "user", "member": name}


# -- automations and integrations: the team's own (tests/integration/test_automations.py) -------
_MADE: dict[str, str] = {}


def _ws(w: World, role: str, path: str) -> Call:
    return {"ws": w.team}


def _new_hook(w: World) -> str:
    return w.http("admin").post_json(
        f"/api/v1/workspaces/{w.team}/integrations",
        {"name": w.fresh("hook"), "url": "http://127.0.0.1:9/hook"},
    )["id"]


def _new_automation(w: World) -> str:
    return w.http("admin").post_json(
        f"/api/v1/workspaces/{w.team}/automations",
        {"name": w.fresh("auto"), **_AUTOMATION},
    )["id"]


# A run state automation that does nothing: it never sends a request anywhere.
_AUTOMATION = {
    "event": {
        "event_type": "RUN_STATE",
        "scope": {"scope_type": "PROJECT", "project": "secret"},
        "filter": {"states": ["CRASHED"]},
    },
    "action": {"action_type": "NO_OP"},
}


def _hook(w: World, role: str, path: str) -> Call:
    if "hook" not in _MADE:
        _MADE["hook"] = _new_hook(w)
    return {"ws": w.team, "integration_id": _MADE["hook"]}


def _fresh_hook(w: World, role: str, path: str) -> Call:
    return {"ws": w.team, "integration_id": _new_hook(w)}


def _automation(w: World, role: str, path: str) -> Call:
    if "automation" not in _MADE:
        _MADE["automation"] = _new_automation(w)
    return {"ws": w.team, "automation_id": _MADE["automation"]}


def _fresh_automation(w: World, role: str, path: str) -> Call:
    return {"ws": w.team, "automation_id": _new_automation(w)}


V1 = "/api/v1"
P = V1 + "/projects/{ws}/{project}"
R = P + "/runs/{run_id}"
Q = V1 + "/workspaces/{ws}/run-queues/{name}"
WS = V1 + "/workspaces/{ws}"

# (method, route) -> (rule, how to call it). A route of /openapi.json missing here fails.
CASES: dict[tuple[str, str], tuple[str, Prepare]] = {
    ("GET", "/health"): ("public", _plain()),
    ("POST", V1 + "/login"): ("public", _login),
    ("GET", V1 + "/viewer"): ("signed_in", _plain()),
    ("PUT", V1 + "/viewer/password"): ("signed_in", _same_password_twice),
    ("GET", V1 + "/users"): ("admin", _plain()),
    ("POST", V1 + "/users"): ("admin", _plain(username=lambda w, r, p: w.fresh("u"))),
    ("GET", V1 + "/users/{username}"): (
        "signed_in",
        lambda w, r, p: {"username": w.users["owner"]},
    ),
    ("GET", V1 + "/viewer/api_keys"): ("signed_in", _plain()),
    ("POST", V1 + "/viewer/api_keys"): ("signed_in", _plain(name="k")),
    ("DELETE", V1 + "/viewer/api_keys/{id_or_key}"): ("signed_in", _own_key),
    ("GET", V1 + "/users/{username}/api_keys"): (
        "self",
        lambda w, r, p: {"username": w.users["member"]},
    ),
    ("POST", V1 + "/users/{username}/api_keys"): (
        "self",
        lambda w, r, p: {"username": w.users["member"], "json": {}},
    ),
    ("DELETE", V1 + "/users/{username}/api_keys/{id_or_key}"): ("self", _member_key),
    ("POST", V1 + "/teams"): ("signed_in", _plain(name=lambda w, r, p: w.fresh("team"))),
    ("GET", V1 + "/teams/{team}"): ("team", _team),
    ("POST", V1 + "/teams/{team}/members"): (
        "team_owner",
        lambda w, r, p: {
            "team": w.team,
            "json": {
                "username_or_email": w.http("admin").post_json(
                    "/api/v1/users", {"username": w.fresh("u")}
                )["username"]
            },
        },
    ),
    ("DELETE", V1 + "/teams/{team}/members/{username}"): ("team_owner", _fresh_team_member),
    ("GET", V1 + "/workspaces"): ("signed_in", _plain()),
    ("GET", V1 + "/workspaces/{ws}"): ("signed_in", lambda w, r, p: {"ws": w.team}),
    ("GET", V1 + "/workspaces/{ws}/projects"): ("signed_in", lambda w, r, p: {"ws": w.team}),
    ("POST", V1 + "/workspaces/{ws}/charts"): (
        "write",
        lambda w, r, p: {"ws": w.team, "json": {"name": w.fresh("c"), "spec": CHART_SPEC}},
    ),
    ("GET", V1 + "/workspaces/{ws}/charts"): ("signed_in", lambda w, r, p: {"ws": w.team}),
    ("GET", V1 + "/workspaces/{ws}/charts/{name}"): ("read", _chart),
    ("DELETE", V1 + "/workspaces/{ws}/charts/{name}"): ("write", _chart),
    ("POST", V1 + "/workspaces/{ws}/projects"): (
        "write",
        lambda w, r, p: {"ws": w.team, "json": {"name": w.fresh("p")}},
    ),
    ("GET", P): ("read", _p),
    ("PATCH", P): ("write", _plain(_p, description="changed")),
    ("DELETE", P): ("owner", _fresh_project),
    ("GET", P + "/fields"): ("read", _p),
    ("POST", P + "/runs"): ("write", _plain(_p, config=lambda w, r, p: {"by": r})),
    ("POST", P + "/runs/query"): ("read", _plain(_p, filters={"state": "RUNNING"})),
    ("POST", P + "/runs/table"): ("read", _plain(_p, columns=["id"])),
    ("POST", P + "/history"): ("read", _plain(_p, runs=lambda w, r, p: [w.run[p]])),
    ("GET", R): ("read", _r),
    ("PATCH", R): ("write", _plain(_r, notes="noted")),
    ("DELETE", R): ("write", _fresh_run),
    ("POST", R + "/points"): ("write", _points),
    ("POST", R + "/records"): ("write", _records),
    ("GET", R + "/files"): ("read", _r),
    ("PUT", R + "/files/{name}"): ("write", _file_put),
    ("GET", R + "/files/{name}"): ("read", _file_get),
    ("POST", R + "/console"): (
        "write",
        _plain(_r, lines=[{"ts": 2.0, "stream": "stdout", "line": "x"}]),
    ),
    ("GET", R + "/console"): ("read", _r),
    ("POST", P + "/sweeps"): (
        "write",
        _plain(_p, config={"method": "grid", "parameters": {"a": {"value": 1}}}),
    ),
    ("GET", P + "/sweeps"): ("read", _p),
    ("GET", P + "/sweeps/{sweep_id}"): ("read", _sweep),
    ("PATCH", P + "/sweeps/{sweep_id}"): ("write", _plain(_sweep, description="d")),
    ("POST", P + "/sweeps/{sweep_id}/claim"): ("write", _plain(_claim_sweep, agent="test")),
    ("GET", P + "/sweeps/{sweep_id}/stop"): ("read", _sweep_stop),
    ("POST", P + "/reports"): ("write", _plain(_p, title="New", spec={})),
    ("GET", P + "/reports"): ("read", _p),
    ("GET", P + "/reports/{report_id}"): ("read", _report),
    ("PATCH", P + "/reports/{report_id}"): ("write", _plain(_report, description="d")),
    ("DELETE", P + "/reports/{report_id}"): ("write", _fresh_report),
    ("POST", P + "/blobs/missing"): ("write", _plain(_p, digests=list(DIGESTS))),
    ("PUT", P + "/blobs/{digest}"): (
        "write",
        lambda w, r, p: {**_project(w, p), "digest": DIGESTS[0], "data": BLOBS[0]},
    ),
    ("POST", P + "/blobs/pack"): (
        "write",
        lambda w, r, p: {**_project(w, p), "data": pack(dict(zip(DIGESTS, BLOBS, strict=True)))},
    ),
    ("POST", P + "/artifacts"): (
        "write",
        lambda w, r, p: {
            **_project(w, p),
            "json": {
                "name": w.fresh("a"),
                "type": "model",
                "files": [{"path": "w.bin", "digest": DIGESTS[0], "size": len(BLOBS[0])}],
            },
        },
    ),
    ("GET", P + "/artifacts/{artifact_id}"): ("read", _artifact),
    ("PATCH", P + "/artifacts/{artifact_id}"): ("write", _plain(_artifact, description="d")),
    ("DELETE", P + "/artifacts/{artifact_id}"): ("write", _old_version),
    ("GET", P + "/artifacts/{artifact_id}/files"): ("read", _artifact),
    ("GET", P + "/artifacts/{artifact_id}/files/{path}"): (
        "read",
        lambda w, r, p: {**_artifact(w, r, p), "path": "w.bin"},
    ),
    ("GET", P + "/artifacts/{artifact_id}/used_by"): ("read", _artifact),
    ("POST", P + "/artifacts/{artifact_id}/links"): (
        "write",
        _plain(_artifact, name=lambda w, r, p: w.fresh("link")),
    ),
    ("GET", P + "/artifact_types"): ("read", _p),
    ("GET", P + "/artifact_types/{type_name}"): (
        "read",
        lambda w, r, p: {**_project(w, p), "type_name": "model"},
    ),
    ("GET", P + "/artifact_collections"): ("read", _p),
    ("GET", P + "/artifact_collections/{name}"): (
        "read",
        lambda w, r, p: {**_project(w, p), "name": "weights"},
    ),
    ("PATCH", P + "/artifact_collections/{name}"): (
        "write",
        lambda w, r, p: {**_project(w, p), "name": "weights", "json": {"description": "d"}},
    ),
    ("DELETE", P + "/artifact_collections/{name}"): ("write", _fresh_collection),
    ("GET", P + "/artifact_collections/{name}/versions"): (
        "read",
        lambda w, r, p: {**_project(w, p), "name": "weights"},
    ),
    ("GET", P + "/artifact_collections/{name}/versions/{selector}"): (
        "read",
        lambda w, r, p: {**_project(w, p), "name": "weights", "selector": "latest"},
    ),
    ("GET", R + "/logged_artifacts"): ("read", _r),
    ("GET", R + "/used_artifacts"): ("read", _r),
    ("POST", R + "/used_artifacts"): ("write", _plain(_r, id=lambda w, r, p: w.artifact[p])),
    ("POST", R + "/media"): ("write", _plain(_r, items=[MEDIA_ITEM])),
    ("GET", R + "/media"): ("read", _r),
    ("GET", R + "/media/keys"): ("read", _r),
    ("GET", P + "/media"): (
        "read",
        lambda w, r, p: {**_project(w, p), "query": {"runs": w.run[p]}},
    ),
    ("GET", P + "/media/keys"): (
        "read",
        lambda w, r, p: {**_project(w, p), "query": {"runs": w.run[p]}},
    ),
    ("GET", P + "/media/{digest}"): (
        "read",
        lambda w, r, p: {**_project(w, p), "digest": DIGESTS[0]},
    ),
    ("GET", V1 + "/workspaces/{ws}/run-queues"): ("write", lambda w, r, p: {"ws": w.team}),
    ("POST", V1 + "/workspaces/{ws}/run-queues"): (
        "write",
        lambda w, r, p: {"ws": w.team, "json": {"name": w.fresh("q"), "type": "local-process"}},
    ),
    ("PUT", Q): (
        "write",
        lambda w, r, p: {"ws": w.team, "name": w.fresh("q"), "json": {"type": "local-process"}},
    ),
    ("GET", Q): ("write", _queue),
    ("DELETE", Q): ("write", _queue),
    ("POST", Q + "/items"): (
        "write",
        _plain(_queue, project="p", job=lambda w, r, p: f"{w.team}/j/job:v0", job_id="j0"),
    ),
    ("GET", Q + "/items"): ("write", _queued),
    ("GET", Q + "/items/{item_id}"): ("write", _queued),
    ("DELETE", Q + "/items/{item_id}"): ("write", _queued),
    ("POST", Q + "/claim"): ("write", _plain(_queued, agent="b")),
    ("POST", Q + "/items/{item_id}/heartbeat"): ("write", _plain(_claimed, agent="a")),
    ("POST", Q + "/items/{item_id}/end"): (
        "write",
        _plain(_claimed, agent="a", state="finished", exit_code=0),
    ),
    ("POST", V1 + "/registries"): (
        "owner",
        lambda w, r, p: {
            "json": {"organization": w.team, "name": w.fresh("reg"), "visibility": "restricted"}
        },
    ),
    ("POST", V1 + "/registries/query"): ("signed_in", _plain(filter={"name": {"$ne": "x"}})),
    ("POST", V1 + "/registries/query/collections"): ("signed_in", _plain(limit=10)),
    ("POST", V1 + "/registries/query/versions"): ("signed_in", _plain(limit=10)),
    ("GET", V1 + "/registries/{org}/{name}"): ("registry", _registry),
    ("PATCH", V1 + "/registries/{org}/{name}"): (
        "registry_admin",
        _plain(_registry, description="d"),
    ),
    ("DELETE", V1 + "/registries/{org}/{name}"): ("registry_admin", _fresh_registry),
    ("GET", V1 + "/registries/{org}/{name}/members"): ("registry", _registry),
    ("POST", V1 + "/registries/{org}/{name}/members"): (
        "registry_admin",
        _plain(_registry, name=lambda w, r, p: w.users["member"], role="member"),
    ),
    ("DELETE", V1 + "/registries/{org}/{name}/members/{kind}/{member}"): (
        "registry_admin",
        _listed_member,
    ),
    ("GET", WS + "/integrations"): ("write", _ws),
    ("POST", WS + "/integrations"): (
        "owner",
        _plain(_ws, name=lambda w, r, p: w.fresh("hook"), url="http://127.0.0.1:9/hook"),
    ),
    ("GET", WS + "/integrations/{integration_id}"): ("write", _hook),
    ("DELETE", WS + "/integrations/{integration_id}"): ("owner", _fresh_hook),
    ("GET", WS + "/automations"): ("write", _ws),
    ("POST", WS + "/automations"): (
        "write",
        _plain(_ws, name=lambda w, r, p: w.fresh("auto"), **_AUTOMATION),
    ),
    ("GET", WS + "/automations/{automation_id}"): ("write", _automation),
    ("PATCH", WS + "/automations/{automation_id}"): ("write", _plain(_automation, description="d")),
    ("DELETE", WS + "/automations/{automation_id}"): ("write", _fresh_automation),
    ("GET", WS + "/automations/{automation_id}/deliveries"): ("write", _automation),
}


def _spec_routes(url: str) -> set[tuple[str, str]]:
    spec = requests.get(url + "/openapi.json", timeout=10).json()
    return {(m.upper(), path) for path, methods in spec["paths"].items() for m in methods}


def _call(w: World, method: str, route: str, role: str, call: Call) -> requests.Response:
    params = {k: v for k, v in call.items() if k not in ("json", "data", "headers", "query")}
    path = route.format(**params)
    headers = dict(call.get("headers") or {})
    if w.keys[role]:
        headers["Authorization"] = f"Bearer {w.keys[role]}"
    return requests.request(
        method,
        w.url + path,
        json=call.get("json"),
        data=call.get("data"),
        params=call.get("query"),
        headers=headers,
        timeout=30,
    )


def _check(w: World, project: str, rules: dict[str, dict[str, Any]]) -> list[str]:
    wrong = []
    for (method, route), (rule, prepare) in sorted(CASES.items()):
        for role in ROLES:
            expected = rules[rule][role]
            response = _call(w, method, route, role, prepare(w, role, project))
            status = response.status_code
            good = (
                (200 <= status < 300)
                if expected == OK
                else (status in expected if isinstance(expected, tuple) else status == expected)
            )
            if not good:
                wrong.append(
                    f"{method} {route} as {role}: {status}, expected {expected}"
                    f" ({rule}): {response.text[:160]}"
                )
    return wrong


def test_every_route_has_an_access_rule(server):
    routes = _spec_routes(server.url) | {("GET", "/health")}
    missing = sorted(routes - set(CASES))
    assert not missing, f"routes without an access rule in {__file__}: {missing}"
    stale = sorted(set(CASES) - routes)
    assert not stale, f"access rules for routes the server does not have: {stale}"


def test_every_route_on_a_private_project(world):
    wrong = _check(world, world.private, RULES)
    assert not wrong, "\n".join(wrong)


def test_every_route_on_a_public_project(world):
    # Outsiders read a PUBLIC project like members, and still may not write into it.
    rules = {
        **RULES,
        "read": {**RULES["read"], "outsider": OK},
        "owner": {**RULES["owner"], "outsider": 403},
    }
    wrong = _check(world, world.public, rules)
    assert not wrong, "\n".join(wrong)
