"""log_media_caller: how fast ``run.log()`` takes points when every tenth call also logs an image.

Starts its own ``lablens server`` (free port, temporary LABLENS_HOME and data dir), logs
``--calls`` calls of ``--keys`` keys each (200k x 10 = 2M points by default), with one 64x64 RGB
``lablens.Image`` (a different one each time) every ``--every`` calls, and prints:

- log_media_caller: points per second seen by the training loop (the ``log()`` calls, with
  building the ``Image``); target 1M points/s. ``baseline`` is the same loop without images,
  run just before on the same server, so ``ratio`` is what the images cost the caller
  (encoding, hashing and uploading happen on the run's background thread).

The stored point and image counts are checked against what was logged. Run:
``.venv/bin/python -m benchmarks.log_media``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import lablens
import lablens.sdk
from benchmarks._common import emit, server
from lablens.contract.routes import run_media_route, run_route
from lablens.transport import Transport

TARGET = 1_000_000


def timed_run(
    srv, runs: Path, calls: int, keys: int, every: int | None
) -> tuple[float, float, object]:
    """Seconds the ``log()`` calls took, seconds until ``finish()`` returned, and the run."""
    # Every image must reach the server before finish() returns (checked below), on a busy
    # machine too.
    settings = {"system_interval": 0, "console": False, "flush_timeout": 300}
    run = lablens.sdk.init(
        project="bench-log-media", host=srv.url, api_key=srv.api_key, settings=settings, dir=runs
    )
    names = [f"train/metric_{i}" for i in range(keys)]
    rows = [{n: float(i * j) for j, n in enumerate(names)} for i in range(1000)]
    # One buffer changed in place before each image is logged, as a training loop overwrites
    # its batch: every image logged is a different one (encoded, hashed and uploaded), and what
    # is stored is what the buffer held at the call.
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    log, Image = run.log, lablens.Image
    start = time.perf_counter()
    if every is None:
        for i in range(calls):
            log(rows[i % 1000])
    else:
        for i in range(calls):
            if i % every == 0:
                image[0, 0] = (i & 255, (i >> 8) & 255, (i >> 16) & 255)
                log({**rows[i % 1000], "samples": Image(image)})
            else:
                log(rows[i % 1000])
    logged = time.perf_counter() - start
    run.finish()
    return logged, time.perf_counter() - start, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args()

    with server() as srv, tempfile.TemporaryDirectory(prefix="lablens-bench-runs-") as runs:
        http = Transport(srv.url, srv.api_key)
        plain, _, _ = timed_run(srv, Path(runs), args.calls, args.keys, None)
        with_images, durable, run = timed_run(srv, Path(runs), args.calls, args.keys, args.every)
        total = args.calls * args.keys
        stored = http.get_json(run_route(run.entity, run.project, run.id))
        counted = sum(k["count"] for k in stored["history_keys"].values())
        media = http.get_json(run_media_route(run.entity, run.project, run.id) + "/keys")
        images = media.get("samples", {}).get("count", 0)
        expected = len(range(0, args.calls, args.every))
        print(
            f"{total:,} points: log() took {plain:.2f}s without images, {with_images:.2f}s with "
            f"{expected:,} (all stored {durable:.1f}s after the first call); the server holds "
            f"{counted:,} points and {images:,} images",
            file=sys.stderr,
        )
        if counted != total or images != expected:
            sys.exit(f"the server stored {counted:,} points of {total:,}, {images:,} images")
        emit(
            "log_media_caller",
            round(total / with_images),
            "points/s",
            baseline=round(total / plain),
            target=TARGET,
        )


if __name__ == "__main__":
    main()
