"""Who may use which blob, and uploads: the rights to content-addressed bytes, the same for every
engine (``store/common/blob_grants.py`` adds the SQL that reads and records them).

Blobs (the bytes of run files, artifact files and media, named by their sha256) are stored once
whoever saved them (``store/blob_files.py`` holds the bytes). An upload is hashed as it comes and
kept only once its sha256 is checked, so a cut or altered upload never becomes a blob.

Because the bytes are shared, knowing a sha256 must not be a way to read them: a user may name a
digest in a commit only if it is *usable* by them in the target workspace (``blob_grants`` in
the schema):

- they uploaded those bytes themselves (to any workspace), or a member of the target workspace
  uploaded them into it: an upload of bytes the server already has is hashed and checked like
  any other, and only records the right (no second copy);
- or they can already read those bytes: a stored file (not a reference) of an artifact, or a
  run file, in a project they may read.

``missing_blobs`` answers with the same rule, so it tells a caller nothing about what others
stored.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from lablens.store.artifact_values import checked_digest
from lablens.store.blob_files import BlobFiles, BlobWriter
from lablens.store.errors import InvalidInput, NotFound
from lablens.store.interface.artifacts import BlobUpload

__all__ = ["BlobRights"]


class BlobRights(abc.ABC):
    """The blob-grants part, less its SQL: which blobs a user may use, and uploads that store
    them. The part (``store/common/blob_grants.py``) subclasses it and reads and records the
    grants."""

    def __init__(self, blobs: BlobFiles) -> None:
        self.blobs = blobs

    # -- the engine's SQL ----------------------------------------------------------------------
    @abc.abstractmethod
    def uploaded(self, digests: Sequence[str], workspace_id: int, user_id: int) -> set[str]:
        """Those of ``digests`` uploaded into the workspace by anyone, or anywhere by the user."""

    @abc.abstractmethod
    def readable(self, digests: Sequence[str], user_id: int) -> set[str]:
        """Those of ``digests`` the user can read already: stored files (not references) of
        artifact versions, and run files, in projects they may read."""

    @abc.abstractmethod
    def id_row(self, workspace: str, username: str, digest: str) -> dict[str, Any] | None:
        """``{w, u, had}``: the workspace's id, the user's (``None`` when missing), and whether
        the user uploaded ``digest`` into the workspace before."""

    @abc.abstractmethod
    def granted(self, workspace_id: int, user_id: int, digests: Sequence[str]) -> set[str]:
        """Those of ``digests`` the user uploaded into the workspace before."""

    @abc.abstractmethod
    def grant(self, workspace_id: int, user_id: int, digests: Sequence[str]) -> None:
        """Record the user's uploads of ``digests`` into the workspace, in one transaction."""

    # -- the rules -----------------------------------------------------------------------------
    def usable_blobs(self, digests: Sequence[str], workspace_id: int, user_id: int) -> set[str]:
        """Those of ``digests`` that the user may name in a commit into the workspace."""
        wanted = list(dict.fromkeys(digests))
        if not wanted:
            return set()
        # Grants first: they cover what the SDK just uploaded, so the scan of every project's
        # files is usually skipped.
        usable = self.uploaded(wanted, workspace_id, user_id)
        rest = [d for d in wanted if d not in usable]
        if rest:
            usable |= self.readable(rest, user_id)
        return usable

    def ids(self, workspace: str, username: str, digest: str = "") -> tuple[int, int, bool]:
        """The ids of a workspace and a user (``NotFound`` for either missing), and whether the
        user uploaded ``digest`` into the workspace before; one query, as uploads are many."""
        row = self.id_row(workspace, username, digest)
        if row is None or row["w"] is None:
            raise NotFound("workspace", workspace)
        if row["u"] is None:
            raise NotFound("user", username)
        return row["w"], row["u"], bool(row["had"])

    def missing_blobs(self, workspace: str, digests: Sequence[str], *, username: str) -> list[str]:
        # A dict keeps the first-seen order and dedups in linear time (a manifest may hold
        # 100,000 files).
        wanted = list(
            dict.fromkeys(checked_digest(d, f"digests[{i}]") for i, d in enumerate(digests))
        )
        usable = self.usable_blobs(wanted, *self.ids(workspace, username)[:2])
        return [d for d in wanted if d not in usable or not self.blobs.exists(d)]

    def check_blobs(
        self, workspace: str, files: Sequence[dict[str, Any]], *, username: str
    ) -> None:
        """Refuse a manifest naming a blob the user may not use, or a size not the blob's.

        ``files`` are checked manifest entries; references (``ref``) name no blob here.
        """
        stored = [(i, f) for i, f in enumerate(files) if f["ref"] is None]
        usable = self.usable_blobs(
            [f["digest"] for _, f in stored], *self.ids(workspace, username)[:2]
        )
        sizes: dict[int, int] = {}
        missing: list[int] = []
        for i, f in stored:
            size = self.blobs.size(f["digest"]) if f["digest"] in usable else None
            if size is None:
                missing.append(i)
            else:
                sizes[i] = size
        # One message whether the blob exists elsewhere or nowhere: the answer is no oracle.
        if missing:
            i = missing[0]
            raise InvalidInput(
                f"the content of {files[i]['path']!r} (sha256 {files[i]['digest']}) was"
                f" not uploaded; {len(missing)} file(s) are missing: PUT them to"
                " .../blobs/{sha256} first",
                field=f"files[{i}].digest",
            )
        for i, f in stored:
            real = sizes[i]
            if f["size"] != real:
                raise InvalidInput(
                    f"files[{i}] ({f['path']!r}) declares {f['size']} bytes, but its content"
                    f" (sha256 {f['digest']}) has {real}",
                    field=f"files[{i}].size",
                )

    def open_blob_upload(self, workspace: str, digest: str, *, username: str) -> BlobUpload:
        digest = checked_digest(digest, "digest")
        workspace_id, user_id, had = self.ids(workspace, username, digest)

        def grant() -> None:
            if not had:
                self.grant(workspace_id, user_id, [digest])

        return _Upload(digest, self.blobs.writer(digest), grant, first=not had)

    def put_blobs(
        self, workspace: str, blobs: Sequence[tuple[str, bytes]], *, username: str
    ) -> list[dict[str, Any]]:
        # One query for the rights held and one transaction for the new ones: a commit per blob
        # (what open_blob_upload costs) is most of the time of a small image's upload.
        workspace_id, user_id, _ = self.ids(workspace, username)
        digests = [checked_digest(d, f"blobs[{i}]") for i, (d, _) in enumerate(blobs)]
        had = self.granted(workspace_id, user_id, list(dict.fromkeys(digests)))
        out: list[dict[str, Any]] = []
        new: list[str] = []
        try:
            for i, (digest, (_, data)) in enumerate(zip(digests, blobs, strict=True)):
                got = hashlib.sha256(data).hexdigest()
                if got != digest:
                    raise InvalidInput(
                        f"the bytes of blobs[{i}] have sha256 {got}, not {digest}: the upload"
                        " was cut short or changed on the way; send it again",
                        field=f"blobs[{i}]",
                    )
                self.blobs.put(digest, data)
                first = digest not in had
                if first:
                    had.add(digest)
                    new.append(digest)
                out.append({"digest": digest, "size": len(data), "stored": first})
        finally:
            if new:
                self.grant(workspace_id, user_id, new)
        return out


