"""Run files, console lines, blob rights and media of the PostgreSQL store on a real PostgreSQL,
each call compared with the same call on the embedded store; blobs in a real ``LocalBlobs`` dir
or a real S3 bucket (SeaweedFS)."""

from __future__ import annotations

import hashlib
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lablens.store.blob_files import BlobFiles
from lablens.store.blobs import BlobNotFound, BlobStore, LocalBlobs
from lablens.store.blobs.s3 import S3Blobs
from lablens.store.common.accounts import Accounts
from lablens.store.common.blob_grants import BlobGrants
from lablens.store.common.media import Media
from lablens.store.common.projects import Projects
from lablens.store.common.run_creation import RunCreation
from lablens.store.common.run_files import RunFiles
from lablens.store.common.runs import Runs
from lablens.store.embedded.store import EmbeddedStore
from lablens.store.errors import InvalidInput, NotFound
from lablens.store.postgres._db import Database
from lablens.store.postgres._run_query import RunQueries
from lablens.store.postgres._sql import PostgresSql

# The world both stores hold: alice's private project with two runs, bob's public one with one.
RUNS = [("alice", "vision", "r1"), ("alice", "vision", "r2"), ("bob", "pub", "b1")]
VISIBILITY = {("alice", "vision"): "PRIVATE", ("bob", "pub"): "PUBLIC"}


class PgParts:
    """The PostgreSQL parts under test and those they need, built as ``PostgresStore``
    builds them (the artifact parts, not on main yet, left out)."""

    def __init__(self, db: Database, blob_store: BlobStore) -> None:
        self.db = db
        self.blobs = files = BlobFiles(blob_store)
        self.accounts = accounts = Accounts(PostgresSql(db))
        self.projects = projects = Projects(PostgresSql(db), accounts)
        self.runs = runs = Runs(PostgresSql(db), projects, RunQueries(db))
        self.run_creation = RunCreation(runs.sql, projects, runs)
        sql = PostgresSql(db)
        self.run_files = RunFiles(sql, runs, files)
        self.grants = grants = BlobGrants(sql, files)
        self.media = Media(sql, projects, runs, grants, files)


def seed_pg(pg: PgParts) -> None:
    """The world, made through the real parts."""
    for user in ("alice", "bob"):
        pg.accounts.create_user(user)
    for (ws, name), visibility in VISIBILITY.items():
        pg.projects.create_project(ws, name, visibility=visibility)
    for ws, project, run_id in RUNS:
        pg.run_creation.create_run(ws, project, {"id": run_id}, username=ws)


def seed_embedded(store: EmbeddedStore) -> None:
    for user in ("alice", "bob"):
        store.create_user(user)
    for (ws, name), visibility in VISIBILITY.items():
        store.create_project(ws, name, visibility=visibility)
    for ws, project, run_id in RUNS:
        store.create_run(ws, project, {"id": run_id}, username=ws)


@pytest.fixture
def emb(tmp_path: Path):
    store = EmbeddedStore(tmp_path / "embedded")
    seed_embedded(store)
    yield store
    store.close()


@pytest.fixture
def pg(pg_database: str, tmp_path: Path):
    db = Database(pg_database, max_size=4)
    parts = PgParts(db, LocalBlobs(tmp_path / "pg-blobs"))
    seed_pg(parts)
    yield parts
    db.close()


def same(emb_call, pg_call):
    """Call both; equal answers, or the same error (class, message and field)."""
    try:
        want = emb_call()
    except Exception as exc:
        with pytest.raises(type(exc)) as err:
            pg_call()
        assert str(err.value) == str(exc)
        assert getattr(err.value, "field", None) == getattr(exc, "field", None)
        return exc
    got = pg_call()
    assert got == want
    return got


