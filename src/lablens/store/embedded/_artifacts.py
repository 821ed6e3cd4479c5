"""Artifact versions committed and changed in the embedded store: commits, aliases, links, edits.

A version is committed in one transaction with its whole manifest, after its blobs were
uploaded (``store/common/blob_grants.py``), so an interrupted upload leaves blobs but never half
a version.
Names, aliases and paths are checked with ``lablens.contract.artifact_names``, the same rules the
SDK applies (``lablens.store.artifact_values``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

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
from lablens.store.embedded._artifact_collections import ArtifactCollections
from lablens.store.embedded._artifact_versions import ArtifactVersions
from lablens.store.embedded._db import Database, now


class Artifacts:
    """Part of ``EmbeddedStore``: artifact versions committed, edited, linked and deleted."""

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
        # Before the write lock, and before the project is made: a refused commit stores
        # nothing. Rights to blobs are only ever added and blobs never deleted, so what holds
        # here still holds in the transaction below.
        self.grants.check_blobs(workspace, files, username=username)
        pid = self.projects.project_for_write(workspace, project)
        run_pk = None
        if commit["run_id"] is not None:
            run_pk = self.runs.run_pk(workspace, project, str(commit["run_id"]))
        t = now()
        with self.db.write() as con:
            cid = self.collections.collection_for_commit(
                con, pid, workspace, project, commit["name"], commit["type"], t
            )
            same = self.db.one(
                "SELECT pk FROM artifacts WHERE collection_id = ? AND digest = ?"
                " ORDER BY version DESC LIMIT 1",
                [cid, commit["digest"]],
            )
            if same is not None:
                # The same content again: that version, not a new one (also makes a retried
                # commit whose answer was lost harmless).
                self._move_aliases(con, cid, same["pk"], commit["aliases"])
                created, pk = False, same["pk"]
            else:
                values = committed_values(commit, run_pk, username)
                pk = self._insert_version(con, cid, values, commit["aliases"], t)
                self._insert_files(con, pk, files)
                created = True
        return self.versions.artifact_by_pk(pk), created

    def _insert_version(
        self, con: Any, cid: int, values: Mapping[str, Any], aliases: Sequence[str], t: dt.datetime
    ) -> int:
        """Add collection ``cid``'s next version with the columns ``values`` (all of
        ``VERSION_COLUMNS``) and give it ``latest`` and ``aliases``; its pk."""
        version = self.db.one("SELECT next_version FROM artifact_collections WHERE id = ?", [cid])[
            "next_version"
        ]
        pk = con.execute(
            "INSERT INTO artifacts (id, collection_id, version, state, created_at, updated_at,"
            f" {', '.join(VERSION_COLUMNS)}) VALUES (?, ?, ?, 'COMMITTED', ?, ?"
            f"{', ?' * len(VERSION_COLUMNS)}) RETURNING pk",
            [secrets.token_hex(8), cid, version, t, t, *(values[c] for c in VERSION_COLUMNS)],
        ).fetchone()[0]
        con.execute(
            "UPDATE artifact_collections SET next_version = ?, updated_at = ? WHERE id = ?",
            [version + 1, t, cid],
        )
        self._move_aliases(con, cid, pk, [rules.LATEST, *aliases])
        return pk

    @staticmethod
    def _insert_files(con: Any, pk: int, files: Sequence[Mapping[str, Any]]) -> None:
        if not files:
            return
        table = pa.table(
            {
                "artifact_pk": pa.array([pk] * len(files), pa.int64()),
                "path": pa.array([f["path"] for f in files], pa.string()),
                "digest": pa.array([f["digest"] for f in files], pa.string()),
                "size": pa.array([f["size"] for f in files], pa.int64()),
                "ref": pa.array([f["ref"] for f in files], pa.string()),
                "mimetype": pa.array([f["mimetype"] for f in files], pa.string()),
            }
        )
        # One INSERT from Arrow: a manifest of 100,000 files is one statement, not 100,000.
        con.register("check_manifest", table)
        try:
            con.execute("INSERT INTO artifact_files SELECT * FROM check_manifest")
        finally:
            con.unregister("check_manifest")

    def _move_aliases(self, con: Any, cid: int, pk: int, aliases: Sequence[str]) -> None:
        """Point each alias at version ``pk``, taking it from whichever version held it."""
        for alias in aliases:
            held = self.db.one(
                "SELECT artifact_pk FROM artifact_aliases WHERE collection_id = ? AND alias = ?",
                [cid, alias],
            )
            if held is None:
                con.execute("INSERT INTO artifact_aliases VALUES (?, ?, ?)", [cid, alias, pk])
            elif held["artifact_pk"] != pk:
                con.execute(
                    "UPDATE artifact_aliases SET artifact_pk = ?"
                    " WHERE collection_id = ? AND alias = ?",
                    [pk, cid, alias],
                )

    def update_artifact(
        self, workspace: str, project: str, artifact_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        row = self.versions.artifact_row(workspace, project, artifact_id)
        columns, aliases = checked_artifact_changes(changes)
        with self.db.write() as con:
            if aliases is not None:
                con.execute(
                    "DELETE FROM artifact_aliases WHERE artifact_pk = ? AND alias <> ?"
                    " AND NOT list_contains(?::VARCHAR[], alias)",
                    [row["pk"], rules.LATEST, aliases],
                )
                self._move_aliases(con, row["collection_id"], row["pk"], aliases)
            sets = "".join(f"{c} = ?, " for c in columns)
            con.execute(
                f"UPDATE artifacts SET {sets}updated_at = ? WHERE pk = ?",
                [*columns.values(), now(), row["pk"]],
            )
        return self.versions.artifact_by_pk(row["pk"])

    def delete_artifact(
        self, workspace: str, project: str, artifact_id: str, *, delete_aliases: bool = False
    ) -> None:
        row = self.versions.artifact_row(workspace, project, artifact_id)
        what = f"{workspace}/{project}/{row['name']}:v{row['version']}"
        with self.db.write() as con:
            held = [
                r["alias"]
                for r in self.db.all(
                    "SELECT alias FROM artifact_aliases WHERE artifact_pk = ? ORDER BY alias",
                    [row["pk"]],
                )
            ]
            check_no_aliases(what, held, delete_aliases)
            self.collections.refuse_if_linked([row["pk"]], what)
            self.collections.delete_versions(con, [row["pk"]])
            if rules.LATEST in held:
                newest = self.db.one(
                    "SELECT pk FROM artifacts WHERE collection_id = ?"
                    " ORDER BY version DESC LIMIT 1",
                    [row["collection_id"]],
                )
                if newest is not None:
                    self._move_aliases(con, row["collection_id"], newest["pk"], [rules.LATEST])
            con.execute(
                "UPDATE artifact_collections SET updated_at = ? WHERE id = ?",
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
        source = self.db.one(
            "SELECT * FROM artifacts WHERE pk = ?", [row["source_pk"] or row["pk"]]
        )
        type_name = self.db.one(
            "SELECT t.name FROM artifact_collections c JOIN artifact_types t ON t.id = c.type_id"
            " WHERE c.id = ?",
            [source["collection_id"]],
        )["name"]
        pid = self.projects.project_for_write(target_workspace, target_project)
        t = now()
        with self.db.write() as con:
            cid = self.collections.collection_for_commit(
                con,
                pid,
                target_workspace,
                target_project,
                target_name,
                type_name,
                t,
                kind="portfolio",
            )
            same = self.db.one(
                "SELECT pk FROM artifacts WHERE collection_id = ? AND source_pk = ?",
                [cid, source["pk"]],
            )
            if same is not None:
                self._move_aliases(con, cid, same["pk"], aliases)
                pk = same["pk"]
            else:
                values = linked_values(source, username)
                pk = self._insert_version(con, cid, values, aliases, t)
        return self.versions.artifact_by_pk(pk)
