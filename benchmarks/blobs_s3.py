"""blobs_*_s3: how fast blobs go into and out of an S3 server, next to a local blob dir.

Starts a real S3 server on loopback (SeaweedFS's ``weed server -s3``, as the tests do, from
``tests/s3.py``) unless ``--s3 s3://BUCKET/PREFIX`` names one (credentials and endpoint from the
AWS environment), and runs the same work on ``LocalBlobs`` in a temp dir and on ``S3Blobs``:

- blobs_put_large_s3 / blobs_get_large_s3: one ``--size-mb`` blob (256 MB) streamed in and
  read back whole, in MB/s (best of ``--repeat``; each put is new content, so it is stored);
- blobs_put_small_s3 / blobs_get_small_s3: ``--small`` blobs of 64 KB (logged images,
  small run files), in blobs/s;
- blobs_range_s3: 64 KB ranges at random offsets of the large blob (HTTP Range), in reads/s.

Each line's ``baseline`` is the local blob dir's figure in the same run and ``ratio`` is S3's
over it; ``target`` is null: these are figures to watch, with no goal set. Every blob read back
is compared with what was put. Run: ``.venv/bin/python -m benchmarks.blobs_s3``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from lablens.store.blobs import BlobStore, LocalBlobs, open_blobs
from lablens.store.blobs.s3 import S3Blobs

MB = 1 << 20
SMALL = 64 << 10


def line(name: str, value: float, unit: str, baseline: float) -> None:
    """One result line, in the shape of ``benchmarks._common.emit`` (no target)."""
    print(
        json.dumps(
            {
                "name": name,
                "value": round(value, 2),
                "unit": unit,
                "baseline": round(baseline, 2),
                "ratio": round(value / baseline, 2) if baseline else None,
                "target": None,
            }
        ),
        flush=True,
    )


def content(size: int, tag: int, blocks: list[bytes]) -> Iterator[bytes]:
    """``size`` bytes in 1 MiB blocks, the first one marked with ``tag`` so that every call
    is new content (made without cost: the blocks are reused)."""
    left, i = size, 0
    while left:
        block = blocks[i % len(blocks)]
        if i == 0:
            block = tag.to_bytes(8, "big") + block[8:]
        n = min(len(block), left)
        yield block[:n]
        left -= n
        i += 1


def best(fn: Callable[[int], object], repeat: int) -> float:
    """The fastest of ``repeat`` timed calls ``fn(i)``, in seconds."""
    times = []
    for i in range(repeat):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return min(times)


def measure(store: BlobStore, size: int, small: int, repeat: int) -> dict[str, float]:
    rnd = random.Random(0)
    blocks = [rnd.randbytes(MB) for _ in range(16)]
    tag = rnd.getrandbits(48)  # new content on every run, also against a reused bucket
    digests: list[str] = []

    def put_large(i: int) -> None:
        digests.append(store.put(content(size, tag + i, blocks)).digest)

    def get_large(i: int) -> None:
        h = hashlib.sha256()
        for chunk in store.iter_bytes(digests[-1]):
            h.update(chunk)
        assert h.hexdigest() == digests[-1], "the large blob came back changed"

    figures = {
        "put_large": size / MB / best(put_large, repeat),
        "get_large": size / MB / best(get_large, repeat),
    }
    smalls = [
        tag.to_bytes(8, "big") + i.to_bytes(8, "big") + blocks[0][: SMALL - 16]
        for i in range(small)
    ]
    t0 = time.perf_counter()
    small_digests = [store.put(data).digest for data in smalls]
    figures["put_small"] = small / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for data, digest in zip(smalls, small_digests, strict=True):
        assert store.read_bytes(digest) == data, "a small blob came back changed"
    figures["get_small"] = small / (time.perf_counter() - t0)
    whole = b"".join(content(size, tag + repeat - 1, blocks))
    starts = [rnd.randrange(0, size - SMALL) for _ in range(small)]
    t0 = time.perf_counter()
    for start in starts:
        assert store.read_bytes(digests[-1], start, SMALL) == whole[start : start + SMALL]
    figures["range"] = small / (time.perf_counter() - t0)
    for digest in {*digests, *small_digests}:
        store.delete(digest)
    return figures


@contextlib.contextmanager
def s3_store(url: str | None, tmp: Path) -> Iterator[S3Blobs]:
    """The S3 store named by ``url``, or one on a SeaweedFS server started for the run."""
    if url:
        store = open_blobs(url)
        assert isinstance(store, S3Blobs)
        store.check()
        yield store
        return
    # The test suite's launcher of a loopback S3 server, shared rather than copied.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from s3 import drop_bucket, make_bucket, start_s3, stop_s3

    server = start_s3(tmp / "s3")
    try:
        bucket = make_bucket(server)
        yield S3Blobs(
            bucket,
            "bench",
            endpoint_url=server.endpoint,
            access_key=server.access_key,
            secret_key=server.secret_key,
        )
        drop_bucket(server, bucket)
    finally:
        stop_s3(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=256, help="the large blob's size")
    parser.add_argument("--small", type=int, default=300, help="how many 64 KB blobs")
    parser.add_argument("--repeat", type=int, default=3, help="timed puts/gets of the large blob")
    parser.add_argument("--s3", help="s3://BUCKET/PREFIX of an S3 server to use (AWS env)")
    args = parser.parse_args()
    size = args.size_mb * MB
    with tempfile.TemporaryDirectory(prefix="lablens-bench-blobs-") as tmp:
        local = measure(LocalBlobs(Path(tmp) / "blobs"), size, args.small, args.repeat)
        with s3_store(args.s3, Path(tmp)) as s3:
            remote = measure(s3, size, args.small, args.repeat)
    line("blobs_put_large_s3", remote["put_large"], "MB/s", local["put_large"])
    line("blobs_get_large_s3", remote["get_large"], "MB/s", local["get_large"])
    line("blobs_put_small_s3", remote["put_small"], "blobs/s", local["put_small"])
    line("blobs_get_small_s3", remote["get_small"], "blobs/s", local["get_small"])
    line("blobs_range_s3", remote["range"], "reads/s", local["range"])


if __name__ == "__main__":
    main()
