"""``ArtifactBrowser``: a project's artifact types -> collections -> versions -> files, read
when a node opens, with a preview of a file and the lineage of a version."""

from __future__ import annotations

import base64
import json
import os
from typing import TYPE_CHECKING, Any

import pandas as pd
import traitlets as t

from lablens.widgets._base import LablensWidget, call_source, make_api, shows_errors
from lablens.widgets._tree import copy_nodes, find_node

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["ArtifactBrowser"]

_VERSIONS_SHOWN = 100  # versions listed under a collection, newest first
_FILES_SHOWN = 500  # files listed under a version
_PREVIEW_ROWS = 20  # rows of a table preview
_PREVIEW_LINES = 40  # lines of a text preview
_PREVIEW_MAX = 8 * 1024 * 1024  # files larger than this are not read for a preview
_IMAGES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}
_TEXT = {
    ".txt",
    ".json",
    ".md",
    ".yaml",
    ".yml",
    ".py",
    ".log",
    ".toml",
    ".cfg",
    ".ini",
    ".csv",
    ".tsv",
    ".html",
    ".xml",
}


def _size(n: int | None) -> str:
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(n)


class ArtifactBrowser(LablensWidget):
    """Browse a project's artifacts: types, collections, versions and their files.

    Opening a node reads its children with one Api call (``api.artifact_types(project)``,
    ``api.artifact_collections(project, type)``, ``api.artifacts(type, collection)``,
    ``api.artifact(name).files()``); ``code`` repeats the last one as a DataFrame equal to
    ``to_pandas()``. Selecting a version shows its aliases, tags, metadata and size, and its
    lineage (the run that logged it, the runs that used it); selecting a file previews it
    (text, an image, or the first rows of a CSV/Parquet table).

    Args:
        api: the ``Api`` to query (default: ``lablens.Api()``).
        path: the project, ``"entity/project"``.
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

    path = t.Unicode("").tag(sync=True)
    """The project browsed, ``entity/project``."""

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

    def __init__(self, api: Api | None = None, path: str | None = None, **kwargs: Any) -> None:
        self._api = make_api(api)
        self._last: pd.DataFrame = pd.DataFrame()
        super().__init__(**kwargs)
        self.on_msg(self._on_msg)
        self.observe(self._on_path, "path")
        self.observe(self._on_selected, "selected")
        if path:
            self.path = path

    # -- listings: each one Api call, and the source that repeats it ------------------------

    _TYPES = (
        "df = pd.DataFrame([{{'type': t.name, 'collections': t.collection_count}}"
        " for t in {call}], columns=['type', 'collections'])"
    )
    _COLLECTIONS = (
        "df = pd.DataFrame([{{'name': c.name, 'versions': c.version_count,"
        " 'aliases': ', '.join(c.aliases), 'description': c.description}}"
        " for c in {call}], columns=['name', 'versions', 'aliases', 'description'])"
    )
    _VERSIONS = (
        "df = pd.DataFrame([{{'name': a.qualified_name, 'version': a.version,"
        " 'aliases': ', '.join(a.aliases), 'tags': ', '.join(a.tags), 'size': a.size,"
        " 'files': a.file_count, 'created_at': a.created_at,"
        " 'metadata': json.dumps(a.metadata, sort_keys=True)}} for a in {call}[:{n}]],"
        " columns=['name', 'version', 'aliases', 'tags', 'size', 'files', 'created_at',"
        " 'metadata'])"
    )
    _FILES = (
        "df = pd.DataFrame([{{'path': f.path, 'size': f.size, 'digest': f.digest, 'ref': f.ref}}"
        " for f in {call}.files()[:{n}]], columns=['path', 'size', 'digest', 'ref'])"
    )
    _LINEAGE = (
        "artifact = {call}\n"
        "producer = artifact.logged_by()\n"
        "df = pd.DataFrame([{{'role': role, 'path': r.path, 'name': r.name,"
        " 'state': str(r.state)}} for role, runs in"
        " (('logged_by', [producer] if producer else []), ('used_by', artifact.used_by()))"
        " for r in runs], columns=['role', 'path', 'name', 'state'])"
    )

    def _record(self, template: str, **fmt: Any) -> None:
        source = "import json\n\nimport pandas as pd\n\n" + template.format(**fmt)
        self._set_code(source)
        self._called(source)

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
        call = call_source("api.artifact_types", project)
        types = list(self._api.artifact_types(project))
        self._record(self._TYPES, call=call)
        rows = [{"type": a.name, "collections": a.collection_count} for a in types]
        self._last = pd.DataFrame(rows, columns=["type", "collections"])
        self._nodes = [
            {
                "path": f"{project}/{a.name}",
                "label": a.name,
                "kind": "type",
                "meta": f"{a.collection_count} collections",
            }
            for a in types
        ]

    def _children(self, node: dict[str, Any]) -> list[dict[str, Any]]:
        path, kind = node["path"], node["kind"]
        project = self.path
        if kind == "type":
            type_name = path.rsplit("/", 1)[1]
            call = call_source("api.artifact_collections", project, type_name)
            collections = list(self._api.artifact_collections(project, type_name))
            self._record(self._COLLECTIONS, call=call)
            rows = [
                {
                    "name": c.name,
                    "versions": c.version_count,
                    "aliases": ", ".join(c.aliases),
                    "description": c.description,
                }
                for c in collections
            ]
            self._last = pd.DataFrame(rows, columns=["name", "versions", "aliases", "description"])
            return [
                {
                    "path": f"{path}/{c.name}",
                    "label": c.name,
                    "kind": "collection",
                    "meta": f"{c.version_count} versions",
                }
                for c in collections
            ]
        if kind == "collection":
            type_name, name = path.rsplit("/", 2)[1:]
            call = call_source("api.artifacts", type_name, f"{project}/{name}")
            pager = self._api.artifacts(type_name, f"{project}/{name}")
            versions = pager[:_VERSIONS_SHOWN]
            self._record(self._VERSIONS, call=call, n=_VERSIONS_SHOWN)
            rows = [
                {
                    "name": a.qualified_name,
                    "version": a.version,
                    "aliases": ", ".join(a.aliases),
                    "tags": ", ".join(a.tags),
                    "size": a.size,
                    "files": a.file_count,
                    "created_at": a.created_at,
                    "metadata": json.dumps(a.metadata, sort_keys=True),
                }
                for a in versions
            ]
            self._last = pd.DataFrame(
                rows,
                columns=[
                    "name",
                    "version",
                    "aliases",
                    "tags",
                    "size",
                    "files",
                    "created_at",
                    "metadata",
                ],
            )
            nodes = [
                {
                    "path": a.qualified_name,
                    "label": a.version or a.name,
                    "kind": "version",
                    "meta": " · ".join(x for x in (", ".join(a.aliases), _size(a.size)) if x),
                }
                for a in versions
            ]
            return nodes + _more(path, len(pager) - len(versions))
        if kind == "version":
            call = call_source("api.artifact", path)
            pager = self._api.artifact(path).files()
            files = pager[:_FILES_SHOWN]
            self._record(self._FILES, call=call, n=_FILES_SHOWN)
            rows = [
                {"path": f.path, "size": f.size, "digest": f.digest, "ref": f.ref} for f in files
            ]
            self._last = pd.DataFrame(rows, columns=["path", "size", "digest", "ref"])
            nodes = [
                {
                    "path": f"{path}/{f.path}",
                    "label": f.path,
                    "kind": "file",
                    "leaf": True,
                    "meta": f.ref or _size(f.size),
                }
                for f in files
            ]
            return nodes + _more(path, len(pager) - len(files))
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
        artifact = self._api.artifact(version)
        producer = artifact.logged_by()
        users = artifact.used_by()
        self._record(self._LINEAGE, call=call_source("api.artifact", version))

        def run_row(r: Any) -> dict[str, Any]:
            return {"path": r.path, "name": r.name, "state": str(r.state)}

        rows = [{"role": "logged_by", **run_row(producer)}] if producer else []
        rows += [{"role": "used_by", **run_row(r)} for r in users]
        self._last = pd.DataFrame(rows, columns=["role", "path", "name", "state"])
        self._detail = {
            "path": artifact.qualified_name,
            "version": artifact.version or "",
            "type": artifact.type,
            "description": artifact.description or "",
            "aliases": list(artifact.aliases),
            "tags": list(artifact.tags),
            "metadata": json.loads(json.dumps(artifact.metadata, default=str)),
            "size": artifact.size,
            "size_text": _size(artifact.size),
            "file_count": artifact.file_count,
            "created_at": artifact.created_at or "",
            "digest": artifact.digest or "",
            "logged_by": run_row(producer) if producer else None,
            "used_by": [run_row(r) for r in users],
        }
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
        artifact = self._api.artifact(version)
        entry = artifact.get_entry(name)
        call = call_source("api.artifact", version)
        ext = os.path.splitext(name)[1].lower()
        out: dict[str, Any] = {"path": path, "size": _size(entry.size)}
        if entry.ref:
            out.update(kind="other", note=f"a reference to {entry.ref}; only its URI is stored")
        elif (entry.size or 0) > _PREVIEW_MAX:
            out.update(kind="other", note=f"{_size(entry.size)}: too large to preview")
        elif ext in (".parquet", ".csv"):
            frame = artifact.get(name).head(_PREVIEW_ROWS)
            self._called(f"df = {call}.get({name!r}).head({_PREVIEW_ROWS})")
            html = frame.to_html(index=False, border=0, max_cols=30, float_format="{:.6g}".format)
            out.update(kind="table", html=html, rows=len(frame))
        else:
            data = entry.read()
            self._called(f"data = {call}.get_entry({name!r}).read()")
            if ext in _IMAGES:
                out.update(
                    kind="image",
                    url=f"data:{_IMAGES[ext]};base64," + base64.b64encode(data).decode("ascii"),
                )
            elif ext in _TEXT or _looks_text(data):
                lines = data.decode("utf-8", errors="replace").splitlines()
                more = len(lines) - _PREVIEW_LINES
                text = "\n".join(lines[:_PREVIEW_LINES])
                out.update(kind="text", text=text + (f"\n… {more} more lines" if more > 0 else ""))
            else:
                out.update(kind="other", note=f"{_size(entry.size)} of binary data")
        self._preview = out
        return out

    def preview_frame(self, path: str) -> pd.DataFrame:
        """The first 20 rows of a table file as the preview shows them."""
        version, name = self._split_file(path)
        return self._api.artifact(version).get(name).head(_PREVIEW_ROWS)

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
        folder = self._api.artifact(version).download(root)
        root_arg = repr(os.fspath(root)) if root is not None else ""
        self._called(f"root = {call_source('api.artifact', version)}.download({root_arg})")
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


def _more(path: str, left: int) -> list[dict[str, Any]]:
    """A last node saying how many were not listed (the Api gives them all)."""
    if left <= 0:
        return []
    return [{"path": f"{path}#more", "label": f"… {left} more", "kind": "more", "leaf": True}]


def _looks_text(data: bytes) -> bool:
    head = data[:2048]
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
