"""The run's log: what is written is read back; a torn tail is skipped, not fatal."""

from __future__ import annotations

import math

import pytest

from lablens.sdk.wal import MAGIC, WriteAheadLog, read_log


def write_some(path):
    wal = WriteAheadLog(path)
    wal.add_run({"host": None, "entity": None, "project": "p", "id": "abc"})
    wal.add_points("b1", "default", b"\x00arrow-bytes\xff", 3)
    wal.add_patch("p1", {"summary": {"x": math.nan, "y": math.inf}})
    wal.add_console("c1", [{"ts": 1.0, "stream": "stdout", "line": "hi"}])
    wal.add_ack("b1")
    wal.add_finish("FINISHED", 0, "2026-01-01T00:00:00+00:00")
    wal.close()
    return wal


def test_records_are_read_back_in_order(tmp_path):
    wal = write_some(tmp_path / "run.wal")
    assert wal.points == 3 and wal.records == 6
    log = read_log(tmp_path)  # the run directory works as well as the file
    assert log.run["project"] == "p"
    assert [r.kind for r in log.records] == ["points", "patch", "console", "finish"]
    assert log.records[0].body == b"\x00arrow-bytes\xff" and log.records[0].id == "b1"
    assert log.records[1].header["body"] == {"summary": {"x": "NaN", "y": "Infinity"}}
    assert log.acked == {"b1"} and log.points == 3 and log.torn_bytes == 0
    assert log.finish.header["state"] == "FINISHED"


@pytest.mark.parametrize("cut", [1, 5, 12, 20])
def test_a_torn_last_record_is_skipped_and_counted(tmp_path, cut):
    path = tmp_path / "run.wal"
    write_some(path)
    data = path.read_bytes()
    path.write_bytes(data[:-cut])  # the process died in the middle of its last write
    log = read_log(path)
    assert log.finish is None and [r.kind for r in log.records] == ["points", "patch", "console"]
    assert log.torn_bytes > 0


def test_a_corrupt_record_ends_the_log_there(tmp_path):
    path = tmp_path / "run.wal"
    write_some(path)
    data = bytearray(path.read_bytes())
    data[len(MAGIC) + 40] ^= 0xFF  # inside the run record
    path.write_bytes(bytes(data))
    log = read_log(path)
    assert log.run is None and log.records == [] and log.torn_bytes > 0


def test_a_file_that_is_not_a_log_is_refused(tmp_path):
    (tmp_path / "run.wal").write_bytes(b"something else")
    with pytest.raises(ValueError, match="not a lablens run log"):
        read_log(tmp_path)


def test_a_log_that_cannot_be_written_warns_once_and_the_run_goes_on(tmp_path, caplog):
    (tmp_path / "blocked").write_text("a file where the run dir should be")
    wal = WriteAheadLog(tmp_path / "blocked" / "run.wal")
    wal.add_points("b1", "default", b"x", 1)
    wal.add_points("b2", "default", b"x", 1)
    assert wal.points == 0
    assert caplog.text.count("cannot write the run's log") == 1
