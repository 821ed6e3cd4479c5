"""``ArtifactBrowser``: a project's artifact types -> collections -> versions -> files, read
when a node opens, with a preview of a file and the lineage of a version.

The widget (its traits, the tree it opens, selection and download) is here; what each level
lists, the lineage and the previews are in ``lablens.widgets.artifacts``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pandas as pd
import traitlets as t

from lablens.widgets._base import LablensWidget, make_api, shows_errors
from lablens.widgets._call import api_call
from lablens.widgets._listing import ShowsListings
from lablens.widgets._traits import ProjectPath
from lablens.widgets._tree import copy_nodes, find_node
from lablens.widgets.artifacts.lineage import detail, read_lineage
from lablens.widgets.artifacts.listings import (
    COLLECTIONS,
    FILES,
    TYPES,
    VERSIONS,
    collection_nodes,
    file_nodes,
    more,
    type_nodes,
    version_nodes,
)
from lablens.widgets.artifacts.preview import PREVIEW_ROWS
from lablens.widgets.artifacts.preview import preview as read_preview

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["ArtifactBrowser"]

_VERSIONS_SHOWN = 100  # versions listed under a collection, newest first
_FILES_SHOWN = 500  # files listed under a version


class ArtifactBrowser(LablensWidget, ShowsListings):
    """Browse a project's artifacts: types, collections, versions and their files.

    Opening a node reads its children with one Api call (``api.artifact_types(project)``,
    ``api.artifact_collections(project, type)``, ``api.artifacts(type, collection)``,
    ``api.artifact(name).files()``); ``code`` repeats the last one as a DataFrame equal to
    ``to_pandas()``. Selecting a version shows its aliases, tags, metadata and size, and its
    lineage (the run that logged it, the runs that used it); selecting a file previews it
    (text, an image, or the first rows of a CSV/Parquet table).

    Args:
        api: the ``Api`` to query (default: the ``Api`` of the ``Project`` given, else
            ``lablens.Api()``).

    Keyword Args:
        path: the project: ``"entity/project"``, a ``Project`` or a ``Runs`` (its project).
        selected: the selected node's path (see ``selected``).

    Raises:
        TypeError: an unknown keyword argument.

    Example:
        >>> browser = ArtifactBrowser(api, path="alice/mnist")
        >>> browser.expand("alice/mnist/model")       # the type's collections
        >>> browser.to_pandas()
        >>> browser.selected = "alice/mnist/mlp:v3"   # aliases, metadata, lineage
        >>> browser.download("alice/mnist/mlp:v3", "weights/")
    """

    _bundle = "artifact_browser"
    _public = ("path", "selected", "selected_run")

    path = ProjectPath("").tag(sync=True)
    """The project browsed, ``entity/project``; set it to a path, a ``Project`` or a ``Runs``."""

    selected = t.Unicode("").tag(sync=True)
    """The selected node: a type ``entity/project/type``, a collection
    ``entity/project/type/name``, a version ``entity/project/name:v3`` or a file
    ``entity/project/name:v3/path/in/artifact``."""

    selected_run = t.Unicode("").tag(sync=True)
    """The run last clicked in the lineage view, ``entity/project/run_id``."""

    _nodes = t.List(t.Dict()).tag(sync=True)
    # The tree as far as read: [{path, label, kind, meta, leaf, children?}].
    _detail = t.Dict().tag(sync=True)
    # The selected version: {path, version, aliases, tags, metadata, size, ..., logged_by,
    # used_by}; empty when no version is selected.
    _preview = t.Dict().tag(sync=True)
    # The selected file: {path, kind: text|image|table|other, text?, url?, html?, note?}.

    def __init__(self, api: Api | None = None, path: Any = None, **kwargs: Any) -> None:
        self._api = make_api(api, path, widget="ArtifactBrowser")
        self._last: pd.DataFrame = pd.DataFrame()
        super().__init__(**kwargs)
        self.on_msg(self._on_msg)
        self.observe(self._on_path, "path")
        self.observe(self._on_selected, "selected")
        if path:
            self.path = path

    # -- listings: each one Api call, and the source that repeats it ------------------------

    def _on_path(self, change: dict[str, Any]) -> None:
        self._nodes = []
        self._detail = {}
        self._preview = {}
        self.selected = ""
        self._load_types()

    @shows_errors
    def _load_types(self) -> None:
        project = self.path
        if not project:
            return
        types = self._list(api_call("artifact_types", project), TYPES)
        self._nodes = type_nodes(project, types)

    def _children(self, node: dict[str, Any]) -> list[dict[str, Any]]:
        path, kind = node["path"], node["kind"]
        project = self.path
        if kind == "type":
            type_name = path.rsplit("/", 1)[1]
            call = api_call("artifact_collections", project, type_name)
            return collection_nodes(path, self._list(call, COLLECTIONS))
        if kind == "collection":
            type_name, name = path.rsplit("/", 2)[1:]
            call = api_call("artifacts", type_name, f"{project}/{name}")
            pager = call.run(self._api)
            first = call[:_VERSIONS_SHOWN]
            versions = self._list(first, VERSIONS, first.run_after(call, pager))
            return version_nodes(versions) + more(path, len(pager) - len(versions))
        if kind == "version":
            call = api_call("artifact", path).then("files")
            pager = call.run(self._api)
            first = call[:_FILES_SHOWN]
            files = self._list(first, FILES, first.run_after(call, pager))
            return file_nodes(path, files) + more(path, len(pager) - len(files))
        return []

    @shows_errors
    def expand(self, path: str) -> None:
        """Open a node (read its children), as clicking it does.

        Args:
            path: a type ``entity/project/type``, a collection ``entity/project/type/name``
                or a version ``entity/project/name:v3``.

        Raises:
            KeyError: no node has this path (open its parent first).
        """
        nodes = copy_nodes(self._nodes)
        node = find_node(nodes, path)
        if node is None:
            raise KeyError(f"no node {path!r} in the browser; open its parent first")
        if node.get("children") is None:
            node["children"] = self._children(node)
        self._nodes = nodes

    # -- a version's details and lineage, a file's preview ----------------------------------

    def _on_selected(self, change: dict[str, Any]) -> None:
        # The kind follows from the path, so a version or file set from Python needs no open
        # parent: a version is entity/project/name:v, a file has more parts after it.
        path = change["new"]
        parts = path.split("/")
        if len(parts) < 3 or ":" not in parts[2]:
            return
        if len(parts) == 3:
            self._preview = {}
            self.lineage(path)
        else:
            self.preview(path)

    def _split_file(self, path: str) -> tuple[str, str]:
        """``entity/project/name:v3/a/b.csv`` -> (``entity/project/name:v3``, ``a/b.csv``)."""
        parts = path.split("/")
        if len(parts) < 4 or ":" not in parts[2]:
            raise ValueError(f"{path!r} is not a file path entity/project/name:version/file")
        return "/".join(parts[:3]), "/".join(parts[3:])

    @shows_errors
    def lineage(self, version: str) -> pd.DataFrame:
        """Show a version's details and lineage: the run that logged it and the runs that
        used it, as selecting the version does.

        Args:
            version: the version's qualified name, ``entity/project/name:v3``.

        Returns:
            The runs as a DataFrame ``role path name state`` (also ``to_pandas()``).
        """
        lineage = read_lineage(self._api, version)
        self._record(lineage.source)
        self._last = lineage.frame()
        self._detail = detail(lineage)
        return self._last.copy()

    @shows_errors
    def preview(self, path: str) -> dict[str, Any]:
        """Preview a file, as selecting it does: the first lines of a text, an image, or the
        first 20 rows of a CSV/Parquet table.

        Args:
            path: the file's path, ``entity/project/name:v3/path/in/artifact``.

        Returns:
            The preview: ``{path, kind, ...}`` with ``kind`` one of text, image, table, other.
        """
        version, name = self._split_file(path)
        out = read_preview(self._api, api_call("artifact", version), name, path, self._called)
        self._preview = out
        return out

    def preview_frame(self, path: str) -> pd.DataFrame:
        """The first 20 rows of a table file as the preview shows them."""
        version, name = self._split_file(path)
        return (
            api_call("artifact", version)
            .then("get", name)
            .then("head", PREVIEW_ROWS)
            .run(self._api)
        )

    def download(self, path: str, root: str | os.PathLike[str] | None = None) -> str:
        """Download a version's files (``Artifact.download``).

        Args:
            path: the version, ``entity/project/name:v3`` (a file's path downloads its version).
            root: the folder (default ``./artifacts/<name>/``).

        Returns:
            The folder the files are in.
        """
        parts = path.split("/")
        version = "/".join(parts[:3])
        args = () if root is None else (os.fspath(root),)
        call = api_call("artifact", version).then("download", *args)
        folder = call.run(self._api)
        self._called(call.assign("root"))
        return folder

    def _on_msg(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        kind = content.get("type")
        if kind == "expand":
            self.expand(str(content.get("path")))
        elif kind == "download":
            self._download_msg(str(content.get("path")))

    @shows_errors
    def _download_msg(self, path: str) -> None:
        folder = self.download(path)
        self._preview = {"path": path, "kind": "other", "note": f"downloaded to {folder}"}

    def to_pandas(self) -> pd.DataFrame:
        """The last listing shown (types, collections, versions, files, or a version's
        lineage) as a DataFrame; equal to ``exec(browser.code)``'s ``df``."""
        return self._last.copy()

    def __repr__(self) -> str:
        return f"<ArtifactBrowser {self.path or '-'}, selected {self.selected!r}>"
