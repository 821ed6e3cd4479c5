"""The pieces of the server's request guards and login limit, on their own."""

from __future__ import annotations

import json

import pytest

from lablens.server.guards import check_json_body, find_lone_surrogate, json_depth
from lablens.server.ratelimit import LoginLimiter


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('{"s": "[[[[{{{{"}', 1),  # brackets in strings are text
        ('{"s": "a \\" [[[["}', 1),  # an escaped quote does not end the string
        ("[" * 300 + "]" * 300, 300),
        ("[" + "[]," * 100_000 + "[]]", 2),
    ],
)
def test_json_depth(text, depth):
    assert json_depth(text.encode()) == depth


def test_json_depth_of_a_body_larger_than_one_slice():
    body = b"[" + b",".join([b"[" * 40 + b"]" * 40] * 30_000) + b"]"
    assert json_depth(body) == 41


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"a": "ok", "b": ["x", "\ud800"]}, "b[1]"),
        ({"a": {"\udc00": 1}}, "a.\\udc00"),
        ("\ud83d", "body"),
        ({"a": "\U0001f600"}, None),
        ([{"x": 1}, {"y": "z\udfff"}], "[1].y"),
    ],
)
def test_find_lone_surrogate(value, field):
    assert find_lone_surrogate(value) == field


def test_check_json_body():
    assert check_json_body(json.dumps({"a": "\ud800"}).encode())[3] == "a"
    assert check_json_body(json.dumps({"a": "\U0001f600"}).encode()) is None
    assert check_json_body(b"not json \\ud800") is None  # left to the route to name
    status, code, _, field, limit = check_json_body(b"[" * 200 + b"]" * 200)
    assert (status, code, field, limit) == (400, "limit_exceeded", "body", 128)


def test_login_limiter_counts_per_key_within_its_window():
    limiter = LoginLimiter(rate=2, window=60)
    keys = ["user:bob", "addr:10.0.0.1"]
    assert limiter.retry_after(keys) is None
    limiter.failed(keys)
    assert limiter.retry_after(keys) is None
    limiter.failed(keys)
    assert 59 <= limiter.retry_after(keys) <= 60
    assert 59 <= limiter.retry_after(["user:bob", "addr:other"]) <= 60
    assert limiter.retry_after(["user:alice", "addr:other"]) is None
    limiter.succeeded("user:bob")
    assert limiter.retry_after(["user:bob", "addr:other"]) is None
    assert limiter.retry_after(["user:bob", "addr:10.0.0.1"]) is not None


def test_login_limiter_forgets_failures_older_than_its_window():
    limiter = LoginLimiter(rate=1, window=0.05)
    limiter.failed(["user:bob"])
    assert limiter.retry_after(["user:bob"]) == 1
    import time

    time.sleep(0.1)
    assert limiter.retry_after(["user:bob"]) is None
