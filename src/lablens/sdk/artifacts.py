"""``lablens.Artifact``: build a versioned set of files, then log it from a run.

An artifact is built locally (``add_file``, ``add_dir``, ``add`` for a table, ``add_reference``;
see ``artifact_contents.py``) and logged with ``run.log_artifact()``, which uploads it in three
steps so that nothing half-done is ever visible: ask the server which contents (by sha256) it
lacks, upload only those, then commit the manifest, which the server stores in one transaction
as the next version ``vN``. Content the server already has, from any earlier version or run, is
not sent again.

``run.log_artifact()`` and ``run.use_artifact()`` are in ``run_artifacts.py``. Once logged, a
``lablens.Artifact`` is that stored version (``artifact_version.py``): ``download``, ``verify``,
``checkout``, ``file``, ``save``, ``link``. It talks HTTP only, through the client contract, and
never imports the ``Api``: ``lablens.Api().artifact(a.qualified_name)`` is the full resource.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lablens import _artifact_names as rules
from lablens.contract.artifact_paths import blobs_route
from lablens.contract.manifest import ArtifactManifest, ManifestEntry
from lablens.contract.routes import project_route
from lablens.errors import UsageError
from lablens.sdk.artifact_contents import ArtifactContents, checked
from lablens.sdk.artifact_version import StoredVersion
from lablens.sdk.config import to_json

if TYPE_CHECKING:
    from lablens.transport import Transport

__all__ = ["Artifact"]


class Artifact(ArtifactContents, StoredVersion):
    """Flexible and lightweight building block for dataset and model versioning.

    Constructs an empty artifact whose contents can be populated using its ``add`` methods.
    Once it has all the desired files, ``run.log_artifact(artifact)`` logs it as the next
    version (``v0``, ``v1``, ...) of the collection ``name``, and the object becomes that
    stored version.

    Args:
        name: a human-readable name for the artifact, unique in its project: letters, digits,
            ``_``, ``.`` and ``-``. Logging it again with other contents makes a new version.
        type: the artifact's type, e.g. ``dataset``, ``model``, ``predictions``.
        description: what the artifact is.
        metadata: free-form facts about the artifact (a dict of JSON values).

    Raises:
        UsageError: the name, type or metadata is not allowed (a ``ValueError`` too).

    Example:
        >>> import lablens, pandas as pd
        >>> artifact = lablens.Artifact("digits", type="dataset", metadata={"rows": 1797})
        >>> artifact.add_file("data/train.csv")
        >>> artifact.add_dir("data/images", name="images")
        >>> artifact.add(pd.DataFrame({"x": [1, 2]}), "sample")     # stored as sample.parquet
        >>> with lablens.init(project="mnist") as run:
        ...     run.log_artifact(artifact, aliases=["baseline"])
        >>> artifact.version, artifact.aliases
        ('v0', ['baseline', 'latest'])
    """

    def __init__(
        self,
        name: str,
        type: str,  # noqa: A002 - W&B's name
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        checked(rules.check_name, name, "name")
        checked(lambda v: rules.check_name(v, "artifact type"), type, "type")
        if description is not None and not isinstance(description, str):
            raise UsageError("description must be a string", field="description")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise UsageError(
                f"metadata must be a dict, not {metadata.__class__.__name__}", field="metadata"
            )
        self._staged = {}
        self._http = None  # no server until logged
        self._load(
            {
                "name": name,
                "type": type,
                "description": description,
                "state": "PENDING",
                "metadata": to_json(dict(metadata or {})),
            }
        )

    # -- the files, added so far or stored ------------------------------------------------

    @property
    def manifest(self) -> ArtifactManifest:
        """The files: those added so far, or once logged, the stored version's."""
        if self.id:
            return self._stored_manifest()
        return ArtifactManifest({p: s.entry for p, s in sorted(self._staged.items())})

    def get_entry(self, name: str) -> ManifestEntry:
        """The entry of one file (added so far, or once logged, stored).

        Raises:
            KeyError: the artifact has no such file (as in W&B).
        """
        found = self.manifest.entries.get(name)
        if found is None:
            label = self.qualified_name if self.id else repr(self.name)
            raise KeyError(f"artifact {label} has no file {name!r}")
        return found

    # -- logging ----------------------------------------------------------------------------

    def _commit(
        self,
        http: Transport,
        entity: str,
        project: str,
        *,
        run_id: str | None,
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
    ) -> None:
        """Upload what the server lacks, commit the manifest, and become the stored version."""
        self._writable("log_artifact")
        aliases = [
            checked(rules.check_alias, a, f"aliases[{i}]")
            for i, a in enumerate([*self.aliases, *aliases])
        ]
        tags = [checked(rules.check_tag, t, f"tags[{i}]") for i, t in enumerate(tags)]
        blobs = blobs_route(entity, project)
        local = {
            s.entry.digest: s.local
            for s in self._staged.values()
            if s.entry.ref is None and s.local is not None
        }
        if local:
            missing = http.post_json(f"{blobs}/missing", {"digests": list(local)})
            for digest in missing["missing"]:
                with open(local[digest], "rb") as f:
                    http.request(
                        "PUT",
                        f"{blobs}/{digest}",
                        data=f,  # type: ignore[arg-type]
                        headers={"Content-Type": "application/octet-stream"},
                    )
        body = {
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "metadata": to_json(self.metadata),
            "aliases": aliases,
            "tags": sorted(set(self.tags) | set(tags)),
            "run_id": run_id,
            "files": [s.entry.to_json() for _, s in sorted(self._staged.items())],
        }
        data = http.post_json(f"{project_route(entity, project)}/artifacts", body)
        self._http = http
        self._load(data)
        self._unstage()

    # -- display ----------------------------------------------------------------------------

    def __repr__(self) -> str:
        if not self.id:
            return f"<Artifact {self.name} ({self.type}, not logged)>"
        return f"<Artifact {self.qualified_name} ({self.type})>"

    def _repr_html_(self) -> str:
        rows = [
            ("type", self.type),
            ("version", self.version or "not logged"),
            ("aliases", ", ".join(self.aliases)),
            ("files", self.file_count if self.id else len(self._staged)),
            ("description", self.description),
            ("metadata", self.metadata),
        ]
        body = "".join(
            f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape('' if v is None else str(v))}</td></tr>"
            for k, v in rows
        )
        title = html.escape(f"Artifact {self.qualified_name if self.id else self.name}")
        return f"<div class='lablens'><b>{title}</b><table>{body}</table></div>"
