"""Who may use which blob, for every engine: the SQL of the rules of ``store/blob_rights.py``
(where the rules, uploads and their checks live).

Grants need no lock, even with several PostgreSQL servers writing at once: ``blob_grants`` has
no unique key, so two racing uploads of one content may both record it, which the readers'
``DISTINCT`` absorbs (and a plain insert costs a third of one checked against an index).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lablens.store.blob_files import BlobFiles
from lablens.store.blob_rights import BlobRights
from lablens.store.sql import Sql

# The projects a user may read, as the server's rule says (``server/auth.py``, can_read_project):
# admins every project, members every project of their workspaces, anyone a PUBLIC project.
# Kept here as SQL because a manifest of 100,000 files is checked in one query, not per project.
# Parameters: the user's id, twice.
_READABLE = """
    SELECT p.id FROM projects p
    WHERE p.visibility = 'PUBLIC'
       OR coalesce((SELECT is_admin FROM users WHERE id = ?), false)
       OR p.workspace_id IN (SELECT workspace_id FROM members WHERE user_id = ?)
"""

# Rights recorded by uploads: into the target workspace by anyone, or anywhere by the user.
_GRANTED = """
    SELECT DISTINCT digest FROM blob_grants
    WHERE digest = ANY(?::text[]) AND (workspace_id = ? OR user_id = ?)
"""

# Contents the user can read already: stored files (not references) of the versions in projects
# they may read (a link shows its source's files), and run files there. Parameters: the
# digests, then the user's id twice.
_READ = f"""
    WITH wanted AS (SELECT DISTINCT unnest(?::text[]) AS digest),
    readable AS ({_READABLE})
    SELECT f.digest FROM artifacts a
    JOIN artifact_collections c ON c.id = a.collection_id
    JOIN artifact_files f ON f.artifact_pk = coalesce(a.source_pk, a.pk)
    WHERE f.ref IS NULL AND f.digest IN (SELECT digest FROM wanted)
      AND c.project_id IN (SELECT id FROM readable)
    UNION
    SELECT f.blob FROM files f JOIN runs r ON r.pk = f.run_pk
    WHERE f.blob IN (SELECT digest FROM wanted) AND r.project_id IN (SELECT id FROM readable)
"""


class BlobGrants(BlobRights):
    """A store's part: which blobs a user may use, and uploads that store them."""

    def __init__(self, sql: Sql, blobs: BlobFiles) -> None:
        super().__init__(blobs)
        self.sql = sql

    def uploaded(self, digests: Sequence[str], workspace_id: int, user_id: int) -> set[str]:
        """Those of ``digests`` uploaded into the workspace by anyone, or anywhere by the user."""
        rows = self.sql.all(_GRANTED, [list(digests), workspace_id, user_id])
        return {r["digest"] for r in rows}

    def readable(self, digests: Sequence[str], user_id: int) -> set[str]:
        """Those of ``digests`` the user can read already (run and artifact files)."""
        return {r["digest"] for r in self.sql.all(_READ, [list(digests), user_id, user_id])}

    def id_row(self, workspace: str, username: str, digest: str) -> dict[str, Any] | None:
        """``{w, u, had}``: the workspace's and the user's ids, and a prior upload of ``digest``."""
        return self.sql.one(
            "SELECT w.id AS w, u.id AS u, EXISTS (SELECT 1 FROM blob_grants g WHERE g.digest = ?"
            " AND g.workspace_id = w.id AND g.user_id = u.id) AS had"
            " FROM (SELECT 1) AS one LEFT JOIN workspaces w ON w.username = ?"
            " LEFT JOIN users u ON u.username = ?",
            [digest, workspace, username],
        )

    def granted(self, workspace_id: int, user_id: int, digests: Sequence[str]) -> set[str]:
        """Those of ``digests`` the user uploaded into the workspace before."""
        return {
            r["digest"]
            for r in self.sql.all(
                "SELECT DISTINCT digest FROM blob_grants WHERE workspace_id = ? AND user_id = ?"
                " AND digest = ANY(?::text[])",
                [workspace_id, user_id, list(digests)],
            )
        }

    def grant(self, workspace_id: int, user_id: int, digests: Sequence[str]) -> None:
        """Record the user's uploads of ``digests`` into the workspace, in one statement."""
        with self.sql.transaction() as tx:
            tx.execute(
                "INSERT INTO blob_grants (digest, workspace_id, user_id, granted_at)"
                " SELECT unnest(?::text[]), ?, ?, ?",
                [list(digests), workspace_id, user_id, self.sql.now()],
            )
