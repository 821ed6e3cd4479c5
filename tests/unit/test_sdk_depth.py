"""Data nested deeper than the server keeps is refused in the SDK, naming where, never a
RecursionError."""

from __future__ import annotations

import pytest

import lablens.sdk
from lablens.errors import UsageError
from lablens.sdk import Config, Run, Settings, Summary
from lablens.sdk._flatten import MAX_DEPTH, flatten_metrics
from lablens.sdk.config import to_json

NOWHERE = "http://127.0.0.1:9"  # nothing answers: the refusals come before any request


def nested(levels: int, leaf=1.0, key: str = "a") -> dict:
    """``{"a": {"a": ... leaf}}`` with ``levels`` dicts, built without recursion."""
    value = leaf
    for _ in range(levels):
        value = {key: value}
    return value


def deep_list(levels: int) -> list:
    value: list = [1]
    for _ in range(levels - 1):
        value = [value]
    return value


def assert_too_deep(info: pytest.ExceptionInfo, prefix: str) -> None:
    exc = info.value
    assert isinstance(exc, UsageError)
    assert f"deeper than {MAX_DEPTH} levels" in str(exc)
    assert exc.field is not None and exc.field.startswith(prefix)
    # The path names the level where it went too deep, not a thousand of them.
    assert exc.field.count("a") <= MAX_DEPTH + 2


# Rows: what is given, the call, the start of the key path named.
HOSTILE = [
    pytest.param(lambda: to_json(nested(1000)), "config.a", id="to_json 1000 deep"),
    pytest.param(lambda: Config(nested(1000)), "config.a", id="Config() 1000 deep"),
    pytest.param(lambda: Config().update(nested(40)), "config.a", id="config.update 40 deep"),
    pytest.param(lambda: Config().__setitem__("a", deep_list(1000)), "config.a[0]", id="lists"),
    pytest.param(lambda: Summary().update(nested(1000)), "a.a", id="summary.update 1000 deep"),
    pytest.param(lambda: flatten_metrics(nested(1000)), "a.a", id="log() data 1000 deep"),
]


@pytest.mark.parametrize(("call", "prefix"), HOSTILE)
def test_too_deep_is_a_usage_error_naming_the_key_path(call, prefix):
    with pytest.raises(UsageError) as info:
        call()
    assert_too_deep(info, prefix)


def test_a_self_holding_config_is_refused_too():
    loop: dict = {}
    loop["a"] = loop
    with pytest.raises(UsageError) as info:
        Config({"x": loop})
    assert info.value.field.startswith("config.x.a.a")


def test_the_depth_limit_itself_is_accepted():
    # The config (or the logged dict) is level 1: 31 more levels below it make 32.
    config = Config(nested(MAX_DEPTH))
    assert config.as_dict() == nested(MAX_DEPTH)
    assert flatten_metrics(nested(MAX_DEPTH)) == {".".join(["a"] * MAX_DEPTH): 1.0}
    with pytest.raises(UsageError):
        Config(nested(MAX_DEPTH + 1))
    with pytest.raises(UsageError):
        flatten_metrics(nested(MAX_DEPTH + 1))


def test_init_refuses_a_deep_config_before_asking_any_server(tmp_path):
    with pytest.raises(UsageError) as info:
        lablens.sdk.init(
            project="p",
            host=NOWHERE,
            config=nested(1000),
            settings={"system_interval": 0, "console": False, "init_timeout": 0.1},
            dir=tmp_path,
        )
    assert_too_deep(info, "config.a")


def test_run_log_refuses_deep_data_and_logs_nothing_of_the_call(tmp_path):
    settings = Settings(system_interval=0, console=False)
    run = Run(
        {"id": "abcd1234", "entity": "alice", "project": "mnist"},
        host=NOWHERE,
        api_key="k",
        settings=settings,
        root_dir=tmp_path,
    )
    with pytest.raises(UsageError) as info:
        run.log({"ok": 1.0, **nested(1000)})
    assert_too_deep(info, "a.a")
    assert run._sender._default.points == 0 and run.step == 0
