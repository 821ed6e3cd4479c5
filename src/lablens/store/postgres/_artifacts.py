"""Artifact versions committed and changed in the PostgreSQL store: commits, aliases, links,
edits.

A version is committed in one transaction with its whole manifest (one ``COPY``), after its
blobs were uploaded, so an interrupted upload leaves blobs but never half a version. Several
servers commit at once: each write to a collection's versions or aliases holds the collection's
row lock (``ArtifactCollections.lock_collection``), so version numbers are handed out one at a
time and never repeat, an alias moves whole, and a retried commit (the same manifest) finds the
version the first one made. The aliases' key is checked at commit besides (deferred), as a
guard. Names, aliases and paths are checked by ``lablens.store.artifact_values``, as in the
embedded store.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from lablens.contract import artifact_names as rules
from lablens.store.artifact_values import (
    VERSION_COLUMNS,
    check_no_aliases,
    checked,
    checked_aliases,
    checked_artifact_changes,
    checked_commit,
    committed_values,
    linked_values,
)
from lablens.store.common.blob_grants import BlobGrants
from lablens.store.common.projects import Projects
from lablens.store.common.runs import Runs
from lablens.store.errors import NotFound
from lablens.store.postgres._artifact_collections import ArtifactCollections, one, rows
from lablens.store.postgres._artifact_versions import ArtifactVersions
from lablens.store.postgres._db import Database, now

_FILE_COLUMNS = ("artifact_pk", "path", "digest", "size", "ref", "mimetype")
# A link's source read for ``linked_values``: its JSON as text, as it is written back.
_SOURCE_COLUMNS = ", ".join(
    "metadata::text AS metadata" if c == "metadata" else c for c in VERSION_COLUMNS
)


class Artifacts:
    """Part of ``PostgresStore``: artifact versions committed, edited, linked and deleted."""

    def __init__(
        self,
        db: Database,
        projects: Projects,
        runs: Runs,
        grants: BlobGrants,
        collections: ArtifactCollections,
        versions: ArtifactVersions,
    ) -> None:
        self.db = db
        self.projects = projects
        self.runs = runs
        self.grants = grants
        self.collections = collections
        self.versions = versions

    def commit_artifact(
        self, workspace: str, project: str, data: Mapping[str, Any], *, username: str
    ) -> tuple[dict[str, Any], bool]:
        commit = checked_commit(data)
        files = commit["files"]
        # Before the transaction, and before the project is made: a refused commit stores
        # nothing. Rights to blobs are only ever added and blobs never deleted, so what holds
        # here still holds in the transaction below.
        self.grants.check_blobs(workspace, files, username=username)
        pid = self.projects.project_for_write(workspace, project)
        run_pk = None
        if commit["run_id"] is not None:
            run_pk = self.runs.run_pk(workspace, project, str(commit["run_id"]))
        t = now()
        with self.db.transaction() as conn:
            cid = self.collections.collection_for_commit(
                conn, pid, workspace, project, commit["name"], commit["type"], t
            )
            head = self.collections.lock_collection(conn, cid)
            # Read under the lock: a commit of the same content through another server that
            # held it first is seen here.
            same = one(
                conn,
                "SELECT pk FROM artifacts WHERE collection_id = %s AND digest = %s"
                " ORDER BY version DESC LIMIT 1",
                [cid, commit["digest"]],
            )
            if same is not None:
                # The same content again: that version, not a new one (also makes a retried
                # commit whose answer was lost harmless).
                self._move_aliases(conn, cid, same["pk"], commit["aliases"])
                created, pk = False, same["pk"]
            else:
                values = committed_values(commit, run_pk, username)
                pk = self._insert_version(conn, head, values, commit["aliases"], t)
                self._insert_files(conn, pk, files)
                created = True
        return self.versions.artifact_by_pk(pk), created

    def _insert_version(
        self,
        conn: psycopg.Connection[Any],
        head: Mapping[str, Any],
        values: Mapping[str, Any],
        aliases: Sequence[str],
        t: dt.datetime,
    ) -> int:
        """Add the next version of the collection ``head`` (its row, locked by the caller) with
        the columns ``values`` (all of ``VERSION_COLUMNS``) and give it ``latest`` and
        ``aliases``; its pk."""
        cid, version = head["id"], head["next_version"]
        pk = conn.execute(
            "INSERT INTO artifacts (id, collection_id, version, state, created_at, updated_at,"
            f" {', '.join(VERSION_COLUMNS)}) VALUES (%s, %s, %s, 'COMMITTED', %s, %s"
            f"{', %s' * len(VERSION_COLUMNS)}) RETURNING pk",
            [secrets.token_hex(8), cid, version, t, t, *(values[c] for c in VERSION_COLUMNS)],
        ).fetchone()[0]
        conn.execute(
            "UPDATE artifact_collections SET next_version = %s, updated_at = %s WHERE id = %s",
            [version + 1, t, cid],
        )
        self._move_aliases(conn, cid, pk, [rules.LATEST, *aliases])
        return pk

    @staticmethod
    def _insert_files(
        conn: psycopg.Connection[Any], pk: int, files: Sequence[Mapping[str, Any]]
    ) -> None:
        # One COPY: a manifest of 100,000 files is one statement, not 100,000.
        if not files:
            return
        with conn.cursor().copy(
            f"COPY artifact_files ({', '.join(_FILE_COLUMNS)}) FROM STDIN"
        ) as copy:
            for f in files:
                copy.write_row([pk, f["path"], f["digest"], f["size"], f["ref"], f["mimetype"]])

    @staticmethod
    def _move_aliases(
        conn: psycopg.Connection[Any], cid: int, pk: int, aliases: Sequence[str]
    ) -> None:
        """Point each alias at version ``pk``, taking it from whichever version held it; the
        caller holds the collection's lock."""
        if not aliases:
            return
        conn.execute(
            "DELETE FROM artifact_aliases WHERE collection_id = %s AND alias = ANY(%s)"
            " AND artifact_pk <> %s",
            [cid, list(aliases), pk],
        )
        conn.execute(
            "INSERT INTO artifact_aliases (collection_id, alias, artifact_pk)"
            " SELECT %s, x, %s FROM unnest(%s::text[]) AS x WHERE NOT EXISTS"
            " (SELECT 1 FROM artifact_aliases y WHERE y.collection_id = %s AND y.alias = x)",
            [cid, pk, list(aliases), cid],
        )

    def _lock_version(self, conn: psycopg.Connection[Any], row: Mapping[str, Any]) -> None:
        """Lock a version's collection, then the version; ``NotFound`` when another server
        deleted it meanwhile."""
        self.collections.lock_collection(conn, row["collection_id"])
        if one(conn, "SELECT pk FROM artifacts WHERE pk = %s FOR UPDATE", [row["pk"]]) is None:
            raise NotFound("artifact", row["id"])

    def update_artifact(
        self, workspace: str, project: str, artifact_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        row = self.versions.artifact_row(workspace, project, artifact_id)
        columns, aliases = checked_artifact_changes(changes)
        with self.db.transaction() as conn:
            self._lock_version(conn, row)
            if aliases is not None:
                conn.execute(
                    "DELETE FROM artifact_aliases WHERE artifact_pk = %s AND alias <> %s"
                    " AND NOT (alias = ANY(%s))",
                    [row["pk"], rules.LATEST, aliases],
                )
                self._move_aliases(conn, row["collection_id"], row["pk"], aliases)
            sets = "".join(f"{c} = %s, " for c in columns)
            conn.execute(
                f"UPDATE artifacts SET {sets}updated_at = %s WHERE pk = %s",
                [*columns.values(), now(), row["pk"]],
            )
        return self.versions.artifact_by_pk(row["pk"])

    def delete_artifact(
        self, workspace: str, project: str, artifact_id: str, *, delete_aliases: bool = False
    ) -> None:
        row = self.versions.artifact_row(workspace, project, artifact_id)
        what = f"{workspace}/{project}/{row['name']}:v{row['version']}"
        with self.db.transaction() as conn:
            self._lock_version(conn, row)
            held = [
                r["alias"]
                for r in rows(
                    conn,
                    "SELECT alias FROM artifact_aliases WHERE artifact_pk = %s"
                    ' ORDER BY alias COLLATE "C"',
                    [row["pk"]],
                )
            ]
            check_no_aliases(what, held, delete_aliases)
            self.collections.refuse_if_linked(conn, [row["pk"]], what)
            self.collections.delete_versions(conn, [row["pk"]])
            if rules.LATEST in held:
                newest = one(
                    conn,
                    "SELECT pk FROM artifacts WHERE collection_id = %s"
                    " ORDER BY version DESC LIMIT 1",
                    [row["collection_id"]],
                )
                if newest is not None:
                    self._move_aliases(conn, row["collection_id"], newest["pk"], [rules.LATEST])
            conn.execute(
                "UPDATE artifact_collections SET updated_at = %s WHERE id = %s",
                [now(), row["collection_id"]],
            )

    def link_artifact(
        self,
        workspace: str,
        project: str,
        artifact_id: str,
        *,
        target_workspace: str,
        target_project: str,
        target_name: str,
        aliases: Sequence[str] = (),
        username: str,
    ) -> dict[str, Any]:
        row = self.versions.artifact_row(workspace, project, artifact_id)
        target_name = checked(rules.check_name, target_name, "target_path")
        aliases = checked_aliases(aliases)
        source_pk = row["source_pk"] or row["pk"]
        type_name = self.db.one(
            "SELECT t.name FROM artifacts a JOIN artifact_collections c ON c.id = a.collection_id"
            " JOIN artifact_types t ON t.id = c.type_id WHERE a.pk = %s",
            [source_pk],
        )
        if type_name is None:
            raise NotFound("artifact", f"{workspace}/{project}/{artifact_id}")
        pid = self.projects.project_for_write(target_workspace, target_project)
        t = now()
        with self.db.transaction() as conn:
            # Shared until the link is committed: the source's delete waits, then sees the link.
            source = one(
                conn,
                f"SELECT pk, {_SOURCE_COLUMNS} FROM artifacts WHERE pk = %s FOR SHARE",
                [source_pk],
            )
            if source is None:
                raise NotFound("artifact", f"{workspace}/{project}/{artifact_id}")
            cid = self.collections.collection_for_commit(
                conn,
                pid,
                target_workspace,
                target_project,
                target_name,
                type_name["name"],
                t,
                kind="portfolio",
            )
            head = self.collections.lock_collection(conn, cid)
            same = one(
                conn,
                "SELECT pk FROM artifacts WHERE collection_id = %s AND source_pk = %s",
                [cid, source["pk"]],
            )
            if same is not None:
                self._move_aliases(conn, cid, same["pk"], aliases)
                pk = same["pk"]
            else:
                pk = self._insert_version(conn, head, linked_values(source, username), aliases, t)
        return self.versions.artifact_by_pk(pk)
