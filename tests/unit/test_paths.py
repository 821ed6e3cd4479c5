"""Path parsing: every form the seeds use, and a clear UsageError for everything else."""

from __future__ import annotations

import pytest

from lablens.contract.paths import (
    ParsedPath,
    RunPath,
    parse_path,
    parse_project_path,
    parse_run_path,
    parse_workspace,
)
from lablens.contract.routes import project_route, run_route
from lablens.errors import UsageError


@pytest.mark.parametrize(
    "path",
    [
        "alice/mnist/3f2a9c1b",
        "alice/mnist/runs/3f2a9c1b",
        "/alice/mnist/3f2a9c1b/",
        "  alice/mnist/3f2a9c1b ",
        "http://127.0.0.1:8123/alice/mnist/runs/3f2a9c1b",
        "https://lablens.example.org/alice/mnist/runs/3f2a9c1b?tab=charts#loss",
        "https://swanlab.cn/@alice/mnist/runs/3f2a9c1b/chart",
        "http://127.0.0.1:8123/alice/mnist/3f2a9c1b",
    ],
)
def test_run_path_full_forms(path):
    assert parse_run_path(path) == RunPath("alice", "mnist", "3f2a9c1b")


def test_run_path_uses_default_entity_for_project_and_id():
    assert parse_run_path("mnist/3f2a9c1b", default_entity="alice") == RunPath(
        "alice", "mnist", "3f2a9c1b"
    )


def test_run_path_uses_both_defaults_for_bare_id():
    assert parse_run_path("3f2a9c1b", "alice", "mnist") == RunPath("alice", "mnist", "3f2a9c1b")


def test_run_path_defaults_may_be_callables_and_are_not_called_when_not_needed():
    def boom() -> str:
        raise AssertionError("default asked for although the path is complete")

    assert parse_run_path("alice/mnist/x1", boom, boom).run_id == "x1"
    assert parse_run_path("x1", lambda: "bob", lambda: "cifar") == RunPath("bob", "cifar", "x1")


def test_run_path_str_is_the_path():
    assert str(RunPath("alice", "mnist", "3f2a9c1b")) == "alice/mnist/3f2a9c1b"


@pytest.mark.parametrize(
    "path",
    [
        "",
        "   ",
        "/",
        "alice//3f2a9c1b",
        "a/b/c/d/e",
        "alice/mnist/tables/3f2a9c1b",
        "alice/mnist/ x /3f",
        "http://127.0.0.1:8123/",
        "http://127.0.0.1:8123/alice/mnist",
        "http://127.0.0.1:8123/alice/mnist/runs",
        "alice/mnist/runs",
    ],
)
def test_malformed_run_path_names_the_path(path):
    with pytest.raises(UsageError) as err:
        parse_run_path(path, "alice", "mnist")
    assert repr(path) in str(err.value)


def test_malformed_run_path_is_also_a_value_error():
    with pytest.raises(ValueError):
        parse_run_path("a/b/c/d/e")


def test_run_path_rejects_non_strings():
    with pytest.raises(UsageError, match="string"):
        parse_run_path(["alice", "mnist", "x"])  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["alice/mnist/sweeps/abc", "http://h/alice/mnist/sweeps/abc"])
def test_sweep_path_is_not_a_run_path(path):
    with pytest.raises(UsageError, match="sweep"):
        parse_run_path(path)


def test_short_run_path_without_defaults_says_what_is_missing():
    with pytest.raises(UsageError, match="entity") as err:
        parse_run_path("mnist/3f2a9c1b")
    assert "'mnist/3f2a9c1b'" in str(err.value)
    with pytest.raises(UsageError, match="project"):
        parse_run_path("3f2a9c1b", default_entity="alice")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("alice/mnist", ("alice", "mnist")),
        ("mnist", ("bob", "mnist")),
        ("/alice/mnist/", ("alice", "mnist")),
        ("http://127.0.0.1:8123/alice/mnist", ("alice", "mnist")),
        ("https://swanlab.cn/@alice/mnist", ("alice", "mnist")),
    ],
)
def test_project_path_forms(path, expected):
    assert parse_project_path(path, default_entity="bob") == expected


def test_project_path_none_uses_default_project():
    assert parse_project_path(None, "alice", "mnist") == ("alice", "mnist")
    with pytest.raises(UsageError, match="no project"):
        parse_project_path(None, "alice")


@pytest.mark.parametrize("path", ["alice/mnist/x", "a//b", "", "alice/ /x"])
def test_malformed_project_path(path):
    with pytest.raises(UsageError):
        parse_project_path(path or " x/ y ", "bob")


def test_project_path_without_default_entity():
    with pytest.raises(UsageError, match="entity"):
        parse_project_path("mnist")


def test_workspace():
    assert parse_workspace("alice") == "alice"
    assert parse_workspace("alice/") == "alice"
    assert parse_workspace("@alice") == "alice"
    with pytest.raises(UsageError, match="alice/mnist"):
        parse_workspace("alice/mnist")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("mnist", ParsedPath("project", "bob", "mnist")),
        ("alice/mnist", ParsedPath("project", "alice", "mnist")),
        ("alice/mnist/3f2a9c1b", ParsedPath("run", "alice", "mnist", "3f2a9c1b")),
        ("alice/mnist/runs/3f2a9c1b", ParsedPath("run", "alice", "mnist", "3f2a9c1b")),
        ("alice/mnist/sweeps/s1", ParsedPath("sweep", "alice", "mnist", "s1")),
        (
            "alice/mnist/reports/My-Report-Vm11",
            ParsedPath("report", "alice", "mnist", "My-Report-Vm11"),
        ),
        ("http://h:1/alice/mnist/runs/3f/logs", ParsedPath("run", "alice", "mnist", "3f")),
        ("http://h:1/alice/mnist", ParsedPath("project", "alice", "mnist")),
    ],
)
def test_parse_path_kinds(path, expected):
    assert parse_path(path, default_entity="bob") == expected


@pytest.mark.parametrize("path", ["alice/mnist/runs", "alice/mnist/runs/x/y", "a/b/c/d/e/f"])
def test_parse_path_malformed(path):
    with pytest.raises(UsageError) as err:
        parse_path(path)
    assert repr(path) in str(err.value)


def test_routes_quote_each_segment():
    assert project_route("alice", "mnist") == "/api/v1/projects/alice/mnist"
    assert run_route("alice", "my proj", "a?b") == "/api/v1/projects/alice/my%20proj/runs/a%3Fb"
