"""Schema fuzzing: every operation of ``/openapi.json`` on a real server; none may answer 5xx.

Schemathesis reads the server's OpenAPI document and sends, for each operation, its boundary
values (the coverage phase) and Hypothesis-generated requests, valid and invalid, as the admin.
Path parameters are pinned to real resources made first (a project, runs with points, config,
summary, files and console lines, artifacts with a file, a sweep, a report, a team, a second
user, API keys), so the requests reach the code behind the 404s; a case aimed at one path
parameter keeps its own value for that one. The routes that read a raw body (points, run files,
blobs) get their body declared here, since the served document cannot say it.

Destructive operations (each DELETE, and the PATCH that renames a collection) are pinned to
disposable resources of their own, so in whatever order the operations run, none takes away
what the others read. The server is this module's own: the fuzzer makes users and teams,
changes the admin's password and fills the workspace, which must not leak into other tests.

Generation is deterministic (``derandomize``) and keeps no example database, so CI sends the
same requests on every run. A failure shows schemathesis' curl line and the server's traceback.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup

from servers import RunningServer, log_points, start_server, stop_server

# Generated cases per operation (the coverage phase adds its own fixed cases): about 3,500
# requests in all, some 100 s of CPU; under 3 minutes even on a two-core machine busy with
# other test runs.
MAX_EXAMPLES = 60

PROJECT = "/api/v1/projects/{ws}/{project}"


@dataclass(frozen=True)
class Pinned:
    """The real resources the fuzzer's path parameters point at."""

    ws: str
    project: str
    run_id: str
    file_name: str
    sweep_id: str
    report_id: str
    artifact_id: str
    collection: str
    artifact_file: str
    artifact_type: str
    digest: str
    team: str
    username: str
    # Disposable resources for the destructive operations.
    doomed_project: str
    doomed_run: str
    doomed_report: str
    doomed_artifact: str
    doomed_collection: str
    renamed_collection: str
    doomed_admin_key: str
    doomed_user_key: str
    # A run queue named as the collection (``{name}`` is pinned to it), its item, and doomed ones.
    queue_item: str = ""
    doomed_queue: str = ""
    doomed_queue_item: str = ""
    # A registry of the workspace, listing ``username``, and one to delete.
    registry: str = "shelf"
    doomed_registry: str = "doomed-shelf"
    # Automations (tests/integration/test_automations.py): a webhook and an automation, and
    # one of each to delete.
    integration_id: str = ""
    automation_id: str = ""
    doomed_integration: str = ""
    doomed_automation: str = ""


class _Client:
    """Setup requests as the admin; each must succeed."""

    def __init__(self, srv: RunningServer) -> None:
        self.url = srv.url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {srv.api_key}"

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        r = self.session.request(method, self.url + path, timeout=30, **kwargs)
        assert r.ok, (method, path, r.status_code, r.text)
        return r.json() if r.content else None


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of this module's own, with its own data dir and LABLENS_HOME."""
    root = tmp_path_factory.mktemp("fuzz")
    srv = start_server(root / "data" / "lablens", root / "home")
    yield srv
    stop_server(srv)


def _artifact(call: _Client, base: str, name: str, digest: str, size: int, run_id: str) -> str:
    body = {
        "name": name,
        "type": "dataset",
        "run_id": run_id,
        "aliases": ["best"],
        "metadata": {"rows": 3},
        "files": [{"path": "train.csv", "digest": digest, "size": size}],
    }
    return call("POST", f"{base}/artifacts", json=body)["id"]