def no_times(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """File rows without their write time, which differs between the two stores."""
    out = []
    for r in rows:
        assert r["updated_at"].endswith("Z") and len(r["updated_at"]) == 24
        out.append({k: v for k, v in r.items() if k != "updated_at"})
    return out


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- files ----------------------------------------------------------------------------------------
def check_files(emb: EmbeddedStore, pg: PgParts) -> None:
    where = ("alice", "vision", "r1")
    contents = {
        "model.pt": b"\x00\x01weights" * 1000,
        "logs/train.txt": b"epoch 1\nepoch 2\n",
        "Zeta.json": b'{"a": 1}',
        "a.json": b"{}",
    }
    for name, content in contents.items():
        put_e = emb.put_file(*where, name, content)
        put_p = pg.run_files.put_file(*where, name, content)
        assert no_times([put_p]) == no_times([put_e])
    # A new content under a name replaces the row; the old blob stays (content-addressed).
    new = b"epoch 1\nepoch 2\nepoch 3\n"
    assert no_times([pg.run_files.put_file(*where, "./logs//train.txt", new)]) == no_times(
        [emb.put_file(*where, "./logs//train.txt", new)]
    )
    listed = same(
        lambda: no_times(emb.list_files(*where)), lambda: no_times(pg.run_files.list_files(*where))
    )
    # Bytes order: capitals first, as DuckDB sorts.
    assert [f["name"] for f in listed] == ["Zeta.json", "a.json", "logs/train.txt", "model.pt"]
    assert listed[2]["size"] == len(new) and listed[2]["blob"] == sha(new)
    assert listed[2]["md5"] == hashlib.md5(new).hexdigest()
    assert listed[2]["mimetype"] == "text/plain"
    some = ["model.pt", "nope", "a.json"]
    assert [
        f["name"]
        for f in same(
            lambda: no_times(emb.list_files(*where, some)),
            lambda: no_times(pg.run_files.list_files(*where, some)),
        )
    ] == ["a.json", "model.pt"]
    assert no_times(pg.run_files.list_files("alice", "vision", "r2")) == []
    for name in ("model.pt", "logs/train.txt"):
        row, data = pg.run_files.read_file(*where, name)
        assert data == (new if name == "logs/train.txt" else contents[name])
        assert no_times([row]) == no_times([emb.read_file(*where, name)[0]])
    assert pg.blobs.read(sha(contents["model.pt"])) == contents["model.pt"]
    # Errors: the same class, message and field.
    same(
        lambda: emb.read_file(*where, "missing.txt"),
        lambda: pg.run_files.read_file(*where, "missing.txt"),
    )
    same(
        lambda: emb.put_file(*where, "../up.txt", b"x"),
        lambda: pg.run_files.put_file(*where, "../up.txt", b"x"),
    )
    same(
        lambda: emb.put_file(*where, "/abs", b"x"),
        lambda: pg.run_files.put_file(*where, "/abs", b"x"),
    )
    # Whatever is missing is named: the run, the project, the workspace.
    for missing in (("alice", "vision", "zz"), ("alice", "nope", "r1"), ("carol", "vision", "r1")):
        err = same(
            lambda missing=missing: emb.list_files(*missing),
            lambda missing=missing: pg.run_files.list_files(*missing),
        )
        assert isinstance(err, NotFound)


def test_run_files_upload_list_and_download_through_local_blobs(emb, pg, tmp_path):
    check_files(emb, pg)
    # The bytes are in the blob directory, content-addressed, once each.
    digest = sha(b"{}")
    assert (tmp_path / "pg-blobs" / digest[:2] / digest[2:]).read_bytes() == b"{}"
    assert pg.db.one("SELECT count(*) AS n FROM files") == {"n": 4}


def test_run_files_through_an_s3_bucket(emb, pg_database, s3_endpoint, s3_bucket):
    s3 = S3Blobs(
        s3_bucket,
        "team/blobs",
        endpoint_url=s3_endpoint.endpoint,
        access_key=s3_endpoint.access_key,
        secret_key=s3_endpoint.secret_key,
    )
    s3.check()
    db = Database(pg_database, max_size=4)
    try:
        pg = PgParts(db, s3)
        seed_pg(pg)
        check_files(emb, pg)
        digest = sha(b"{}")
        got = s3_endpoint.client().get_object(
            Bucket=s3_bucket, Key=f"team/blobs/{digest[:2]}/{digest[2:]}"
        )
        assert got["Body"].read() == b"{}"
        # A second server on the same database and bucket reads what the first wrote.
        other = PgParts(Database(pg_database, max_size=2), s3)
        try:
            row, data = other.run_files.read_file("alice", "vision", "r1", "a.json")
            assert (row["name"], data) == ("a.json", b"{}")
        finally:
            other.db.close()
    finally:
        db.close()


# -- console --------------------------------------------------------------------------------------
def test_console_lines_are_the_embedded_store_s(emb, pg):
    where = ("alice", "vision", "r1")
    batches = [
        ([{"line": "start", "ts": 1.5}, {"line": "warn", "stream": "stderr", "ts": 2.0}], "b1"),
        ([{"line": "again", "ts": 3.0}], "b1"),  # a retry of b1: stored once
        ([{"line": "épique ✓", "ts": 4.25}], None),
        ([], "empty"),
        ([{"line": "after", "ts": 5.0}], "b2"),
    ]
    for lines, batch_id in batches:
        same(
            lambda lines=lines, batch_id=batch_id: emb.append_console(
                *where, lines, batch_id=batch_id
            ),
            lambda lines=lines, batch_id=batch_id: pg.run_files.append_console(
                *where, lines, batch_id=batch_id
            ),
        )
    lines = same(lambda: emb.read_console(*where), lambda: pg.run_files.read_console(*where))
    assert [r["line"] for r in lines] == ["start", "warn", "épique ✓", "after"]
    assert lines[1] == {"ts": 2.0, "stream": "stderr", "line": "warn"}
    # A points batch id is another namespace: the same id is no console duplicate.
    with pg.db.transaction() as conn:
        conn.execute("INSERT INTO batches VALUES (%s, 'b3', 1)", [pg.run_files.runs.run_pk(*where)])
    assert pg.run_files.append_console(*where, [{"line": "x", "ts": 6.0}], batch_id="b3") == {
        "stored": 1,
        "duplicate": False,
    }
    for bad in (
        [{"line": "ok"}, {"line": 5}],
        [{"line": "a\x00b"}],
        [{"line": "\ud800"}],
        [{"line": "x", "stream": "stdlog"}],
        [{"line": "x", "ts": float("nan")}],
    ):
        err = same(
            lambda bad=bad: emb.append_console(*where, bad),
            lambda bad=bad: pg.run_files.append_console(*where, bad),
        )
        assert isinstance(err, InvalidInput)
    same(
        lambda: emb.read_console("alice", "vision", "nope"),
        lambda: pg.run_files.read_console("alice", "vision", "nope"),
    )


def test_console_batches_from_several_servers_stay_whole_and_in_order(pg, pg_database):
    where = ("alice", "vision", "r2")
    servers = [pg.run_files] + [
        PgParts(Database(pg_database, max_size=4), pg.blobs.store).run_files for _ in range(2)
    ]
    start = threading.Barrier(12)

    def send(i: int) -> dict[str, Any]:
        lines = [{"line": f"b{i // 2}:{j}", "ts": float(j)} for j in range(40)]
        start.wait(timeout=30)
        # Each batch twice, through two servers: a retry racing the first attempt.
        return servers[i % 3].append_console(*where, lines, batch_id=f"b{i // 2}")

    try:
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(send, range(12), timeout=120))
    finally:
        for part in servers[1:]:
            part.sql.db.close()
    assert sorted(a["duplicate"] for a in answers) == [False] * 6 + [True] * 6
    assert sum(a["stored"] for a in answers) == 240
    lines = [r["line"] for r in pg.run_files.read_console(*where)]
    assert len(lines) == 240
    # Each batch is 40 consecutive lines in its own order.
    chunks = [lines[k : k + 40] for k in range(0, 240, 40)]
    names = {c[0].split(":")[0] for c in chunks}
    assert names == {f"b{i}" for i in range(6)}
    for chunk in chunks:
        batch = chunk[0].split(":")[0]
        assert chunk == [f"{batch}:{j}" for j in range(40)]
    seqs = pg.db.all(
        "SELECT seq FROM console WHERE run_pk = %s ORDER BY seq", [pg.run_files.runs.run_pk(*where)]
    )
    assert [r["seq"] for r in seqs] == list(range(240))


