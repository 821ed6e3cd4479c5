"""How artifacts show in a notebook: sizes as text, and the table of a list of versions.

The ``Api``'s reprs and the artifact browser widget both show sizes with ``size_text``.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lablens.api.artifacts import Artifact


def size_text(n: int | None) -> str:
    """A byte count for people: ``512 B``, ``1.5 MB``; empty for ``None``."""
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(n)


def versions_html(title: str, shown: list[Artifact], total: int) -> str:
    """The HTML table of a list of versions: the first ``shown`` of ``total``."""
    head = "".join(f"<th>{h}</th>" for h in ("name", "type", "aliases", "size", "created_at"))
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v or ''))}</td>"
            for v in (a.name, a.type, ", ".join(a.aliases), size_text(a.size), a.created_at)
        )
        + "</tr>"
        for a in shown
    )
    more = f"<tr><td colspan=5>… {total - len(shown)} more</td></tr>" if total > len(shown) else ""
    return (
        f"<div class='lablens'><b>Artifacts {html.escape(title)}</b> ({total})"
        f"<table><tr>{head}</tr>{rows}{more}</table></div>"
    )
