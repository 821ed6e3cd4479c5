"""ApiCall and Listing on their own: the source they render is the call they run."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from lablens.widgets._call import ApiCall, api_call
from lablens.widgets._listing import Listing


class Recorder:
    """Answers any method call by noting it and returning a new recorder; indexes likewise."""

    def __init__(self, log: list[tuple[Any, ...]] | None = None) -> None:
        self.log = [] if log is None else log

    def __getattr__(self, name: str) -> Any:
        def method(*args: Any, **kwargs: Any) -> Recorder:
            self.log.append((name, args, kwargs))
            return Recorder(self.log)

        return method

    def __getitem__(self, key: Any) -> Recorder:
        self.log.append(("[]", key))
        return Recorder(self.log)


def test_renders_positional_and_keyword_arguments_with_repr():
    call = api_call("runs", "alice/mnist", filters={"state": "FINISHED"}, order="-created_at")
    assert call.source() == (
        "api.runs('alice/mnist', filters={'state': 'FINISHED'}, order='-created_at')"
    )
    assert str(call) == call.source()
    assert call.assign("runs") == f"runs = {call.source()}"


def test_keywords_given_none_are_left_out_of_source_and_call():
    call = api_call("runs", "a/b", filters=None, order="+name")
    assert call.source() == "api.runs('a/b', order='+name')"
    rec = Recorder()
    call.run(rec)
    assert rec.log == [("runs", ("a/b",), {"order": "+name"})]
    # A positional None is an argument like any other.
    assert ApiCall("x").then("f", None).source() == "x.f(None)"


def test_chaining_nested_dicts_and_slices():
    base = api_call("runs", "a/b", filters={"$and": [{"config.lr": {"$lt": 0.1}}, {"tags": "x"}]})
    call = base.then("histories", keys=["loss", "acc"], samples=500, format="long")
    assert call.source() == (
        "api.runs('a/b', filters={'$and': [{'config.lr': {'$lt': 0.1}}, {'tags': 'x'}]})"
        ".histories(keys=['loss', 'acc'], samples=500, format='long')"
    )
    assert base.source().endswith("}]})")  # ``then`` leaves the base as it was
    assert api_call("artifact", "a/b/m:v1").then("files")[:500].source() == (
        "api.artifact('a/b/m:v1').files()[:500]"
    )
    assert ApiCall("rows")[2].source() == "rows[2]"
    assert ApiCall("rows")[1:9:2].source() == "rows[1:9:2]"
    assert ApiCall("rows")[5:].source() == "rows[5:]"
    assert ApiCall("project").then("fields").source() == "project.fields()"
    # What renders is valid Python that evaluates to the same arguments.
    nested = {"a": [1, 2.5, None, True], "b": {"c": "it's"}, "nan": float("inf")}
    source = ApiCall("f").then("g", nested, key=("t", 1)).source()
    assert source == f"f.g({nested!r}, key=('t', 1))"


def test_runs_the_chain_it_renders():
    call = api_call("runs", "a/b", filters={"id": {"$in": ["r1"]}}).then(
        "histories", samples=20, keys=None, format="long"
    )[:3]
    rec = Recorder()
    call.run(rec)
    assert rec.log == [
        ("runs", ("a/b",), {"filters": {"id": {"$in": ["r1"]}}}),
        ("histories", (), {"samples": 20, "format": "long"}),
        ("[]", slice(None, 3)),
    ]


def test_runs_on_real_objects_and_evaluates_equal_to_its_source():
    api = SimpleNamespace(numbers=lambda n, step=1: list(range(0, n, step)))
    call = api_call("numbers", 10, step=3)[1:]
    assert call.run(api) == eval(call.source(), {"api": api}) == [3, 6, 9]


def test_run_after_goes_on_from_an_intermediate_result():
    head = api_call("artifact", "a/b/m:v0")
    call = head.then("get_entry", "x.txt").then("read")
    rec = Recorder()
    artifact = head.run(rec)
    call.run_after(head, artifact)
    assert rec.log == [
        ("artifact", ("a/b/m:v0",), {}),
        ("get_entry", ("x.txt",), {}),
        ("read", (), {}),
    ]
    with pytest.raises(ValueError, match="does not start with"):
        call.run_after(api_call("artifact", "a/b/m:v1"), artifact)
    with pytest.raises(ValueError):
        ApiCall("api").then("")


def test_listing_builds_the_frame_its_source_gives():
    items = [
        SimpleNamespace(name="a", tags=["x", "y"], meta={"k": 1}),
        SimpleNamespace(name="b", tags=[], meta={}),
    ]
    api = SimpleNamespace(things=lambda project: items)
    listing = Listing("t", name="t.name", tags="', '.join(t.tags)", meta="json.dumps(t.meta)")
    call = api_call("things", "p")
    code = listing.code(call)
    assert code.startswith(
        "import json\n\nimport pandas as pd\n\ndf = pd.DataFrame([{'name': t.name"
    )
    scope = {"api": api}
    exec(code, scope)
    expected = pd.DataFrame({"name": ["a", "b"], "tags": ["x, y", ""], "meta": ['{"k": 1}', "{}"]})
    pd.testing.assert_frame_equal(listing.frame(call.run(api)), expected)
    pd.testing.assert_frame_equal(scope["df"], expected)
    # No json in the columns, no json import; no rows, the columns all the same.
    plain = Listing("t", name="t.name")
    assert plain.code(call).startswith("import pandas as pd\n\n")
    assert list(plain.frame([]).columns) == ["name"]


def test_listing_of_pairs():
    listing = Listing("role, r", role="role", name="r.name")
    pairs = [("logged_by", SimpleNamespace(name="a")), ("used_by", SimpleNamespace(name="b"))]
    scope = {"pairs": pairs}
    exec(listing.imports() + listing.source("pairs"), scope)
    pd.testing.assert_frame_equal(listing.frame(pairs), scope["df"])
    assert list(scope["df"]["role"]) == ["logged_by", "used_by"]
