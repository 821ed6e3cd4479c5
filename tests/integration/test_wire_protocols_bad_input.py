"""The W&B and SwanLab wire protocols answer bad input as client errors, never 500.

Their routes are left out of /openapi.json (they are those clients' APIs), so the schema fuzz
of ``test_schema_fuzz.py`` does not reach them; this sends each of their routes, with a valid
key, a set of malformed requests.
"""

from __future__ import annotations

import re

import pytest
import requests

from lablens.server.swanlab import accounts, metrics, projects, session, writes
from lablens.server.wandb.routers import ROUTERS as WANDB_ROUTERS

BODIES = [
    None,
    b"",
    b"not json",
    b"[]",
    b"{}",
    b'{"query": 5}',
    b'{"query": "{ nope }"}',
    b'{"items": "x", "key": [1], "page": -1, "size": "big", "offset": "x"}',
    b"\xff\xfe\x00",
]

JUNK_QUERY = {"key": "x", "page": "-3", "size": "0", "expires": "x", "signature": "y"}


def _routes() -> list[tuple[str, str]]:
    out = []
    routers = [*WANDB_ROUTERS, *(m.router for m in (session, accounts, projects, metrics, writes))]
    for router in routers:
        for route in router.routes:
            for method in sorted(getattr(route, "methods", ()) or ()):
                if method in ("HEAD", "OPTIONS"):
                    continue
                out.append((method, route.path))
    return sorted(set(out))


ROUTES = _routes()


def _fill(path: str) -> str:
    # Path parameters get values that name nothing, and one that is not even text-like.
    return re.sub(r"\{[^}]+\}", "no-such%20thing", path)


def test_the_protocols_have_routes() -> None:
    paths = {p for _, p in ROUTES}
    assert "/graphql" in paths
    assert "/api/login/api_key" in paths
    assert len(ROUTES) > 30


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_malformed_requests_are_client_errors(server, method: str, path: str) -> None:
    url = server.url + _fill(path)
    auth = ("api", server.api_key)
    for body in BODIES:
        for query in (
            {},
            {"key": "x", "page": "-3", "size": "0", "expires": "x", "signature": "y"},
        ):
            answer = requests.request(
                method,
                url,
                data=body,
                params=query,
                auth=auth,
                cookies={"sid": server.api_key},
                headers={"content-type": "application/json"},
                timeout=30,
            )
            assert answer.status_code < 500, (method, path, body, query, answer.text[:300])
