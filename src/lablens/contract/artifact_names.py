"""What names, aliases and file paths an artifact may have, and the digest of its manifest.

The SDK checks an artifact before uploading anything and the server checks it again before
committing it, with these same functions: part of the client contract, importing nothing
from lablens, so neither side reaches into the other's layer. Each function raises a plain
``ValueError`` whose message names the bad value; the caller turns it into its own error class
(``UsageError`` in the client, a 400 naming the field on the server).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

# Collection and type names, aliases: what W&B allows (letters, digits, "-", "_", "."), so a
# name never needs quoting in "entity/project/name:alias".
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_VERSION = re.compile(r"v\d+")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_DRIVE = re.compile(r"[A-Za-z]:")

#: The alias the server keeps on the newest version of each collection.
LATEST = "latest"


def check_name(value: Any, what: str = "artifact name") -> str:
    """A collection or type name: 1 to 128 of ``A-Z a-z 0-9 _ . -``, not starting with . or -."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(
            f"bad {what} {value!r}: use 1 to 128 letters, digits, '_', '.' or '-' "
            "(no '/' or ':'), starting with a letter, digit or '_'"
        )
    return value


def check_alias(value: Any) -> str:
    """An alias: a name as ``check_name`` allows, but not of the form ``v3`` (a version)."""
    check_name(value, "alias")
    if _VERSION.fullmatch(value):
        raise ValueError(f"bad alias {value!r}: 'v' and a number names a version, not an alias")
    return value


def check_tag(value: Any) -> str:
    """A tag: 1 to 128 characters, no ``/``, ``:`` or ``,``, no surrounding spaces."""
    if (
        not isinstance(value, str)
        or not value.strip()
        or value != value.strip()
        or len(value) > 128
        or any(c in value for c in "/:,\x00")
    ):
        raise ValueError(f"bad tag {value!r}: 1 to 128 characters without '/', ':' or ','")
    return value


def check_digest(value: Any) -> str:
    """A blob digest: the sha256 of the content, 64 lowercase hex characters."""
    if not isinstance(value, str) or not _DIGEST.fullmatch(value):
        raise ValueError(f"bad digest {value!r}: expected a sha256, 64 lowercase hex characters")
    return value


def check_path(value: Any) -> str:
    """A file's path inside an artifact: relative, ``/``-separated, no ``.``/``..`` parts.

    A path that could climb out of the folder an artifact is downloaded into (``../x``,
    ``/etc/passwd``, ``C:x``, ``a\\b``) is refused, so ``download()`` never writes outside
    its root whatever a manifest says.
    """
    if not isinstance(value, str) or not value:
        raise ValueError(f"bad artifact path {value!r}: it must be a non-empty string")
    if len(value) > 1024 or "\x00" in value:
        raise ValueError(f"bad artifact path {value!r}: too long or holds a NUL character")
    if value.startswith("/") or _DRIVE.match(value):
        raise ValueError(f"bad artifact path {value!r}: it must be relative, not absolute")
    if "\\" in value:
        raise ValueError(f"bad artifact path {value!r}: use '/' between folders, not '\\'")
    parts = value.split("/")
    if ".." in parts:
        raise ValueError(f"bad artifact path {value!r}: '..' is not allowed")
    if any(p in ("", ".") for p in parts):
        raise ValueError(f"bad artifact path {value!r}: it has an empty or '.' part")
    return value


def manifest_digest(entries: Iterable[Mapping[str, Any]]) -> str:
    """The digest of a version: sha256 over its entries (path, digest, size, ref), by path.

    Two versions with the same files under the same paths have the same digest, whatever the
    order the files were added in; logging the same content twice gives back the same version.
    """
    h = hashlib.sha256()
    for e in sorted(entries, key=lambda e: e["path"]):
        size = "" if e.get("size") is None else str(e["size"])
        h.update(f"{e['path']}\0{e.get('digest') or ''}\0{size}\0{e.get('ref') or ''}\n".encode())
    return h.hexdigest()
