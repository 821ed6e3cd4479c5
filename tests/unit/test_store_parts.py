"""A store made of parts: every ``Store`` method answered by exactly one part, and the
engine-neutral checks the parts call, on a real embedded store."""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect

import pytest

from lablens.store.base import Store
from lablens.store.blob_files import BlobFiles
from lablens.store.common.store import SqlStore
from lablens.store.embedded.store import EmbeddedStore
from lablens.store.errors import InvalidInput, LimitExceeded
from lablens.store.history_query import check_history_query
from lablens.store.parts import StoreOfParts
from lablens.store.project_values import checked_project_changes, parse_project_sort
from lablens.store.run_values import (
    checked_finished_run,
    checked_new_run,
    checked_run_changes,
    merged_summary,
)

T = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


# -- the parts ------------------------------------------------------------------------------------
def test_each_method_is_the_part_s_own():
    # The forward carries the part's signature, so the interface test checks the part itself.
    for name in ("get_user", "create_run", "append_points", "history", "put_blobs"):
        forward = getattr(EmbeddedStore, name)
        owner = next(p for p in EmbeddedStore.PARTS.values() if hasattr(p, name))
        assert inspect.unwrap(forward) is getattr(owner, name)
        assert inspect.signature(forward) == inspect.signature(getattr(Store, name))


def test_a_method_spanning_parts_is_the_store_s_own():
    # Written once for both engines, on the class they share.
    assert "delete_project" in SqlStore.__dict__
    assert EmbeddedStore.delete_project is SqlStore.delete_project
    assert not any(hasattr(p, "delete_project") for p in EmbeddedStore.PARTS.values())


class _Users:
    def get_user(self, username: str) -> dict:
        return {"username": username}


def test_a_method_of_no_part_fails_when_the_class_is_made():
    with pytest.raises(TypeError, match="no part defines the Store method"):
        type("Half", (StoreOfParts,), {"PARTS": {"users": _Users}})


def test_a_method_of_two_parts_fails_when_the_class_is_made():
    parts = {**EmbeddedStore.PARTS, "users": _Users}
    with pytest.raises(TypeError, match="get_user is defined by the parts"):
        type("Twice", (EmbeddedStore,), {"PARTS": parts})


def test_a_part_named_as_a_method_fails_when_the_class_is_made():
    parts = {**EmbeddedStore.PARTS, "history": _Users}
    with pytest.raises(TypeError, match="named as Store methods"):
        type("Shadow", (EmbeddedStore,), {"PARTS": parts})


def test_the_parts_share_one_database_and_work_together(tmp_path):
    store = EmbeddedStore(tmp_path / "data")
    try:
        # The shared parts over the engine's one Sql, the engine's own parts over its handle.
        assert store.runs.sql is store.sql and store.artifacts.sql is store.sql
        assert store.sql.db is store.db and store.points.db is store.db
        store.create_user("ann")
        run, created = store.create_run(
            "ann", "p", {"id": "r1", "config": {"lr": 0.1}}, username="ann"
        )
        assert created and run["config"] == {"lr": 0.1}
        # Made by the run part through the projects part.
        assert store.get_project("ann", "p")["count"] == {"runs": 1}
        store.delete_project("ann", "p")
        assert store.list_projects("ann")["items"] == []
    finally:
        store.close()


# -- blob bytes -----------------------------------------------------------------------------------
def test_blob_files_put_open_and_a_writer_aborted_leaves_nothing(tmp_path):
    blobs = BlobFiles(tmp_path / "blobs")
    data = b"some bytes"
    digest = hashlib.sha256(data).hexdigest()
    assert not blobs.exists(digest) and blobs.size(digest) is None
    writer = blobs.writer(digest)
    assert writer is not None
    writer.write(data[:4])
    writer.abort()
    assert not blobs.exists(digest)
    assert [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == []
    blobs.put(digest, data)
    assert blobs.writer(digest) is None  # stored already
    stream, size = blobs.open(digest)
    with stream:
        assert (stream.read(), size) == (data, len(data))
    assert blobs.read(digest) == data and blobs.size(digest) == len(data)


# -- the neutral checks ---------------------------------------------------------------------------
def test_run_changes_name_their_columns_and_bad_fields():
    change = checked_run_changes(
        {"group": "g", "state": "finished", "summary": {"a": {"b": 1}}, "config": {"x": {"y": 2}}},
        T,
    )
    assert change.columns["group_name"] == "g"
    assert change.columns["state"] == "FINISHED" and change.columns["finished_at"] == T
    assert change.summary == {"a.b": 1} and change.config_flat == {"x.y": 2}
    with pytest.raises(InvalidInput) as exc:
        checked_run_changes({"exit_code": 2**40}, T)
    assert exc.value.field == "exit_code"
    with pytest.raises(InvalidInput) as exc:
        checked_run_changes({"state": "sleeping"}, T)
    assert exc.value.field == "state"


def test_a_summary_merge_drops_keys_set_to_none():
    assert merged_summary({"a": 1, "b": 2}, {"b": None, "c": 3}) == {"a": 1, "c": 3}


def test_a_new_run_and_an_imported_run_are_checked():
    new = checked_new_run({"id": "abc", "resume": True, "tags": ["t"], "created_at": "2026-01-02"})
    assert (new.id, new.resume, new.tags) == ("abc", "allow", ["t"])
    assert new.created == dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    assert len(checked_new_run({}).id) == 8
    with pytest.raises(InvalidInput) as exc:
        checked_new_run({"resume": "sometimes"})
    assert exc.value.field == "resume"
    with pytest.raises(InvalidInput) as exc:
        checked_finished_run({"id": "a/b"}, "runs[3].")
    assert exc.value.field == "runs[3].id"
    done = checked_finished_run({"summary": {"loss": {"min": 0.5}}}, "runs[0].")
    assert done.state == "FINISHED" and done.summary == {"loss.min": 0.5}


def test_project_changes_and_sorts():
    assert checked_project_changes({"visibility": "public", "labels": ["a"]}) == {
        "labels": ["a"],
        "visibility": "PUBLIC",
    }
    assert parse_project_sort("-updated_at") == ("updated_at", True)
    assert parse_project_sort(None) == ("created_at", False)
    with pytest.raises(InvalidInput) as exc:
        parse_project_sort("size")
    assert exc.value.field == "sort"


def test_a_history_query_s_arguments():
    args = dict(stream="default", samples=None, x_axis="step", x_key=None, min_x=None, max_x=None)
    assert check_history_query(**args, min_step=-(2**70), max_step=2**70) == (
        -(2**63),
        2**63 - 1,
        False,
    )
    assert check_history_query(**args, min_step=2**64, max_step=None)[2] is True
    with pytest.raises(LimitExceeded):
        check_history_query(**{**args, "samples": 10**7}, min_step=None, max_step=None)
    with pytest.raises(InvalidInput) as exc:
        check_history_query(**{**args, "stream": "other"}, min_step=None, max_step=None)
    assert exc.value.field == "stream"
