"""Every error the server answers, as problem+json naming the bad field.

A client mistake is a 4xx with ``errors: [{field, message}]``; only a bug of ours is a 500.
"""

from __future__ import annotations

import errno
import logging
from typing import Any

import duckdb
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from lablens.store import errors as store_errors
from lablens.store.blobs.errors import BlobRangeError, BlobStoreUnavailable

log = logging.getLogger("lablens.server")

PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    416: "Range Not Satisfiable",
    500: "Internal Server Error",
    503: "Service Unavailable",
    507: "Insufficient Storage",
}


class Problem(Exception):
    """An error answer raised from a route: ``raise Problem(403, "permission_denied", ...)``."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.field, self.path = (
            status,
            code,
            detail,
            field,
            path,
        )


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    path: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    """Build a problem+json answer."""
    if errors is None:
        errors = [{"field": field, "message": detail}] if field else []
    body: dict[str, Any] = {
        "type": f"https://lablens.dev/problems/{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        "errors": errors,
    }
    if path:
        body["path"] = path
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)] or [str(p) for p in loc]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out


def is_disk_full(exc: BaseException) -> bool:
    """Whether an error (or one it was raised from) is a full disk: ENOSPC from a file write,
    or DuckDB's I/O error saying the same."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(seen, duckdb.Error) and (
            "No space left on device" in str(seen) or "Disk quota exceeded" in str(seen)
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _disk_full() -> JSONResponse:
    # A failed write rolled its transaction back (and a blob is renamed into place only whole),
    # so nothing is stored half: the client may send the same request again once there is room.
    return problem(
        507,
        "insufficient_storage",
        "the server's disk is full: nothing of this request was stored; try again once an"
        " operator has made room",
    )


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into problem+json."""

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem(exc.status, exc.code, exc.detail, field=exc.field, path=exc.path)

    @app.exception_handler(store_errors.NotFound)
    async def _not_found(_: Request, exc: store_errors.NotFound) -> JSONResponse:
        return problem(
            404,
            f"{exc.kind}_not_found" if exc.kind != "key" else "not_found",
            str(exc),
            path=exc.path,
        )

    @app.exception_handler(store_errors.Conflict)
    async def _conflict(_: Request, exc: store_errors.Conflict) -> JSONResponse:
        return problem(409, "conflict", str(exc))

    @app.exception_handler(store_errors.LimitExceeded)
    async def _limit(_: Request, exc: store_errors.LimitExceeded) -> JSONResponse:
        errors = [{"field": exc.field, "message": exc.message, "limit": exc.limit}]
        return problem(exc.status, "limit_exceeded", exc.message, errors=errors)

    @app.exception_handler(store_errors.InvalidFilter)
    async def _invalid_filter(_: Request, exc: store_errors.InvalidFilter) -> JSONResponse:
        return problem(400, "invalid_filter", exc.message, field=exc.field)

    @app.exception_handler(BlobRangeError)
    async def _range(_: Request, exc: BlobRangeError) -> JSONResponse:
        # HTTP's answer to a Range outside the content names the content's length.
        answer = problem(416, "range_not_satisfiable", exc.message, field=exc.field)
        answer.headers["Content-Range"] = f"bytes */{exc.size}"
        return answer

    @app.exception_handler(BlobStoreUnavailable)
    async def _blobs_down(request: Request, exc: BlobStoreUnavailable) -> JSONResponse:
        # The object store went away (or refuses the server's key) after the start: the
        # server's trouble, not the client's, and nothing of the request was stored.
        log.error("blob store unavailable during %s %s: %s", request.method, request.url.path, exc)
        # Where the store is and why it fails is for the operator's log, not for clients.
        return problem(
            503,
            "blob_store_unavailable",
            "the server cannot use its blob store just now: nothing of this request was"
            " stored; try again later",
        )

    @app.exception_handler(store_errors.InvalidInput)
    async def _invalid(_: Request, exc: store_errors.InvalidInput) -> JSONResponse:
        return problem(400, "bad_request", exc.message, field=exc.field)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_of(tuple(e.get("loc", ()))), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        return problem(400, "bad_request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            401: "unauthorized",
            403: "permission_denied",
            404: "not_found",
            409: "conflict",
        }.get(exc.status_code, "bad_request")
        return problem(exc.status_code, code, str(exc.detail))

    @app.exception_handler(UnicodeError)
    async def _not_text(request: Request, exc: UnicodeError) -> JSONResponse:
        # Text that is not Unicode can only come from a request (the store refuses to keep it):
        # an Arrow string column of invalid UTF-8, a lone surrogate past the JSON guard.
        log.warning("not text in %s %s: %s", request.method, request.url.path, exc)
        return problem(
            400,
            "bad_request",
            f"the request holds text that is not valid Unicode: {exc.reason}",
            field="body",
        )

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, _: ClientDisconnect) -> JSONResponse:
        # Routine (a client killed mid-upload): one line, no traceback. The answer reaches no one.
        log.warning(
            "client went away during %s %s; nothing of it was stored",
            request.method,
            request.url.path,
        )
        return problem(400, "bad_request", "the client went away before its request was read")

    # OSError and DuckDB's errors get handlers of their own (not only the catch-all below), so a
    # full disk is a 507 and is not also re-raised to the ASGI server's traceback log.
    @app.exception_handler(OSError)
    @app.exception_handler(duckdb.Error)
    async def _io(request: Request, exc: Exception) -> JSONResponse:
        if is_disk_full(exc):
            log.error("disk full during %s %s: %s", request.method, request.url.path, exc)
            return _disk_full()
        log.error("unhandled error", exc_info=exc)
        return problem(500, "internal_error", f"internal error: {type(exc).__name__}")

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        if is_disk_full(exc):
            return _disk_full()
        log.exception("unhandled error")
        return problem(500, "internal_error", f"internal error: {type(exc).__name__}")
