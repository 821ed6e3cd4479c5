"""Artifact versions committed and changed: commits, aliases, links, edits, written once for both
engines.

A version is committed in one transaction with its whole manifest (one bulk insert), after its
blobs were uploaded, so an interrupted upload leaves blobs but never half a version. Each write
to a collection's versions or aliases holds the collection's lock
(``ArtifactCollections.lock_collection``: a row lock on PostgreSQL, where several servers commit
at once; the write lock on the embedded engine), so version numbers are handed out one at a time
and never repeat, an alias moves whole, and a retried commit (the same manifest) finds the
version the first one made. Names, aliases and paths are checked by
``lablens.store.artifact_values``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

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
from lablens.store.common.artifact_collections import ArtifactCollections
from lablens.store.common.artifact_versions import ArtifactVersions
from lablens.store.errors import NotFound
from lablens.store.sql import Sql, Tx

_FILE_COLUMNS = ("artifact_pk", "path", "digest", "size", "ref", "mimetype")
# A link's source read for ``linked_values``: its JSON as text, as it is written back.
_SOURCE_COLUMNS = ", ".join(
    "CAST(metadata AS TEXT) AS metadata" if c == "metadata" else c for c in VERSION_COLUMNS
)


class Artifacts:
    """Part of the store: artifact versions committed, edited, linked and deleted."""

    def __init__(
        self,
        sql: Sql,
        projects: Any,
        runs: Any,
        grants: Any,
        collections: ArtifactCollections,
        versions: ArtifactVersions,
    ) -> None:
        self.sql = sql
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
        t = self.sql.now()
        with self.sql.transaction() as tx:
            cid = self.collections.collection_for_commit(
                tx, pid, workspace, project, commit["name"], commit["type"], t
            )
            head = self.collections.lock_collection(tx, cid)
            # Read under the lock: a commit of the same content through another server that
            # held it first is seen here.
            same = tx.value(
                "SELECT pk FROM artifacts WHERE collection_id = ? AND digest = ?"
                " ORDER BY version DESC LIMIT 1",
                [cid, commit["digest"]],
            )
            if same is not None:
                # The same content again: that version, not a new one (also makes a retried
                # commit whose answer was lost harmless).
                self._move_aliases(tx, cid, same, commit["aliases"])
                created, pk = False, same
            else:
                values = committed_values(commit, run_pk, username)
                pk = self._insert_version(tx, head, values, commit["aliases"], t)
                tx.insert_rows(
                    "artifact_files",
                    _FILE_COLUMNS,
                    [
                        (pk, f["path"], f["digest"], f["size"], f["ref"], f["mimetype"])
                        for f in files
                    ],
                )
                created = True
        return self.versions.artifact_by_pk(pk), created

    def _insert_version(
        self,
        tx: Tx,
        head: Mapping[str, Any],
        values: Mapping[str, Any],
        aliases: Sequence[str],
        t: dt.datetime,
    ) -> int:
        """Add the next version of the collection ``head`` (its row, locked by the caller) with
        the columns ``values`` (all of ``VERSION_COLUMNS``) and give it ``latest`` and
        ``aliases``; its pk."""
        cid, version = head["id"], head["next_version"]
        pk = tx.value(
            "INSERT INTO artifacts (id, collection_id, version, state, created_at, updated_at,"
            f" {', '.join(VERSION_COLUMNS)}) VALUES (?, ?, ?, 'COMMITTED', ?, ?"
            f"{', ?' * len(VERSION_COLUMNS)}) RETURNING pk",
            [secrets.token_hex(8), cid, version, t, t, *(values[c] for c in VERSION_COLUMNS)],
        )
        tx.execute(
            "UPDATE artifact_collections SET next_version = ?, updated_at = ? WHERE id = ?",
            [version + 1, t, cid],
        )
        self._move_aliases(tx, cid, pk, [rules.LATEST, *aliases])
        return pk

    @staticmethod
    def _move_aliases(tx: Tx, cid: int, pk: int, aliases: Sequence[str]) -> None:
        """Point each alias at version ``pk``, taking it from whichever version held it; the
        caller holds the collection's lock."""
        for alias in dict.fromkeys(aliases):
            held = tx.value(
                "SELECT artifact_pk FROM artifact_aliases WHERE collection_id = ? AND alias = ?",
                [cid, alias],
            )
            if held is None:
                tx.execute(
                    "INSERT INTO artifact_aliases (collection_id, alias, artifact_pk)"
                    " VALUES (?, ?, ?)",
                    [cid, alias, pk],
                )
            elif held != pk:
                tx.execute(
                    "UPDATE artifact_aliases SET artifact_pk = ?"
                    " WHERE collection_id = ? AND alias = ?",
                    [pk, cid, alias],
                )

    def _lock_version(self, tx: Tx, row: Mapping[str, Any]) -> None:
        """Lock a version's collection, then the version; ``NotFound`` when another server
        deleted it meanwhile."""
        self.collections.lock_collection(tx, row["collection_id"])
        if (
            tx.value(
                "SELECT pk FROM artifacts WHERE pk = ?" + self.sql.if_concurrent(" FOR UPDATE"),
                [row["pk"]],
            )
            is None
        ):
            raise NotFound("artifact", row["id"])

    def update_artifact(
        self, workspace: str, project: str, artifact_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        row = self.versions.artifact_row(workspace, project, artifact_id)
        columns, aliases = checked_artifact_changes(changes)
        with self.sql.transaction() as tx:
            self._lock_version(tx, row)
            if aliases is not None:
                tx.execute(
                    "DELETE FROM artifact_aliases WHERE artifact_pk = ? AND alias <> ?"
                    " AND NOT (alias = ANY(?::TEXT[]))",
                    [row["pk"], rules.LATEST, aliases],
                )
                self._move_aliases(tx, row["collection_id"], row["pk"], aliases)
            sets = "".join(f"{c} = ?, " for c in columns)
            tx.execute(
                f"UPDATE artifacts SET {sets}updated_at = ? WHERE pk = ?",
                [*columns.values(), self.sql.now(), row["pk"]],
            )
        return self.versions.artifact_by_pk(row["pk"])

    def delete_artifact(
        self, workspace: str, project: str, artifact_id: str, *, delete_aliases: bool = False
    ) -> None:
        row = self.versions.artifact_row(workspace, project, artifact_id)
        what = f"{workspace}/{project}/{row['name']}:v{row['version']}"
        with self.sql.transaction() as tx:
            self._lock_version(tx, row)
            held = [
                alias
                for (alias,) in tx.rows(
                    "SELECT alias FROM artifact_aliases WHERE artifact_pk = ?"
                    f" ORDER BY {self.sql.bytewise('alias')}",
                    [row["pk"]],
                )
            ]
            check_no_aliases(what, held, delete_aliases)
            self.collections.refuse_if_linked(tx, [row["pk"]], what)
            self.collections.delete_versions(tx, [row["pk"]])
            if rules.LATEST in held:
                newest = tx.value(
                    "SELECT pk FROM artifacts WHERE collection_id = ?"
                    " ORDER BY version DESC LIMIT 1",
                    [row["collection_id"]],
                )
                if newest is not None:
                    self._move_aliases(tx, row["collection_id"], newest, [rules.LATEST])
            tx.execute(
                "UPDATE artifact_collections SET updated_at = ? WHERE id = ?",
                [self.sql.now(), row["collection_id"]],
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
        type_name = self.sql.one(
            "SELECT t.name FROM artifacts a JOIN artifact_collections c ON c.id = a.collection_id"
            " JOIN artifact_types t ON t.id = c.type_id WHERE a.pk = ?",
            [source_pk],
        )
        if type_name is None:
            raise NotFound("artifact", f"{workspace}/{project}/{artifact_id}")
        pid = self.projects.project_for_write(target_workspace, target_project)
        t = self.sql.now()
        with self.sql.transaction() as tx:
            # Shared until the link is committed: the source's delete waits, then sees the link.
            source = tx.one(
                f"SELECT pk, {_SOURCE_COLUMNS} FROM artifacts WHERE pk = ?"
                + self.sql.if_concurrent(" FOR SHARE"),
                [source_pk],
            )
            if source is None:
                raise NotFound("artifact", f"{workspace}/{project}/{artifact_id}")
            cid = self.collections.collection_for_commit(
                tx,
                pid,
                target_workspace,
                target_project,
                target_name,
                type_name["name"],
                t,
                kind="portfolio",
            )
            head = self.collections.lock_collection(tx, cid)
            same = tx.value(
                "SELECT pk FROM artifacts WHERE collection_id = ? AND source_pk = ?",
                [cid, source["pk"]],
            )
            if same is not None:
                self._move_aliases(tx, cid, same, aliases)
                pk = same
            else:
                pk = self._insert_version(tx, head, linked_values(source, username), aliases, t)
        return self.versions.artifact_by_pk(pk)
