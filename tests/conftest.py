"""Fixtures shared by every test: a real lablens server on loopback, and clients bound to it."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Nothing a test does may touch the user's own ~/.lablens.
os.environ["LABLENS_HOME"] = tempfile.mkdtemp(prefix="lablens-home-")
os.environ.pop("LABLENS_HOST", None)
os.environ.pop("LABLENS_API_KEY", None)

from lablens.contract.routes import project_route, run_route  # noqa: E402
from lablens.sdk import init  # noqa: E402
from servers import QUIET, RunningServer, log_points, start_server, stop_server  # noqa: E402

#: ``LABLENS_TEST_STORE=postgres``: the session server runs on PostgreSQL (``make test``'s second
#: pass over ``tests/integration``); anything else, or unset: on a data dir (the embedded store).
TEST_STORE = os.environ.get("LABLENS_TEST_STORE") or "embedded"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "embedded_only(reason): the test is about the embedded store (its data dir, its DuckDB"
        " file) and is skipped on the PostgreSQL pass",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, run only the tests that talk to the session ``server``.

    The others start servers of their own on data dirs, or no server at all: they would do the
    same thing again, so they run once, in the embedded pass. Tests marked ``embedded_only``
    are skipped with their reason.
    """
    if TEST_STORE != "postgres":
        return
    kept, dropped = [], []
    for item in items:
        (kept if "server" in getattr(item, "fixturenames", ()) else dropped).append(item)
        marker = item.get_closest_marker("embedded_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=f"embedded store only: {reason}"))
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RunningServer]:
    """One real server for the whole session, with an empty data dir.

    ``LABLENS_TEST_BLOBS=s3`` puts its blobs in a bucket of the ``s3_endpoint`` server
    (``--blobs s3://...``) instead of the data dir. ``LABLENS_TEST_STORE=postgres`` puts its
    store in a new database of the session's PostgreSQL (``--store postgresql://...``), its
    blobs (unless in S3) in ``DATA/blobs`` as ``--blobs file:///...``, and chooses the admin's
    key (``LABLENS_ADMIN_API_KEY``), since such a server writes nothing of its own to disk.
    """
    home = Path(os.environ["LABLENS_HOME"])
    data = tmp_path_factory.mktemp("data") / "lablens"
    args: list[str] = []
    env: dict[str, str] = {}
    if os.environ.get("LABLENS_TEST_BLOBS") == "s3":
        from s3 import make_bucket

        s3 = request.getfixturevalue("s3_endpoint")
        args, env = ["--blobs", f"s3://{make_bucket(s3)}/session"], s3.env()
    database = None
    if TEST_STORE == "postgres":
        import secrets

        import pg

        cluster = pg.cluster_of(request.getfixturevalue("postgres_url"))
        database = pg.create_database(cluster, prefix="session")
        args = ["--store", database, *(args or ["--blobs", f"file://{data / 'blobs'}"])]
        env["LABLENS_ADMIN_API_KEY"] = "ll_" + secrets.token_hex(24)
    elif TEST_STORE != "embedded":
        raise pytest.UsageError(f"LABLENS_TEST_STORE={TEST_STORE!r}: use postgres or embedded")
    srv = start_server(data, home, args, env)
    yield srv
    stop_server(srv)
    if database is not None:
        import pg

        pg.drop_database(pg.cluster_of(database), database)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL for the session (``tests/pg.py``): the URL of its ``postgres`` database.

    Skipped, with the reason, when Debian's server binaries are missing, unless under ``make``
    (``make test`` installs them, so there their absence is a failure).
    """
    import pg

    reason = pg.missing_reason()
    if reason:
        if os.environ.get("MAKELEVEL"):
            pytest.fail(reason)
        pytest.skip(reason)
    cluster = pg.start_cluster()
    yield cluster.url()
    pg.stop_cluster(cluster)


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty database of the session's PostgreSQL, dropped after the test."""
    import pg

    cluster = pg.cluster_of(postgres_url)
    url = pg.create_database(cluster)
    yield url
    pg.drop_database(cluster, url)


