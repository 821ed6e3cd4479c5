"""A project read on the embedded store is kept until any write commits: it answers what a
fresh read would, after every kind of change, and asks the database nothing while nothing was
written (request_p50)."""

from __future__ import annotations

from typing import Any

import pytest

from lablens.store.embedded.store import EmbeddedStore
from lablens.store.errors import NotFound


@pytest.fixture
def store(tmp_path):
    s = EmbeddedStore(tmp_path / "data")
    s.create_user("alice")
    s.create_project("alice", "p")
    yield s
    s.close()


@pytest.fixture
def queries(store, monkeypatch) -> list[str]:
    """The statements the projects part sends, as they are sent."""
    seen: list[str] = []
    sql = store.projects.sql
    real = sql.one

    def one(statement: str, params: Any = None) -> Any:
        seen.append(statement)
        return real(statement, params)

    monkeypatch.setattr(sql, "one", one)
    return seen


def test_a_read_while_nothing_was_written_asks_nothing(store, queries):
    store.create_run("alice", "p", {"id": "r0"}, username="alice")
    queries.clear()
    first = store.get_project("alice", "p")
    asked = len(queries)
    assert asked == 2  # the row and its run count
    assert store.get_project("alice", "p") == first
    assert len(queries) == asked
    store.create_run("alice", "p", {"id": "r1"}, username="alice")
    queries.clear()
    assert store.get_project("alice", "p")["count"] == {"runs": 2}
    assert len(queries) == 2  # read again after the write


def test_every_change_is_read_after_it_commits(store):
    assert store.get_project("alice", "p")["count"] == {"runs": 0}
    store.create_run("alice", "p", {"id": "r1"}, username="alice")
    store.create_run("alice", "p", {"id": "r2"}, username="alice")
    assert store.get_project("alice", "p")["count"] == {"runs": 2}
    store.update_project("alice", "p", {"description": "digits, again"})
    assert store.get_project("alice", "p")["description"] == "digits, again"
    store.delete_run("alice", "p", "r1")
    assert store.get_project("alice", "p")["count"] == {"runs": 1}
    store.delete_project("alice", "p")
    with pytest.raises(NotFound):
        store.get_project("alice", "p")


def test_a_read_inside_a_write_that_rolls_back_is_not_kept(store):
    assert store.get_project("alice", "p")["count"] == {"runs": 0}
    with pytest.raises(RuntimeError), store.one_commit():
        store.create_run("alice", "p", {"id": "r1"}, username="alice")
        assert store.get_project("alice", "p")["count"] == {"runs": 1}  # its own write
        raise RuntimeError("the request fails after the read")
    assert store.get_project("alice", "p")["count"] == {"runs": 0}


def test_the_answer_is_a_copy(store):
    answer = store.get_project("alice", "p")
    answer["labels"].append("changed by a caller")
    answer["count"]["runs"] = 99
    again = store.get_project("alice", "p")
    assert again["labels"] == [] and again["count"] == {"runs": 0}
