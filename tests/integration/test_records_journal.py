"""New short runs answered once journaled (``server/records_journal.py``): what must hold.

A records request that makes a new run is answered once its body is on disk, and stored by a
thread. Everything after it must see it stored (reads, changes, other records), a server killed
before storing it stores it when it starts again, and a torn last entry is left out.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

import pyarrow as pa
import pytest

from lablens import errors as E
from lablens.api import Api
from lablens.contract.records import encode_records
from lablens.sdk.batches import encode_batch
from lablens.server.records_journal import FILE_NAME, Entry, RecordsJournal, read_entries
from lablens.server.routers.run_records import _journaled, _parse
from lablens.store.embedded.store import EmbeddedStore
from servers import RunningServer, sdk_init, start_server, stop_server


@contextlib.contextmanager
def _running(tmp_path, journal: str = "on") -> Iterator[RunningServer]:
    """A server on ``tmp_path``'s data dir, its records journal ``on``, ``off`` or ``hold``."""
    srv = start_server(
        tmp_path / "data", tmp_path / "home", env={"LABLENS_RECORDS_JOURNAL": journal}
    )
    try:
        yield srv
    finally:
        stop_server(srv)


def _short_run(srv, project: str, root, i: int, *, steps: int = 5):
    run = sdk_init(srv, root, project=project, config={"fold": i})
    for s in range(steps):
        run.log({"loss": i + 1.0 / (s + 1), "acc": s * 0.1})
    run.finish()
    return run


def test_entries_read_back_whole_and_a_torn_last_one_is_left_out():
    a = Entry("alice", "p", "r1", "alice", b"\x00\x01body")
    b = Entry("alice", "pr\u00e9", "r2", "bob", b"")
    data = a.encode() + b.encode()
    assert read_entries(data) == [a, b]
    assert read_entries(data + b.encode()[:-1]) == [a, b]  # cut short
    broken = bytearray(data + a.encode())
    broken[-1] ^= 0xFF  # its checksum no longer matches
    assert read_entries(bytes(broken)) == [a, b]


def test_every_request_after_the_answers_sees_the_runs_stored(server, unique, tmp_path):
    runs = [_short_run(server, unique, tmp_path, i) for i in range(25)]
    api = Api(host=server.url, api_key=server.api_key)
    # The first read after the last finish(): every run, finished, with its points.
    listed = {r.id: r for r in api.runs(f"{server.username}/{unique}")}
    assert sorted(listed) == sorted(r.id for r in runs)
    for i, run in enumerate(runs):
        stored = listed[run.id]
        assert stored.state == "finished" and stored.config == {"fold": i}
        assert stored.summary["loss"] == pytest.approx(i + 0.2)
    assert [row["acc"] for row in api.run(runs[7].path).scan_history(keys=["acc"])] == [
        pytest.approx(s * 0.1) for s in range(5)
    ]
    # A change right after a finish applies to the run it made.
    last = _short_run(server, unique, tmp_path, 99)
    api.run(last.path).delete()
    with pytest.raises(E.NotFound):
        api.run(last.path)


def test_a_taken_run_id_is_still_refused_by_finish(server, unique, tmp_path):
    first = _short_run(server, unique, tmp_path, 0)
    again = sdk_init(server, tmp_path, project=unique, id=first.id, resume="never")
    again.log({"loss": 1.0})
    with pytest.raises(E.Conflict):
        again.finish()