@pytest.fixture
def unique() -> str:
    """A short unique name, so tests sharing the server never collide."""
    return "t" + uuid.uuid4().hex[:10]


# -- Api fixtures: a client bound to the test server, and factories for projects and runs --------


@pytest.fixture
def api(server: RunningServer):
    """An ``Api`` signed in as the server's admin."""
    from lablens.api import Api

    return Api(host=server.url, api_key=server.api_key)


@pytest.fixture
def start(server, unique, tmp_path):
    """``start(**kwargs)``: a run in a project of its own; finished after the test if still open."""
    runs = []

    def start(**kwargs):
        kwargs.setdefault("project", unique)
        kwargs.setdefault("settings", QUIET)
        kwargs.setdefault("dir", tmp_path)
        run = init(host=server.url, api_key=server.api_key, **kwargs)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.finish()


@pytest.fixture
def counted(api):
    """Record the route of every request ``api`` sends."""
    calls: list[str] = []
    request = api.client.request

    def counting(method, path, **kwargs):
        calls.append(path)
        return request(method, path, **kwargs)

    api.client.request = counting
    return calls


@pytest.fixture
def make_project(api, unique: str):
    """Make projects with unique names: ``make_project()`` or ``make_project("name", ...)``.

    Cleanup deletes each project made, with its runs, sweeps and reports.
    """
    import itertools

    counter = itertools.count()
    made = []

    def make(name: str | None = None, **kwargs):
        project = api.create_project(name or f"{unique}-{next(counter)}", **kwargs)
        made.append(project)
        return project

    yield make
    for project in made:
        _delete_quietly(project)


def _delete_quietly(resource) -> None:
    """Delete a run or project a test made, unless the test deleted it already."""
    import contextlib

    from lablens.errors import NotFound

    with contextlib.suppress(NotFound):
        resource.delete()


@pytest.fixture
def make_run(api, make_project):
    """Make a run through the HTTP routes: ``make_run(project, config=..., points=...)``.

    ``project`` is a ``Project`` (default: a new one); ``points`` as for ``log_points``;
    ``system`` the same for the system stream; ``summary`` is set after the points, and
    ``state`` last (``None`` leaves it RUNNING). Returns the ``Run`` as ``api.run()`` reads it.
    """
    made = []

    def make(
        project=None,
        *,
        points=None,
        system=None,
        summary=None,
        state: str | None = "FINISHED",
        **fields,
    ):
        project = project or make_project()
        data = api.client.post_json(f"{project_route(project.entity, project.name)}/runs", fields)
        path = data["path"]
        if points:
            log_points(api, path, points)
        if system:
            log_points(api, path, system, stream="system")
        changes = {}
        if summary:
            changes["summary"] = summary
        if state:
            changes["state"] = state
        if changes:
            api.client.patch_json(run_route(project.entity, project.name, data["id"]), changes)
        run = api.run(path)
        made.append(run)
        return run

    yield make
    for run in made:
        _delete_quietly(run)


# -- S3: one real S3 server (SeaweedFS) for the session, a fresh bucket per test ---------------


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory):
    """A real S3 server on loopback (``weed server -s3``, ``tests/s3.py``) that checks its
    credentials: ``.endpoint``, ``.access_key``, ``.secret_key``, ``.env()``, ``.client()``."""
    from s3 import start_s3, stop_s3

    server = start_s3(tmp_path_factory.mktemp("s3"))
    yield server
    stop_s3(server)


@pytest.fixture
def s3_bucket(s3_endpoint) -> Iterator[str]:
    """The name of a new empty bucket of ``s3_endpoint``, deleted with its contents after."""
    from s3 import drop_bucket, make_bucket

    bucket = make_bucket(s3_endpoint)
    yield bucket
    drop_bucket(s3_endpoint, bucket)
