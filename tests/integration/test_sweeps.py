"""Sweeps against a real server: agents share a sweep's trials, runs know their sweep."""

from __future__ import annotations

import math
import threading
import time

import pytest

import lablens
from lablens.api import Sweep
from lablens.errors import BadRequest, Conflict, SweepNotFound, UsageError

QUIET = {"console": False, "system_interval": 0, "flush_timeout": 20}
GRID = {
    "method": "grid",
    "metric": {"name": "score", "goal": "maximize"},
    "parameters": {
        "lr": {"values": [0.001, 0.01, 0.1]},
        "model": {"parameters": {"hidden": {"values": [16, 32]}}},
    },
}


def score(config) -> float:
    return -abs(math.log10(config["lr"]) + 2) + config["model"]["hidden"] / 100 + config["lr"]


@pytest.fixture
def project_path(api, make_project) -> str:
    return make_project().path


def test_two_agents_run_every_grid_trial_exactly_once(api, server, project_path):
    entity, project = project_path.split("/")
    sweep_id = lablens.sweep(
        GRID, entity=entity, project=project, host=server.url, api_key=server.api_key
    )
    seen: list[tuple[str, dict]] = []
    lock = threading.Lock()

    def train() -> None:
        with lablens.init(config={"lr": 1.0, "epochs": 3}, settings=QUIET) as run:
            with lock:
                seen.append((threading.current_thread().name, run.config.as_dict()))
            time.sleep(0.05)  # long enough for the other agent to claim meanwhile
            run.log({"score": score(run.config)})

    counts: dict[str, int] = {}

    def work(name: str) -> None:
        counts[name] = lablens.agent(
            sweep_id, function=train, host=server.url, api_key=server.api_key
        )

    agents = [
        threading.Thread(target=work, args=(f"agent{i}",), name=f"agent{i}") for i in range(2)
    ]
    for t in agents:
        t.start()
    for t in agents:
        t.join(timeout=120)
    assert sum(counts.values()) == 6 and all(counts.values()), counts
    assert {name for name, _ in seen} == {"agent0", "agent1"}
    # every combination once; the trial's parameters won over init()'s defaults
    combos = sorted((c["lr"], c["model"]["hidden"]) for _, c in seen)
    assert combos == sorted((lr, h) for lr in (0.001, 0.01, 0.1) for h in (16, 32))
    assert all(c["epochs"] == 3 for _, c in seen)

    sweep = api.sweep(sweep_id)
    assert isinstance(sweep, Sweep)
    assert (sweep.method, sweep.state, sweep.expected_run_count) == ("grid", "FINISHED", 6)
    assert sweep.config["parameters"] == GRID["parameters"]
    assert sweep.url.endswith(f"/{project_path}/sweeps/{sweep.id}")
    runs = list(sweep.runs)
    assert len(runs) == 6 and {r.state for r in runs} == {"FINISHED"}
    assert all(r.sweep_id == sweep.id for r in runs)
    assert runs[0].sweep.id == sweep.id
    # best_run() agrees with sorting the runs by the sweep's metric
    ranked = sorted(runs, key=lambda r: r.summary["score"], reverse=True)
    assert sweep.best_run().id == ranked[0].id
    assert sweep.best_run(order="+summary_metrics.score").id == ranked[-1].id
    # no trial is left
    assert lablens.agent(sweep_id, function=train, host=server.url, api_key=server.api_key) == 0


def test_runs_filter_on_their_sweep(api, server, make_run, project_path):
    other = make_run(api.project(project_path))
    sweep_id = lablens.sweep(
        {"method": "grid", "parameters": {"x": {"values": [1, 2]}}},
        *project_path.split("/"),
        host=server.url,
        api_key=server.api_key,
    )

    def train() -> None:
        with lablens.init(settings=QUIET) as run:
            run.log({"y": run.config["x"] * 2})

    assert lablens.agent(sweep_id, train, count=5, host=server.url, api_key=server.api_key) == 2
    sid = sweep_id.rsplit("/", 1)[1]
    in_sweep = api.runs(project_path, filters={"sweep": sid})
    assert sorted(r.config["x"] for r in in_sweep) == [1, 2]
    assert [r.id for r in api.runs(project_path, include_sweeps=False)] == [other.id]
    assert len(api.runs(project_path, filters={"sweep": {"$exists": True}})) == 2
    assert [s.id for s in api.project(project_path).sweeps()] == [sid]
    assert api.from_path(f"{project_path}/sweeps/{sid}").id == sid
    assert other.sweep is None