@pytest.fixture(scope="module")
def pinned(fuzz_server: RunningServer) -> Pinned:
    """Make the resources every path parameter is pinned to, through the HTTP routes."""
    from lablens.api import Api

    call = _Client(fuzz_server)
    ws = fuzz_server.username
    call("POST", f"/api/v1/workspaces/{ws}/projects", json={"name": "fuzz"})
    call("POST", f"/api/v1/workspaces/{ws}/projects", json={"name": "doomed"})
    base = f"/api/v1/projects/{ws}/fuzz"
    api = Api(host=fuzz_server.url, api_key=fuzz_server.api_key)

    for run_id in ("trial", "doomed-run"):
        call(
            "POST",
            f"{base}/runs",
            json={
                "id": run_id,
                "name": run_id,
                "config": {"lr": 0.01, "model": {"depth": 4, "act": "relu"}},
                "tags": ["baseline"],
                "group": "g1",
                "job_type": "train",
            },
        )
        log_points(api, f"{ws}/fuzz/{run_id}", {"loss": [1.0, 0.5, 0.25], "acc": [0.1, 0.5, 0.9]})
        log_points(api, f"{ws}/fuzz/{run_id}", {"cpu": [10.0, 20.0]}, stream="system")
        call(
            "PATCH",
            f"{base}/runs/{run_id}",
            json={"summary": {"loss": 0.25, "best": {"acc": 0.9}}, "state": "FINISHED"},
        )
    run = f"{base}/runs/trial"
    call("PUT", f"{run}/files/notes.txt", data=b"some notes\n")
    call(
        "POST",
        f"{run}/console",
        json={"lines": [{"line": "epoch 1", "stream": "stdout"}, {"line": "oops"}]},
    )

    content = b"a,b\n1,2\n3,4\n"
    digest = hashlib.sha256(content).hexdigest()
    call("PUT", f"{base}/blobs/{digest}", data=content)
    artifact_id = _artifact(call, base, "data", digest, len(content), "trial")
    doomed_artifact = _artifact(call, base, "doomed-art", digest, len(content), "trial")
    _artifact(call, base, "doomed-col", digest, len(content), "trial")
    _artifact(call, base, "renamed-col", digest, len(content), "trial")
    call("POST", f"{run}/used_artifacts", json={"id": artifact_id})

    sweep = call(
        "POST",
        f"{base}/sweeps",
        json={"config": {"method": "grid", "parameters": {"x": {"values": [1, 2, 3]}}}},
    )
    spec = {
        "runsets": [{"filters": {"state": "FINISHED"}, "order": "-created_at"}],
        "panels": [{"type": "line", "y": ["loss"]}],
    }
    report = call("POST", f"{base}/reports", json={"title": "Loss", "spec": spec})
    doomed_report = call("POST", f"{base}/reports", json={"title": "Doomed", "spec": spec})

    username = "bob"
    call(
        "POST",
        "/api/v1/users",
        json={"username": username, "password": "bob-password-1", "email": f"{username}@x.test"},
    )
    team = call("POST", "/api/v1/teams", json={"name": "fuzzteam"})["name"]
    call("POST", f"/api/v1/teams/{team}/members", json={"username_or_email": username})
    for registry in ("shelf", "doomed-shelf"):
        call(
            "POST",
            "/api/v1/registries",
            json={"organization": ws, "name": registry, "visibility": "restricted"},
        )
    call(
        "POST",
        f"{base}/artifacts/{artifact_id}/links",
        json={"project": "wandb-registry-shelf", "name": "best"},
    )
    call("POST", f"/api/v1/registries/{ws}/shelf/members", json={"name": username})
    doomed_admin_key = call("POST", "/api/v1/viewer/api_keys", json={"name": "doomed"})["id"]
    doomed_user_key = call("POST", f"/api/v1/users/{username}/api_keys", json={"name": "doomed"})[
        "id"
    ]

    queues = f"/api/v1/workspaces/{ws}/run-queues"
    item = {"project": "fuzz", "job": f"{ws}/fuzz/job:v0", "job_id": artifact_id}
    for queue in ("data", "doomed-queue"):
        call("POST", queues, json={"name": queue, "type": "local-process"})
    queue_item = call("POST", f"{queues}/data/items", json=item)["id"]
    doomed_queue_item = call("POST", f"{queues}/data/items", json=item)["id"]

    hooks, automations = (
        f"/api/v1/workspaces/{ws}/integrations",
        f"/api/v1/workspaces/{ws}/automations",
    )
    integration_id = call("POST", hooks, json={"name": "hook", "url": "http://127.0.0.1:9/h"})["id"]
    doomed_integration = call(
        "POST", hooks, json={"name": "doomed", "url": "http://127.0.0.1:9/h"}
    )["id"]
    noop = {
        "event": {
            "event_type": "RUN_STATE",
            "scope": {"scope_type": "PROJECT", "project": "fuzz"},
            "filter": {"states": ["CRASHED"]},
        },
        "action": {"action_type": "NO_OP"},
    }
    automation_id = call("POST", automations, json={"name": "auto", **noop})["id"]
    doomed_automation = call("POST", automations, json={"name": "doomed", **noop})["id"]

    return Pinned(
        queue_item=queue_item,
        doomed_queue="doomed-queue",
        doomed_queue_item=doomed_queue_item,
        integration_id=integration_id,
        automation_id=automation_id,
        doomed_integration=doomed_integration,
        doomed_automation=doomed_automation,
        ws=ws,
        project="fuzz",
        run_id="trial",
        file_name="notes.txt",
        sweep_id=sweep["id"],
        report_id=report["id"],
        artifact_id=artifact_id,
        collection="data",
        artifact_file="train.csv",
        artifact_type="dataset",
        digest=digest,
        team=team,
        username=username,
        doomed_project="doomed",
        doomed_run="doomed-run",
        doomed_report=doomed_report["id"],
        doomed_artifact=doomed_artifact,
        doomed_collection="doomed-col",
        renamed_collection="renamed-col",
        doomed_admin_key=doomed_admin_key,
        doomed_user_key=doomed_user_key,
    )


