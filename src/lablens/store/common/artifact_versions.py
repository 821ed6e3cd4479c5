"""Artifact versions read: one by id or name, a collection's list, and the JSON they travel as,
written once for both engines.

A version's JSON names its collection, type, project and entity, its aliases, its source (for a
link) and the run that logged it. Where several servers share the database (PostgreSQL) they are
read with the version in one query of joins: a name one server cached could be renamed by
another. Where one process is the database's only user (not ``Sql.concurrent``, the embedded
engine) the names come from small caches instead, which a rename clears: in DuckDB a point
query joining five tables costs ten times one without joins.
"""

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
from lablens.store.common.artifact_collections import ArtifactCollections
from lablens.store.cursors import cut_page, decode_int_cursor
from lablens.store.errors import NotFound
from lablens.store.sql import Sql

# A version's own columns, the start of every version SELECT.
_VERSION_COLUMNS = (
    "SELECT a.pk, a.id, a.collection_id, a.version, a.digest, a.size, a.file_count,"
    " a.description, CAST(a.metadata AS TEXT) AS metadata, a.tags, a.state, a.source_pk,"
    " a.run_pk, a.created_by, {created} AS created_at, {updated} AS updated_at"
)


def _own_columns(sql: Sql) -> str:
    return _VERSION_COLUMNS.format(created=sql.iso("a.created_at"), updated=sql.iso("a.updated_at"))


def version_select(sql: Sql) -> str:
    """The SELECT of a version's row with what its JSON names, over ``artifacts a``: add
    ``" WHERE ..."`` and give the rows to :func:`version_out`."""
    return (
        _own_columns(sql)
        + ", c.name AS c_name, c.kind AS c_kind, t.name AS c_type, w.username AS c_entity,"
        " p.name AS c_project,"
        " s.id AS s_id, s.version AS s_version, sc.name AS s_name, sw.username AS s_entity,"
        " sp.name AS s_project,"
        " r.id AS r_id, rw.username AS r_entity, rp.name AS r_project,"
        " ARRAY(SELECT x.alias FROM artifact_aliases x WHERE x.artifact_pk = a.pk"
        f"  ORDER BY {sql.bytewise('x.alias')}) AS aliases"
        " FROM artifacts a JOIN artifact_collections c ON c.id = a.collection_id"
        " JOIN artifact_types t ON t.id = c.type_id JOIN projects p ON p.id = c.project_id"
        " JOIN workspaces w ON w.id = p.workspace_id"
        " LEFT JOIN artifacts s ON s.pk = a.source_pk"
        " LEFT JOIN artifact_collections sc ON sc.id = s.collection_id"
        " LEFT JOIN projects sp ON sp.id = sc.project_id"
        " LEFT JOIN workspaces sw ON sw.id = sp.workspace_id"
        " LEFT JOIN runs r ON r.pk = a.run_pk LEFT JOIN projects rp ON rp.id = r.project_id"
        " LEFT JOIN workspaces rw ON rw.id = rp.workspace_id"
    )


def _prefixed(row: dict[str, Any] | None, prefix: str) -> dict[str, Any]:
    """The columns of ``row`` (none for ``None``) named ``prefix_*``, as :func:`version_select`
    names them."""
    return {f"{prefix}{k}": v for k, v in (row or {}).items()}


