"""The server's access cache and the records framing, without a server."""

from __future__ import annotations

import pytest

from lablens.contract.records import decode_records, encode_records
from lablens.server.auth import _MISS, AccessCache


def test_an_entry_lives_for_one_epoch():
    cache = AccessCache()
    cache.validate(1)
    cache.put("keys", b"k", {"username": "alice"}, 1)
    assert cache.get("keys", b"k", 1) == {"username": "alice"}
    cache.validate(2)  # a key revoked, a member removed...: everything is asked again
    assert cache.get("keys", b"k", 2) is _MISS


def test_a_value_read_across_a_change_is_not_kept():
    cache = AccessCache()
    cache.validate(1)
    # A request read epoch 1, then the value; meanwhile another request saw epoch 2.
    cache.validate(2)
    cache.put("roles", ("team", "bob"), "MEMBER", 1)
    assert cache.get("roles", ("team", "bob"), 2) is _MISS
    assert cache.get("roles", ("team", "bob"), 1) is _MISS


def test_a_role_of_none_is_an_answer_not_a_miss():
    cache = AccessCache()
    cache.validate(5)
    cache.put("roles", ("team", "carol"), None, 5)
    assert cache.get("roles", ("team", "carol"), 5) is None


def test_a_full_table_starts_over():
    cache = AccessCache()
    cache.validate(0)
    for i in range(AccessCache.LIMIT + 1):
        cache.put("projects", ("w", str(i)), "PUBLIC", 0)
    assert cache.get("projects", ("w", str(AccessCache.LIMIT)), 0) == "PUBLIC"
    assert cache.get("projects", ("w", "0"), 0) is _MISS


def test_records_round_trip_with_newlines_in_strings():
    header = {"records": [{"t": "patch", "body": {"notes": "two\nlines"}}, {"t": "points"}]}
    raw = encode_records(header, [b"\n\x00arrow", b"more"])
    back, rest = decode_records(raw)
    assert back == header and bytes(rest) == b"\n\x00arrowmore"


def test_records_without_a_header_line_are_refused():
    with pytest.raises(ValueError, match="header"):
        decode_records(b'{"records": []}')
