"""The ``Store`` interface: everything the server asks of a storage engine.

Each engine (``embedded/`` for DuckDB, later ``postgres/``) implements every method; they are
abstract so an engine missing one fails when it is built, not when a route calls it. Rows travel
as plain dicts with ISO 8601 UTC times; bulk results (run tables, history) as Arrow tables.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

import pyarrow as pa


class BlobUpload(abc.ABC):
    """A blob upload in progress (``Store.open_blob_upload``): fed chunk by chunk as they
    arrive, so a server never holds a whole upload in memory, nor a thread while it waits."""

    @abc.abstractmethod
    def write(self, chunk: bytes) -> None:
        """The next bytes."""

    @abc.abstractmethod
    def finish(self) -> dict[str, Any]:
        """Check the bytes against the digest and keep them: ``{digest, size, stored}``.

        Records the user's right to use the blob in the workspace; ``stored`` is true on the
        user's first upload of it there (whatever others stored: no oracle). Bytes already
        stored are hashed, not written again. Bytes whose sha256 differs are refused
        (``InvalidInput`` naming ``digest``) and not kept.
        """

    @abc.abstractmethod
    def abort(self) -> None:
        """Drop what was written (a cut or refused upload); harmless after ``finish``."""


class Store(abc.ABC):
    """Users, keys, workspaces and teams, projects, runs, metric points, files, console lines,
    sweeps, reports and artifacts."""

    # -- users and keys -------------------------------------------------------------------
    @abc.abstractmethod
    def create_user(
        self,
        username: str,
        *,
        name: str | None = None,
        email: str | None = None,
        is_admin: bool = False,
        password_hash: str | None = None,
    ) -> dict[str, Any]:
        """Create a user and its PERSON workspace (owned by it)."""

    @abc.abstractmethod
    def get_user(self, username: str) -> dict[str, Any]:
        """One user by username; ``NotFound("user", ...)`` when absent."""

    @abc.abstractmethod
    def list_users(self, search: str | None = None) -> list[dict[str, Any]]:
        """Every user, or those whose username or email contains ``search``."""

    @abc.abstractmethod
    def set_password(self, username: str, password_hash: str | None) -> None:
        """Store a user's password hash (made by the server's KDF); ``None`` removes it."""

    @abc.abstractmethod
    def password_hash(self, username: str) -> tuple[str, str | None] | None:
        """``(username, hash)`` of the user with this username or email, or ``None``."""

    @abc.abstractmethod
    def user_count(self) -> int:
        """How many users exist (0 on a new data dir)."""

    @abc.abstractmethod
    def create_api_key(
        self,
        username: str,
        *,
        name: str | None = None,
        key: str | None = None,
        expires_in: dt.timedelta | None = None,
    ) -> dict[str, Any]:
        """Make a key (or store the one given); the answer holds it, the store only its hash.

        A new key is ``ll_`` and 48 hex characters (no ``-``, 40+ characters, as every client
        wants); its public ``id`` is random, nothing of the key. ``expires_in`` from now ends it
        (``expires_at`` in the answer); ``None``: it lasts until revoked.
        """

    @abc.abstractmethod
    def list_api_keys(self, username: str) -> list[dict[str, Any]]:
        """The user's keys, without the keys themselves."""

    @abc.abstractmethod
    def delete_api_key(self, username: str, id_or_key: str) -> None:
        """Revoke one of the user's keys, named by its id or the key itself."""

    @abc.abstractmethod
    def user_for_key(self, key: str) -> dict[str, Any] | None:
        """The user a key belongs to, or ``None`` for an unknown or revoked key.

        ``key_expired`` in the answer is true for a key past its ``expires_at``.
        """

    # -- workspaces -----------------------------------------------------------------------
    @abc.abstractmethod
    def get_workspace(self, username: str, *, viewer: str | None = None) -> dict[str, Any]:
        """One workspace, with ``role`` the viewer's role in it (or ``None``)."""

    @abc.abstractmethod
    def list_workspaces(self, viewer: str) -> list[dict[str, Any]]:
        """The workspaces the viewer belongs to, personal first."""

    @abc.abstractmethod
    def role(self, workspace: str, username: str) -> str | None:
        """``OWNER``, ``MEMBER`` or ``None``."""

    # -- teams ----------------------------------------------------------------------------
    @abc.abstractmethod
    def create_team(self, name: str, owner: str) -> dict[str, Any]:
        """Create a TEAM workspace with ``owner`` as its first OWNER; ``Conflict`` if taken."""

    @abc.abstractmethod
    def list_members(self, workspace: str) -> list[dict[str, Any]]:
        """The members of a workspace: ``{username, name, email, role}``, owners first."""

    @abc.abstractmethod
    def add_member(self, workspace: str, username: str, role: str) -> dict[str, Any]:
        """Add a user (by username or email) to a TEAM workspace; ``Conflict`` if a member."""

    @abc.abstractmethod
    def remove_member(self, workspace: str, username: str) -> None:
        """Remove a member from a TEAM workspace; ``Conflict`` for its last OWNER."""

    # -- projects -------------------------------------------------------------------------
    @abc.abstractmethod
    def create_project(
        self,
        workspace: str,
        name: str,
        *,
        description: str | None = None,
        labels: Sequence[str] = (),
        visibility: str = "PRIVATE",
        exist_ok: bool = False,
    ) -> dict[str, Any]:
        """Create a project; ``Conflict`` if the name is taken and not ``exist_ok``."""

    @abc.abstractmethod
    def get_project(self, workspace: str, name: str) -> dict[str, Any]:
        """One project; ``NotFound("project", "ws/name")`` when absent."""

    @abc.abstractmethod
    def list_projects(
        self,
        workspace: str,
        *,
        sort: str | None = None,
        search: str | None = None,
        cursor: str | None = None,
        limit: int = 200,
        viewer: str | None = None,
    ) -> dict[str, Any]:
        """A page ``{items, total, next}`` of the workspace's projects the viewer may see."""

    @abc.abstractmethod
    def update_project(
        self, workspace: str, name: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change a project's ``description``, ``labels`` or ``visibility``."""

    @abc.abstractmethod
    def delete_project(self, workspace: str, name: str) -> None:
        """Delete a project with its runs, sweeps and reports."""

    @abc.abstractmethod
    def project_fields(self, workspace: str, project: str) -> dict[str, dict[str, str]]:
        """``{"config": {key: type}, "summary": {key: type}}`` over the project's runs."""

    # -- runs -----------------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self, workspace: str, project: str, data: Mapping[str, Any], *, username: str
    ) -> tuple[dict[str, Any], bool]:
        """Create (or resume) a run; returns the run and whether it was created."""

    @abc.abstractmethod
    def insert_runs(
        self, workspace: str, project: str, runs: Sequence[Mapping[str, Any]], *, username: str
    ) -> int:
        """Store many finished runs in one transaction (imports, benchmarks); returns how many.

        Each run is a mapping like ``create_run``'s, plus optional ``state``, ``summary``,
        ``created_at`` and ``finished_at`` (datetimes).
        """

    @abc.abstractmethod
    def get_run(self, workspace: str, project: str, run_id: str) -> dict[str, Any]:
        """One run; ``NotFound("run", ...)`` when absent."""

    @abc.abstractmethod
    def update_run(
        self, workspace: str, project: str, run_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Apply the given changes (name, notes, tags, config, summary merge, state ...)."""

    @abc.abstractmethod
    def delete_run(self, workspace: str, project: str, run_id: str) -> None:
        """Delete a run with its points, files and console lines."""

    @abc.abstractmethod
    def crash_silent_runs(self, timeout: float) -> int:
        """Mark ``CRASHED`` every ``RUNNING`` run with no heartbeat or write for ``timeout``
        seconds, its ``finished_at`` its last sign of life; returns how many were marked.

        A run's ``heartbeat_at`` moves with each heartbeat and each batch of points, so only a
        run whose process is gone (or cut off) falls silent that long.
        """

    @abc.abstractmethod
    def query_runs(
        self,
        workspace: str,
        project: str,
        *,
        filters: Mapping[str, Any] | None = None,
        order: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """A page ``{items, total, next}`` of matching runs, keyset-paged."""

    @abc.abstractmethod
    def runs_table(
        self,
        workspace: str,
        project: str,
        *,
        filters: Mapping[str, Any] | None = None,
        order: str | None = None,
        columns: Sequence[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> pa.RecordBatchReader:
        """Every matching run as one row, config and summary flattened into columns.

        ``offset``/``limit`` cut one page out of the ordered rows (a table view jumps to any row,
        which a keyset cursor cannot do); the schema metadata ``total`` holds the number of
        matching runs either way. The rows come as a stream of batches of bounded size, so a
        table of many runs or many keys is never built whole; a bad filter, order, offset or
        limit raises before the first batch.
        """

    # -- metric points --------------------------------------------------------------------
    @abc.abstractmethod
    def append_points(
        self,
        workspace: str,
        project: str,
        run_id: str,
        points: pa.Table,
        *,
        stream: str = "default",
        batch_id: str | None = None,
    ) -> dict[str, Any]:
        """Store a batch (``key step timestamp value``); a known ``batch_id`` stores nothing."""

    @abc.abstractmethod
    def history(
        self,
        workspace: str,
        project: str,
        run_ids: Sequence[str] | None,
        *,
        keys: Sequence[str] | None = None,
        samples: int | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
        min_x: float | None = None,
        max_x: float | None = None,
        stream: str = "default",
        x_axis: str = "step",
        x_key: str | None = None,
        filters: Mapping[str, Any] | None = None,
        order: str | None = None,
    ) -> pa.Table:
        """Points of several runs, long form ``run_id key step timestamp value``; the schema
        metadata ``started`` maps each run id to its start (seconds since the epoch) and
        ``names`` to its display name.

        The runs are ``run_ids``, or (when ``None``) every run ``filters`` matches.

        ``min_x``/``max_x`` (inclusive) cut the range before sampling, measured on ``x_axis``:
        ``step``; ``timestamp`` (seconds since the epoch); ``runtime`` (a point's timestamp
        minus its run's ``started``); or ``metric``, the value of the metric ``x_key``: each run
        keeps the steps where ``x_key`` lies in the range (without a range, where it was
        logged), and every key is read at those steps only; ``x_key``'s points come too, and
        when sampling they are those at the steps kept for the other keys. A bad ``x_axis``,
        ``x_key`` or range is ``InvalidInput`` naming the field.
        """

    # -- files and console ----------------------------------------------------------------
    @abc.abstractmethod
    def put_file(
        self, workspace: str, project: str, run_id: str, name: str, content: bytes
    ) -> dict[str, Any]:
        """Store (or replace) a run file."""

    @abc.abstractmethod
    def list_files(
        self, workspace: str, project: str, run_id: str, names: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """The run's files, optionally only those named."""

    @abc.abstractmethod
    def read_file(
        self, workspace: str, project: str, run_id: str, name: str
    ) -> tuple[dict[str, Any], bytes]:
        """A run file's description and content."""

    @abc.abstractmethod
    def append_console(
        self,
        workspace: str,
        project: str,
        run_id: str,
        lines: Sequence[Mapping[str, Any]],
        *,
        batch_id: str | None = None,
    ) -> dict[str, Any]:
        """Store console lines ``{ts, stream, line}``; a known ``batch_id`` stores nothing."""

    @abc.abstractmethod
    def read_console(self, workspace: str, project: str, run_id: str) -> list[dict[str, Any]]:
        """The run's console lines in order."""

    # -- sweeps ---------------------------------------------------------------------------
    @abc.abstractmethod
    def create_sweep(
        self,
        workspace: str,
        project: str,
        config: Mapping[str, Any],
        *,
        username: str,
        name: str | None = None,
    ) -> dict[str, Any]:
        """Create a sweep (and its project when missing) from a checked configuration."""

    @abc.abstractmethod
    def get_sweep(self, workspace: str, project: str, sweep_id: str) -> dict[str, Any]:
        """One sweep; ``NotFound("sweep", ...)`` when absent."""

    @abc.abstractmethod
    def list_sweeps(
        self, workspace: str, project: str, *, cursor: str | None = None, limit: int = 50
    ) -> dict[str, Any]:
        """A page ``{items, total, next}`` of the project's sweeps, newest first."""

    @abc.abstractmethod
    def update_sweep(
        self, workspace: str, project: str, sweep_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change a sweep's ``state`` (``RUNNING``, ``PAUSED``, ``CANCELED``), name or
        description."""

    @abc.abstractmethod
    def claim_trial(
        self,
        workspace: str,
        project: str,
        sweep_id: str,
        *,
        username: str,
        agent: str | None = None,
    ) -> dict[str, Any] | None:
        """Hand out the sweep's next trial, atomically: make its run (config = the trial's
        parameters, ``sweep`` = the sweep id) and return ``{index, params, run}``; ``None``
        when the sweep has no trial left or is not RUNNING."""

    # -- reports --------------------------------------------------------------------------
    @abc.abstractmethod
    def create_report(
        self,
        workspace: str,
        project: str,
        *,
        title: str,
        description: str | None,
        spec: Mapping[str, Any],
        username: str,
    ) -> dict[str, Any]:
        """Save a report in a project."""

    @abc.abstractmethod
    def get_report(self, workspace: str, project: str, report_id: str) -> dict[str, Any]:
        """One report; ``NotFound("report", ...)`` when absent."""

    @abc.abstractmethod
    def list_reports(
        self,
        workspace: str,
        project: str,
        *,
        name: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """A page of the project's reports, newest first; ``name`` matches name or title."""

    @abc.abstractmethod
    def update_report(
        self, workspace: str, project: str, report_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change a report's ``title``, ``description`` or ``spec``."""

    @abc.abstractmethod
    def delete_report(self, workspace: str, project: str, report_id: str) -> None:
        """Delete a report."""

    # -- artifacts: blobs ------------------------------------------------------------------
    # Blobs are stored once per server, but a user may *use* one (name it in a commit into a
    # workspace) only if they uploaded it, a member of that workspace uploaded it into it, or
    # they can read it already (a stored artifact file or run file of a project they may read).
    # Knowing a sha256 is no right: every method below answers per user.
    @abc.abstractmethod
    def missing_blobs(self, workspace: str, digests: Sequence[str], *, username: str) -> list[str]:
        """Which of these sha256 digests the user may not use in ``workspace`` (each once, in
        order): those to upload. A digest stored for someone else is missing all the same."""

    @abc.abstractmethod
    def open_blob_upload(self, workspace: str, digest: str, *, username: str) -> BlobUpload:
        """Begin the upload of a blob named by its sha256 ``digest`` (``InvalidInput`` naming
        ``digest`` for a malformed one): write its bytes to the answer, then ``finish()`` it."""

    def put_blob(
        self, workspace: str, digest: str, content: BinaryIO, *, username: str
    ) -> dict[str, Any]:
        """Upload a whole blob read from ``content``: ``open_blob_upload``, every chunk, then
        ``finish()``, whose answer this is."""
        upload = self.open_blob_upload(workspace, digest, username=username)
        try:
            while chunk := content.read(1 << 20):
                upload.write(chunk)
        except BaseException:
            upload.abort()
            raise
        return upload.finish()

    @abc.abstractmethod
    def check_blobs(
        self, workspace: str, files: Sequence[dict[str, Any]], *, username: str
    ) -> None:
        """Refuse (``InvalidInput`` naming ``files[i].digest`` or ``files[i].size``) checked
        manifest entries naming a blob the user may not use in ``workspace``, or declaring a
        size other than the blob's."""

    # -- artifacts: types and collections -------------------------------------------------
    @abc.abstractmethod
    def list_artifact_types(self, workspace: str, project: str) -> list[dict[str, Any]]:
        """The project's artifact types ``{id, name, created_at, collection_count}``."""

    @abc.abstractmethod
    def get_artifact_type(self, workspace: str, project: str, type_name: str) -> dict[str, Any]:
        """One artifact type; ``NotFound("artifact_type", ...)`` when absent."""

    @abc.abstractmethod
    def list_artifact_collections(
        self,
        workspace: str,
        project: str,
        *,
        type_name: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """A page ``{items, total, next}`` of the project's collections, by name."""

    @abc.abstractmethod
    def get_artifact_collection(
        self, workspace: str, project: str, name: str, *, type_name: str | None = None
    ) -> dict[str, Any]:
        """One collection (of that type, when given); ``NotFound("artifact_collection")``."""

    @abc.abstractmethod
    def update_artifact_collection(
        self, workspace: str, project: str, name: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change a collection's ``name``, ``description`` or ``tags``."""

    @abc.abstractmethod
    def delete_artifact_collection(self, workspace: str, project: str, name: str) -> None:
        """Delete a collection with all its versions; ``Conflict`` while one is linked."""

    # -- artifacts: versions --------------------------------------------------------------
    @abc.abstractmethod
    def commit_artifact(
        self, workspace: str, project: str, data: Mapping[str, Any], *, username: str
    ) -> tuple[dict[str, Any], bool]:
        """Commit a version ``{name, type, files, description?, metadata?, aliases?, tags?,
        run_id?}`` with its manifest in one transaction; returns it and whether it is new.

        Every blob must be stored already and usable by ``username`` (``check_blobs``), each
        declared size its blob's. Content equal to a version of the collection gives
        that version back (its aliases moved as asked) instead of a new one. The new version
        takes the next number and the ``latest`` alias.
        """

    @abc.abstractmethod
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
        """A page of a collection's versions, newest first (``tags``: having all of them)."""

    @abc.abstractmethod
    def get_artifact(
        self,
        workspace: str,
        project: str,
        collection: str,
        selector: str,
        *,
        type_name: str | None = None,
    ) -> dict[str, Any]:
        """One version by ``vN``, alias or manifest digest; ``NotFound("artifact")``."""

    @abc.abstractmethod
    def get_artifact_by_id(self, workspace: str, project: str, artifact_id: str) -> dict[str, Any]:
        """One version by its id."""

    @abc.abstractmethod
    def update_artifact(
        self, workspace: str, project: str, artifact_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Set a version's ``description``, ``metadata``, ``tags`` or ``aliases`` (the whole
        list; an alias held by another version moves here; ``latest`` is the server's)."""

    @abc.abstractmethod
    def delete_artifact(
        self, workspace: str, project: str, artifact_id: str, *, delete_aliases: bool = False
    ) -> None:
        """Delete a version; ``Conflict`` if it has aliases and not ``delete_aliases``, or
        while it is linked. ``latest`` moves to the newest version left."""

    @abc.abstractmethod
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
        """Link a version into a portfolio collection (made if missing); returns the link."""

    @abc.abstractmethod
    def list_artifact_files(
        self,
        workspace: str,
        project: str,
        artifact_id: str,
        *,
        names: Sequence[str] | None = None,
        prefix: str | None = None,
        cursor: str | None = None,
        limit: int = 1000,
    ) -> dict[str, Any]:
        """A page of a version's manifest ``{path, digest, size, ref, mimetype}``, by path."""

    @abc.abstractmethod
    def open_artifact_file(
        self, workspace: str, project: str, artifact_id: str, path: str
    ) -> tuple[dict[str, Any], BinaryIO]:
        """A version's file: its manifest entry and its content, open for reading."""

    # -- artifacts: lineage ---------------------------------------------------------------
    @abc.abstractmethod
    def use_artifact(
        self,
        workspace: str,
        project: str,
        run_id: str,
        *,
        artifact_workspace: str,
        artifact_project: str,
        artifact_id: str,
    ) -> dict[str, Any]:
        """Record that a run used a version (once); returns the version."""

    @abc.abstractmethod
    def artifact_users(
        self, workspace: str, project: str, artifact_id: str
    ) -> list[dict[str, Any]]:
        """The runs that used a version, in the order they did."""

    @abc.abstractmethod
    def run_artifacts(
        self,
        workspace: str,
        project: str,
        run_id: str,
        *,
        used: bool = False,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """A page of the versions a run logged (or, with ``used``, used)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the engine's resources."""
