"""``lablens migrate``: a data dir written by a real server, copied into a real PostgreSQL and a
blob store (a directory; a SeaweedFS bucket), every table's rows and every blob checked equal,
a second run adding nothing, an interrupted run finished by the next, and refusals named."""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import psycopg
import pytest

import lablens
from lablens._settings import free_port, stop_process
from lablens.api import Api, OnCreateArtifact, SendWebhook
from lablens.sdk import init
from lablens.store.embedded.schema import MIGRATIONS
from lablens.store.migrate import MigrationRefused, migrate
from lablens.store.postgres._copy import read_series
from servers import QUIET, log_points, spawn_server, start_server, stop_server

ALL = (-(2**63), 2**63 - 1)
#: Tables the data dir built below has rows in (the check compares every table, these too).
FILLED = {
    "users", "api_keys", "workspaces", "members", "projects", "project_fields", "runs",
    "metric_keys", "points", "run_keys", "point_tiles", "batches", "files", "console",
    "sweeps", "sweep_trials", "reports", "artifact_types", "artifact_collections", "artifacts",
    "artifact_aliases", "artifact_files", "artifact_usage", "blob_grants", "media",
    "media_batches", "custom_charts", "run_queues", "run_queue_items", "registries",
    "registry_members", "integrations", "automations", "automation_deliveries",
    "automation_attempts",
}  # fmt: skip
LONG = 30_000  # past the embedded store's TILE_FROM (25k points)
RGB = np.random.default_rng(5).integers(0, 256, (12, 16, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A data dir written through a real server (then stopped): two users and a team, runs
    with points (NaN, infinities, a repeated step), a file, console lines, an image, an artifact
    logged by one run and used by another, a sweep with trials, a report. Returns the data dir
    and what the tests compare with: the first run's path and its full history."""
    root = tmp_path_factory.mktemp("migrate")
    data_dir, home = root / "data", root / "home"
    srv = start_server(data_dir, home)
    try:
        api = Api(host=srv.url, api_key=srv.api_key)
        api.create_user("bob@lab.test", username="bob")
        api.create_team("vision")
        project = "moving"
        # An automation whose webhook nothing answers: the new version below records a
        # delivery and its first failed attempt (integrations, automations, deliveries, attempts).
        api.create_project(project)
        hook = api.create_webhook_integration("nowhere", f"http://127.0.0.1:{free_port()}/x")
        automation = api.create_automation(
            OnCreateArtifact(scope=f"{srv.username}/{project}")
            >> SendWebhook.from_integration(hook, payload={"v": "${artifact_version}"}),
            name="tell-nobody",
        )
        run = init(
            project=project,
            host=srv.url,
            api_key=srv.api_key,
            settings=QUIET,
            dir=root / "sdk",
            config={"lr": 0.01, "model": {"layers": [64, 32], "act": "relu"}},
            tags=["base", "v1"],
        )
        for step in range(300):
            run.log({"loss": 1 / (step + 1), "acc": step / 300}, step=step)
        run.log({"img": lablens.Image(RGB, caption="rgb")}, step=300)
        artifact = lablens.Artifact("weights", "model")
        (root / "w.bin").write_bytes(os.urandom(70_000))
        artifact.add_file(root / "w.bin", name="w.bin")
        run.log_artifact(artifact, aliases=["best"])
        run.finish()
        deadline = time.monotonic() + 60
        while not [d for d in automation.deliveries() if d.attempts]:
            assert time.monotonic() < deadline, "the webhook worker recorded no attempt"
            time.sleep(0.05)
        path = f"{srv.username}/{project}/{run.id}"
        stored = api.run(path)
        (root / "notes.txt").write_bytes(b"notes\n" * 500)
        stored.upload_file(root / "notes.txt", root=root)
        # NaN, infinities and a repeated step, as the wire carries them.
        log_points(
            api,
            path,
            {"odd": ([0, 1, 1, 2, 3], [math.nan, math.inf, -math.inf, 0.5, -0.0])},
        )
        # A long series: the sampling pyramid (point_tiles) is kept for it.
        log_points(api, path, {"long": np.sin(np.arange(LONG) / 100.0)})
        api.client.post_json(
            f"/api/v1/projects/{srv.username}/{project}/runs/{run.id}/console",
            {"lines": [{"ts": 1.5, "stream": "stdout", "line": f"line {i}"} for i in range(40)]},
        )
        user = init(
            project=project, host=srv.url, api_key=srv.api_key, settings=QUIET, dir=root / "sdk"
        )
        user.use_artifact("weights:best")
        user.log({"loss": 0.5})
        user.finish()
        sweep_id = lablens.sweep(
            {"method": "grid", "parameters": {"lr": {"values": [0.1, 0.2]}}},
            entity=srv.username,
            project=project,
            host=srv.url,
            api_key=srv.api_key,
        )

        def train() -> None:
            with lablens.init(settings=QUIET, dir=root / "sdk") as trial:
                trial.log({"score": trial.config["lr"] * 2})

        assert lablens.agent(sweep_id, train, host=srv.url, api_key=srv.api_key) == 2
        api.create_report(f"{srv.username}/{project}", "Moving up", description="all runs")
        api.create_custom_chart(
            srv.username,
            "loss-curve",
            spec={"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "mark": "line"},
            query={"keys": ["loss"]},
        )
        queue = api.create_run_queue("cpu", "local-process", config={"gpus": 0})
        api.client.post_json(
            f"/api/v1/workspaces/{srv.username}/run-queues/{queue.name}/items",
            {"project": project, "job": f"{srv.username}/{project}/job:v0", "job_id": "j0"},
        )
        # A registry (its row, its maker listed) with a version linked into it.
        api.create_registry("shelf", "restricted", organization=srv.username)
        api.artifact(f"{srv.username}/{project}/weights:best").link("wandb-registry-shelf/best")
        history = api.run(path).history(samples=None, pandas=False, keys=["loss", "acc"])
        odd = api.run(path).history(samples=None, pandas=False, keys=["odd"])
    finally:
        stop_server(srv)
    return {
        "dir": data_dir,
        "path": path,
        "history": history,
        "odd": odd,
        "root": root,
        "api_key": srv.api_key,
    }


def tables(report) -> dict[str, tuple[int, int, int]]:
    return {t.name: (t.source_rows, t.target_rows, t.new_rows) for t in report.tables}


def blob_files(root: Path) -> dict[str, bytes]:
    return {p.parent.name + p.name: p.read_bytes() for p in root.glob("??/*")}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lablens", "migrate", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_migrate_copies_every_table_and_blob_and_a_second_run_adds_nothing(
    data, pg_database, tmp_path
):
    blobs = tmp_path / "blobs"
    first = cli("--from", str(data["dir"]), "--to", pg_database, "--blobs", blobs.as_uri())
    assert first.returncode == 0, first.stdout + first.stderr
    lines = first.stdout.splitlines()
    assert lines[-1].startswith(f"Verified: {len(FILLED)} tables"), first.stdout
    assert "DIFFERS" not in first.stdout
    # The progress bar went to stderr.
    assert "rows" in first.stderr

    again = migrate(data["dir"], pg_database, blobs.as_uri(), progress=False)
    assert again.ok
    counts = tables(again)
    assert set(counts) == FILLED
    assert all(src == dst > 0 for src, dst, _ in counts.values()), "\n".join(again.lines())
    assert again.new_rows == 0 and again.blobs.new == 0
    assert again.lines()[-1].endswith("0 new rows and 0 new blobs on this run.")
    points = counts["points"][0]
    # loss and acc, odd, long, the second run's loss, two trials' scores
    assert points == 300 * 2 + 5 + LONG + 1 + 2

    # The first run reported every row as new.
    for name, (src, _, _) in counts.items():
        row = next(line for line in lines if line.startswith(name + " "))
        assert row.split()[1:4] == [f"{src:,}", f"{src:,}", f"{src:,}"], row

    # Every blob is in the target directory with the same bytes.
    source_blobs = blob_files(data["dir"] / "blobs")
    assert len(source_blobs) == 3  # the image, the artifact's file, the run file
    assert blob_files(blobs) == source_blobs
    assert all(hashlib.sha256(b).hexdigest() == d for d, b in blob_files(blobs).items())

    # Read back independently of the checksums: a series, with its NaN and repeated step.
    src = duckdb.connect(str(data["dir"] / "lablens.duckdb"), read_only=True)
    try:
        run_pk, key_id = src.execute(
            "SELECT r.pk, k.id FROM runs r, metric_keys k WHERE r.id = ? AND k.name = 'odd'",
            [data["path"].rsplit("/", 1)[1]],
        ).fetchone()
        config = src.execute("SELECT config FROM runs WHERE pk = ?", [run_pk]).fetchone()[0]
        largest = src.execute("SELECT max(pk) FROM runs").fetchone()[0]
    finally:
        src.close()
    with psycopg.connect(pg_database) as conn:
        steps, _, values, nulls = read_series(conn, run_pk, key_id, *ALL)
        assert steps.tolist() == [0, 1, 1, 2, 3] and not nulls.any()
        assert math.isnan(values[0]) and values[1:4].tolist() == [math.inf, -math.inf, 0.5]
        assert math.copysign(1, values[4]) == -1
        assert (
            conn.execute("SELECT config::text FROM runs WHERE pk = %s", [run_pk]).fetchone()[0]
            == config
        )
        # The next run a server makes gets a new pk.
        assert (
            conn.execute("SELECT nextval(pg_get_serial_sequence('runs', 'pk'))").fetchone()[0]
            > largest
        )


class Interrupted(Exception):
    pass


def test_an_interrupted_migration_is_finished_by_the_next_run(data, pg_database, tmp_path):
    blobs = tmp_path / "blobs"
    seen: list[str] = []

    def stop_in(table: str):
        def hook(name: str, rows: int) -> None:
            seen.append(name)
            if name == table:
                raise Interrupted(name)

        return hook

    # Small batches, so that tables and runs span several. Cut after the first batch of runs
    # was committed, then after the first run's points.
    small = {"progress": False, "batch_rows": 3, "point_batch_rows": 1000}
    with pytest.raises(Interrupted):
        migrate(data["dir"], pg_database, blobs.as_uri(), hook=stop_in("runs"), **small)
    with psycopg.connect(pg_database) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 3
        assert conn.execute("SELECT count(*) FROM point_chunks").fetchone()[0] == 0
    with pytest.raises(Interrupted):
        migrate(data["dir"], pg_database, blobs.as_uri(), hook=stop_in("points"), **small)
    with psycopg.connect(pg_database) as conn:
        runs_copied = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        points_copied = conn.execute("SELECT sum(n) FROM point_chunks").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 0
    assert not blob_files(blobs)

    done = migrate(data["dir"], pg_database, blobs.as_uri(), **small)
    assert done.ok, "\n".join(done.lines())
    counts = tables(done)
    assert runs_copied == 4 and counts["runs"][2] == 0
    # The points of the run committed before the cut were not copied twice.
    assert 0 < points_copied < counts["points"][0]
    assert counts["points"][2] == counts["points"][0] - points_copied
    assert counts["files"][2] == counts["files"][0] > 0
    assert done.blobs.new == done.blobs.source > 0

    last = migrate(data["dir"], pg_database, blobs.as_uri(), progress=False)
    assert last.ok and last.new_rows == 0 and last.blobs.new == 0


def test_blobs_go_to_an_s3_bucket_checked_by_their_sha256(
    data, pg_database, s3_endpoint, s3_bucket, monkeypatch
):
    for name, value in s3_endpoint.env().items():
        monkeypatch.setenv(name, value)
    url = f"s3://{s3_bucket}/team"
    report = migrate(data["dir"], pg_database, url, progress=False, check_blob_contents=True)
    assert report.ok and report.blobs.contents_checked
    assert "sizes and sha256 read back" in report.lines()[-2]
    client = s3_endpoint.client()
    keys = {
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=s3_bucket)
        for item in page.get("Contents", [])
    }
    source = blob_files(data["dir"] / "blobs")
    assert keys == {f"team/{d[:2]}/{d[2:]}" for d in source}
    some = sorted(source)[0]
    body = client.get_object(Bucket=s3_bucket, Key=f"team/{some[:2]}/{some[2:]}")["Body"].read()
    assert body == source[some]
    assert migrate(data["dir"], pg_database, url, progress=False).blobs.new == 0


# -- refusals ----------------------------------------------------------------------------------


def test_a_missing_data_dir_and_a_target_that_is_not_postgresql_are_refused(
    data, tmp_path, pg_database
):
    blobs = (tmp_path / "b").as_uri()
    with pytest.raises(MigrationRefused, match="the data dir .*nowhere does not exist"):
        migrate(tmp_path / "nowhere", pg_database, blobs, progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(MigrationRefused, match="not a lablens data dir: it has no lablens.duckdb"):
        migrate(tmp_path / "empty", pg_database, blobs, progress=False)
    with pytest.raises(MigrationRefused, match="'mysql://u@h/db' is not a PostgreSQL database"):
        migrate(data["dir"], "mysql://u@h/db", blobs, progress=False)
    with pytest.raises(MigrationRefused, match="--blobs: no blob store for the scheme 'ftp'"):
        migrate(data["dir"], pg_database, "ftp://x/y", progress=False)
    # The command says the same, and exits with 2.
    out = cli("--from", str(tmp_path / "nowhere"), "--to", pg_database, "--blobs", blobs)
    assert out.returncode == 2
    assert out.stderr.startswith("lablens migrate: the data dir") and "does not exist" in out.stderr


def test_a_data_dir_of_a_newer_lablens_is_refused_untouched(data, tmp_path, pg_database):
    copy = tmp_path / "newer"
    shutil.copytree(data["dir"], copy)
    con = duckdb.connect(str(copy / "lablens.duckdb"))
    con.execute("INSERT INTO schema_version VALUES (99)")
    con.close()
    before = (copy / "lablens.duckdb").read_bytes()

    known = len(MIGRATIONS)  # the embedded schema's version this lablens knows
    with pytest.raises(MigrationRefused, match=f"schema version 99, newer than the {known} "):
        migrate(copy, pg_database, (tmp_path / "b").as_uri(), progress=False)
    assert (copy / "lablens.duckdb").read_bytes() == before
    with psycopg.connect(pg_database) as conn:  # nothing was made in the target either
        assert conn.execute("SELECT to_regclass('runs')").fetchone()[0] is None


def test_a_data_dir_in_use_by_a_running_server_is_refused(tmp_path, pg_database):
    srv = start_server(tmp_path / "live", tmp_path / "home")
    try:
        with pytest.raises(MigrationRefused, match=r"in use by a running lablens server \(pid"):
            migrate(srv.data_dir, pg_database, (tmp_path / "b").as_uri(), progress=False)
    finally:
        stop_server(srv)


def test_a_database_holding_other_accounts_is_refused(data, tmp_path, pg_database):
    blobs = (tmp_path / "b").as_uri()
    assert migrate(data["dir"], pg_database, blobs, progress=False).ok
    with psycopg.connect(pg_database) as conn:
        conn.execute("UPDATE users SET username = 'someone-else' WHERE id = 1")
    with pytest.raises(MigrationRefused, match="already holds user 'someone-else' \\(id 1\\)"):
        migrate(data["dir"], pg_database, blobs, progress=False)


def test_a_data_dir_of_an_older_lablens_is_upgraded_then_copied(tmp_path, pg_database):
    from lablens.store.embedded._db import Database as EmbeddedDatabase

    old = tmp_path / "old"
    old.mkdir()
    db = EmbeddedDatabase(old / "lablens.duckdb", MIGRATIONS[:4])  # before blob grants, media
    db.con.execute("INSERT INTO users (username, is_admin) VALUES ('ada', true)")
    db.close()
    report = migrate(old, pg_database, (tmp_path / "b").as_uri(), progress=False)
    assert report.ok
    counts = tables(report)
    assert counts["users"] == (1, 1, 1) and counts["media"] == (0, 0, 0)
    con = duckdb.connect(str(old / "lablens.duckdb"), read_only=True)
    assert con.execute("SELECT max(version) FROM schema_version").fetchall() == [(len(MIGRATIONS),)]
    con.close()


def same(rows: list[dict]) -> list[dict]:
    """Rows with NaN made comparable (NaN == NaN), for comparing histories."""
    return [{k: "NaN" if v != v else v for k, v in row.items()} for row in rows]


def float_bits(column, *, signed_zero: bool = True) -> list:
    """Floats as their bits (NaN equal to NaN), nulls as None."""
    arr = column.combine_chunks()
    values = arr.fill_null(0.0).to_numpy(zero_copy_only=False) + (0.0 if not signed_zero else -0.0)
    nulls = arr.is_null().to_pylist()
    return [None if n else b for b, n in zip(values.view(np.int64).tolist(), nulls, strict=True)]


def test_the_postgresql_engine_reads_the_migrated_points_as_the_embedded_one_did(
    data, pg_database, tmp_path
):
    """Every series of the project, whole and sampled (the long one from its copied tiles),
    read through the PostgreSQL engine's history part equals the embedded engine's read."""
    from lablens.store.common.accounts import Accounts
    from lablens.store.common.projects import Projects
    from lablens.store.embedded.store import EmbeddedStore
    from lablens.store.postgres._db import Database
    from lablens.store.postgres._history import History
    from lablens.store.postgres._sql import PostgresSql

    assert migrate(data["dir"], pg_database, (tmp_path / "b").as_uri(), progress=False).ok
    shutil.copytree(data["dir"], tmp_path / "copy")  # opening a data dir writes to it
    embedded = EmbeddedStore(tmp_path / "copy")
    db = Database(pg_database)
    try:
        history = History(db, Projects(PostgresSql(db), Accounts(PostgresSql(db))))
        entity, project, _ = data["path"].split("/")
        # Whole: every series of the project. Sampled: the long series, read from the tiles
        # that were copied (a short series is sampled from its points by each engine, where
        # equal values may pick different points).
        for samples, keys in ((None, None), (100, ["long"]), (2000, ["long"])):
            a = embedded.history(entity, project, None, samples=samples, keys=keys)
            b = history.history(entity, project, None, samples=samples, keys=keys)
            assert b.schema == a.schema and b.num_rows == a.num_rows
            every = 300 * 2 + 5 + LONG + 1 + 2
            assert a.num_rows == every if samples is None else 0 < a.num_rows < LONG
            for name in ("run_id", "key", "step"):
                assert b[name].to_pylist() == a[name].to_pylist(), (samples, name)
            # Sampled, DuckDB groups -0.0 with 0.0; every other bit is equal.
            for name in ("timestamp", "value"):
                sign = samples is None
                fa = float_bits(a[name], signed_zero=sign)
                fb = float_bits(b[name], signed_zero=sign)
                diff = [
                    (
                        a["key"][i].as_py(),
                        a["step"][i].as_py(),
                        a[name][i].as_py(),
                        b[name][i].as_py(),
                    )
                    for i in range(len(fa))
                    if fa[i] != fb[i]
                ]
                assert not diff, (samples, name, diff[:10])
    finally:
        db.close()
        embedded.close()


@pytest.fixture
def team_store(pg_database) -> str:
    """``pg_database``, once the PostgreSQL store has all its parts (skipped before)."""
    try:
        from lablens.store.postgres.store import PostgresStore  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"the PostgreSQL store is not complete yet: {exc}")
    return pg_database


def test_a_team_server_on_the_migrated_database_serves_the_same_runs(team_store, data, tmp_path):
    pg_database = team_store
    blobs = tmp_path / "blobs"
    assert migrate(data["dir"], pg_database, blobs.as_uri(), progress=False).ok
    port = free_port()
    proc = spawn_server(
        port,
        tmp_path / "unused",
        tmp_path / "home",
        ["--store", pg_database, "--blobs", blobs.as_uri()],
    )
    try:
        # The data dir's admin key opens the team server: keys were copied with their ids.
        api = Api(host=f"http://127.0.0.1:{port}", api_key=data["api_key"])
        run = api.run(data["path"])
        assert same(run.history(samples=None, pandas=False, keys=["loss", "acc"])) == same(
            data["history"]
        )
        assert same(run.history(samples=None, pandas=False, keys=["odd"])) == same(data["odd"])
        assert run.config["model"] == {"layers": [64, 32], "act": "relu"}
        assert sorted(run.tags) == ["base", "v1"]
        notes = run.file("notes.txt").download(root=tmp_path / "down", replace=True)
        assert notes.read_bytes() == b"notes\n" * 500
        entity, project, _ = data["path"].split("/")
        best = api.artifact(f"{entity}/{project}/weights:best")
        assert "best" in best.aliases
        folder = Path(best.download(root=tmp_path / "art"))
        assert (folder / "w.bin").read_bytes() == (data["root"] / "w.bin").read_bytes()
        # A new run on the team server gets a new pk; the migrated ones stay.
        fresh = init(
            project=project,
            entity=entity,
            host=f"http://127.0.0.1:{port}",
            api_key=data["api_key"],
            settings=QUIET,
            dir=tmp_path / "sdk",
        )
        fresh.log({"loss": 0.25})
        fresh.finish()
        assert len(api.runs(f"{entity}/{project}")) == 5
    finally:
        stop_process(proc)
