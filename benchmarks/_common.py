"""What every benchmark shares: a real server on loopback, timing, and the output line.

Each benchmark prints one JSON object per line:
``{"name", "value", "unit", "baseline", "ratio", "target"}`` where ``baseline`` is measured in
the same run (e.g. pyarrow reading the same data from a local Parquet file), ``ratio`` is
``value / baseline``, and ``target`` is the figure the project aims for.

A ``*_pg`` line is the same figure on the PostgreSQL store (``lablens server --store
postgresql://...``, a throwaway PostgreSQL started by :func:`postgres`), its ``baseline`` the
embedded store's figure in the same run (:func:`emit_pg`).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from lablens._settings import free_port, normalize_host, server_argv, wait_until_alive


@dataclass
class Server:
    url: str
    api_key: str
    username: str
    data_dir: Path


#: ``--store`` URLs of the PostgreSQL store (what ``server(store=...)`` takes besides a data dir).
PG_SCHEMES = ("postgresql://", "postgres://")


@contextlib.contextmanager
def server(
    data_dir: Path | None = None,
    seed: Callable[[str | Path, str], None] | None = None,
    store: str | None = None,
    blobs: str | None = None,
) -> Iterator[Server]:
    """Run ``lablens server`` on a free loopback port with a temporary home and data dir.

    ``store`` (a ``postgresql://`` URL) puts the store in that database instead of the data
    dir, with the blobs in ``blobs`` (by default a temp dir, ``--blobs file:///...``) and the
    admin's key chosen here (``LABLENS_ADMIN_API_KEY``); several servers given the same URLs
    serve the same data.

    ``seed(target, username)`` fills the store: on a data dir before the server starts, while
    nothing else has it open (it then makes the admin itself); on PostgreSQL after the server
    made the admin, beside it (a database serves both). ``target`` is the data dir or the URL.
    """
    with tempfile.TemporaryDirectory(prefix="lablens-bench-") as tmp:
        home = Path(tmp) / "home"
        data = data_dir or Path(tmp) / "data"
        env = {**os.environ, "LABLENS_HOME": str(home)}
        os.environ["LABLENS_HOME"] = str(home)
        argv_extra: list[str] = []
        if store is not None:
            blobs = blobs or f"file://{Path(tmp) / 'blobs'}"
            argv_extra = ["--store", store, "--blobs", blobs]
            env["LABLENS_ADMIN_API_KEY"] = admin_key(store)
        elif seed is not None:
            from lablens.server.main import admin_name  # the name the server gives the admin

            seed(data, admin_name(getpass.getuser()))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [*server_argv(port, data), *argv_extra], env=env, stdin=subprocess.DEVNULL
        )
        try:
            wait_until_alive(url, timeout=120, proc=proc)
            srv = _signed_in(url, home, env.get("LABLENS_ADMIN_API_KEY"), data)
            if store is not None and seed is not None:
                seed(store, srv.username)
            yield srv
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def _signed_in(url: str, home: Path, chosen: str | None, data: Path) -> Server:
    """The admin's key and name: from the credentials a loopback server stores, else the key
    chosen for its database and the name the server gives it."""
    stored = home / "credentials"
    hosts = json.loads(stored.read_text())["hosts"] if stored.exists() else {}
    if normalize_host(url) in hosts:
        creds = hosts[normalize_host(url)]
        return Server(url, creds["api_key"], creds["username"], data)
    if chosen is None:
        raise RuntimeError(f"the server at {url} stored no admin key in {stored}")
    from lablens.contract.routes import VIEWER
    from lablens.transport import Transport

    return Server(url, chosen, Transport(url, chosen).get_json(VIEWER)["username"], data)


_ADMIN_KEYS: dict[str, str] = {}


def admin_key(store: str) -> str:
    """The admin key chosen for a database: one per URL, so its servers share it."""
    import secrets

    return _ADMIN_KEYS.setdefault(store, "ll_" + secrets.token_hex(24))


@contextlib.contextmanager
def postgres() -> Iterator[Callable[[], str]]:
    """A throwaway PostgreSQL (Debian's binaries, a temp dir, a free loopback port), stopped
    after; yields ``new_database()``, which makes an empty database and returns its URL.

    The test suite's launcher (``tests/pg.py``), shared rather than copied; like the tests,
    ``LABLENS_TEST_POSTGRES_URL`` names a server to use instead.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import pg

    reason = pg.missing_reason()
    if reason:
        raise SystemExit(f"benchmarks: {reason}")
    cluster = pg.start_cluster()
    made: list[str] = []
    try:

        def new_database() -> str:
            made.append(pg.create_database(cluster, prefix="bench"))
            return made[-1]

        yield new_database
    finally:
        for url in made:
            pg.drop_database(cluster, url)
        pg.stop_cluster(cluster)


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    """The fastest of ``repeat`` timed calls, in seconds (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def emit(name: str, value: float, unit: str, baseline: float, target: float) -> None:
    """Print one result line."""
    print(
        json.dumps(
            {
                "name": name,
                "value": round(value, 4),
                "unit": unit,
                "baseline": round(baseline, 4),
                "ratio": round(value / baseline, 2) if baseline else None,
                "target": target,
            }
        ),
        flush=True,
    )


#: A read on PostgreSQL may take at most this many times the embedded store's time.
PG_READ_FACTOR = 3.0


def emit_pg(name: str, value: float, unit: str, embedded: float) -> None:
    """Print the PostgreSQL store's figure ``NAME_pg`` beside the embedded one it is measured
    against: ``baseline`` is the embedded figure; for a time (``ms``) the target is
    ``PG_READ_FACTOR`` times it, for a rate (``points/s``) the embedded rate itself."""
    target = embedded * PG_READ_FACTOR if unit == "ms" else embedded
    emit(f"{name}_pg", value, unit, embedded, round(target, 4))