def test_a_failing_trial_is_crashed_and_the_agent_goes_on(api, server, project_path, capsys):
    sweep_id = lablens.sweep(
        {"method": "grid", "parameters": {"x": {"values": [0, 1, 2]}}},
        *project_path.split("/"),
        host=server.url,
        api_key=server.api_key,
    )

    def train() -> None:
        with lablens.init(settings=QUIET) as run:
            if run.config["x"] == 1:
                raise ValueError("diverged")
            run.log({"y": 1.0})

    assert lablens.agent(sweep_id, train, host=server.url, api_key=server.api_key) == 3
    states = {r.config["x"]: str(r.state) for r in api.sweep(sweep_id).runs}
    assert states == {0: "FINISHED", 1: "CRASHED", 2: "FINISHED"}
    assert "diverged" in capsys.readouterr().err
    # a function that never calls init() still closes its trial's run
    sweep_id = lablens.sweep(
        {"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}, "run_cap": 2},
        *project_path.split("/"),
        host=server.url,
        api_key=server.api_key,
    )
    assert lablens.agent(sweep_id, lambda: None, host=server.url, api_key=server.api_key) == 2
    runs = list(api.sweep(sweep_id).runs)
    assert [str(r.state) for r in runs] == ["FINISHED", "FINISHED"]
    assert all(0.0 <= r.config["x"] <= 1.0 for r in runs)
    assert api.sweep(sweep_id).state == "FINISHED"


def test_random_sweep_stops_at_count_and_can_be_paused(api, server, project_path):
    config = {
        "method": "random",
        "metric": {"name": "loss"},
        "parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
            "opt": {"values": ["adam", "sgd"]},
        },
    }
    sweep_id = lablens.sweep(
        config, *project_path.split("/"), host=server.url, api_key=server.api_key
    )

    def train() -> None:
        with lablens.init(settings=QUIET) as run:
            run.log({"loss": run.config["lr"]})

    assert lablens.agent(sweep_id, train, count=3, host=server.url, api_key=server.api_key) == 3
    sweep = api.sweep(sweep_id)
    assert sweep.expected_run_count is None and sweep.state == "RUNNING"
    lrs = [r.config["lr"] for r in sweep.runs]
    assert len(set(lrs)) == 3 and all(1e-4 <= lr <= 1e-1 for lr in lrs)
    assert sweep.best_run().config["lr"] == min(lrs)  # goal defaults to minimize
    assert sweep.pause().state == "PAUSED"
    assert lablens.agent(sweep_id, train, count=1, host=server.url, api_key=server.api_key) == 0
    assert sweep.resume().state == "RUNNING"
    assert sweep.cancel().state == "CANCELED"
    with pytest.raises(Conflict):
        sweep.resume()


def test_bad_sweep_configs_name_the_bad_part(api, server, project_path):
    entity, project = project_path.split("/")
    cases = [
        ({"method": "bayes", "parameters": {"a": {"values": [1]}}}, "config.metric"),
        ({"method": "grid", "parameters": {"a": {"min": 0.0, "max": 1.0}}}, "config.parameters.a"),
        ({"method": "random", "parameters": {"a": {"values": []}}}, "config.parameters.a.values"),
        (
            {"method": "random", "parameters": {"a": {"distribution": "zipf"}}},
            "config.parameters.a.distribution",
        ),
        ({"method": "grid", "parameters": {}}, "config.parameters"),
    ]
    for config, field in cases:
        with pytest.raises(BadRequest) as err:
            lablens.sweep(config, entity, project, host=server.url, api_key=server.api_key)
        assert err.value.field == field, (config, err.value.field)
    with pytest.raises(SweepNotFound):
        api.sweep(f"{project_path}/nosweep1")
    with pytest.raises(UsageError):
        lablens.agent(f"{project_path}/x", None, host=server.url, api_key=server.api_key)


def test_concurrent_claims_never_hand_out_a_trial_twice(api, server, project_path):
    from concurrent.futures import ThreadPoolExecutor

    from lablens.transport import Transport

    sweep_id = lablens.sweep(
        {"method": "grid", "parameters": {"i": {"min": 1, "max": 20}}},
        *project_path.split("/"),
        host=server.url,
        api_key=server.api_key,
    )
    route = (
        f"/api/v1/projects/{sweep_id.rsplit('/', 1)[0]}/sweeps/{sweep_id.rsplit('/', 1)[1]}/claim"
    )

    def claim_all(_: int) -> list[int]:
        http, got = Transport(server.url, server.api_key), []
        while (trial := http.post_json(route, {})["trial"]) is not None:
            got.append(trial["params"]["i"])
        return got

    with ThreadPoolExecutor(8) as pool:
        claimed = [i for got in pool.map(claim_all, range(8)) for i in got]
    assert sorted(claimed) == list(range(1, 21))
    runs = api.sweep(sweep_id).runs
    assert sorted(r.config["i"] for r in runs) == list(range(1, 21))