def test_a_server_killed_before_storing_stores_the_answered_runs_when_started_again(
    tmp_path, unique
):
    data, home = tmp_path / "data", tmp_path / "home"
    held = start_server(data, home, env={"LABLENS_RECORDS_JOURNAL": "hold"})
    try:
        runs = [_short_run(held, unique, tmp_path / "runs", i, steps=3) for i in range(4)]
        journaled = read_entries((data / FILE_NAME).read_bytes())
        # The first run made the project, and so was stored at once; the others waited.
        assert [e.run_id for e in journaled] == [r.id for r in runs[1:]]
    finally:
        held.proc.send_signal(signal.SIGKILL)
        held.proc.wait(timeout=30)
    # A torn entry at the end: the killed server was writing it, and never answered it.
    with (data / FILE_NAME).open("ab") as f:
        f.write(journaled[0].encode()[:-3])
    with _running(tmp_path) as again:
        api = Api(host=again.url, api_key=again.api_key)
        listed = {r.id: r for r in api.runs(f"{again.username}/{unique}")}
        assert sorted(listed) == sorted(r.id for r in runs)
        for i, run in enumerate(runs):
            assert listed[run.id].state == "finished"
            assert [row["loss"] for row in api.run(run.path).scan_history(keys=["loss"])] == [
                pytest.approx(i + 1.0 / (s + 1)) for s in range(3)
            ]
        assert (data / FILE_NAME).read_bytes() == b""  # stored, so the journal starts empty


def test_a_stopped_server_stores_what_it_journaled_before_it_stops(tmp_path, unique):
    journal = tmp_path / "data" / FILE_NAME
    with _running(tmp_path, "hold") as held:  # leaving it stops it: it stores what it held
        _short_run(held, unique, tmp_path / "runs", 0)  # makes the project
        run = _short_run(held, unique, tmp_path / "runs", 3, steps=2)
        assert [e.run_id for e in read_entries(journal.read_bytes())] == [run.id]
    assert journal.read_bytes() == b""
    with _running(tmp_path, "off") as again:
        stored = Api(host=again.url, api_key=again.api_key).run(run.path)
        assert stored.state == "finished" and stored.summary["acc"] == pytest.approx(0.1)


def test_a_wide_run_or_a_resumed_one_is_stored_before_its_answer(tmp_path, unique):
    # Held: a journaled request would not be readable; these are stored at once, so they are.
    journal = tmp_path / "data" / FILE_NAME
    with _running(tmp_path, "hold") as held:
        _short_run(held, unique, tmp_path / "runs", 0)  # makes the project
        wide = sdk_init(held, tmp_path, project=unique)
        wide.log({f"m{k}": float(k) for k in range(1500)})
        wide.finish()
        assert read_entries(journal.read_bytes()) == []
        api = Api(host=held.url, api_key=held.api_key)
        assert api.run(wide.path).summary["m1499"] == 1499.0
        resumed = sdk_init(held, tmp_path, project=unique, id=wide.id, resume="allow")
        resumed.log({"late": 2.0})
        resumed.finish()
        assert read_entries(journal.read_bytes()) == []
        assert api.run(wide.path).summary["late"] == 2.0


def _records_body(records: list[dict], batches: list[pa.Table]) -> bytes:
    bodies = [encode_batch(b) for b in batches]
    it = iter(bodies)
    for rec in records:
        if rec["t"] == "points":
            rec["size"] = len(next(it))
    return encode_records({"create": {"config": {}}, "records": records}, bodies)


@pytest.mark.parametrize("wide", [False, True])
def test_a_wide_summary_before_the_points_is_not_journaled(tmp_path, wide):
    # The widest of the request's updates counts, not only its last one (the finish). The
    # create body names no ``resume``, which means "never": a new run, so journaled when narrow.
    store = EmbeddedStore(tmp_path / "data")
    store.create_user("alice")
    store.create_project("alice", "p")
    journal = RecordsJournal(store, tmp_path / "data", lambda s, e: [], hold=True).start()
    try:
        points = pa.table(
            {"key": ["loss"], "step": pa.array([0], pa.int64()), "timestamp": [1.7e9],
             "value": [1.0]}
        )  # fmt: skip
        n = 1500 if wide else 10
        body = _records_body(
            [
                {"t": "patch", "body": {"summary": {f"s{k}": k for k in range(n)}}},
                {"t": "points", "id": "b0", "stream": "default", "n": 1},
                {"t": "finish", "state": "finished", "exit_code": 0},
            ],
            [points],
        )
        create, records = _parse(body)
        answer = _journaled(store, journal, body, "alice", "p", "r1", "alice", create, records)
        assert (answer is None) is wide
        assert journal.pending == (0 if wide else 1)
    finally:
        journal.stop()
        store.close()
