"""W&B's module-level style (``lablens.log``, ``config``, ``summary``, ``run``, ``finish``,
``define_metric``, ``init(mode=...)``) against a real server, read back with ``lablens.Api``."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import pytest

import lablens
from lablens import errors as E
from lablens.sdk.disabled import DisabledRun

QUIET = {"system_interval": 0, "console": False, "silent": True}


@pytest.fixture
def start(server, unique, tmp_path):
    """``start(**kwargs)``: ``lablens.init()`` in a project of its own; finished afterwards."""
    runs = []

    def start(**kwargs):
        kwargs.setdefault("project", unique)
        kwargs.setdefault("settings", QUIET)
        kwargs.setdefault("dir", tmp_path)
        run = lablens.init(host=server.url, api_key=server.api_key, **kwargs)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.finish()


def test_before_init_run_is_none_and_the_rest_say_to_call_init():
    assert lablens.run is None
    for use in (
        lambda: lablens.log({"loss": 1.0}),
        lambda: lablens.define_metric("loss", summary="min"),
        lambda: lablens.config["lr"],
        lambda: lablens.config.update({"lr": 1}),
        lambda: lablens.summary["loss"],
        lambda: lablens.summary.__setitem__("best", 1),
    ):
        with pytest.raises(E.UsageError, match=r"call lablens\.init\(\) first"):
            use()
    assert "lablens.init()" in repr(lablens.config)


def test_module_level_calls_act_on_the_current_run(start, api):
    run = start(config={"lr": 0.1})
    assert lablens.run is run
    assert lablens.config is run.config and lablens.summary is run.summary
    lablens.config.batch_size = 64
    lablens.config.update({"epochs": 3})
    for step in range(5):
        lablens.log({"loss": 1.0 / (step + 1), "acc": step / 10})
    lablens.summary["best_acc"] = 0.4
    lablens.finish()
    assert lablens.run is None and run.state == "finished"

    stored = api.run(run.path)
    assert stored.state == "finished"
    assert dict(stored.config) == {"lr": 0.1, "batch_size": 64, "epochs": 3}
    assert stored.summary["loss"] == pytest.approx(0.2)
    assert stored.summary["acc"] == pytest.approx(0.4)
    assert stored.summary["best_acc"] == 0.4
    frame = stored.history(samples=None, keys=["loss"])
    assert frame["_step"].tolist() == [0, 1, 2, 3, 4]
    assert frame["loss"].tolist() == pytest.approx([1.0, 0.5, 1 / 3, 0.25, 0.2])


def test_define_metric_keeps_the_summary_asked_for(start, api):
    run = start()
    lablens.define_metric("loss", summary="min")
    run.define_metric("val/*", summary="max,mean")
    run.define_metric("lr", summary="first,last")
    losses = [0.9, 0.3, float("nan"), 0.5]
    accs = [0.5, 0.8, 0.7, 0.6]
    for step, (loss, acc) in enumerate(zip(losses, accs, strict=True)):
        run.log({"loss": loss, "val/acc": acc, "val/f1": acc / 2, "lr": 0.1 * (step + 1)})
    assert run.summary["loss.min"] == 0.3  # the SDK's own summary shows it at once
    run.finish()

    summary = api.run(run.path).summary
    assert summary["loss"] == 0.5  # the plain key keeps the last value
    assert summary["loss.min"] == 0.3  # NaN is kept as a point, but is no minimum
    assert summary["val/acc.max"] == 0.8
    assert summary["val/acc.mean"] == pytest.approx(sum(accs) / 4)
    assert summary["val/f1.max"] == 0.4  # the glob names every val/ metric
    assert summary["lr.first"] == pytest.approx(0.1) and summary["lr.last"] == pytest.approx(0.4)
    assert "loss.max" not in summary and "val/acc.min" not in summary
    assert math.isnan(api.run(run.path).history(samples=None, keys=["loss"])["loss"][2])


def test_define_metric_records_the_step_metric_and_syncs_it(start, api):
    run = start()
    run.define_metric("epoch")
    lablens.define_metric("val/*", step_metric="epoch", summary="max", goal="maximize")
    for epoch in range(3):
        for _ in range(4):
            run.log({"train/loss": 1.0})
        run.log({"epoch": epoch}, commit=False)
        run.log({"val/acc": 0.5 + epoch / 10})  # epoch is added: same step as val/acc
    run.log({"val/acc": 0.1})  # no epoch this step: its last value, 2, is added
    run.finish()

    stored = api.run(run.path)
    assert stored.metadata["metrics"] == {
        "epoch": {},
        "val/*": {
            "step_metric": "epoch",
            "step_sync": True,
            "summary": ["max"],
            "goal": "maximize",
        },
    }
    rows = stored.history(samples=None, keys=["val/acc"], x_axis="epoch", pandas=False)
    assert [(r["epoch"], r["val/acc"]) for r in rows] == [
        (0, 0.5),
        (1, pytest.approx(0.6)),
        (2, 0.7),
        (2, 0.1),
    ]
    assert stored.summary["val/acc.max"] == 0.7
    assert stored.metadata["host"]  # the rest of the metadata is still there


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "loss", "summary": "best"}, "summary"),
        ({"name": "loss", "summary": "min,median"}, "summary"),
        ({"name": "", "summary": "min"}, "name"),
        ({"name": "acc", "step_metric": "ep*"}, "step_metric"),
        ({"name": "acc", "goal": "up"}, "goal"),
    ],
)
def test_define_metric_names_a_bad_argument(start, kwargs, field):
    run = start()
    with pytest.raises(E.UsageError) as info:
        lablens.define_metric(**kwargs)
    assert info.value.field == field
    if field == "summary":
        assert "'min', 'max', 'mean', 'first', 'last'" in str(info.value)
    run.log({"loss": 1.0})  # the run goes on


def test_mode_disabled_needs_no_server_and_does_nothing(tmp_path):
    run = lablens.init(
        project="p", config={"lr": 0.1}, mode="disabled", host="http://127.0.0.1:9", dir=tmp_path
    )
    assert isinstance(run, DisabledRun) and lablens.run is run
    lablens.log({"loss": 1.0})
    run.log({"loss": 0.5})
    assert run.step == 2
    lablens.config.epochs = 3
    assert dict(lablens.config) == {"lr": 0.1, "epochs": 3}
    lablens.summary["best"] = 1.0
    assert lablens.summary["best"] == 1.0
    assert run.define_metric("loss", summary="min").summary == ("min",)
    with pytest.raises(E.UsageError):
        run.define_metric("loss", summary="best")  # still checked
    assert run.log_artifact("model.pt") is None and run.save("x") is None  # any method: nothing
    with run:
        pass
    assert run.state == "finished" and lablens.run is None
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_mode_offline_spools_for_sync(server, api, unique, tmp_path, capsys):
    run = lablens.init(
        project=unique, mode="offline", dir=tmp_path, settings={**QUIET, "silent": False}
    )
    lablens.define_metric("loss", summary="min")
    for loss in (0.5, 0.2, 0.4):
        lablens.log({"loss": loss})
    lablens.finish()
    err = capsys.readouterr().err
    assert f"lablens: offline run {run.name} ({run.id})" in err
    assert f"lablens sync {run.dir}" in err

    done = subprocess.run(
        [sys.executable, "-m", "lablens", "sync", str(run.dir), "--host", server.url]
        + ["--api-key", server.api_key],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    stored = api.run(f"{api.default_entity}/{unique}/{run.id}")
    assert stored.summary["loss"] == 0.4 and stored.summary["loss.min"] == 0.2
    assert stored.metadata["metrics"] == {"loss": {"summary": ["min"]}}


@pytest.mark.parametrize("mode", ["online-ish", "Disabled", ""])
def test_a_bad_mode_names_the_choices(tmp_path, mode):
    with pytest.raises(E.UsageError, match="'online', 'offline' or 'disabled'") as info:
        lablens.init(project="p", mode=mode, dir=tmp_path)
    assert info.value.field == "mode"


def test_terminal_lines_at_init_and_finish(server, unique, tmp_path):
    script = textwrap.dedent(
        f"""
        import lablens
        run = lablens.init(project={unique!r}, name="lines", dir={str(tmp_path)!r},
                           settings={{"system_interval": 0, "console": False}})
        for i in range(3):
            lablens.log({{"loss": 1 / (i + 1)}})
        lablens.finish()
        print(run.id, run.url)
        """
    )
    env = {"LABLENS_HOST": server.url, "LABLENS_API_KEY": server.api_key}
    done = _python(script, env)
    run_id, url = done.stdout.split()
    assert url == f"{server.url}/{server.username}/{unique}/runs/{run_id}"
    assert (
        lablens.Api(host=server.url, api_key=server.api_key)
        .run(f"{server.username}/{unique}/{run_id}")
        .url
        == url
    )  # the link the line prints is the Api's
    lines = [line for line in done.stderr.splitlines() if line.startswith("lablens:")]
    assert lines[0] == f"lablens: run lines ({run_id}) → {url}"
    assert lines[1].startswith(f"lablens: run lines ({run_id}) finished in ")
    assert lines[1].endswith(f" · loss 0.3333 → {url}")
    assert len(lines) == 2

    quiet = _python(script, {**env, "LABLENS_SILENT": "true"})
    assert "lablens:" not in quiet.stderr


def _python(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr
    return done