# -- blobs and media ------------------------------------------------------------------------------
def png(seed: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + bytes([seed]) * (100 + seed)


def table_bytes() -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"image": [sha(png(7))], "label": ["cat"]}), buf)
    return buf.getvalue()


def item(key: str, step: int, content: bytes, **more: Any) -> dict[str, Any]:
    return {
        "key": key,
        "step": step,
        "timestamp": 1000.0 + step,
        "type": "image",
        "sha256": sha(content),
        "size": len(content),
        **more,
    }


def both_put_blobs(emb, pg, ws, blobs, username):
    return same(
        lambda: emb.put_blobs(ws, blobs, username=username),
        lambda: pg.grants.put_blobs(ws, blobs, username=username),
    )


def test_blob_rights_are_the_embedded_store_s(emb, pg):
    a, b, c = png(1), png(2), png(3)
    assert both_put_blobs(emb, pg, "alice", [(sha(a), a), (sha(b), b), (sha(a), a)], "alice") == [
        {"digest": sha(a), "size": len(a), "stored": True},
        {"digest": sha(b), "size": len(b), "stored": True},
        {"digest": sha(a), "size": len(a), "stored": False},
    ]
    # A streamed upload of bytes the store has: hashed, granted, not written again.
    for part in (emb, pg.grants):
        up = part.open_blob_upload("bob", sha(b), username="bob")
        up.write(b[:10])
        up.write(b[10:])
        assert up.finish() == {"digest": sha(b), "size": len(b), "stored": True}
    # bob knows a's digest but never uploaded it nor can read it: missing for him, not alice.
    digests = [sha(a), sha(b), sha(c)]
    assert same(
        lambda: emb.missing_blobs("bob", digests, username="bob"),
        lambda: pg.grants.missing_blobs("bob", digests, username="bob"),
    ) == [sha(a), sha(c)]
    assert pg.grants.missing_blobs("alice", digests, username="alice") == [sha(c)]
    # A run file in bob's public project is readable by alice, so usable by her.
    emb.put_file("bob", "pub", "b1", "c.png", c)
    pg.run_files.put_file("bob", "pub", "b1", "c.png", c)
    assert pg.grants.missing_blobs("alice", digests, username="alice") == []
    assert emb.missing_blobs("alice", digests, username="alice") == []
    # A cut upload is refused and leaves no blob.
    d = png(4)
    for part in (emb, pg.grants):
        up = part.open_blob_upload("alice", sha(d), username="alice")
        up.write(d[:-1])
        with pytest.raises(InvalidInput, match="cut short") as err:
            up.finish()
        assert err.value.field == "digest"
    with pytest.raises(BlobNotFound):
        pg.blobs.read(sha(d))
    manifest = [{"path": "w.png", "digest": sha(a), "size": len(a) + 1, "ref": None}]
    same(
        lambda: emb.blob_grants.check_blobs("alice", manifest, username="alice"),
        lambda: pg.grants.check_blobs("alice", manifest, username="alice"),
    )
    for bad in (
        lambda p: p.missing_blobs("alice", ["xyz"], username="alice"),
        lambda p: p.missing_blobs("nobody", [sha(a)], username="alice"),
        lambda p: p.put_blobs("alice", [(sha(a), b)], username="alice"),
        lambda p: p.open_blob_upload("alice", sha(a), username="ghost"),
    ):
        same(lambda bad=bad: bad(emb), lambda bad=bad: bad(pg.grants))
    # Grants are rows, one per first upload by a user into a workspace.
    assert pg.db.one("SELECT count(*) AS n FROM blob_grants") == {"n": 3}


