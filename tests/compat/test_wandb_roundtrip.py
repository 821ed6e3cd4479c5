"""Both halves of the W&B protocol at once: the real ``wandb`` logs a run, the real ``wandb.Api``
reads it back exactly and changes it, and ``lablens.Api`` reads the same values."""

from __future__ import annotations

import math
import uuid

from test_wandb_logging import (
    LOGGING_SCRIPT,
    SPIKE_STEP,
    STEPS,
    expected_loss,
    run_script,
    wandb_env,
)

from lablens.api import Api

READ_SCRIPT = """
import json, sys
import wandb

api = wandb.Api()
run = api.run("/".join(sys.argv[1:4]))
scan = [r for r in run.scan_history(keys=["train/loss"])]
sampled = run.history(samples=50, keys=["train/loss"], pandas=False)
out = {
    "id": run.id, "name": run.name, "state": run.state, "tags": run.tags,
    "config": dict(run.config), "summary": {k: v for k, v in run.summary.items()
                                            if not k.startswith("_")},
    "scan": [[r["_step"], r["train/loss"]] for r in scan],
    "sampled": [[r["_step"], r["train/loss"]] for r in sampled],
    "files": sorted(f.name for f in run.files()),
}
run.tags = run.tags + ["reviewed"]
run.summary["checked"] = 1
run.update()
print(json.dumps(out))
"""


def test_wandb_logs_and_wandb_api_reads_it_back_exactly(server, tmp_path) -> None:
    project = "wandb-rt-" + uuid.uuid4().hex[:8]
    env = wandb_env(server.url, server.api_key, tmp_path / "home")
    logged = run_script(LOGGING_SCRIPT, [server.username, project], env, tmp_path)
    read = run_script(READ_SCRIPT, [server.username, project, logged["id"]], env, tmp_path)

    assert read["id"] == logged["id"]
    assert read["name"] == "logged by wandb"
    assert read["state"] == "finished"
    assert read["config"] == {
        "lr": 0.001,
        "model": {"layers": 4, "act": "relu", "dims": [64, 32]},
        "seed": 7,
        "epochs": 3,
    }
    assert read["summary"]["best"] == 0.25
    # scan_history: every step, every value as logged.
    assert read["scan"] == [[s, expected_loss(s)] for s in range(STEPS)]
    # Sampled history: at most the samples asked, ordered, and the spike kept.
    steps = [s for s, _ in read["sampled"]]
    assert len(steps) <= 50 and steps == sorted(steps)
    assert [SPIKE_STEP, 42.5] in read["sampled"]
    for step, value in read["sampled"]:
        assert math.isclose(value, expected_loss(step))
    image_files = [f for f in read["files"] if f.startswith("media/images/")]
    assert len(image_files) == STEPS // 100

    # lablens.Api reads the same run, with wandb.Api's change applied.
    run = Api(api_key=server.api_key, host=server.url).run(
        f"{server.username}/{project}/{logged['id']}"
    )
    assert run.tags == ["compat", "wandb", "reviewed"]
    assert run.summary["checked"] == 1
    assert run.summary["best"] == 0.25
    rows = run.scan_history(keys=["train/loss"])
    assert [[r["_step"], r["train/loss"]] for r in rows] == read["scan"]
