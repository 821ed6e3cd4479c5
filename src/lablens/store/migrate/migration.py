"""``migrate()``: an embedded data dir copied into a PostgreSQL store and a blob store, checked.

The steps, each safe to repeat: open both ends (refusing, by name, a data dir that is missing,
in use or newer, and a target that is not PostgreSQL or holds other accounts); copy the tables
(``_tables.py``) and the metric points (``_points.py``) keeping every id, then move the
identities past them; copy the blobs (``_blobs.py``); then verify: per table its row count and
an order-free checksum of its rows on both ends, points compared point by point, and every
blob in the target. A migration cut short is finished by running it again: what was copied is
skipped, and the report says how many rows and blobs were new on this run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from lablens.store.blobs import BlobStore, BlobStoreUnavailable, LocalBlobs, open_blobs
from lablens.store.migrate import _points, _tables
from lablens.store.migrate import _tiles as _tiles_copy
from lablens.store.migrate._blobs import BlobCheck, copy_blobs, verify_blobs
from lablens.store.migrate._ends import (
    MigrationRefused,
    check_target_users,
    open_source,
    open_target,
)
from lablens.store.migrate._tables import Hook
from lablens.store.postgres._db import redact


@dataclass(frozen=True)
class TableCheck:
    """One table on both ends: rows, rows new on this run, and the checksums of its rows."""

    name: str
    source_rows: int
    target_rows: int
    new_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def ok(self) -> bool:
        """Whether both ends hold the same rows."""
        return self.source_rows == self.target_rows and self.source_checksum == self.target_checksum


@dataclass
class MigrationReport:
    """What a migration copied and what its check found, table by table and for the blobs."""

    source: str
    target: str
    blobs_url: str
    tables: list[TableCheck] = field(default_factory=list)
    blobs: BlobCheck = field(default_factory=BlobCheck)

    @property
    def ok(self) -> bool:
        """Whether every table and every blob is in the target as in the data dir."""
        return all(t.ok for t in self.tables) and self.blobs.ok

    @property
    def new_rows(self) -> int:
        """Rows (metric points included) written on this run."""
        return sum(t.new_rows for t in self.tables)

    def lines(self) -> list[str]:
        """The report as a table, then one closing line saying whether all is equal."""
        out = [f"{'table':<22}{'data dir':>12}{'PostgreSQL':>12}{'new':>10}  checksum"]
        for t in self.tables:
            verdict = "equal" if t.ok else f"DIFFERS ({t.source_checksum} / {t.target_checksum})"
            out.append(
                f"{t.name:<22}{t.source_rows:>12,}{t.target_rows:>12,}{t.new_rows:>10,}  {verdict}"
            )
        b = self.blobs
        present = b.source - len(b.missing)
        how = "sizes and sha256 read back" if b.contents_checked else "sizes"
        verdict = f"equal ({how})" if b.ok else f"{len(b.missing)} missing, {len(b.wrong)} wrong"
        out.append(f"{'blobs':<22}{b.source:>12,}{present:>12,}{b.new:>10,}  {verdict}")
        rows = sum(t.source_rows for t in self.tables)
        if self.ok:
            out.append(
                f"Verified: {len(self.tables)} tables ({rows:,} rows) and {b.source:,} blobs"
                f" ({b.source_bytes:,} bytes) equal in {self.target} and {self.blobs_url};"
                f" {self.new_rows:,} new rows and {b.new:,} new blobs on this run."
            )
        else:
            bad = [t.name for t in self.tables if not t.ok] + ([] if b.ok else ["blobs"])
            out.append(
                f"NOT verified: {', '.join(bad)} differ between the data dir and the target."
                " Run the migration again; if they still differ, the data dir changed meanwhile"
                " or the target holds other data."
            )
            out += [f"  missing blob {d}" for d in b.missing[:20]]
            out += [f"  wrong blob {d}" for d in b.wrong[:20]]
        return out


def _blob_store(url: str | Path, option: str) -> BlobStore:
    try:
        store = open_blobs(url)
    except ValueError as exc:
        raise MigrationRefused(f"{option}: {exc}") from None
    try:
        store.check()
    except BlobStoreUnavailable as exc:
        raise MigrationRefused(f"{option}: {exc}") from None
    return store


def migrate(
    data_dir: str | Path,
    to: str,
    blobs: str,
    *,
    source_blobs: str | None = None,
    check_blob_contents: bool = False,
    progress: bool = True,
    batch_rows: int = 5_000,
    point_batch_rows: int = 200_000,
    hook: Hook | None = None,
    log: Callable[[str], None] | None = None,
) -> MigrationReport:
    """Copy the embedded data dir ``data_dir`` into the PostgreSQL database ``to`` and the blob
    store ``blobs`` (``file:///path`` or ``s3://BUCKET/PREFIX``), then verify both.

    ``source_blobs`` is where the data dir's blobs are when not in its ``blobs/`` (a server
    started with ``--blobs``). ``check_blob_contents`` reads every blob back from the target
    and checks its sha256 (otherwise its presence and size are checked; a blob copied now is
    always checked as it is written). ``progress`` shows progress bars on stderr; ``hook`` is
    called after each committed step with the table and its rows so far. Rows are read from
    the data dir ``batch_rows`` (points: ``point_batch_rows``) at a time.

    Raises:
        MigrationRefused: a refused end, named (the data dir missing, in use by a running
            server, or newer than this lablens; a target that is not PostgreSQL or holds other
            accounts; a blob URL that cannot be used), or a copy that failed midway.
        StoreUnreachable, SchemaTooNew: the database cannot be reached, or is newer.
    """
    say = log or (lambda text: print(text, file=sys.stderr))
    source = open_source(data_dir)
    try:
        from_blobs = (
            _blob_store(source_blobs, "--from-blobs")
            if source_blobs
            else LocalBlobs(Path(data_dir) / "blobs")
        )
        to_blobs = _blob_store(blobs, "--blobs")
        target = open_target(to)
    except BaseException:
        source.close()
        raise
    report = MigrationReport(str(data_dir), redact(to), to_blobs.url)
    try:
        check_target_users(source, target)
        names = _tables.source_tables(source)
        # Metric points and their tiles change layout on the way (PostgreSQL packs them).
        own = {"points": _points.count_source, "point_tiles": _tiles_copy.count_source}
        plans = {n: _tables.plan(source, target, n) for n in names if n not in own}
        counts = {n: own[n](source) if n in own else _tables.count_source(source, n) for n in names}
        new: dict[str, int] = {}
        with (
            target.pool.connection() as conn,
            tqdm(
                total=sum(counts.values()),
                unit=" rows",
                unit_scale=True,
                desc="rows",
                disable=not progress,
                file=sys.stderr,
            ) as bar,
        ):
            for name in names:
                bar.set_postfix_str(name)
                if name == "points":
                    new[name] = _points.copy_points(
                        source, conn, batch_rows=point_batch_rows, progress=bar.update, hook=hook
                    )
                elif name == "point_tiles":
                    new[name] = _tiles_copy.copy_tiles(
                        source, conn, batch_rows=batch_rows, progress=bar.update, hook=hook
                    )
                else:
                    new[name] = _tables.copy_table(
                        source,
                        conn,
                        plans[name],
                        batch_rows=batch_rows,
                        progress=bar.update,
                        hook=hook,
                    )
            _tables.advance_identities(source, conn)

        digests = sorted(from_blobs.digests())
        with tqdm(
            total=sum(from_blobs.size(d) for d in digests),
            unit="B",
            unit_scale=True,
            desc="blobs",
            disable=not progress,
            file=sys.stderr,
        ) as bar:
            report.blobs = copy_blobs(from_blobs, to_blobs, digests, progress=bar.update)
        if hook:
            hook("blobs", report.blobs.new)

        if progress:
            say("Checking counts and checksums ...")
        with target.pool.connection() as conn:
            for name in names:
                if name == "points":
                    mine = _points.checksum_source(source, point_batch_rows)
                    theirs = _points.checksum_target(conn)
                    rows = (mine.points, _points.count_target(conn))
                elif name == "point_tiles":
                    mine = _tiles_copy.checksum_source(source, batch_rows)
                    theirs = _tiles_copy.checksum_target(conn)
                    rows = (mine.rows, _tiles_copy.count_target(conn))
                else:
                    mine = _tables.checksum_source(source, plans[name], batch_rows)
                    theirs = _tables.checksum_target(conn, plans[name], batch_rows)
                    rows = (mine.rows, theirs.rows)
                report.tables.append(TableCheck(name, *rows, new[name], mine.hex, theirs.hex))
        with tqdm(
            total=report.blobs.source_bytes,
            unit="B",
            unit_scale=True,
            desc="checking blobs",
            disable=not progress,
            file=sys.stderr,
        ) as bar:
            verify_blobs(
                from_blobs,
                to_blobs,
                digests,
                report.blobs,
                contents=check_blob_contents,
                progress=bar.update,
            )
        return report
    finally:
        target.close()
        source.close()
