"""run.log() on the caller's side: steps, validation, what is queued. No server is contacted."""

from __future__ import annotations

import math
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from lablens.sdk import InvalidValue, Run, Settings
from lablens.sdk.batches import Columns as _Columns
from lablens.sdk.batches import build_table
from lablens.sdk.wal import read_log
from lablens.transport import ipc_to_table

# Port 9 (discard) on loopback: nothing answers, and these runs are never started anyway.
NOWHERE = "http://127.0.0.1:9"


def make_run(tmp_path: Path, **data) -> Run:
    fields = {"id": "abcd1234", "entity": "alice", "project": "mnist", **data}
    settings = Settings(system_interval=0, console=False)
    return Run(fields, host=NOWHERE, api_key="k", settings=settings, root_dir=tmp_path)


def queued(run: Run) -> list[tuple[str, int, float]]:
    c = run._sender._default
    table = build_table(c)
    return list(zip(*(table.column(n).to_pylist() for n in ("key", "step", "value")), strict=True))


def test_log_advances_the_step_once_per_call_and_flattens(tmp_path):
    run = make_run(tmp_path)
    run.log({"loss": 1.0, "train": {"acc": 0.5}})
    run.log({"loss": 0.5})
    assert run.step == 2
    assert queued(run) == [("loss", 0, 1.0), ("train.acc", 0, 0.5), ("loss", 1, 0.5)]
    assert run.summary["loss"] == 0.5 and run.summary["train.acc"] == 0.5


def test_explicit_steps_set_the_counter_and_can_repeat(tmp_path):
    run = make_run(tmp_path)
    run.log({"a": 1}, step=10)
    run.log({"b": 2}, step=10)  # same step: fine, it is not committed yet
    run.log({"c": 3})  # ends step 10
    run.log({"d": 4})
    assert queued(run) == [("a", 10, 1.0), ("b", 10, 2.0), ("c", 10, 3.0), ("d", 11, 4.0)]
    assert run.step == 12


def test_commit_false_keeps_adding_to_the_current_step(tmp_path):
    run = make_run(tmp_path)
    run.log({"a": 1}, commit=False)
    run.log({"b": 2})
    assert queued(run) == [("a", 0, 1.0), ("b", 0, 2.0)] and run.step == 1


def test_a_step_going_backwards_is_a_warning_and_the_data_is_dropped(tmp_path):
    run = make_run(tmp_path)
    run.log({"a": 1}, step=5)
    run.log({"a": 2}, step=6, commit=True)
    with pytest.warns(UserWarning, match="step 3 is lower than the current step 7"):
        run.log({"a": 3}, step=3)
    assert queued(run) == [("a", 5, 1.0), ("a", 6, 2.0)]


def test_a_bad_value_names_its_key_and_queues_nothing_of_the_call(tmp_path):
    run = make_run(tmp_path)
    run.log({"loss": 1.0, "acc": 0.5})
    with pytest.raises(TypeError, match=r"value of 'train\.img' is a NoneType") as info:
        run.log({"loss": 0.5, "train": {"img": None}})
    assert isinstance(info.value, InvalidValue)
    with pytest.raises(TypeError, match="value of 'acc' is a list"):
        run.log({"loss": 0.5, "acc": [1, "x"]})  # known keys, plain dict: still checked
    assert queued(run) == [("loss", 0, 1.0), ("acc", 0, 0.5)]
    assert run.step == 1


def test_nan_infinities_bools_and_numpy_values_are_queued_as_float64(tmp_path):
    run = make_run(tmp_path)
    run.log({"nan": math.nan, "inf": math.inf, "ninf": -np.inf, "ok": True, "n": np.int8(3)})
    rows = queued(run)
    assert math.isnan(rows[0][2]) and rows[1][2] == math.inf and rows[2][2] == -math.inf
    assert rows[3:] == [("ok", 0, 1.0), ("n", 0, 3.0)]


def test_a_logged_dict_may_be_changed_afterwards(tmp_path):
    run = make_run(tmp_path)
    data = {"loss": 1.0}
    run.log(data)
    data["loss"] = 2.0
    assert queued(run) == [("loss", 0, 1.0)]


def test_steps_must_be_integers(tmp_path):
    run = make_run(tmp_path)
    run.log({"a": 1}, step=np.int64(3))
    with pytest.raises(ValueError, match="step must be an int"):
        run.log({"a": 1}, step=3.5)


