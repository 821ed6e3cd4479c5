"""What an artifact's fields and manifest may hold, checked the same for every engine.

Names, aliases, tags and paths follow ``lablens.contract.artifact_names``, the rules the SDK
applies; a bad one is an ``InvalidInput`` naming the field (``files[3].digest``).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping, Sequence
from typing import Any

from lablens.contract import artifact_names as rules
from lablens.store.errors import InvalidInput

#: The largest byte count a manifest may declare: what a BIGINT column holds.
MAX_BYTES = 2**63 - 1


def check_manifest(files: Any) -> list[dict[str, Any]]:
    """Check a manifest ``[{path, digest, size} | {path, ref, digest?, size?}]``."""
    if not isinstance(files, Sequence) or isinstance(files, str):
        raise InvalidInput("files must be a list of {path, digest, size}", field="files")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, entry in enumerate(files):
        where = f"files[{i}]"
        if not isinstance(entry, Mapping):
            raise InvalidInput(f"{where} must be an object {{path, digest, size}}", field=where)
        unknown = set(entry) - {"path", "digest", "size", "ref", "mimetype"}
        if unknown:
            raise InvalidInput(
                f"{where} has unknown keys {sorted(unknown)}", field=f"{where}.{sorted(unknown)[0]}"
            )
        path = checked(rules.check_path, entry.get("path"), f"{where}.path")
        if path in seen:
            raise InvalidInput(f"the path {path!r} is in the manifest twice", field=f"{where}.path")
        seen.add(path)
        ref = entry.get("ref")
        if ref is not None and (not isinstance(ref, str) or "://" not in ref):
            raise InvalidInput(
                f"{where}.ref must be an URI such as s3://bucket/key", field=f"{where}.ref"
            )
        digest = entry.get("digest")
        if digest is not None or ref is None:
            digest = checked(rules.check_digest, digest, f"{where}.digest")
        size = entry.get("size")
        bad_size = isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_BYTES
        if (size is not None or ref is None) and bad_size:
            raise InvalidInput(
                f"{where}.size must be a byte count (0 to {MAX_BYTES})", field=f"{where}.size"
            )
        mimetype = entry.get("mimetype")
        if mimetype is not None and not isinstance(mimetype, str):
            raise InvalidInput(f"{where}.mimetype must be a string", field=f"{where}.mimetype")
        out.append(
            {
                "path": path,
                "digest": digest,
                "size": size,
                "ref": ref,
                "mimetype": mimetype or mimetypes.guess_type(path)[0],
            }
        )
    if sum(f["size"] or 0 for f in out) > MAX_BYTES:
        # Only references can get here (a stored file's size is its blob's): their sizes are
        # declared, and their total must still fit the version's byte count.
        raise InvalidInput(f"the files' sizes add up past {MAX_BYTES} bytes", field="files")
    return out


def checked(check: Any, value: Any, field: str) -> Any:
    """``check(value)``, its ``ValueError`` an ``InvalidInput`` naming ``field``."""
    try:
        return check(value)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from None


def checked_list(value: Any, field: str, check: Any) -> list[str]:
    """A list of strings each passed through ``check``, without repeats (``[]`` for ``None``)."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidInput(f"{field} must be a list of strings", field=field)
    out: list[str] = []
    for i, item in enumerate(value):
        item = checked(check, item, f"{field}[{i}]")
        if item not in out:
            out.append(item)
    return out


def optional_str(value: Any, field: str) -> str | None:
    """``value`` if it is a string or ``None``, else ``InvalidInput`` naming ``field``."""
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string", field=field)
    return value


def checked_digest(value: Any, field: str) -> str:
    """``value`` if it is a sha256 (64 lowercase hex characters), else ``InvalidInput``."""
    try:
        return rules.check_digest(value)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from None
