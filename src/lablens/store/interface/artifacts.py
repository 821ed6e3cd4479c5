"""The ``Store`` interface's methods for blobs, artifact types and collections, versions, their
files and lineage."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

from lablens.store.errors import InvalidInput


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


class ArtifactStore(abc.ABC):
    """Blobs, artifact types, collections, versions and lineage."""

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

    def put_blobs(
        self, workspace: str, blobs: Sequence[tuple[str, bytes]], *, username: str
    ) -> list[dict[str, Any]]:
        """Upload many small blobs ``(sha256, bytes)`` at once (a run's logged images): each
        checked and kept as ``open_blob_upload`` does, answering ``{digest, size, stored}``
        each. Bytes that do not match their digest are ``InvalidInput`` naming ``blobs[i]``;
        the blobs before it are kept. An engine may do it in fewer transactions."""
        out = []
        for i, (digest, data) in enumerate(blobs):
            try:
                upload = self.open_blob_upload(workspace, digest, username=username)
                try:
                    upload.write(data)
                    out.append(upload.finish())
                finally:
                    upload.abort()
            except InvalidInput as exc:
                raise InvalidInput(str(exc), field=f"blobs[{i}]") from None
        return out

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