def _named(row: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The columns of ``row`` named ``prefix_*``, without the prefix."""
    return {k[len(prefix) :]: v for k, v in row.items() if k.startswith(prefix)}


def version_out(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON of a version selected with :func:`version_select`."""
    source = None
    if row["s_id"] is not None:
        source = source_out({"id": row["s_id"], "version": row["s_version"]}, _named(row, "s_"))
    logged_by = run_path(_named(row, "r_")) if row["r_id"] is not None else None
    return artifact_out(row, _named(row, "c_"), list(row["aliases"]), source, logged_by)


class ArtifactVersions:
    """Part of the store: artifact versions, read."""

    def __init__(self, sql: Sql, projects: Any, collections: ArtifactCollections) -> None:
        self.sql = sql
        self.projects = projects
        self.collections = collections
        # Names from caches (see the module's docstring) in a store of one process only.
        self._cached = not sql.concurrent
        self._run_paths: dict[int, dict[str, Any]] = {}
        #: The SELECT of versions over ``artifacts a`` (add ``" WHERE ..."``) whose rows
        #: :meth:`artifacts_out` makes JSON.
        self.select = (
            _own_columns(sql) + " FROM artifacts a" if self._cached else version_select(sql)
        )

    def artifact_row(self, workspace: str, project: str, artifact_id: str) -> dict[str, Any]:
        """``{pk, id, version, collection_id, source_pk, run_pk, name, kind}`` of a version of
        the project; ``NotFound("artifact")`` when absent."""
        pid = self.projects.project_id(workspace, project)
        row = self.sql.one(
            "SELECT a.pk, a.id, a.version, a.collection_id, a.source_pk, a.run_pk, c.name,"
            " c.kind FROM artifacts a JOIN artifact_collections c ON c.id = a.collection_id"
            " WHERE c.project_id = ? AND a.id = ?",
            [pid, artifact_id],
        )
        if row is None:
            raise NotFound("artifact", f"{workspace}/{project}/{artifact_id}")
        return row

    def artifacts_out(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The JSON of versions selected with :attr:`select`."""
        if self._cached:
            rows = self._named_from_caches(rows)
        return [version_out(r) for r in rows]

    def _named_from_caches(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """``rows`` of versions' own columns with what :func:`version_select` joins, from the
        caches of a single-process store."""
        pks = [r["pk"] for r in rows]
        aliases: dict[int, list[str]] = {pk: [] for pk in pks}
        if pks:
            for r in self.sql.all(
                "SELECT artifact_pk, alias FROM artifact_aliases"
                f" WHERE artifact_pk = ANY(?::BIGINT[]) ORDER BY {self.sql.bytewise('alias')}",
                [pks],
            ):
                aliases[r["artifact_pk"]].append(r["alias"])
        out = []
        for row in rows:
            named = {**row, "aliases": aliases[row["pk"]], "s_id": None, "r_id": None}
            named.update(_prefixed(self.collections.collection_info(row["collection_id"]), "c_"))
            if row["source_pk"] is not None:
                source = self.sql.one(
                    "SELECT id, version, collection_id FROM artifacts WHERE pk = ?",
                    [row["source_pk"]],
                )
                if source is not None:
                    info = self.collections.collection_info(source["collection_id"])
                    named.update(_prefixed(info, "s_"), s_id=source["id"])
                    named["s_version"] = source["version"]
            named.update(_prefixed(self._run_path(row["run_pk"]), "r_"))
            out.append(named)
        return out

    def _run_path(self, run_pk: int | None) -> dict[str, Any] | None:
        """``{entity, project, id}`` of a run; cached, as a run never moves (and its pk is
        never reused: a deleted run's artifacts forget its pk)."""
        if run_pk is None:
            return None
        if run_pk not in self._run_paths:
            found = self.sql.one(
                "SELECT w.username AS entity, p.name AS project, r.id FROM runs r"
                " JOIN projects p ON p.id = r.project_id JOIN workspaces w ON w.id = p.workspace_id"
                " WHERE r.pk = ?",
                [run_pk],
            )
            if found is None:
                return None
            self._run_paths[run_pk] = found
        return self._run_paths[run_pk]

    def artifact_by_pk(self, pk: int) -> dict[str, Any]:
        """The JSON of the version ``pk``; ``NotFound`` when another server deleted it."""
        row = self.sql.one(self.select + " WHERE a.pk = ?", [pk])
        if row is None:
            raise NotFound("artifact", str(pk))
        return self.artifacts_out([row])[0]

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
            where += " AND a.tags @> ?::TEXT[]"
            params.append(list(tags))
        total = self.sql.one(f"SELECT count(*) AS n FROM artifacts a WHERE {where}", params)["n"]
        if cursor:
            last = decode_int_cursor(cursor)
            where += " AND a.version < ?"
            params.append(last)
        # Newest first: the version a user wants is usually the last one logged.
        rows = self.sql.all(
            self.select + f" WHERE {where} ORDER BY a.version DESC LIMIT ?", [*params, limit + 1]
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
            row = self.sql.one(
                self.select + " WHERE a.collection_id = ? AND a.version = ?",
                [cid, int(match.group(1))],
            )
        if row is None:
            row = self.sql.one(
                self.select + " WHERE a.pk = (SELECT artifact_pk FROM artifact_aliases"
                " WHERE collection_id = ? AND alias = ?)",
                [cid, selector],
            )
        if row is None and DIGEST_SELECTOR.fullmatch(selector):
            row = self.sql.one(
                self.select + " WHERE a.collection_id = ? AND a.digest = ?"
                " ORDER BY a.version DESC LIMIT 1",
                [cid, selector],
            )
        if row is None:
            raise NotFound("artifact", f"{workspace}/{project}/{collection}:{selector}")
        return self.artifacts_out([row])[0]

    def get_artifact_by_id(self, workspace: str, project: str, artifact_id: str) -> dict[str, Any]:
        return self.artifact_by_pk(self.artifact_row(workspace, project, artifact_id)["pk"])