class _Upload(BlobUpload):
    """One upload in progress: hashed as it comes, written as a new blob unless the blob exists
    already (``writer`` is then ``None``), put in place only once its sha256 is right."""

    def __init__(
        self, digest: str, writer: BlobWriter | None, grant: Callable[[], None], *, first: bool
    ):
        self.digest, self._writer, self._grant, self._first = digest, writer, grant, first
        self._hash = hashlib.sha256()
        self.size = 0
        # Without a writer the bytes are here already: they are hashed without being kept, so
        # the upload proves the caller has the content before it earns the right to use it.

    def write(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        if self._writer is not None:
            self._writer.write(chunk)
        self.size += len(chunk)

    def finish(self) -> dict[str, Any]:
        try:
            got = self._hash.hexdigest()
            if got != self.digest:
                raise InvalidInput(
                    f"the uploaded bytes have sha256 {got}, not {self.digest}: the upload"
                    " was cut short or changed on the way; send it again",
                    field="digest",
                )
            if self._writer is not None:
                self._writer.commit()
        finally:
            self.abort()
        self._grant()
        # "stored" says whether this is the caller's first upload of these bytes into this
        # workspace, not whether the server had them: that would tell anyone who guesses a
        # file's content whether someone else stored it.
        return {"digest": self.digest, "size": self.size, "stored": self._first}

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()