def test_a_resumed_run_counts_on_after_its_last_step(tmp_path):
    run = make_run(tmp_path, last_history_step=41, config={"lr": 0.1}, summary={"loss": "NaN"})
    assert run.step == 42 and run.config.lr == 0.1 and math.isnan(run.summary["loss"])


def test_repr_says_path_and_state(tmp_path):
    assert repr(make_run(tmp_path)) == "<Run alice/mnist/abcd1234 running>"


def test_build_table_has_the_points_schema():
    c = _Columns()
    for step, data in enumerate([{"a": 1, "b": 2**80}, {"a": 10**400}]):
        c.keys.extend(data)
        c.values.extend(data.values())
        c.steps.append(step)
        c.times.append(100.0 + step)
        c.counts.append(len(data))
    table = build_table(c)
    assert table.schema == pa.schema(
        [
            ("key", pa.string()),
            ("step", pa.int64()),
            ("timestamp", pa.float64()),
            ("value", pa.float64()),
        ]
    )
    assert table.column("step").to_pylist() == [0, 0, 1]
    assert table.column("timestamp").to_pylist() == [100.0, 100.0, 101.0]
    assert table.column("value").to_pylist() == [1.0, float(2**80), math.inf]


def test_finish_without_a_server_leaves_everything_in_the_runs_log(tmp_path):
    run = make_run(tmp_path)
    run._start()
    run.log({"loss": 1.0, "acc": math.nan})
    run.summary["best"] = 1.0
    with pytest.warns(RuntimeWarning, match="2 points and the run's last updates are kept in"):
        run.finish(timeout=0.5)
    log = read_log(run.dir)
    assert log.run["id"] == "abcd1234" and log.run["entity"] == "alice"
    assert [r.kind for r in log.records] == ["points", "patch", "finish"]
    assert not log.acked  # nothing reached a server
    table = ipc_to_table(log.records[0].body)
    assert table.column("key").to_pylist() == ["loss", "acc"]
    assert log.records[1].header["body"] == {"summary": {"best": 1.0}}
    assert log.finish.header["state"] == "FINISHED"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run.finish()  # a second finish does nothing
    with pytest.raises(ValueError, match="is finished"):
        run.log({"loss": 1.0})


def test_log_blocks_when_too_many_points_wait_and_warns_once(tmp_path):
    settings = Settings(system_interval=0, console=False, batch_points=5, max_buffered_points=10)
    run = Run(
        {"id": "abcd1234", "entity": "alice", "project": "mnist"},
        host=NOWHERE,
        api_key="k",
        settings=settings,
        root_dir=tmp_path,
    )
    run._start()
    row = {f"k{i}": 1.0 for i in range(5)}
    run.log(row)
    run.log(row)
    # The server never answers: the third call has to wait until the sender gives up.
    closer = threading.Timer(0.5, run._sender.close, args=(0.1,))
    closer.start()
    start = time.monotonic()
    with pytest.warns(RuntimeWarning, match="waiting for the server"):
        run.log(row)
    assert time.monotonic() - start >= 0.4
    closer.join()
    with pytest.warns(RuntimeWarning, match="kept in"):
        run.finish(timeout=0.1)


@pytest.mark.parametrize(
    "step",
    [2**53, 2**64, -1, -(2**63), np.uint64(2**63), 1.5, "3", True, None.__class__],
    ids=["2**53", "2**64", "-1", "-2**63", "uint64 2**63", "float", "str", "bool", "type"],
)
def test_a_step_the_server_cannot_store_is_refused_naming_step(tmp_path, step):
    run = make_run(tmp_path)
    run.log({"a": 1})
    with pytest.raises(ValueError) as info:
        run.log({"a": 2, "b": 3}, step=step)
    assert info.value.field == "step"
    assert queued(run) == [("a", 0, 1.0)] and run.step == 1


def test_the_largest_step_is_accepted_and_the_counter_stops_past_it(tmp_path):
    run = make_run(tmp_path)
    run.log({"a": 1}, step=2**53 - 1, commit=True)
    with pytest.raises(ValueError) as info:
        run.log({"a": 2})
    assert info.value.field == "step"
    assert queued(run) == [("a", 2**53 - 1, 1.0)]


def test_an_empty_key_is_refused_at_the_call(tmp_path):
    run = make_run(tmp_path)
    with pytest.raises(InvalidValue, match="a key is empty under 'train'") as info:
        run.log({"loss": 1.0, "train": {"": 2.0}})
    assert info.value.field == "train."
    assert queued(run) == []