def test_media_items_and_their_thumbnails_grants(emb, pg):
    where = ("alice", "vision", "r1")
    cat, dog, thumb, tbl = png(5), png(6), png(7), table_bytes()
    both_put_blobs(emb, pg, "alice", [(sha(x), x) for x in (cat, dog, thumb, tbl)], "alice")
    items = [
        item("samples", 0, cat, caption="a cat", meta={"width": 4, "height": 2}),
        item("samples", 0, dog, index=1),
        item("samples", 5, dog),
        item("Preds", 5, tbl, type="table", format="parquet", refs=[sha(thumb)]),
        item("samples", 5, cat),  # the same place again: the last wins
    ]

    def append(part, batch_items, batch_id=None, username="alice"):
        return part.append_media(*where, batch_items, username=username, batch_id=batch_id)

    assert same(lambda: append(emb, items, "m1"), lambda: append(pg.media, items, "m1")) == {
        "stored": 5,
        "duplicate": False,
    }
    assert same(
        lambda: append(emb, items[:1], "m1"), lambda: append(pg.media, items[:1], "m1")
    ) == {
        "stored": 0,
        "duplicate": True,
    }
    listed = same(
        lambda: emb.list_media("alice", "vision", ["r1"]),
        lambda: pg.media.list_media("alice", "vision", ["r1"]),
    )
    assert [(m["key"], m["step"], m["index"]) for m in listed] == [
        ("Preds", 5, 0),
        ("samples", 0, 0),
        ("samples", 0, 1),
        ("samples", 5, 0),
    ]
    assert listed[0]["refs"] == [sha(thumb)] and listed[3]["sha256"] == sha(cat)
    assert listed[1]["meta"] == {"width": 4, "height": 2} and listed[1]["caption"] == "a cat"
    for kw in ({"key": "samples", "min_step": 1}, {"key": ["Preds", "x"]}, {"max_step": 0}):
        same(
            lambda kw=kw: emb.list_media("alice", "vision", ["r2", "r1"], **kw),
            lambda kw=kw: pg.media.list_media("alice", "vision", ["r2", "r1"], **kw),
        )
    keys = same(lambda: emb.media_keys(*where), lambda: pg.media.media_keys(*where))
    assert keys == {
        "Preds": {"type": "table", "count": 1, "first_step": 5, "last_step": 5},
        "samples": {"type": "image", "count": 3, "first_step": 0, "last_step": 5},
    }
    # Content: an item's own, and a thumbnail in a table's cell (served as a png).
    for digest, want in ((sha(tbl), tbl), (sha(thumb), thumb), (sha(cat), cat)):
        got = same(
            lambda digest=digest: emb.read_media("alice", "vision", digest),
            lambda digest=digest: pg.media.read_media("alice", "vision", digest),
        )
        assert got[1] == want
    assert pg.media.read_media("alice", "vision", sha(thumb))[0] == {
        "type": "image",
        "format": "png",
        "size": len(thumb),
    }
    same(
        lambda: emb.read_media("bob", "pub", sha(cat)),
        lambda: pg.media.read_media("bob", "pub", sha(cat)),
    )
    # A thumbnail's content must be usable by the writer too: bob never uploaded alice's.
    mine = png(8)
    both_put_blobs(emb, pg, "bob", [(sha(mine), mine)], "bob")
    theirs = [item("t", 1, mine, refs=[sha(mine), sha(thumb)])]
    err = same(
        lambda: emb.append_media("bob", "pub", "b1", theirs, username="bob"),
        lambda: pg.media.append_media("bob", "pub", "b1", theirs, username="bob"),
    )
    assert isinstance(err, InvalidInput) and err.field == "items[0].refs[1]"
    bad_batches = [
        [item("x", 1, png(9))],  # never uploaded
        [{**item("x", 1, cat), "size": 3}],
        [item("x\x00y", 1, cat)],
        [item("x", 1, cat, caption="\x00")],
        [item("x", 1, cat, meta={"note": "\ud800"})],
        [item("x", 1, cat, meta={"a\x00": 1})],
        [item("x", -1, cat)],
        "not a list",
    ]
    for bad in bad_batches:
        err = same(lambda bad=bad: append(emb, bad), lambda bad=bad: append(pg.media, bad))
        assert isinstance(err, InvalidInput)
    same(
        lambda: emb.list_media("alice", "vision", ["r1", "gone"]),
        lambda: pg.media.list_media("alice", "vision", ["r1", "gone"]),
    )
    assert pg.media.list_media("alice", "vision", []) == []
    same(
        lambda: emb.read_media("alice", "nope", sha(cat)),
        lambda: pg.media.read_media("alice", "nope", sha(cat)),
    )


