"""The ``Store`` interface's methods for media: the images, tables, histograms... runs log.

An item's content is a blob (``ArtifactStore``'s blob methods, ``put_blobs`` among them, upload
it); the store keeps the item (``lablens.contract.media``'s wire form) keyed by run, key, step and
index.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any


class MediaStore(abc.ABC):
    """Media items of runs, and their content."""

    @abc.abstractmethod
    def append_media(
        self,
        workspace: str,
        project: str,
        run_id: str,
        items: Sequence[Any],
        *,
        username: str,
        batch_id: str | None = None,
    ) -> dict[str, Any]:
        """Store media items ``{stored, duplicate}``; a known ``batch_id`` stores nothing.

        Each item is checked (``InvalidInput`` naming ``items[i].<field>``), and its blob (and
        each of its ``refs``) must be uploaded and usable by ``username`` in the workspace
        (``InvalidInput`` naming ``items[i].sha256`` and the digest). An item logged again at
        the same run, key, step and index replaces the earlier one.
        """

    @abc.abstractmethod
    def list_media(
        self,
        workspace: str,
        project: str,
        run_ids: Sequence[str],
        *,
        key: str | Sequence[str] | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> list[dict[str, Any]]:
        """The items of these runs (``run_id`` added to each), by run (in the order given),
        key, step and index; ``key`` (one, or a list) and the inclusive step range narrow them.
        ``RunNotFound`` for a run that does not exist."""

    @abc.abstractmethod
    def media_keys(self, workspace: str, project: str, run_id: str) -> dict[str, dict[str, Any]]:
        """The run's media keys: ``{key: {type, count, first_step, last_step}}``."""

    @abc.abstractmethod
    def read_media(self, workspace: str, project: str, sha256: str) -> tuple[dict[str, Any], bytes]:
        """The content of a blob that a media item of the project names (as its own or in its
        ``refs``), with ``{type, format, size}`` of the item; ``NotFound("media", ...)`` when no
        item of the project names it (knowing a digest is no right to read it)."""
