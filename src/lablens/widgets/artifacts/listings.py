"""The levels of the artifact tree: types -> collections -> versions -> files.

For each level, the ``Listing`` that ``code`` and ``to_pandas()`` give, and the tree nodes the
page shows, both from the objects one ``Api`` call returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lablens.api.artifact_display import size_text
from lablens.widgets._listing import Listing, plural

__all__ = [
    "COLLECTIONS",
    "FILES",
    "TYPES",
    "VERSIONS",
    "collection_nodes",
    "file_nodes",
    "more",
    "type_nodes",
    "version_nodes",
]

Node = dict[str, Any]

TYPES = Listing("t", type="t.name", collections="t.collection_count")
COLLECTIONS = Listing(
    "c",
    name="c.name",
    versions="c.version_count",
    aliases="', '.join(c.aliases)",
    description="c.description",
)
VERSIONS = Listing(
    "a",
    name="a.qualified_name",
    version="a.version",
    aliases="', '.join(a.aliases)",
    tags="', '.join(a.tags)",
    size="a.size",
    files="a.file_count",
    created_at="a.created_at",
    metadata="json.dumps(a.metadata, sort_keys=True)",
)
FILES = Listing("f", path="f.path", size="f.size", digest="f.digest", ref="f.ref")


def type_nodes(project: str, types: Sequence[Any]) -> list[Node]:
    """The nodes of a project's artifact types."""
    return [
        {
            "path": f"{project}/{a.name}",
            "label": a.name,
            "kind": "type",
            "meta": plural(a.collection_count, "collection"),
        }
        for a in types
    ]


def collection_nodes(path: str, collections: Sequence[Any]) -> list[Node]:
    """The nodes of a type's collections, under the type's ``path``."""
    return [
        {
            "path": f"{path}/{c.name}",
            "label": c.name,
            "kind": "collection",
            "meta": plural(c.version_count, "version"),
        }
        for c in collections
    ]


def version_nodes(versions: Sequence[Any]) -> list[Node]:
    """The nodes of a collection's versions, each at its qualified name."""
    return [
        {
            "path": a.qualified_name,
            "label": a.version or a.name,
            "kind": "version",
            "meta": " · ".join(x for x in (", ".join(a.aliases), size_text(a.size)) if x),
        }
        for a in versions
    ]


def file_nodes(path: str, files: Sequence[Any]) -> list[Node]:
    """The nodes of a version's files, under the version's ``path``."""
    return [
        {
            "path": f"{path}/{f.path}",
            "label": f.path,
            "kind": "file",
            "leaf": True,
            "meta": f.ref or size_text(f.size),
        }
        for f in files
    ]


def more(path: str, left: int) -> list[Node]:
    """A last node saying how many were not listed (the Api gives them all)."""
    if left <= 0:
        return []
    return [{"path": f"{path}#more", "label": f"… {left} more", "kind": "more", "leaf": True}]
