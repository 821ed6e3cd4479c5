"""A real PostgreSQL for tests: Debian's server binaries, a throwaway cluster on a loopback port.

:func:`start_cluster` runs ``initdb`` and ``pg_ctl start`` as the ``postgres`` user (the server
refuses to run as root) in a temp dir owned by that user: listening on 127.0.0.1 only, on a free
port, its unix socket inside the temp dir, trust authentication on loopback, ``fsync`` on (the
durability tests need a real commit). :func:`stop_cluster` stops it and removes the dir. Every
wait is bounded. ``LABLENS_TEST_POSTGRES_URL`` names a server to use instead (nothing started).

A module of its own (not ``conftest.py``) so that test modules can import it by name.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from lablens._settings import free_port

#: The OS user the PostgreSQL server runs as (Debian's package makes it).
PG_USER = "postgres"
#: Seconds any one step (initdb, start, stop, a connection) may take.
TIMEOUT = 90


def find_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<major>/bin`` holding ``initdb`` and ``pg_ctl``, or None.

    No major version is assumed: Debian 12 ships 15, Debian 13 ships 17.
    """
    found = []
    for initdb in Path("/usr/lib/postgresql").glob("*/bin/initdb"):
        bin_dir = initdb.parent
        major = bin_dir.parent.name
        if (bin_dir / "pg_ctl").exists() and re.fullmatch(r"\d+(\.\d+)?", major):
            found.append((float(major), bin_dir))
    return max(found)[1] if found else None


def missing_reason() -> str | None:
    """Why no PostgreSQL can be had for tests, or None when one can."""
    if os.environ.get("LABLENS_TEST_POSTGRES_URL"):
        return None
    if find_bin_dir() is None:
        return (
            "PostgreSQL's server binaries are not installed (no /usr/lib/postgresql/*/bin/initdb);"
            " `make test` installs Debian's postgresql, or set LABLENS_TEST_POSTGRES_URL"
        )
    if os.geteuid() == 0 and not _has_user(PG_USER):
        return f"there is no {PG_USER!r} OS user to run the PostgreSQL server as"
    return None


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@dataclass
class Cluster:
    """A running PostgreSQL cluster: its address, and (when started here) its directory."""

    host: str
    port: int
    user: str
    root: Path | None = None  # the temp dir (data, socket, log); None for an outside server
    bin_dir: Path | None = None
    password: str | None = None  # an outside server's, from its URL

    def url(self, database: str = "postgres") -> str:
        """The ``postgresql://`` URL of one database of the cluster."""
        user = self.user if self.password is None else f"{self.user}:{quote(self.password)}"
        return f"postgresql://{user}@{self.host}:{self.port}/{database}"

    def log(self) -> str:
        """The server's log, for a failure message."""
        if self.root is None:
            return ""
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def cluster_of(url: str) -> Cluster:
    """The cluster a ``postgresql://`` URL points at (to make or drop databases in it)."""
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(url)
    return Cluster(
        str(info.get("host") or "127.0.0.1"),
        int(info.get("port") or 5432),
        str(info.get("user") or PG_USER),
        password=info.get("password"),
    )


def _as_postgres(argv: list[str], timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL binary as the ``postgres`` user (as root, through ``runuser``), bounded
    in time."""
    if os.geteuid() == 0:
        argv = ["runuser", "-u", PG_USER, "--", *argv]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
    )


def _initdb(bin_dir: Path, data: Path) -> None:
    base = [str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER, "-E", "UTF8"]
    base += ["--auth-local=trust", "--auth-host=trust", "--no-instructions"]
    # An ICU collation that is not byte order, so a query that forgets COLLATE "C" where byte
    # order matters fails here rather than on a user's en_US database. Older servers (< 15)
    # have no ICU default; C.UTF-8 then.
    attempts = [
        [*base, "--locale-provider=icu", "--icu-locale=en-US", "--locale=C.UTF-8"],
        [*base, "--locale=C.UTF-8"],
    ]
    errors = []
    for argv in attempts:
        if data.exists():
            shutil.rmtree(data)
        done = _as_postgres(argv)
        if done.returncode == 0:
            return
        errors.append(done.stderr.strip() or done.stdout.strip())
    raise RuntimeError("initdb failed:\n" + "\n---\n".join(errors))


def start_cluster() -> Cluster:
    """Start a throwaway cluster (or use ``LABLENS_TEST_POSTGRES_URL``'s server) and wait for it."""
    outside = os.environ.get("LABLENS_TEST_POSTGRES_URL")
    if outside:
        return cluster_of(outside)
    reason = missing_reason()
    if reason:
        raise RuntimeError(reason)
    bin_dir = find_bin_dir()
    assert bin_dir is not None
    # In /tmp itself: pytest's own temp dirs are root's, mode 700, which postgres cannot enter.
    root = Path(tempfile.mkdtemp(prefix="lablens-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, PG_USER, PG_USER)  # the server runs as postgres; else as ourselves
    data = root / "data"
    try:
        _initdb(bin_dir, data)
        for attempt in range(3):
            port = free_port()
            # Settings in the file rather than pg_ctl -o, so no shell quoting is involved.
            with open(data / "postgresql.auto.conf", "a") as conf:
                conf.write(
                    f"listen_addresses = '127.0.0.1'\nport = {port}\n"
                    f"unix_socket_directories = '{root}'\nfsync = on\nsynchronous_commit = on\n"
                    "max_connections = 200\n"
                )
            done = _as_postgres(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log")]
                + ["-w", "-t", str(TIMEOUT - 10), "start"]
            )
            if done.returncode == 0:
                cluster = Cluster("127.0.0.1", port, PG_USER, root, bin_dir)
                atexit.register(stop_cluster, cluster)  # also when the session is cut short
                return cluster
            if attempt == 2 or "could not bind" not in (root / "server.log").read_text():
                raise RuntimeError(
                    f"pg_ctl start failed: {done.stderr.strip()}\n"
                    f"{(root / 'server.log').read_text(errors='replace')[-4000:]}"
                )
            # Another process took the port between free_port() and the bind: another port.
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    raise AssertionError("unreachable")


def stop_cluster(cluster: Cluster) -> None:
    """Stop a cluster :func:`start_cluster` started and remove its directory (idempotent)."""
    if cluster.root is None or cluster.bin_dir is None or not cluster.root.exists():
        return
    data = cluster.root / "data"
    if (data / "postmaster.pid").exists():
        done = _as_postgres(
            [str(cluster.bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60"]
            + ["stop"]
        )
        if done.returncode != 0 and (data / "postmaster.pid").exists():
            _as_postgres([str(cluster.bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate"]
                         + ["-w", "-t", "30", "stop"])  # fmt: skip
    shutil.rmtree(cluster.root, ignore_errors=True)


def create_database(cluster: Cluster, prefix: str = "t") -> str:
    """Create a database with a unique name in ``cluster``; returns its URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster.url(), autocommit=True, connect_timeout=30) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return cluster.url(name)


def drop_database(cluster: Cluster, url: str) -> None:
    """Drop a database :func:`create_database` made, ending its open connections."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    deadline = time.monotonic() + 30
    with psycopg.connect(cluster.url(), autocommit=True, connect_timeout=30) as conn:
        while True:
            try:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except psycopg.errors.ObjectInUse:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
