"""The node lists that tree-shaped widgets (workspace tree, artifact browser) sync to the page.

A node is ``{path, label, kind, meta?, leaf?, children?}``; ``children`` is absent until the node
is opened.
"""

from __future__ import annotations

from typing import Any

Node = dict[str, Any]


def find_node(nodes: list[Node], path: str) -> Node | None:
    """The node with this path, searched depth first, or ``None``."""
    for n in nodes:
        if n["path"] == path:
            return n
        found = find_node(n.get("children") or [], path)
        if found:
            return found
    return None


def copy_nodes(nodes: list[Node]) -> list[Node]:
    """A deep copy, so that assigning it to a trait is a change the page hears of."""
    return [
        {**n, **({"children": copy_nodes(n["children"])} if n.get("children") else {})}
        for n in nodes
    ]