def _pins(p: Pinned) -> dict[str, str]:
    """The value of each path parameter, by name, for every operation but those below."""
    return {
        "ws": p.ws,
        "project": p.project,
        "run_id": p.run_id,
        "sweep_id": p.sweep_id,
        "report_id": p.report_id,
        "artifact_id": p.artifact_id,
        "name": p.collection,
        "path": p.artifact_file,
        "selector": "v0",
        "type_name": p.artifact_type,
        "digest": p.digest,
        "team": p.team,
        "username": p.username,
        "id_or_key": p.doomed_user_key,
        "item_id": p.queue_item,
        "org": p.ws,
        "kind": "user",
        "member": p.username,
        "integration_id": p.integration_id,
        "automation_id": p.automation_id,
    }


def _operation_pins(p: Pinned) -> dict[tuple[str, str], dict[str, str]]:
    """Per-operation pins: where ``{name}`` names a file, and the destructive operations."""
    run = f"{PROJECT}/runs/{{run_id}}"
    collection = f"{PROJECT}/artifact_collections/{{name}}"
    queue = "/api/v1/workspaces/{ws}/run-queues/{name}"
    registry = "/api/v1/registries/{org}/{name}"
    return {
        ("GET", f"{run}/files/{{name}}"): {"name": p.file_name},
        ("PUT", f"{run}/files/{{name}}"): {"name": p.file_name},
        ("DELETE", PROJECT): {"project": p.doomed_project},
        ("DELETE", run): {"run_id": p.doomed_run},
        ("DELETE", f"{PROJECT}/reports/{{report_id}}"): {"report_id": p.doomed_report},
        ("DELETE", f"{PROJECT}/artifacts/{{artifact_id}}"): {"artifact_id": p.doomed_artifact},
        ("DELETE", collection): {"name": p.doomed_collection},
        ("PATCH", collection): {"name": p.renamed_collection},
        ("DELETE", "/api/v1/viewer/api_keys/{id_or_key}"): {"id_or_key": p.doomed_admin_key},
        ("DELETE", queue): {"name": p.doomed_queue},
        ("DELETE", f"{queue}/items/{{item_id}}"): {"item_id": p.doomed_queue_item},
        **{
            (method, f"{registry}{tail}"): {"name": p.registry}
            for method, tail in (
                ("GET", ""),
                ("PATCH", ""),
                ("GET", "/members"),
                ("POST", "/members"),
                ("DELETE", "/members/{kind}/{member}"),
            )
        },
        ("DELETE", registry): {"name": p.doomed_registry},
        ("DELETE", "/api/v1/workspaces/{ws}/integrations/{integration_id}"): {
            "integration_id": p.doomed_integration
        },
        ("DELETE", "/api/v1/workspaces/{ws}/automations/{automation_id}"): {
            "automation_id": p.doomed_automation
        },
    }


def pin(case: schemathesis.Case, p: Pinned) -> None:
    """Point the case's path parameters at the real resources.

    A case that aims at one path parameter (a boundary value or a wrong type, say) keeps its
    value for that one; every other parameter is pinned, so the request gets past the 404s.
    """
    operation = case.operation
    values = {**_pins(p), **_operation_pins(p).get((operation.method.upper(), operation.path), {})}
    data = case.meta.phase.data if case.meta is not None else None
    aimed = data.parameter if data is not None and data.parameter_location == "path" else None
    names = [param.name for param in operation.path_parameters if param.name != aimed]
    case.path_parameters = {**(case.path_parameters or {}), **{n: values[n] for n in names}}


