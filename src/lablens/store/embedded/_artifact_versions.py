"""Artifact versions read from the embedded store: one by id or name, a collection's list, and
the JSON they travel as."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lablens.store.artifact_values import (
    DIGEST_SELECTOR,
    VERSION_SELECTOR,
    artifact_out,
    run_path,
    source_out,
)
from lablens.store.common.projects import Projects
from lablens.store.cursors import cut_page, decode_int_cursor
from lablens.store.embedded._artifact_collections import ArtifactCollections
from lablens.store.embedded._db import Database, iso
from lablens.store.errors import NotFound

# A version's own columns. Names (collection, type, project, entity) and the producing run's path
# come from small cached lookups: in DuckDB a point query joining five tables costs ten times
# one without joins, and those names never change under a version (a rename clears the cache).
_ROWS = (
    "SELECT a.pk, a.id, a.collection_id, a.version, a.digest, a.size, a.file_count,"
    " a.description, a.metadata, a.tags, a.state, a.source_pk, a.run_pk, a.created_by,"
    f" {iso('a.created_at')} AS created_at, {iso('a.updated_at')} AS updated_at"
    " FROM artifacts a"
)


class ArtifactVersions:
    """Part of ``EmbeddedStore``: artifact versions, read."""

    def __init__(self, db: Database, projects: Projects, collections: ArtifactCollections) -> None:
        self.db = db
        self.projects = projects
        self.collections = collections
        self._run_paths: dict[int, dict[str, Any]] = {}

    def artifact_row(self, workspace: str, project: str, artifact_id: str) -> dict[str, Any]:
        pid = self.projects.project_id(workspace, project)
        row = self.db.one(
            "SELECT a.pk, a.id, a.version, a.collection_id, a.source_pk, a.run_pk, c.name,"
            " c.kind FROM artifacts a JOIN artifact_collections c ON c.id = a.collection_id"
            " WHERE c.project_id = ? AND a.id = ?",
            [pid, artifact_id],
        )
        if row is None:
            raise NotFound("artifact", f"{workspace}/{project}/{artifact_id}")
        return row

    def _run_path(self, run_pk: int) -> dict[str, Any] | None:
        """``{entity, project, id, path}`` of a run; cached, as a run never moves (and its pk is
        never reused: a deleted run's artifacts forget its pk)."""
        cache = self._run_paths
        if run_pk not in cache:
            row = self.db.one(
                "SELECT w.username AS entity, p.name AS project, r.id FROM runs r"
                " JOIN projects p ON p.id = r.project_id JOIN workspaces w ON w.id = p.workspace_id"
                " WHERE r.pk = ?",
                [run_pk],
            )
            if row is None:
                return None
            cache[run_pk] = run_path(row)
        return cache[run_pk]

    def artifacts_out(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The JSON of versions selected with ``_ROWS``."""
        pks = [r["pk"] for r in rows]
        aliases: dict[int, list[str]] = {pk: [] for pk in pks}
        if pks:
            for r in self.db.all(
                "SELECT artifact_pk, alias FROM artifact_aliases"
                " WHERE list_contains(?::BIGINT[], artifact_pk) ORDER BY alias",
                [pks],
            ):
                aliases[r["artifact_pk"]].append(r["alias"])
        return [self._artifact_out(r, aliases[r["pk"]]) for r in rows]

    def _artifact_out(self, row: dict[str, Any], aliases: list[str]) -> dict[str, Any]:
        source = None
        if row["source_pk"] is not None:
            src = self.db.one(_ROWS + " WHERE a.pk = ?", [row["source_pk"]])
            if src is not None:
                source = source_out(src, self.collections.collection_info(src["collection_id"]))
        logged_by = self._run_path(row["run_pk"]) if row["run_pk"] is not None else None
        info = self.collections.collection_info(row["collection_id"])
        return artifact_out(row, info, aliases, source, logged_by)

    def artifact_by_pk(self, pk: int) -> dict[str, Any]:
        return self.artifacts_out([self.db.one(_ROWS + " WHERE a.pk = ?", [pk])])[0]

    # -- versions -------------------------------------------------------------------------
    def list_artifacts(
        self,
        workspace: str,
        project: str,
        collection: str,
        *,
        type_name: str | None = None,
        tags: Sequence[str] | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        cid = self.collections.collection_row(workspace, project, collection, type_name)["id"]
        where, params = "a.collection_id = ?", [cid]
        if tags:
            where += " AND list_has_all(a.tags, ?::VARCHAR[])"
            params.append(list(tags))
        total = self.db.one(f"SELECT count(*) AS n FROM artifacts a WHERE {where}", params)["n"]
        if cursor:
            last = decode_int_cursor(cursor)
            where += " AND a.version < ?"
            params.append(last)
        # Newest first: the version a user wants is usually the last one logged.
        rows = self.db.all(
            _ROWS + f" WHERE {where} ORDER BY a.version DESC LIMIT ?", [*params, limit + 1]
        )
        rows, nxt = cut_page(rows, limit, "version")
        return {"items": self.artifacts_out(rows), "total": total, "next": nxt}

    def get_artifact(
        self,
        workspace: str,
        project: str,
        collection: str,
        selector: str,
        *,
        type_name: str | None = None,
    ) -> dict[str, Any]:
        cid = self.collections.collection_row(workspace, project, collection, type_name)["id"]
        row = None
        match = VERSION_SELECTOR.fullmatch(selector)
        if match:
            row = self.db.one(
                _ROWS + " WHERE a.collection_id = ? AND a.version = ?", [cid, int(match.group(1))]
            )
        if row is None:
            row = self.db.one(
                _ROWS + " WHERE a.pk = (SELECT artifact_pk FROM artifact_aliases"
                " WHERE collection_id = ? AND alias = ?)",
                [cid, selector],
            )
        if row is None and DIGEST_SELECTOR.fullmatch(selector):
            row = self.db.one(
                _ROWS + " WHERE a.collection_id = ? AND a.digest = ?"
                " ORDER BY a.version DESC LIMIT 1",
                [cid, selector],
            )
        if row is None:
            raise NotFound("artifact", f"{workspace}/{project}/{collection}:{selector}")
        return self.artifacts_out([row])[0]

    def get_artifact_by_id(self, workspace: str, project: str, artifact_id: str) -> dict[str, Any]:
        return self.artifact_by_pk(self.artifact_row(workspace, project, artifact_id)["pk"])
