"""How SwanLab's client expects an answer to fail: a JSON body ``{code, message}``.

Its HTTP session raises ``ApiError("[code] message")`` for any non-2xx answer and retries 5xx
ones, so every mistake of a client is a 4xx whose message names the bad part, and the routes
here turn our own errors (``Problem``, the store's) into that shape instead of problem+json.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from lablens.server.problems import Problem
from lablens.server.routing import Route
from lablens.store import errors as store_errors
from lablens.store.points import MAX_STEP

log = logging.getLogger("lablens.server.swanlab")


class SwanlabError(Exception):
    """A client mistake answered as SwanLab's ``{code, message}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad_request(message: str) -> SwanlabError:
    """A 400 naming the bad part of the request."""
    return SwanlabError(400, "bad_request", message)


def error_body(status: int, code: str, message: str) -> JSONResponse:
    """SwanLab's error answer."""
    return JSONResponse({"code": code, "message": message}, status_code=status)


def answer_error(exc: Exception) -> JSONResponse | None:
    """The SwanLab answer to one of our errors, or ``None`` for a bug (it stays a 500)."""
    if isinstance(exc, SwanlabError):
        return error_body(exc.status, exc.code, exc.message)
    if isinstance(exc, Problem):
        return error_body(exc.status, exc.code, exc.detail)
    if isinstance(exc, store_errors.NotFound):
        return error_body(404, f"{exc.kind}_not_found", str(exc))
    if isinstance(exc, store_errors.Conflict):
        return error_body(409, "conflict", str(exc))
    if isinstance(exc, store_errors.LimitExceeded):
        return error_body(exc.status, "limit_exceeded", _named(exc.message, exc.field))
    if isinstance(exc, store_errors.InvalidInput):
        return error_body(400, "bad_request", _named(exc.message, exc.field))
    if isinstance(exc, RequestValidationError):
        parts = []
        for e in exc.errors():
            if e.get("type") == "json_invalid":
                parts.append(f"the request body is not JSON: {e.get('msg', '')}")
                continue
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
            parts.append(f"{where}: {e.get('msg', '')}")
        return error_body(400, "bad_request", "; ".join(parts) or "invalid request")
    return None


def _named(message: str, field: str | None) -> str:
    return f"{field}: {message}" if field and field not in message else message


class SwanlabRoute(Route):
    """A route whose errors come back as SwanLab's ``{code, message}``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # noqa: BLE001 - every client mistake is mapped below
                answer = answer_error(exc)
                if answer is None:
                    raise
                return answer

        return route


def as_object(body: Any) -> dict[str, Any]:
    """The request's JSON object; a 400 naming the problem when it is not one."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request(f"the request body must be a JSON object, got {type(body).__name__}")
    return body


def metric_step(metric: Any, where: str) -> int:
    """The step (``index``) of one metric of a post, checked with its ``key``."""
    if not isinstance(metric, dict) or not isinstance(metric.get("key"), str) or not metric["key"]:
        raise bad_request(f"{where}.key must be a non-empty string")
    step = metric.get("index")
    if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= MAX_STEP:
        raise bad_request(f"{where}.index must be a step, an integer from 0 to {MAX_STEP:,}")
    return step


def seconds(value: Any, where: str) -> float:
    """A protobuf JSON time (``2026-01-02T03:04:05.123456789Z``) in seconds since the epoch."""
    if not isinstance(value, str) or not value:
        raise bad_request(f"{where} must be an RFC 3339 time")
    text = value.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:digits][:6]}{rest[digits:]}"
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(f"{where} must be an RFC 3339 time, got {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()
