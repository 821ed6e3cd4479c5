"""The route class of every lablens router: a plain ``def`` endpoint costs one worker thread.

FastAPI runs a ``def`` endpoint in a worker thread, and then, when the endpoint has a return
annotation, validates its answer in a second one. Each hand-off between the event loop and a
thread costs about a millisecond on a busy two-core machine: more than the small reads of a
short run take at the store. ``Route`` runs the endpoint in the worker thread as before (its
store calls block) and leaves the validation on the event loop, where FastAPI does it for an
``async def`` endpoint: one hand-off a request instead of two.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool


def threaded(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` as a coroutine function that runs it in a worker thread; coroutine and
    generator functions (and other callables) as they are."""
    if (
        not inspect.isfunction(endpoint)
        or inspect.iscoroutinefunction(endpoint)
        or inspect.isgeneratorfunction(endpoint)
        or inspect.isasyncgenfunction(endpoint)
    ):
        return endpoint

    # FastAPI reads the parameters and the return annotation through ``__wrapped__`` (and the
    # endpoint's module globals), so the route is declared exactly as the plain function.
    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return run


class Route(APIRoute):
    """An ``APIRoute`` whose plain ``def`` endpoint runs in one worker thread (``threaded``)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, threaded(endpoint), **kwargs)
