"""request_p50 and request_p99: the latency of a small authenticated read, in milliseconds.

Every request pays the server's fixed cost (the API key's check, the project's lookup, the
access rule) before its own work; for the small requests of short runs that fixed cost is most
of the time. Starts its own ``lablens server`` (free loopback port), reads one project
``--requests`` times through the ``Api``'s transport (one keep-alive session) and prints the
median and the 99th percentile:

- request_p50: target 3 ms. ``baseline``: the median of ``GET /health`` on the same session
  (no key, no store), measured in the same run: the HTTP floor of this machine.
- request_p99: the 99th percentile, against the same floor's.

Then the same on the PostgreSQL store (``request_p50_pg``), against the embedded figure, unless
``--no-pg``. Run: ``.venv/bin/python -m benchmarks.request_p50 [--requests 500]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchmarks._common import emit, emit_pg, postgres, server
from lablens.contract.routes import project_route
from lablens.transport import Transport

TARGET_P50_MS = 3.0


def latencies(call, n: int) -> list[float]:
    """Milliseconds of ``n`` calls, after 20 warm-up calls."""
    for _ in range(20):
        call()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(srv, n: int) -> tuple[list[float], list[float]]:
    """(project reads, health checks) in milliseconds."""
    t = Transport(srv.url, srv.api_key)
    t.post_json(f"/api/v1/workspaces/{srv.username}/projects", {"name": "bench-p50"})
    path = project_route(srv.username, "bench-p50")
    reads = latencies(lambda: t.get_json(path), n)
    floor = latencies(lambda: t.request("GET", "/health"), n)
    return reads, floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    n = max(10, min(args.requests, 5000))
    with server() as srv:
        reads, floor = measure(srv, n)
    emit("request_p50", p(reads, 0.5), "ms", baseline=p(floor, 0.5), target=TARGET_P50_MS)
    emit("request_p99", p(reads, 0.99), "ms", baseline=p(floor, 0.99), target=TARGET_P50_MS * 3)
    print(f"mean {statistics.mean(reads):.2f} ms over {n} reads")
    if not args.no_pg:
        with postgres() as new_database, server(store=new_database()) as srv:
            reads_pg, _ = measure(srv, n)
        emit_pg("request_p50", p(reads_pg, 0.5), "ms", p(reads, 0.5))
        emit_pg("request_p99", p(reads_pg, 0.99), "ms", p(reads, 0.99))


if __name__ == "__main__":
    main()
