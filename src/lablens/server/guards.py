"""What every request passes before a route sees it: its size, its JSON's nesting, its text.

These checks are generic on purpose, one ASGI middleware in front of every route: a careless or
hostile client must not cost the server its memory (a body past ``LIMITS.max_body_bytes``), its
stack (JSON nested deep enough to reach Python's recursion limit in some later ``json.dumps``)
or a 500 (a lone UTF-16 surrogate such as ``"\\ud800"``, which Python decodes happily but no
UTF-8 encoder, DuckDB's JSON included, can write) — whatever the route, old or new.

JSON bodies are read whole here (the route would read them whole anyway) and handed on as one
message, so nothing is copied twice. Other bodies (Arrow, file and blob uploads) stream through,
counted as they pass.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import numpy as np
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lablens.server.problems import problem
from lablens.store.errors import LimitExceeded
from lablens.store.limits import LIMITS

log = logging.getLogger("lablens.server")

# A JSON escape of a UTF-16 surrogate, high (d800-dbff) or low (dc00-dfff). Only when the raw
# body holds one is it decoded to look for a lone one: a pair (an emoji, escaped) is fine.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# A JSON string, so brackets inside strings do not count as nesting.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class BodyTooLarge(LimitExceeded):
    """A request body past ``LIMITS.max_body_bytes``; raised while a route streams it."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the request body is larger than the server's limit of {limit} bytes"
            " (LABLENS_MAX_BODY_BYTES)",
            "body",
            limit=limit,
            status=413,
        )


def body_depth_limit() -> int:
    """How deep a request's JSON may nest, all levels counted from the body's outermost one.

    Four times ``LIMITS.max_depth`` leaves room for the envelope around a config or metadata
    (whose own depth the store checks against ``max_depth``, naming the field), and stays far
    below Python's recursion limit of 1,000 at which encoders and walkers fail.
    """
    return min(4 * LIMITS.max_depth, 256)


def _is_json(headers: Headers) -> bool:
    # FastAPI parses a body as JSON when it has no content type or a JSON one.
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype == "" or ctype == "application/json" or ctype.endswith("+json")


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets in strings not counted)."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    deepest, level = 0, 0
    # In slices, so a large body costs a bounded amount of memory (int32 per bracket).
    for start in range(0, len(codes), 1 << 20):
        part = codes[start : start + (1 << 20)]
        steps = np.where((part == ord("[")) | (part == ord("{")), 1, -1).astype(np.int32)
        running = np.cumsum(steps) + level
        deepest = max(deepest, int(running.max()))
        level = int(running[-1])
    return deepest


def _field(path: list[str | int]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out or "body"


def find_lone_surrogate(value: Any, path: list[str | int] | None = None) -> str | None:
    """The field (``config.a``, ``tags[2]``) of the first key or string holding a lone
    surrogate, or ``None``."""
    path = path or []
    if isinstance(value, str):
        return _field(path) if _LONE_SURROGATE.search(value) else None
    if isinstance(value, dict):
        for k, v in value.items():
            if _LONE_SURROGATE.search(k):
                return _field([*path, k.encode("utf-8", "backslashreplace").decode()])
            if found := find_lone_surrogate(v, [*path, k]):
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if found := find_lone_surrogate(v, [*path, i]):
                return found
    return None


def check_json_body(body: bytes) -> tuple[int, str, str, str, int | None] | None:
    """What is wrong with a JSON body, as (status, code, message, field, limit), or ``None``.

    A body that is not JSON at all is left to the route, which names what it expected.
    """
    limit = body_depth_limit()
    # Nesting needs brackets: a body with few of them cannot be too deep, and costs no scan.
    if body.count(b"[") + body.count(b"{") > limit and json_depth(body) > limit:
        return (
            400,
            "limit_exceeded",
            f"the JSON body nests deeper than {limit} levels",
            "body",
            limit,
        )
    if _SURROGATE_ESCAPE.search(body):
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            return None
        if field := find_lone_surrogate(value):
            return (
                400,
                "bad_request",
                f"{field} holds a lone UTF-16 surrogate (such as \\ud800), which is not text",
                field,
                None,
            )
    return None


def _check_url(scope: Scope) -> str | None:
    # Servers decode percent-escapes leniently, but another ASGI server or a proxy might not.
    if _LONE_SURROGATE.search(scope.get("path", "")):
        return "path"
    if _LONE_SURROGATE.search(scope.get("query_string", b"").decode("latin-1")):
        return "query"
    return None


class RequestGuard:
    """ASGI middleware: 413 past the body limit, 400 for too-deep JSON or lone surrogates.

    A body larger than ``LIMITS.max_body_bytes`` is refused by its Content-Length before a byte of
    it is read; a chunked one as soon as the bytes counted pass the limit. The answer is
    problem+json ``limit_exceeded`` naming the field ``body`` and the limit.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = LIMITS.max_body_bytes
        if "\x00" in scope.get("path", "") and scope.get("method") in ("GET", "HEAD"):
            # No name may hold NUL (the name rules refuse it), so such a path names nothing;
            # answered here, before a store that cannot even compare NUL text is asked. A
            # write to such a path goes on, to be refused by the rule of the name it gives.
            await _answer(
                scope, receive, send, (404, "not_found", "nothing is named so", "path", None)
            )
            return
        if where := _check_url(scope):
            await _answer(
                scope,
                receive,
                send,
                (400, "bad_request", f"the {where} holds a lone UTF-16 surrogate", where, None),
            )
            return
        headers = Headers(scope=scope)
        try:
            declared = int(headers.get("content-length", ""))
        except ValueError:
            declared = None
        if declared is not None and declared > limit:
            await _answer(scope, receive, send, _too_large(limit))
            return
        counted = _Counted(receive, limit)
        if not _is_json(headers) or scope.get("method") in ("GET", "HEAD", "DELETE", "OPTIONS"):
            await self.app(scope, counted, send)
            return
        try:
            body = await counted.read_all()
        except BodyTooLarge:
            await _answer(scope, receive, send, _too_large(limit))
            return
        except ClientDisconnect:
            log.warning(
                "client went away during %s %s; nothing of it was stored",
                scope.get("method"),
                scope.get("path"),
            )
            return
        if body and (bad := check_json_body(body)):
            await _answer(scope, receive, send, bad)
            return
        await self.app(scope, _replay(body, receive), send)


def _too_large(limit: int) -> tuple[int, str, str, str, int]:
    exc = BodyTooLarge(limit)
    return (413, "limit_exceeded", exc.message, "body", limit)


async def _answer(
    scope: Scope, receive: Receive, send: Send, bad: tuple[int, str, str, str, int | None]
) -> None:
    status, code, message, field, limit = bad
    entry: dict[str, Any] = {"field": field, "message": message}
    if limit is not None:
        entry["limit"] = limit
    response = problem(status, code, message, errors=[entry])
    if status == 413:
        # The rest of the body is not read: the connection cannot be reused.
        response.headers["Connection"] = "close"
    await response(scope, receive, send)


class _Counted:
    """A ``receive`` that counts body bytes and raises ``BodyTooLarge`` past the limit."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive, self.limit, self.seen = receive, limit, 0

    async def __call__(self) -> Message:
        message = await self.receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                raise BodyTooLarge(self.limit)
        return message

    async def read_all(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            message = await self()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        # After the body, a route waiting on the connection learns of a disconnect as usual.
        return await receive()

    return again
