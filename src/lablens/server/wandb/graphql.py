"""``POST /graphql``: the schema built from ``schema/*.graphql`` and each part's resolvers."""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from ariadne import ScalarType, graphql_sync, load_schema_from_path, make_executable_schema
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from graphql import GraphQLSchema

from lablens.server.auth import store_of
from lablens.server.problems import Problem
from lablens.server.routing import Route
from lablens.server.wandb.auth import WandbUser

#: The modules whose ``BINDABLES`` resolve the schema, in ``lablens.server.wandb``.
PARTS = (
    "base",
    "buckets",
    "uploads",
    "projects",
    "runs",
    "history",
    "files",
    "console",
    "artifacts",
)

SCHEMA_DIR = Path(__file__).parent / "schema"

router = APIRouter(tags=["wandb"], route_class=Route)

# JSONString travels as a string holding JSON (W&B's config, summary, filters); resolvers
# return Python values and this scalar encodes them, and decodes what the client sends.
json_string = ScalarType("JSONString")


@json_string.serializer
def _dump_json_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, allow_nan=True)


@json_string.value_parser
def _load_json_string(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@cache
def schema() -> GraphQLSchema:
    """The executable schema (built once per process)."""
    bindables: list[Any] = [json_string]
    for name in PARTS:
        bindables.extend(importlib.import_module(f"lablens.server.wandb.{name}").BINDABLES)
    return make_executable_schema(load_schema_from_path(str(SCHEMA_DIR)), *bindables)


@router.post("/graphql", include_in_schema=False)
async def graphql_endpoint(request: Request, user: WandbUser) -> JSONResponse:
    """Answer one GraphQL request (a list of them too) of a W&B client."""
    try:
        data = await request.json()
    except ValueError as exc:
        raise Problem(400, "invalid_json", f"the GraphQL request is not JSON: {exc}") from exc
    context = {"request": request, "store": store_of(request), "user": user}
    if isinstance(data, list):
        answers = [await _run(item, context) for item in data]
        return JSONResponse([body for body, _ in answers])
    body, status = await _run(data, context)
    return JSONResponse(body, status_code=status)


async def _run(data: Any, context: dict[str, Any]) -> tuple[dict[str, Any], int]:
    if not isinstance(data, dict) or not isinstance(data.get("query"), str):
        return {"errors": [{"message": "the request needs a 'query' string"}]}, 400
    if not data.get("operationName"):
        # wandb-core sends "operationName": "" for a document of one operation: that means none.
        data = {**data, "operationName": None}
    from starlette.concurrency import run_in_threadpool

    # The store is synchronous: run the query on a worker thread, as FastAPI runs def routes.
    ok, body = await run_in_threadpool(
        graphql_sync, schema(), data, context_value=context, debug=False
    )
    return body, 200 if ok else 400