def _served() -> dict[str, Any]:
    # The document the server serves at /openapi.json; it needs no store to be built, so the
    # operations are known when pytest collects, one test per operation.
    from lablens.server.app import create_app

    return create_app(None).openapi()  # type: ignore[arg-type]


# The routes that read their body raw describe none in the document, so the fuzzer would send
# them nothing; these are their bodies as docs/http.md describes them.
_ROWS = {
    "type": "object",
    "required": ["rows"],
    "properties": {
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["step", "timestamp", "data"],
                "properties": {
                    "step": {"type": "integer"},
                    "timestamp": {"type": "number"},
                    "data": {"type": "object", "additionalProperties": {"type": "number"}},
                },
            },
        }
    },
}
_BYTES = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
RAW_BODIES = {
    ("post", f"{PROJECT}/runs/{{run_id}}/points"): {"application/json": {"schema": _ROWS}},
    ("put", f"{PROJECT}/runs/{{run_id}}/files/{{name}}"): _BYTES,
    ("put", f"{PROJECT}/blobs/{{digest}}"): _BYTES,
    ("post", f"{PROJECT}/blobs/pack"): _BYTES,
}


def _fuzzed(document: dict[str, Any]) -> dict[str, Any]:
    """The served document with the raw bodies above declared."""
    fuzzed = copy.deepcopy(document)
    for (method, path), content in RAW_BODIES.items():
        operation = fuzzed["paths"][path][method]
        assert "requestBody" not in operation, f"{method} {path} now declares its body"
        operation["requestBody"] = {"required": True, "content": content}
    return fuzzed