def test_a_media_batch_sent_through_several_servers_is_stored_once(pg, pg_database):
    where = ("alice", "vision", "r2")
    blobs = [png(i) for i in range(10, 14)]
    pg.grants.put_blobs("alice", [(sha(x), x) for x in blobs], username="alice")
    servers = [pg.media] + [
        PgParts(Database(pg_database, max_size=4), pg.blobs.store).media for _ in range(3)
    ]
    start = threading.Barrier(8)

    def send(i: int) -> dict[str, Any]:
        batch = [item("g", i // 2, x, index=j) for j, x in enumerate(blobs)]
        start.wait(timeout=30)
        return servers[i % 4].append_media(*where, batch, username="alice", batch_id=f"g{i // 2}")

    try:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(send, range(8), timeout=120))
    finally:
        for part in servers[1:]:
            part.sql.db.close()
    assert sorted(a["stored"] for a in answers) == [0] * 4 + [4] * 4
    rows = pg.media.list_media("alice", "vision", ["r2"])
    assert [(m["step"], m["index"]) for m in rows] == [(s, j) for s in range(4) for j in range(4)]
    assert pg.db.one("SELECT count(*) AS n FROM media_batches") == {"n": 4}


def test_a_deleted_run_takes_its_files_console_and_media_along(emb, pg):
    where = ("alice", "vision", "r1")
    cat = png(20)
    both_put_blobs(emb, pg, "alice", [(sha(cat), cat)], "alice")
    for store, files, media in ((emb, emb, emb), (pg.runs, pg.run_files, pg.media)):
        files.put_file(*where, "notes.txt", b"hello")
        files.append_console(*where, [{"line": "hi", "ts": 1.0}], batch_id="c1")
        media.append_media(*where, [item("img", 0, cat)], username="alice", batch_id="m1")
        store.delete_run(*where)
    tables = ("files", "console", "media", "media_batches", "batches")
    counts = {t: pg.db.one(f"SELECT count(*) AS n FROM {t}")["n"] for t in tables}
    assert counts == dict.fromkeys(tables, 0)
    err = same(lambda: emb.list_files(*where), lambda: pg.run_files.list_files(*where))
    assert isinstance(err, NotFound) and "r1" in str(err)
    # The blob stays: content-addressed bytes may be another run's too.
    assert pg.blobs.read(sha(b"hello")) == b"hello"
