"""Running a server: first-start setup, then uvicorn in the foreground."""

from __future__ import annotations

import getpass
import importlib
import ipaddress
import logging
import os
import re
import threading
from pathlib import Path

import uvicorn

from lablens import _settings
from lablens.server.app import create_app, warm_routes
from lablens.server.liveness import LivenessWatch
from lablens.server.records_journal import RecordsJournal
from lablens.server.routers.run_records import journal_applier
from lablens.store import open_store
from lablens.store.base import Store
from lablens.store.errors import StoreError
from lablens.store.limits import LIMITS

log = logging.getLogger("lablens.server")

ADMIN_KEY_FILE = "admin.key"
#: The shortest ``LABLENS_ADMIN_API_KEY`` a server accepts: a key is the admin's password.
MIN_ADMIN_KEY_LENGTH = 32


def check_admin_key(key: str | None) -> None:
    """Refuse a chosen admin key too short to withstand guessing (``hunter2``)."""
    if key is not None and len(key) < MIN_ADMIN_KEY_LENGTH:
        raise SystemExit(
            f"lablens server: LABLENS_ADMIN_API_KEY has {len(key)} characters; an admin key needs"
            f" at least {MIN_ADMIN_KEY_LENGTH}. Make one with:"
            " python -c 'import secrets; print(\"ll_\" + secrets.token_hex(24))'"
        )


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def admin_name(os_user: str | None) -> str:
    """The OS user's name made a valid username (``store/names.py``): ``John Smith`` becomes
    ``John-Smith``; ``admin`` when nothing is left."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", os_user or "").strip("-.")
    return name[: LIMITS.max_name_length] or "admin"


def ensure_admin(store: Store, data_dir: Path | None, *, allow_create: bool) -> str | None:
    """Make the admin on a new store; return ``"USERNAME KEY"`` of the admin when this server
    knows the key.

    The admin is the OS user; ``LABLENS_ADMIN_API_KEY`` chooses its key instead of a random one.
    Of several servers starting together on one new database, exactly one makes it
    (``Store.create_first_admin``). With a data dir (the embedded store) its key is kept in
    ``DATA/admin.key`` (0600, beside the database, which grants the same power), so a restart on
    another port can hand it to local clients. A PostgreSQL store's server keeps nothing on its
    disk: it knows the key it made, or ``LABLENS_ADMIN_API_KEY``.
    """
    key_file = data_dir / ADMIN_KEY_FILE if data_dir is not None else None
    chosen = os.environ.get("LABLENS_ADMIN_API_KEY") or None
    if store.user_count() == 0 and not allow_create:
        raise SystemExit(
            "lablens server: refusing to listen beyond the loopback with no API keys"
            " configured. Start it once on 127.0.0.1 to create the admin, or set"
            " LABLENS_ADMIN_API_KEY."
        )
    created = None
    if allow_create:
        created = store.create_first_admin(admin_name(getpass.getuser()), key=chosen)
    if created is not None:
        log.info("created admin user %s", created["username"])
        if key_file is None:
            return f"{created['username']} {created['key']}"
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"{created['username']}\n{created['key']}\n")
    if key_file is not None and key_file.exists():
        username, key = key_file.read_text().split()[:2]
        return f"{username} {key}"
    if chosen and (admin := store.user_for_key(chosen)) and admin["is_admin"]:
        return f"{admin['username']} {chosen}"
    return None


def serve(
    host: str,
    port: int,
    data_dir: Path | str,
    *,
    log_level: str = "warning",
    blobs: str | None = None,
    store_url: str | None = None,
) -> None:
    """Run a server in the foreground until interrupted.

    On a new data dir it creates the admin and stores the key in ``LABLENS_HOME/credentials``
    for this server's address, so local clients need no key. ``blobs`` is where blob bytes
    go (``file:///path`` or ``s3://BUCKET/PREFIX``; by default ``DATA/blobs``); ``store_url``
    names the store instead of ``data_dir``: ``duckdb:///dir``, or ``postgresql://...`` (the
    team store, which needs ``blobs`` and uses no data dir). A store or blob store that cannot
    be used (a database that cannot be reached, or one a newer lablens migrated) stops the
    server before it listens, with the reason.
    """
    # One line per event, for the operator: the ASGI server's own loggers are set by uvicorn.
    logging.basicConfig(
        level=getattr(logging, log_level.upper(), logging.DEBUG),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    check_admin_key(os.environ.get("LABLENS_ADMIN_API_KEY") or None)
    url: str | Path
    keeps: Path | None = None  # the data dir, where the store keeps one
    if store_url and not store_url.startswith("duckdb://"):
        url = store_url  # open_store names what it cannot open
    else:
        if store_url:
            data_dir = store_url[len("duckdb://") :]
        url = keeps = Path(data_dir).expanduser().resolve()
    try:
        store = open_store(url, blobs=blobs or None)
    except (StoreError, ValueError) as exc:
        raise SystemExit(f"lablens server: {exc}") from None
    except ImportError as exc:
        # psycopg and boto3 are the ``team`` extra, loaded only for a PostgreSQL store and for
        # s3:// blobs.
        missing = exc.name or ""
        if not missing.startswith(("psycopg", "boto")):
            raise
        needs = "a PostgreSQL store" if missing.startswith("psycopg") else f"--blobs {blobs}"
        raise SystemExit(
            f"lablens server: {exc.name or exc} is missing for {needs}: pip install 'lablens[team]'"
        ) from None
    log.info("store %r", store)
    allow = is_loopback(host) or bool(os.environ.get("LABLENS_ADMIN_API_KEY"))
    admin = ensure_admin(store, keeps, allow_create=allow)
    if admin and is_loopback(host):
        username, key = admin.split()
        _settings.store_credentials(f"http://{host}:{port}", key, username)
    app = create_app(store)
    warm_routes(app)
    journal = os.environ.get("LABLENS_RECORDS_JOURNAL", "on")
    if keeps is not None and journal != "off":
        # New short runs answered once journaled (records_journal.py); what a killed server
        # left in the journal is stored first.
        hold = journal == "hold"
        apply = journal_applier(app.state.automations)
        app.state.journal = RecordsJournal(store, keeps, apply, hold=hold).start()
    # pyarrow imports pandas the first time it checks whether a value is a pandas object,
    # which the first batch of points does: ~0.3-0.5 s (seconds on a busy machine) that the
    # first request of each server process paid. Imported beside the start instead, off the
    # way of the server's readiness and of requests that never need it.
    threading.Thread(
        target=importlib.import_module, args=("pandas",), name="lablens-import", daemon=True
    ).start()
    watch = LivenessWatch(store).start()
    # The webhook worker, at once: it sends what an earlier run of the server left due.
    app.state.automations.start()
    try:
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
    finally:
        if app.state.journal is not None:
            app.state.journal.stop()  # what is journaled is stored before the store closes
        app.state.automations.stop()
        watch.stop()
        store.close()
