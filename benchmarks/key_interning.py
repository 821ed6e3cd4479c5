"""key_interning_rate and key_interning_other_write: many new metric keys, and who waits for them.

Starts its own ``lablens server``. One client logs ``--keys`` new distinct metric keys (20,000 by
default, one point each, in requests of ``--batch`` keys, under the per-request limit) to one
run; meanwhile another client keeps writing 10 points of 10 known keys to another run. Prints:

- key_interning_rate: new keys per second stored by the first client; baseline and target
  20,000 keys/s.
- key_interning_other_write: the longest the other client's 10-point write took while the keys
  were interned (it waits for the write lock); baseline: the same write on an idle server (best
  of 5), target 0.5 s.

Every key is read back and counted. Run: ``.venv/bin/python -m benchmarks.key_interning``.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid

import pyarrow as pa

from benchmarks._common import best_of, emit, server
from lablens.transport import ARROW, Transport, table_to_ipc

PROJECT = "bench-key-interning"


def _points(keys: list[str], step: int = 0) -> bytes:
    n = len(keys)
    return table_to_ipc(
        pa.table(
            {
                "key": pa.array(keys, pa.string()),
                "step": pa.array([step] * n, pa.int64()),
                "timestamp": pa.array([1.7e9 + step] * n, pa.float64()),
                "value": pa.array([float(i) for i in range(n)], pa.float64()),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5_000)
    args = parser.parse_args()

    with server() as srv:
        base = f"/api/v1/projects/{srv.username}/{PROJECT}/runs"
        wide, small = (
            Transport(srv.url, srv.api_key, timeout=3600),
            Transport(srv.url, srv.api_key, timeout=3600),
        )
        wide.post_json(base, {"id": "wide0001"})
        small.post_json(base, {"id": "small001"})
        steady = [f"train/metric_{i}" for i in range(10)]
        step = iter(range(1_000_000_000))

        def write_small() -> None:
            small.request(
                "POST",
                f"{base}/small001/points",
                data=_points(steady, next(step)),
                headers={"Content-Type": ARROW, "X-Lablens-Batch-Id": uuid.uuid4().hex},
            )

        idle = best_of(write_small)

        waits: list[float] = []
        done = threading.Event()

        def other_client() -> None:
            while not done.is_set():
                t0 = time.perf_counter()
                write_small()
                waits.append(time.perf_counter() - t0)
                time.sleep(0.05)

        names = [f"layer{i // 100:04d}/unit{i % 100:02d}/grad_norm" for i in range(args.keys)]
        other = threading.Thread(target=other_client)
        start = time.perf_counter()
        other.start()
        for i in range(0, len(names), args.batch):
            wide.request(
                "POST",
                f"{base}/wide0001/points",
                data=_points(names[i : i + args.batch]),
                headers={"Content-Type": ARROW, "X-Lablens-Batch-Id": uuid.uuid4().hex},
            )
        took = time.perf_counter() - start
        done.set()
        other.join()

        stored = wide.get_json(f"{base}/wide0001")["history_keys"]
        print(
            f"{args.keys:,} new keys in requests of {args.batch:,}: {took:.2f}s; the other"
            f" client wrote {len(waits)} times, longest {max(waits):.3f}s (idle: {idle:.3f}s);"
            f" the server holds {len(stored):,} keys",
            file=sys.stderr,
        )
        if len(stored) != args.keys:
            sys.exit(f"the server holds {len(stored):,} keys of {args.keys:,}")
        emit("key_interning_rate", round(args.keys / took), "keys/s", 20_000, 20_000)
        emit("key_interning_other_write", max(waits), "s", idle, 0.5)


if __name__ == "__main__":
    main()