def _few_examples(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Operations whose only input is their path: pinned, their fuzzed cases would all be
    the same request, so a few are enough."""
    return [
        {"include-method": method.upper(), "include-path": path, "generation": {"max-examples": 3}}
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" not in operation
        and all(param["in"] == "path" for param in operation.get("parameters", []))
    ]


SERVED = _served()
FUZZED = _fuzzed(SERVED)
schema = schemathesis.openapi.from_dict(
    FUZZED,
    config=schemathesis.Config.from_dict(
        {
            # "all": valid requests and invalid ones (wrong types, missing fields, ...).
            "generation": {"max-examples": MAX_EXAMPLES, "mode": "all"},
            # Fixed, so that what schemathesis draws outside Hypothesis is the same every run.
            "seed": 18,
            "request-timeout": 30,
            "operations": _few_examples(FUZZED),
        }
    ),
)


def test_the_fuzzed_document_is_the_one_the_server_serves(fuzz_server: RunningServer) -> None:
    served = requests.get(f"{fuzz_server.url}/openapi.json", timeout=30).json()
    assert served == SERVED


def _our_frames(log: str) -> str:
    """A server traceback cut to lablens' own frames and the exception."""
    lines = log.splitlines()
    kept = []
    for i, line in enumerate(lines):
        if not line.startswith(" "):
            kept.append(line)
        elif "/lablens/" in line and line.lstrip().startswith("File "):
            kept += lines[i : i + 2]
    return "\n".join(kept)


def _server_log(srv: RunningServer) -> Path:
    port = srv.url.rsplit(":", 1)[1]
    return srv.data_dir.parent / f"server-{port}.log"


@schema.parametrize()
@settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_operation_answers_a_server_error(
    case: schemathesis.Case, fuzz_server: RunningServer, pinned: Pinned
) -> None:
    pin(case, pinned)
    log = _server_log(fuzz_server)
    seen = log.stat().st_size
    try:
        case.call_and_validate(
            base_url=fuzz_server.url,
            headers={"Authorization": f"Bearer {fuzz_server.api_key}"},
            checks=[not_a_server_error],
        )
    except FailureGroup as exc:
        # Schemathesis' report (with its curl line) and the server's traceback of the request.
        with log.open("rb") as f:
            f.seek(seen)
            traceback = _our_frames(f.read().decode(errors="replace"))
        raise AssertionError(f"{exc.message}\n\nThe server's log of it:\n{traceback}") from None


# -- Sweep configurations: free-form objects the fuzzer cannot shape, so probed by hand; each of
# these was a 500 (at once, or when a trial was claimed) and is now a 400 naming the bad part.

_BIG_GRID = {"method": "grid", "parameters": {"x": {"min": 0, "max": 10**12}}}
SWEEP_CONFIGS = [
    # (what is sent, expected status, expected field)
    ({"run_cap": 2**31}, 400, "config.run_cap"),
    ({"run_cap": 2**63}, 400, "config.run_cap"),
    (_BIG_GRID, 400, "config.parameters"),
    (
        {
            "method": "grid",
            "parameters": {"x": {"distribution": "q_uniform", "min": 0, "max": 1e308, "q": 1e-308}},
        },
        400,
        "config.parameters.x.q",
    ),
    (
        {"parameters": {"x": {"distribution": "log_uniform", "min": 1000, "max": 2000}}},
        400,
        "config.parameters.x.max",
    ),
    (
        {"parameters": {"x": {"distribution": "inv_log_uniform", "min": 1000, "max": 2000}}},
        400,
        "config.parameters.x.max",
    ),
    (
        {"parameters": {"x": {"distribution": "inv_log_uniform", "min": -2000, "max": 0}}},
        400,
        "config.parameters.x.min",
    ),
    (
        {"parameters": {"x": {"distribution": "inv_log_uniform_values", "min": 1e-320, "max": 1}}},
        400,
        "config.parameters.x.min",
    ),
    (
        {"parameters": {"x": {"distribution": "log_normal", "mu": 1000}}},
        400,
        "config.parameters.x.mu",
    ),
    (
        {"parameters": {"x": {"distribution": "normal", "sigma": 1e308}}},
        400,
        "config.parameters.x.sigma",
    ),
    ({"parameters": {"x": {"min": -1e308, "max": 1e308}}}, 400, "config.parameters.x.max"),
    (
        {"parameters": {"x": {"values": [1, 2], "probabilities": [1e308, 1e308]}}},
        400,
        "config.parameters.x.probabilities",
    ),
]


@pytest.mark.parametrize(("config", "status", "field"), SWEEP_CONFIGS)
def test_a_sweep_whose_trials_cannot_be_drawn_is_refused_naming_the_part(
    server, api, make_project, config, status, field
):
    project = make_project()
    full = {"method": "random", "parameters": {"x": {"values": [1]}}, **config}
    sweeps = f"{server.url}/api/v1/projects/{project.path}/sweeps"
    r = api.client.session.post(sweeps, json={"config": full})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert api.client.session.get(sweeps).json()["total"] == 0  # nothing stored


@pytest.mark.parametrize(
    "parameter",
    [
        {"distribution": "log_uniform", "min": 700, "max": 709},
        {"distribution": "inv_log_uniform", "min": -709, "max": 709},
        {"distribution": "log_normal", "mu": 0, "sigma": 78},
        {"distribution": "q_uniform", "min": -1e300, "max": 1e300, "q": 1e-7},
        {"values": [1, 2], "probabilities": [1e300, 1e300]},
    ],
)
def test_the_widest_sweeps_accepted_draw_finite_trials(server, api, make_project, parameter):
    project = make_project()
    base = f"{server.url}/api/v1/projects/{project.path}/sweeps"
    config = {"method": "random", "run_cap": 20, "parameters": {"x": parameter}}
    r = api.client.session.post(base, json={"config": config})
    assert r.status_code == 201, r.text
    for _ in range(20):
        claim = api.client.session.post(f"{base}/{r.json()['id']}/claim", json={})
        assert claim.status_code == 200, claim.text
        x = claim.json()["trial"]["params"]["x"]
        assert isinstance(x, (int, float)) and math.isfinite(x), x


@pytest.mark.parametrize("samples", [1, 4, 100])
def test_history_samples_a_series_whose_steps_span_the_whole_step_range(
    server, api, make_project, samples
):
    from lablens.contract.arrow import ipc_to_table

    project = make_project()
    base = f"{server.url}/api/v1/projects/{project.path}"
    assert api.client.session.post(f"{base}/runs", json={"id": "wide"}).status_code == 201
    # Steps run from 0 to 2**53 - 1; the bucket width is computed wide enough for any BIGINT.
    steps = [0, 5, 7, 2**40, 2**53 - 1]
    log_points(api, f"{project.path}/wide", {"loss": (steps, [5.0, 4.0, 3.0, 2.0, 1.0])})
    r = api.client.session.post(f"{base}/history", json={"keys": ["loss"], "samples": samples})
    assert r.status_code == 200, r.text
    kept = ipc_to_table(r.content).column("step").to_pylist()
    # One bucket keeps its first, last, min and max (here the two ends); one sample, the first.
    expected = {1: steps[:1], 4: [steps[0], steps[-1]]}.get(samples, steps)
    assert sorted(kept) == expected
