"""The SDK's routes quote every segment: a project named with spaces and punctuation is that
project, for runs logged online, runs synced from their log, artifacts and sweeps.

The server refuses ``/ \\ # ? % :`` in a project name; a name holding them must be refused, never
cut at the ``#`` or ``?`` into another project's route.
"""

from __future__ import annotations

import pytest

import lablens
from lablens import errors as E
from lablens.sdk import agent, init, sweep
from lablens.sdk.sync import sync_run

QUIET = {"system_interval": 0, "console": False}


@pytest.fixture
def awkward(unique) -> str:
    """A project name that means something else if a segment is left unquoted."""
    return f"{unique} a&b +c; d=e [é] 'f'"


def steps(api, path: str) -> list[tuple[int, float]]:
    rows = api.run(path).history(samples=None, keys=["loss"], pandas=False)
    return [(r["_step"], r["loss"]) for r in rows]


def test_a_run_in_a_project_with_spaces_and_punctuation_logs_and_finishes(
    server, api, awkward, tmp_path
):
    run = init(
        project=awkward,
        host=server.url,
        api_key=server.api_key,
        settings=QUIET,
        dir=tmp_path,
        config={"lr": 0.5},
    )
    for step in range(5):
        run.log({"loss": 1.0 / (step + 1)})
    run.summary["best"] = 0.2
    (tmp_path / "w.bin").write_bytes(b"weights")
    artifact = lablens.Artifact("weights", "model")
    artifact.add_file(tmp_path / "w.bin")
    run.log_artifact(artifact)
    used = run.use_artifact("weights:latest")
    run.finish()

    assert run.project == awkward and run.path == f"{server.username}/{awkward}/{run.id}"
    stored = api.run(run.path)
    assert stored.project == awkward and stored.state == "finished"
    assert stored.config["lr"] == 0.5 and stored.summary["best"] == 0.2
    assert steps(api, run.path) == [(s, 1.0 / (s + 1)) for s in range(5)]
    assert [p.name for p in api.projects(server.username)].count(awkward) == 1
    assert used.qualified_name == f"{server.username}/{awkward}/weights:v0"
    assert [a.id for a in stored.used_artifacts()] == [artifact.id]
    assert used.get_entry("w.bin").digest == artifact.get_entry("w.bin").digest
    root = used.download(tmp_path / "dl")
    used.verify(root)


def test_an_offline_run_syncs_into_a_project_with_spaces_and_punctuation(
    server, api, awkward, tmp_path
):
    run = init(project=awkward, settings=QUIET, dir=tmp_path, mode="offline")
    for step in range(3):
        run.log({"loss": float(step)})
    run.finish()
    result = sync_run(run.dir, host=server.url, api_key=server.api_key)
    assert result.path == f"{server.username}/{awkward}/{run.id}"
    assert api.run(result.path).state == "finished"
    assert steps(api, result.path) == [(0, 0.0), (1, 1.0), (2, 2.0)]


def test_a_sweep_in_a_project_with_spaces_and_punctuation_runs_its_trials(
    server, api, awkward, tmp_path
):
    config = {"method": "grid", "parameters": {"lr": {"values": [0.1, 0.2]}}}
    sweep_path = sweep(config, project=awkward, host=server.url, api_key=server.api_key)
    seen = []

    def train():
        with init(dir=tmp_path, settings=QUIET) as run:
            seen.append((run.project, run.config["lr"]))
            run.log({"loss": run.config["lr"]})

    assert agent(sweep_path, function=train, host=server.url, api_key=server.api_key) == 2
    assert seen == [(awkward, 0.1), (awkward, 0.2)]


@pytest.mark.parametrize("mark", ["#", "?"])
def test_a_project_name_with_a_hash_or_question_mark_is_refused_not_cut(
    server, api, unique, tmp_path, mark
):
    run = init(
        project=f"{unique}{mark}tail",
        host=server.url,
        api_key=server.api_key,
        settings=QUIET,
        dir=tmp_path,
    )
    # init() does not wait for the server: its refusal of the name comes with finish().
    with pytest.raises(E.BadRequest, match="project name"):
        run.finish()
    assert unique not in [p.name for p in api.projects(server.username)]
